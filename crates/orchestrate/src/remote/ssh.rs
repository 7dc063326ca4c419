//! [`Remote`] over OpenSSH: one master connection per host (the `openssh` crate, native mux),
//! every command a new channel on it. The ssh client does the login, so `~/.ssh/config` (or the
//! `-F` file given), identities, ports, users and jump hosts work as with `ssh`.
//!
//! - Host keys are checked: `StrictHostKeyChecking=yes` unless deploy.conf says `accept-new`;
//!   a changed key is always refused, with an error naming the host.
//! - The control socket lives in a private temp dir owned by the deploy run, and the master
//!   exits by itself after `ControlPersist` seconds idle, so a killed `fbs deploy` leaves no
//!   ssh process behind for long.
//! - Files go through the same connection as `cat > tmp` on stdin (see
//!   [`super::files`]); this needs no sftp-server on the host.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use openssh::{ControlPersist, KnownHosts, Session, SessionBuilder};
use tokio::io::AsyncWriteExt;

use super::{Input, Output, Remote, RemoteError};
use crate::inventory::{HostKeyPolicy, Login};

/// How to reach hosts.
#[derive(Debug, Clone)]
pub struct SshOptions {
    /// An ssh config file instead of `~/.ssh/config`.
    pub config: Option<PathBuf>,
    /// A private key to use (only that key).
    pub identity: Option<PathBuf>,
    /// Host key policy.
    pub host_keys: HostKeyPolicy,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Where the control sockets go (a private directory).
    pub control_dir: PathBuf,
    /// The master connection exits after this long idle.
    pub persist: Duration,
}

/// One host over one multiplexed ssh connection.
#[derive(Debug)]
pub struct Ssh {
    name: String,
    session: Mutex<Option<Arc<Session>>>,
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = c.source();
    }
    s
}

/// Sort an ssh connection failure into the host-key cases and the rest.
pub(crate) fn classify(host: &str, detail: String) -> RemoteError {
    let d = detail.to_ascii_lowercase();
    let host = host.to_owned();
    if d.contains("identification has changed")
        || d.contains("has changed and you have requested strict")
    {
        // ssh's banner is long; keep the facts: the new fingerprint and the stale entry.
        let detail = detail
            .lines()
            .map(str::trim)
            .filter(|l| {
                l.contains("fingerprint") || l.starts_with("SHA256:") || l.contains("Offending")
            })
            .collect::<Vec<_>>()
            .join("\n");
        return RemoteError::HostKeyChanged { host, detail };
    }
    let detail = detail
        .lines()
        .filter(|l| !l.trim_start().starts_with("@@@") && !l.trim().is_empty())
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    if d.contains("host key verification failed") || d.contains("host key is known") {
        RemoteError::HostKeyUnknown { host, detail }
    } else {
        RemoteError::Connect { host, detail }
    }
}

impl Ssh {
    /// Connect to `login` (one master connection).
    pub async fn connect(login: &Login, opts: &SshOptions) -> Result<Ssh, RemoteError> {
        let name = login.to_string();
        let mut b = SessionBuilder::default();
        b.known_hosts_check(match opts.host_keys {
            HostKeyPolicy::Strict => KnownHosts::Strict,
            HostKeyPolicy::AcceptNew => KnownHosts::Add,
        })
        .control_directory(&opts.control_dir)
        .control_persist(ControlPersist::IdleFor(
            std::num::NonZeroUsize::new(opts.persist.as_secs().max(1) as usize)
                .unwrap_or(std::num::NonZeroUsize::MIN),
        ))
        .connect_timeout(opts.connect_timeout)
        .server_alive_interval(Duration::from_secs(15));
        if let Some(u) = &login.user {
            b.user(u.clone());
        }
        if let Some(p) = login.port {
            b.port(p);
        }
        if let Some(k) = &opts.identity {
            b.keyfile(k);
        }
        if let Some(c) = &opts.config {
            b.config_file(c);
        }
        let session = b
            .connect_mux(&login.host)
            .await
            .map_err(|e| classify(&name, chain(&e)))?;
        Ok(Ssh {
            name,
            session: Mutex::new(Some(Arc::new(session))),
        })
    }

    fn session(&self) -> Result<Arc<Session>, RemoteError> {
        self.session
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| RemoteError::Exec {
                host: self.name.clone(),
                detail: "the connection is closed".into(),
            })
    }

    fn err(&self, e: &dyn std::error::Error) -> RemoteError {
        RemoteError::Exec {
            host: self.name.clone(),
            detail: chain(e),
        }
    }
}

#[async_trait]
impl Remote for Ssh {
    fn name(&self) -> &str {
        &self.name
    }

    async fn exec(&self, script: &str, input: Input<'_>) -> Result<Output, RemoteError> {
        tracing::trace!(host = %self.name, bytes = script.len(), "exec");
        let session = self.session()?;
        // As root: directly when the login is root, else through `sudo -n` (decided on the
        // host, so it costs no extra round trip).
        let mut cmd = session.command("sh");
        cmd.arg("-c")
            .arg(r#"if [ "$(id -u)" = 0 ]; then exec sh -c "$1"; else exec sudo -n sh -c "$1"; fi"#)
            .arg("fbs")
            .arg(script);
        let out = match input {
            Input::None => cmd
                .stdin(openssh::Stdio::null())
                .output()
                .await
                .map_err(|e| self.err(&e))?,
            Input::Bytes(_) | Input::File(_) => {
                cmd.stdin(openssh::Stdio::piped())
                    .stdout(openssh::Stdio::piped())
                    .stderr(openssh::Stdio::piped());
                let mut child = cmd.spawn().await.map_err(|e| self.err(&e))?;
                let mut stdin = child.stdin().take().ok_or_else(|| RemoteError::Exec {
                    host: self.name.clone(),
                    detail: "no stdin for the remote command".into(),
                })?;
                let sent = match input {
                    Input::Bytes(b) => stdin.write_all(b).await,
                    Input::File(p) => send_file(p, &mut stdin).await,
                    Input::None => Ok(()),
                };
                let closed = stdin.shutdown().await;
                drop(stdin);
                let out = child.wait_with_output().await.map_err(|e| self.err(&e))?;
                if let Err(e) = sent.and(closed) {
                    return Err(RemoteError::Exec {
                        host: self.name.clone(),
                        detail: format!(
                            "sending data failed: {e}; {}",
                            String::from_utf8_lossy(&out.stderr)
                        ),
                    });
                }
                out
            }
        };
        Ok(Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    async fn close(&self) {
        let taken = self.session.lock().ok().and_then(|mut s| s.take());
        if let Some(s) = taken.and_then(|a| Arc::try_unwrap(a).ok())
            && let Err(e) = s.close().await
        {
            tracing::debug!(host = %self.name, error = %e, "closing the ssh connection");
        }
    }
}

async fn send_file(
    path: &Path,
    to: &mut (impl tokio::io::AsyncWrite + Unpin),
) -> std::io::Result<()> {
    let mut f = tokio::fs::File::open(path).await?;
    tokio::io::copy(&mut f, to).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_key_failures_are_told_apart() {
        let changed = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
            @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n\
            Host key for 10.200.0.13 has changed and you have requested strict checking.\n\
            Host key verification failed.";
        let e = classify("root@h3", changed.into());
        assert!(matches!(e, RemoteError::HostKeyChanged { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("root@h3: host key verification failed"),
            "{e}"
        );
        let unknown = "No ED25519 host key is known for h9 and you have requested strict checking.\nHost key verification failed.";
        assert!(matches!(
            classify("h9", unknown.into()),
            RemoteError::HostKeyUnknown { .. }
        ));
        let refused = "ssh: connect to host 10.200.0.13 port 22: Connection refused";
        assert!(matches!(
            classify("h3", refused.into()),
            RemoteError::Connect { .. }
        ));
    }
}
