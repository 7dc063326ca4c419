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
mod error;
mod group;
mod lines;
mod pump;
mod quote;
mod spawn;

use std::process::ExitStatus;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use cmd::{CAPTURE_LIMIT, Cmd, DEFAULT_GRACE, Isolation};
use error::human_duration;
pub use error::{MESSAGE_TAIL_LINES, RunError, describe_status};
pub use lines::MAX_LINE_BYTES;
/// The token that cancels a [`run`] (re-exported so callers need not name `tokio-util`).
pub use tokio_util::sync::CancellationToken;

use crate::joblog::{LogSink, LogStream};
use group::KillOnDrop;
use lines::{Capture, Tail};
use pump::Collected;

/// How many lines of combined output are kept for errors ([`Output::tail`], [`RunError::tail`]).
pub const TAIL_LINES: usize = 50;

/// How long output is still read after the process group is gone (a process that escaped
/// the group may hold the pipes open).
const DRAIN: Duration = Duration::from_secs(2);

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

/// Why the command stopped.
enum End {
    Exited(std::io::Result<ExitStatus>),
    Canceled,
    TimedOut(Duration),
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

    let collected = Mutex::new(Collected {
        tail: Tail::new(TAIL_LINES),
        capture: cmd.capture_stdout.then(|| Capture::new(CAPTURE_LIMIT)),
    });
    let (stdout, stderr, stdin) = (child.stdout.take(), child.stderr.take(), child.stdin.take());
    let (end, stopped) = {
        let pumps = async {
            let out = async {
                if let Some(r) = stdout {
                    pump::pump(r, LogStream::Stdout, sink, &collected).await;
                }
            };
            let err = async {
                if let Some(r) = stderr {
                    pump::pump(r, LogStream::Stderr, sink, &collected).await;
                }
            };
            let input = async {
                if let (Some(w), Some(bytes)) = (stdin, cmd.stdin.as_deref()) {
                    pump::feed(w, bytes).await;
                }
            };
            tokio::join!(out, err, input);
        };
        let supervise = async {
            let end = tokio::select! {
                biased;
                st = child.wait() => End::Exited(st),
                () = cancel.cancelled() => End::Canceled,
                () = sleep_opt(cmd.timeout) => End::TimedOut(cmd.timeout.unwrap_or_default()),
            };
            let stopped = group::stop(&mut child, pgid, cmd.grace).await;
            (end, stopped)
        };
        tokio::pin!(pumps, supervise);
        let mut pumped = false;
        let (end, stopped) = loop {
            tokio::select! {
                r = &mut supervise => break r,
                () = &mut pumps, if !pumped => pumped = true,
            }
        };
        if !pumped && tokio::time::timeout(DRAIN, &mut pumps).await.is_err() {
            sink.fbs(&format!(
                "stopped reading the output of `{program}`: a process outside its process group still holds it open"
            ));
        }
        (end, stopped)
    };
    if stopped.left.is_empty() {
        guard.disarm();
    }
    let duration = started.elapsed();
    report_stop(sink, &program, &end, &stopped);

    let collected = match collected.into_inner() {
        Ok(c) => c,
        Err(p) => p.into_inner(),
    };
    let tail = collected.tail.to_vec();
    let status = match end {
        End::Canceled => {
            sink.fbs(&format!(
                "`{program}` canceled after {}",
                human_duration(duration)
            ));
            return Err(RunError::Canceled { program });
        }
        End::TimedOut(after) => {
            sink.fbs(&format!(
                "`{program}` timed out after {}",
                human_duration(after)
            ));
            return Err(RunError::Timeout {
                program,
                after,
                tail,
            });
        }
        End::Exited(Err(source)) => {
            return Err(RunError::Io {
                program,
                action: "wait for",
                source,
            });
        }
        End::Exited(Ok(status)) => status,
    };
    sink.fbs(&format!(
        "`{program}` exited with {} after {}",
        describe_status(status),
        human_duration(duration)
    ));
    if !status.success() {
        return Err(RunError::Failed {
            program,
            status,
            tail,
        });
    }
    let stdout = collected.capture.map(|c| {
        if c.truncated() {
            sink.fbs(&format!(
                "the captured output of `{program}` was cut at {CAPTURE_LIMIT} bytes"
            ));
        }
        c.into_text()
    });
    Ok(Output {
        status,
        duration,
        stdout,
        tail,
    })
}

/// Sleep for `limit`, or forever when there is none.
async fn sleep_opt(limit: Option<Duration>) {
    match limit {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Say in the log what had to be done to stop the group, when anything had to.
fn report_stop(sink: &dyn LogSink, program: &str, end: &End, stopped: &group::Stopped) {
    if !stopped.termed {
        return;
    }
    let what = if matches!(end, End::Exited(_)) {
        format!("`{program}` left processes behind in its process group")
    } else {
        format!("stopping `{program}` and its process group")
    };
    let how = if stopped.killed {
        "SIGTERM, then SIGKILL after the grace period"
    } else {
        "SIGTERM"
    };
    sink.fbs(&format!("{what}: sent {how}"));
    if !stopped.left.is_empty() {
        sink.fbs(&format!(
            "warning: processes {:?} of `{program}` are still alive after SIGKILL (uninterruptible sleep?)",
            stopped.left
        ));
    }
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
