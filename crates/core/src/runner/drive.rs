//! Driving one started command: its output pumps and its supervisor (exit, cancel,
//! timeout, then stopping the process group) run side by side; then the outcome is logged
//! and turned into an [`Output`] or a [`RunError`].

use std::process::ExitStatus;
use std::sync::Mutex;
use std::time::Duration;

use tokio::process::Child;
use tokio_util::sync::CancellationToken;

use super::error::human_duration;
use super::group::{self, Stopped};
use super::lines::{Capture, Tail};
use super::pump::{self, Collected};
use super::{CAPTURE_LIMIT, Cmd, Output, RunError, TAIL_LINES, describe_status};
use crate::joblog::{LogSink, LogStream};

/// How long output is still read after the process group is gone (a process that escaped
/// the group may hold the pipes open).
const DRAIN: Duration = Duration::from_secs(2);

/// Why the command stopped.
pub(super) enum End {
    Exited(std::io::Result<ExitStatus>),
    Canceled,
    TimedOut(Duration),
}

/// What [`drive`] found.
pub(super) struct Ran {
    pub(super) end: End,
    pub(super) stopped: Stopped,
    collected: Collected,
}

/// Run the pumps and the supervisor of the started `child` (leader of group `pgid`) side
/// by side until the command has ended and its group is gone.
pub(super) async fn drive(
    child: &mut Child,
    pgid: i32,
    cmd: &Cmd,
    sink: &dyn LogSink,
    cancel: &CancellationToken,
) -> Ran {
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
            let stopped = group::stop(child, pgid, cmd.grace).await;
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
                "stopped reading the output of `{}`: a process outside its process group still holds it open",
                cmd.display_name()
            ));
        }
        (end, stopped)
    };
    let collected = match collected.into_inner() {
        Ok(c) => c,
        Err(p) => p.into_inner(),
    };
    Ran {
        end,
        stopped,
        collected,
    }
}

/// Log how the command ended and turn that into the result of [`run`](super::run).
pub(super) fn conclude(
    ran: Ran,
    program: String,
    duration: Duration,
    sink: &dyn LogSink,
) -> Result<Output, RunError> {
    report_stop(sink, &program, &ran.end, &ran.stopped);
    let tail = ran.collected.tail.to_vec();
    let status = match ran.end {
        End::Canceled => {
            let took = human_duration(duration);
            sink.fbs(&format!("`{program}` canceled after {took}"));
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
    let stdout = ran.collected.capture.map(|c| {
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
fn report_stop(sink: &dyn LogSink, program: &str, end: &End, stopped: &Stopped) {
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
