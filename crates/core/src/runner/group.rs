//! The process group a command runs in: finding its live members in `/proc`, signalling
//! it, and stopping it — SIGTERM, a grace period, then SIGKILL — until nothing is left.
//!
//! Zombies count as gone: a killed background process is reparented to the system's init,
//! which may reap it late (or, in some containers, never), and a zombie runs no code.

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Child;

/// How often the group is checked while it is being stopped.
const POLL: Duration = Duration::from_millis(25);

/// How long to wait for the group to vanish after SIGKILL before giving up (a process in
/// uninterruptible sleep, e.g. on a hung NFS mount, cannot die until the I/O ends).
const KILL_WAIT: Duration = Duration::from_secs(10);

/// The state letter and process group of a `/proc/PID/stat` line.
pub(crate) fn parse_stat(stat: &str) -> Option<(char, i32)> {
    // "pid (comm) S ppid pgrp ..."; comm may contain spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// Pids of the live (not zombie) processes in process group `pgid`.
pub(crate) fn live_members(pgid: i32) -> Vec<i32> {
    // Cheap first: no process at all in the group (zombies included).
    if killpg(Pid::from_raw(pgid), None) == Err(Errno::ESRCH) {
        return Vec::new();
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| parse_stat(&s))
                .is_some_and(|(state, g)| g == pgid && state != 'Z' && state != 'X')
        })
        .collect()
}

/// Send `sig` to the group; a group that is already gone is not an error.
pub(crate) fn signal(pgid: i32, sig: Signal) {
    match killpg(Pid::from_raw(pgid), sig) {
        Ok(()) | Err(Errno::ESRCH) => {}
        Err(e) => tracing::warn!(pgid, signal = %sig, error = %e, "cannot signal process group"),
    }
}

/// How stopping a group went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stopped {
    /// The leader's exit status, when it was reaped.
    pub(crate) status: Option<std::process::ExitStatus>,
    /// Whether SIGTERM had to be sent (something was still running).
    pub(crate) termed: bool,
    /// Whether SIGKILL had to be sent (something outlived the grace period).
    pub(crate) killed: bool,
    /// Live processes still in the group at the end (normally empty).
    pub(crate) left: Vec<i32>,
}

/// Stop everything in group `pgid`, whose leader is `child`: nothing if the leader has
/// exited and the group is empty; else SIGTERM, up to `grace` for the group to empty, then
/// SIGKILL and up to [`KILL_WAIT`] more. The leader is reaped.
pub(crate) async fn stop(child: &mut Child, pgid: i32, grace: Duration) -> Stopped {
    let mut out = Stopped {
        status: None,
        termed: false,
        killed: false,
        left: Vec::new(),
    };
    if gone(child, pgid, &mut out) {
        return out;
    }
    out.termed = true;
    signal(pgid, Signal::SIGTERM);
    if wait_gone(child, pgid, grace, &mut out).await {
        return out;
    }
    out.killed = true;
    signal(pgid, Signal::SIGKILL);
    if !wait_gone(child, pgid, KILL_WAIT, &mut out).await {
        out.left = live_members(pgid);
    }
    out
}

/// True when the leader is reaped and no live process is left in the group.
fn gone(child: &mut Child, pgid: i32, out: &mut Stopped) -> bool {
    if out.status.is_none() {
        match child.try_wait() {
            Ok(Some(st)) => out.status = Some(st),
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(pgid, error = %e, "cannot wait for process group leader");
                return false;
            }
        }
    }
    live_members(pgid).is_empty()
}

async fn wait_gone(child: &mut Child, pgid: i32, limit: Duration, out: &mut Stopped) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if gone(child, pgid, out) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// SIGKILLs the group when dropped while armed: the runner's future may be dropped
/// mid-run (its caller gave up on it), and the group must not outlive it. There is no
/// grace period here (a drop cannot wait); cancel through the token for a graceful stop.
#[derive(Debug)]
pub(crate) struct KillOnDrop {
    pgid: i32,
    armed: bool,
}

impl KillOnDrop {
    /// Armed for group `pgid`.
    pub(crate) fn new(pgid: i32) -> Self {
        KillOnDrop { pgid, armed: true }
    }

    /// The group is known to be gone.
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.armed {
            signal(self.pgid, Signal::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_parsed_even_with_odd_names() {
        let line = "4242 (we (ird) name) S 1 4240 4240 0 -1 4194560 100 0 0 0";
        assert_eq!(parse_stat(line), Some(('S', 4240)));
        assert_eq!(parse_stat("7 (sleep) Z 1 7 7"), Some(('Z', 7)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn our_own_group_has_live_members() {
        let me = nix::unistd::getpgrp().as_raw();
        assert!(!live_members(me).is_empty());
    }
}
