//! `--daemon` for the long-running commands (`fbs worker`, `fbs monitor`) on hosts without
//! systemd: the command re-executes itself detached from the caller (a new session through
//! `setsid -f`, stdin from `/dev/null`, stdout and stderr appended to a log file), the detached
//! child writes its pid file, and the caller returns once the child is up. A daemon started
//! this way over ssh survives the logout, and `fbs fleet status` finds it through the pid file.
//!
//! No `fork` in this process and no `unsafe`: the re-exec is an ordinary [`std::process::Command`].

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the detached child's environment to the pid file it must write.
pub const CHILD_ENV: &str = "FBS_DAEMON_PID_FILE";

/// Where a daemon keeps its pid and its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonFiles {
    /// The pid file (`/var/lib/fbs/NAME.pid`).
    pub pid_file: PathBuf,
    /// The log file (`/var/log/fbs/NAME.log`), appended to.
    pub log_file: PathBuf,
}

impl DaemonFiles {
    /// The default files of daemon `name`: `/var/lib/fbs/NAME.pid` and `/var/log/fbs/NAME.log`.
    pub fn named(name: &str) -> Self {
        DaemonFiles {
            pid_file: PathBuf::from(format!("/var/lib/fbs/{name}.pid")),
            log_file: PathBuf::from(format!("/var/log/fbs/{name}.log")),
        }
    }
}

/// Why a daemon could not be started.
#[derive(Debug, thiserror::Error)]
pub enum DaemonizeError {
    /// Its pid file names a live process.
    #[error("already running (pid {pid}, pid file {})", pid_file.display())]
    Running {
        /// The live process.
        pid: u32,
        /// The pid file naming it.
        pid_file: PathBuf,
    },
    /// A file could not be written or read.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The detached process did not come up.
    #[error("the daemon did not start (see {}):\n{tail}", log_file.display())]
    NotStarted {
        /// Its log file.
        log_file: PathBuf,
        /// The last lines of the log.
        tail: String,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DaemonizeError {
    let path = path.to_path_buf();
    move |source| DaemonizeError::Io {
        action,
        path,
        source,
    }
}

/// True when `pid` is a live process (a zombie counts as dead).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The pid a pid file names, if it is readable and well-formed.
pub fn read_pid(pid_file: &Path) -> Option<u32> {
    std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// Start this program again, detached, with `args` (the command line without `--daemon`);
/// returns the daemon's pid once it has written its pid file.
pub fn spawn_detached(
    files: &DaemonFiles,
    args: impl IntoIterator<Item = OsString>,
) -> Result<u32, DaemonizeError> {
    if let Some(pid) = read_pid(&files.pid_file).filter(|&p| alive(p)) {
        return Err(DaemonizeError::Running {
            pid,
            pid_file: files.pid_file.clone(),
        });
    }
    for f in [&files.pid_file, &files.log_file] {
        if let Some(dir) = f.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        }
    }
    match std::fs::remove_file(&files.pid_file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("remove the stale", &files.pid_file)(e)),
    }
    let exe = std::env::current_exe().map_err(io("find", Path::new("/proc/self/exe")))?;
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&files.log_file)
        .map_err(io("open", &files.log_file))?;
    let _ = writeln!(
        log,
        "--- {} starting {}",
        chrono::Utc::now().to_rfc3339(),
        exe.display()
    );
    let err = log.try_clone().map_err(io("open", &files.log_file))?;
    let args: Vec<OsString> = args.into_iter().collect();
    let mut cmd = if Path::new("/usr/bin/setsid").exists() || Path::new("/bin/setsid").exists() {
        let mut c = Command::new("setsid");
        c.arg("-f").arg(&exe);
        c
    } else {
        // No setsid(1): a process group of its own; it is re-parented when we exit.
        use std::os::unix::process::CommandExt;
        let mut c = Command::new(&exe);
        c.process_group(0);
        c
    };
    cmd.args(&args)
        .env(CHILD_ENV, &files.pid_file)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
    let mut child = cmd.spawn().map_err(io("start", &exe))?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        // `setsid -f` exits at once; the fallback child keeps running (never waited for).
        let _ = child.try_wait();
        if let Some(pid) = read_pid(&files.pid_file) {
            // Up, and still up a moment later (a config error exits at once).
            std::thread::sleep(Duration::from_millis(300));
            if alive(pid) {
                return Ok(pid);
            }
            break;
        }
        if Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(DaemonizeError::NotStarted {
        log_file: files.log_file.clone(),
        tail: tail(&files.log_file, 15),
    })
}

/// The last `n` lines of a file (empty when unreadable).
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Removes the pid file when the daemon ends.
#[derive(Debug)]
pub struct PidFileGuard {
    path: PathBuf,
}

impl Drop for PidFileGuard {
    fn drop(&mut self) {
        if read_pid(&self.path) == Some(std::process::id()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// In the detached child (when [`CHILD_ENV`] is set): write the pid file (temp + rename) and
/// return a guard that removes it at exit. `None` when this process was not started detached.
pub fn child_pid_file() -> Result<Option<PidFileGuard>, DaemonizeError> {
    let Some(path) = std::env::var_os(CHILD_ENV).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let path = PathBuf::from(path);
    let tmp = path.with_extension(format!("pid.{}", std::process::id()));
    std::fs::write(&tmp, format!("{}\n", std::process::id())).map_err(io("write", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(io("write", &path))?;
    Ok(Some(PidFileGuard { path }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_bogus_pid_is_not() {
        assert!(alive(std::process::id()));
        assert!(!alive(u32::MAX - 1));
    }

    #[test]
    fn default_files_live_under_var() {
        let f = DaemonFiles::named("worker-x86_64-17");
        assert_eq!(f.pid_file, Path::new("/var/lib/fbs/worker-x86_64-17.pid"));
        assert_eq!(f.log_file, Path::new("/var/log/fbs/worker-x86_64-17.log"));
    }
}
