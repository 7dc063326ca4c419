//! The one process runner every external tool goes through (dnf, rpm, mksquashfs, xorriso,
//! lorax, createrepo_c, …).
//!
//! [`run`] starts a [`Cmd`] in its own process group and streams its stdout and stderr line
//! by line into the job's [`LogSink`] as the lines arrive. It logs the command line first
//! (shell-quoted; environment variable names only, never their values), enforces the
//! timeout, and on cancel or timeout stops the whole group: SIGTERM to the group, a grace
//! period ([`Cmd::grace`]), SIGKILL to the group, until no live process is left in it. The
//! same happens to background processes still in the group when the tool itself exits, so
//! a successful run leaves nothing behind either. Dropping the future SIGKILLs the group.
//!
//! Output handling keeps memory bounded: lines longer than [`MAX_LINE_BYTES`] are split,
//! invalid UTF-8 is replaced, `\r`-only progress output is logged as its latest state (at
//! most every few seconds, and once when the line ends), the last [`TAIL_LINES`] lines are
//! kept for the error message, and captured stdout stops at [`CAPTURE_LIMIT`].
//!
//! **Isolation.** Builds run untrusted kickstart `%post` code as root. With
//! [`Isolation::MountNs`] the command runs under util-linux `unshare` in its own mount
//! namespace (private propagation), where a small `sh` prelude first covers the
//! [`Cmd::hide`] paths (the daemon's config and secrets) with empty tmpfs mounts and then
//! execs the tool; mounts the tool makes (a chroot's `/proc`, `/sys`, `/dev`) exist only in
//! that namespace and vanish with it. [`Isolation::MountPidNs`] adds a pid namespace with
//! its own `/proc`; the prelude `sh` stays as the namespace's init and the tool runs as its
//! child (pid 2). No `unsafe` `pre_exec` code is needed for any of this.
//!
//! **The known hole.** A process that leaves the process group (`setsid`, or a new group
//! via `setpgid`) is not reached by signals to the group, and may keep the output pipes
//! open (the runner stops reading a few seconds after the group is gone). Under
//! [`Isolation::MountPidNs`] there is no hole: when the namespace's init dies the kernel
//! kills every process in the namespace, escaped or not. Without a pid namespace such a
//! process survives the run — use `MountPidNs` for anything untrusted.

mod cmd;
mod drive;
mod error;
mod group;
mod lines;
mod pump;
mod quote;
mod spawn;

use std::process::ExitStatus;
use std::time::{Duration, Instant};

pub use cmd::{CAPTURE_LIMIT, Cmd, DEFAULT_GRACE, Isolation};
pub use error::{MESSAGE_TAIL_LINES, RunError, describe_status};
pub use lines::MAX_LINE_BYTES;
/// The token that cancels a [`run`] (re-exported so callers need not name `tokio-util`).
pub use tokio_util::sync::CancellationToken;

use crate::joblog::LogSink;
use group::KillOnDrop;

/// How many lines of combined output are kept for errors ([`Output::tail`], [`RunError::tail`]).
pub const TAIL_LINES: usize = 50;

/// A command that ran to a successful end.
#[derive(Debug, Clone)]
pub struct Output {
    /// Its exit status (always a success).
    pub status: ExitStatus,
    /// How long it ran, from start until its process group was gone.
    pub duration: Duration,
    /// Its stdout, one `\n`-terminated line per logged line, when [`Cmd::capture_stdout`]
    /// asked for it.
    pub stdout: Option<String>,
    /// The last [`TAIL_LINES`] lines of combined stdout and stderr, oldest first.
    pub tail: Vec<String>,
}

/// Run `cmd` to its end, streaming its output into `sink`; stop it (and everything in its
/// process group) when `cancel` fires or its timeout passes. See the module docs.
pub async fn run(
    cmd: &Cmd,
    sink: &dyn LogSink,
    cancel: &CancellationToken,
) -> Result<Output, RunError> {
    let program = cmd.display_name();
    if cancel.is_cancelled() {
        return Err(RunError::Canceled { program });
    }
    sink.fbs(&cmd.log_line());
    let started = Instant::now();
    let spawned = spawn::preflight(cmd).and_then(|()| {
        spawn::command(cmd)
            .spawn()
            .map_err(|e| spawn::spawn_error(cmd, e))
    });
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            sink.fbs(&format!("{e}"));
            return Err(e);
        }
    };
    let Some(pgid) = child.id().and_then(|p| i32::try_from(p).ok()) else {
        return Err(RunError::Io {
            program,
            action: "find the process id of",
            source: std::io::Error::other("the process has no id"),
        });
    };
    let mut guard = KillOnDrop::new(pgid);
    let ran = drive::drive(&mut child, pgid, cmd, sink, cancel).await;
    if ran.stopped.left.is_empty() {
        guard.disarm();
    }
    drive::conclude(ran, program, started.elapsed(), sink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::joblog::MemorySink;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn the_run_future_can_be_spawned() {
        let (cmd, sink, cancel) = (
            Cmd::new("true"),
            MemorySink::new(10),
            CancellationToken::new(),
        );
        let fut = run(&cmd, &sink, &cancel);
        assert_send(&fut);
    }

    #[tokio::test]
    async fn a_quick_command_runs_and_is_logged() {
        let sink = MemorySink::new(100);
        let cmd = Cmd::new("sh")
            .args(["-c", "echo hello; echo oops >&2"])
            .capture_stdout();
        let out = run(&cmd, &sink, &CancellationToken::new())
            .await
            .expect("runs");
        assert!(out.status.success());
        assert_eq!(out.stdout.as_deref(), Some("hello\n"));
        let texts = sink.texts();
        assert_eq!(texts[0], "$ sh -c 'echo hello; echo oops >&2'");
        assert!(texts.iter().any(|t| t == "oops"));
        assert!(
            texts
                .last()
                .is_some_and(|t| t.starts_with("`sh` exited with exit code 0"))
        );
    }

    #[tokio::test]
    async fn a_canceled_token_runs_nothing() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let sink = MemorySink::new(10);
        let e = run(&Cmd::new("true"), &sink, &cancel)
            .await
            .expect_err("canceled");
        assert!(matches!(e, RunError::Canceled { .. }), "{e}");
        assert!(sink.texts().is_empty());
    }
}
