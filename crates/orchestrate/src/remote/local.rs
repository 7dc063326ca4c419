//! [`Remote`] for this machine (`fbs deploy deploy-local`): scripts run under `sh -c` here,
//! with the same scripts as over ssh, so both paths are the same code.

use std::process::Stdio;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::{Input, Output, Remote, RemoteError};

/// This machine.
#[derive(Debug, Clone)]
pub struct Local {
    name: String,
}

impl Local {
    /// This machine, shown as `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Local { name: name.into() }
    }

    fn err(&self, e: std::io::Error) -> RemoteError {
        RemoteError::Exec {
            host: self.name.clone(),
            detail: format!("cannot run sh: {e}"),
        }
    }
}

#[async_trait]
impl Remote for Local {
    fn name(&self) -> &str {
        &self.name
    }

    async fn exec(&self, script: &str, input: Input<'_>) -> Result<Output, RemoteError> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd.stdin(match input {
            Input::None => Stdio::null(),
            _ => Stdio::piped(),
        });
        let mut child = cmd.spawn().map_err(|e| self.err(e))?;
        if let Some(mut stdin) = child.stdin.take() {
            let sent = match input {
                Input::Bytes(b) => stdin.write_all(b).await,
                Input::File(p) => match tokio::fs::File::open(p).await {
                    Ok(mut f) => tokio::io::copy(&mut f, &mut stdin).await.map(|_| ()),
                    Err(e) => Err(e),
                },
                Input::None => Ok(()),
            };
            drop(stdin);
            sent.map_err(|e| RemoteError::Exec {
                host: self.name.clone(),
                detail: format!("sending data failed: {e}"),
            })?;
        }
        let out = child.wait_with_output().await.map_err(|e| self.err(e))?;
        Ok(Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    async fn close(&self) {}
}
