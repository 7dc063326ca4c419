//! Hosts behind one trait: [`Ssh`] (one multiplexed OpenSSH connection per host) and
//! [`Local`] (this machine, for `deploy-local`). A remote runs `sh -c SCRIPT`, optionally with
//! a file or bytes on its stdin; everything else — uploads, checksums, services — is built
//! from that in [`files`] and the tasks, so both impls behave alike.

pub mod files;
mod local;
mod ssh;

use std::path::Path;

use async_trait::async_trait;

pub use local::Local;
pub use ssh::{Ssh, SshOptions};

/// What a remote script printed and how it ended.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// True when the script exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// What a remote script reads on stdin.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// Nothing (`/dev/null`).
    None,
    /// These bytes.
    Bytes(&'a [u8]),
    /// This local file, streamed.
    File(&'a Path),
}

/// Why talking to a host failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The host's key differs from the one in known_hosts.
    #[error(
        "{host}: host key verification failed: the key {host} offers does not match known_hosts \
         (refused; if the host was reinstalled, remove the old key with `ssh-keygen -R`)\n{detail}"
    )]
    HostKeyChanged {
        /// The host.
        host: String,
        /// What ssh said.
        detail: String,
    },
    /// The host's key is not in known_hosts and the policy is strict.
    #[error(
        "{host}: host key verification failed: {host} is not in known_hosts (add its key, or set \
         host_key_check = accept-new in deploy.conf)\n{detail}"
    )]
    HostKeyUnknown {
        /// The host.
        host: String,
        /// What ssh said.
        detail: String,
    },
    /// The connection could not be made.
    #[error("{host}: cannot connect: {detail}")]
    Connect {
        /// The host.
        host: String,
        /// What ssh said.
        detail: String,
    },
    /// A command could not be run or the connection broke.
    #[error("{host}: {detail}")]
    Exec {
        /// The host.
        host: String,
        /// What went wrong.
        detail: String,
    },
    /// A script ran and failed.
    #[error("{host}: {what} failed (exit {code}): {stderr}")]
    Failed {
        /// The host.
        host: String,
        /// What the script was for.
        what: String,
        /// Its exit code (-1 for a signal).
        code: i32,
        /// The last lines of its stderr.
        stderr: String,
    },
}

/// A host fbs can run scripts on.
#[async_trait]
pub trait Remote: Send + Sync {
    /// The host's name for messages.
    fn name(&self) -> &str;

    /// Run `sh -c script` (as root: through `sudo -n` when the login is not root).
    async fn exec(&self, script: &str, input: Input<'_>) -> Result<Output, RemoteError>;

    /// Close the connection (a no-op for [`Local`]).
    async fn close(&self);
}

/// Run `script` and require exit 0; `what` names it in the error.
pub async fn check(
    remote: &dyn Remote,
    what: &str,
    script: &str,
    input: Input<'_>,
) -> Result<Output, RemoteError> {
    let out = remote.exec(script, input).await?;
    if out.success() {
        return Ok(out);
    }
    let lines: Vec<&str> = out.stderr.lines().collect();
    Err(RemoteError::Failed {
        host: remote.name().to_owned(),
        what: what.to_owned(),
        code: out.code.unwrap_or(-1),
        stderr: lines[lines.len().saturating_sub(8)..].join("\n"),
    })
}

/// Quote `s` for `sh` (single quotes; `'` written as `'\''`).
pub fn quote(s: impl AsRef<str>) -> String {
    let s = s.as_ref();
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-:=@+,%".contains(&b))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Quote a path for `sh`.
pub fn qpath(p: &Path) -> String {
    quote(p.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_survives_the_shell() {
        assert_eq!(quote("/opt/fbs/bin/fbs"), "/opt/fbs/bin/fbs");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", quote("$(x) 'y' \"z\"; *")))
            .output()
            .expect("sh");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "$(x) 'y' \"z\"; *");
    }
}
