//! Why running a command did not succeed, in words a build's submitter can act on.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

/// How many lines of output an error message shows (the error keeps more, see
/// [`RunError::tail`]).
pub const MESSAGE_TAIL_LINES: usize = 20;

/// A command that could not be run to a successful end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The command could not be started (not installed, not executable, no isolation).
    #[error("{}", spawn_message(program, source))]
    Spawn {
        /// The program's display name.
        program: String,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The command ran and exited unsuccessfully.
    #[error("`{program}` failed with {}{}", describe_status(*status), tail_block(tail))]
    Failed {
        /// The program's display name.
        program: String,
        /// Its exit status (an exit code or a signal).
        status: ExitStatus,
        /// The last lines of its combined stdout and stderr, oldest first.
        tail: Vec<String>,
    },
    /// The command ran longer than its timeout and was stopped.
    #[error("`{program}` timed out after {}{}", human_duration(*after), tail_block(tail))]
    Timeout {
        /// The program's display name.
        program: String,
        /// The timeout that was exceeded.
        after: Duration,
        /// The last lines of its combined stdout and stderr, oldest first.
        tail: Vec<String>,
    },
    /// The command was stopped because its job was canceled.
    #[error("`{program}` was canceled")]
    Canceled {
        /// The program's display name.
        program: String,
    },
    /// An I/O error while supervising the command.
    #[error("cannot {action} `{program}`")]
    Io {
        /// The program's display name.
        program: String,
        /// What the runner was doing, e.g. "wait for".
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl RunError {
    /// Whether trying the same command again may succeed, for the job's retry policy:
    ///
    /// - `Spawn`: no when the program is missing or may not be run (`NotFound`,
    ///   `PermissionDenied`, `InvalidInput`) — that needs an administrator; yes otherwise
    ///   (e.g. out of processes or memory).
    /// - `Failed`: no for an exit code (the tool rejected its input); yes when it was killed
    ///   by a signal it did not get from fbs (e.g. the OOM killer). Under
    ///   [`Isolation::MountPidNs`](super::Isolation::MountPidNs) a tool killed by signal N is
    ///   reported by the namespace's init as exit code 128+N, so it counts as an exit code.
    /// - `Timeout`: yes (a slow mirror or a loaded host); a retry policy bounds attempts.
    /// - `Canceled`: no — someone asked for the job to stop.
    /// - `Io`: yes (transient by nature).
    pub fn is_retryable(&self) -> bool {
        match self {
            RunError::Spawn { source, .. } => !matches!(
                source.kind(),
                io::ErrorKind::NotFound
                    | io::ErrorKind::PermissionDenied
                    | io::ErrorKind::InvalidInput
            ),
            RunError::Failed { status, .. } => status.signal().is_some(),
            RunError::Timeout { .. } | RunError::Io { .. } => true,
            RunError::Canceled { .. } => false,
        }
    }

    /// The display name of the program concerned.
    pub fn program(&self) -> &str {
        match self {
            RunError::Spawn { program, .. }
            | RunError::Failed { program, .. }
            | RunError::Timeout { program, .. }
            | RunError::Canceled { program }
            | RunError::Io { program, .. } => program,
        }
    }

    /// The last lines of output (empty when the command produced none or never ran).
    pub fn tail(&self) -> &[String] {
        match self {
            RunError::Failed { tail, .. } | RunError::Timeout { tail, .. } => tail,
            _ => &[],
        }
    }

    /// True when the program was not found (it is not installed).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RunError::Spawn { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

fn spawn_message(program: &str, source: &io::Error) -> String {
    match source.kind() {
        io::ErrorKind::NotFound => format!("`{program}` is not installed (not found)"),
        io::ErrorKind::PermissionDenied => format!("`{program}` may not be run"),
        _ => format!("cannot start `{program}`"),
    }
}

/// "exit code 3" or "signal 9 (SIGKILL)".
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    match status.signal() {
        Some(sig) => match nix::sys::signal::Signal::try_from(sig) {
            Ok(s) => format!("signal {sig} ({})", s.as_str()),
            Err(_) => format!("signal {sig}"),
        },
        None => format!("{status}"),
    }
}

/// The last [`MESSAGE_TAIL_LINES`] lines, indented, or nothing.
fn tail_block(tail: &[String]) -> String {
    if tail.is_empty() {
        return String::new();
    }
    let shown = &tail[tail.len().saturating_sub(MESSAGE_TAIL_LINES)..];
    let mut s = format!("; last {} lines of output:", shown.len());
    for line in shown {
        s.push_str("\n  | ");
        s.push_str(line);
    }
    s
}

/// "850 ms", "12.5 s", "3m 20s", "2h 5m".
pub(crate) fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 3600 {
        format!("{}h {}m", secs / 3600, secs % 3600 / 60)
    } else if secs >= 60 {
        format!("{}m {}s", secs / 60, secs % 60)
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    #[test]
    fn statuses_are_described() {
        assert_eq!(describe_status(exit(3)), "exit code 3");
        assert_eq!(
            describe_status(ExitStatus::from_raw(9)),
            "signal 9 (SIGKILL)"
        );
    }

    #[test]
    fn failed_shows_status_and_the_last_lines() {
        let tail: Vec<String> = (1..=30).map(|i| format!("line {i}")).collect();
        let e = RunError::Failed {
            program: "lorax".into(),
            status: exit(1),
            tail,
        };
        let msg = e.to_string();
        assert!(msg.starts_with("`lorax` failed with exit code 1; last 20 lines of output:"));
        assert!(msg.ends_with("\n  | line 30"), "{msg}");
        assert!(msg.contains("\n  | line 11\n"), "{msg}");
        assert!(!msg.contains("line 10\n"), "{msg}");
        assert!(!e.is_retryable());
        assert_eq!(e.tail().len(), 30);
    }

    #[test]
    fn not_installed_is_said_plainly_and_not_retried() {
        let e = RunError::Spawn {
            program: "lorax".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(e.to_string(), "`lorax` is not installed (not found)");
        assert!(e.is_not_found());
        assert!(!e.is_retryable());
    }

    #[test]
    fn retry_policy() {
        let killed = RunError::Failed {
            program: "x".into(),
            status: ExitStatus::from_raw(9),
            tail: vec![],
        };
        assert!(killed.is_retryable());
        let timeout = RunError::Timeout {
            program: "x".into(),
            after: Duration::from_secs(7260),
            tail: vec![],
        };
        assert!(timeout.is_retryable());
        assert_eq!(timeout.to_string(), "`x` timed out after 2h 1m");
        assert!(
            !RunError::Canceled {
                program: "x".into()
            }
            .is_retryable()
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_millis(850)), "850 ms");
        assert_eq!(human_duration(Duration::from_millis(12_500)), "12.5 s");
        assert_eq!(human_duration(Duration::from_secs(200)), "3m 20s");
    }
}
