//! `--daemon` for the long-running commands: detach (pid file, log file, stdio detached) and
//! return at once; the detached process writes its pid file (see `fbs_core::daemonize`).

use std::ffi::OsString;
use std::path::PathBuf;

use fbs_core::daemonize::{self, DaemonFiles, PidFileGuard};
use fbs_core::exit;

/// The flags of a command that can run as a daemon.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DaemonArgs {
    /// Detach: run in the background with stdio detached, a pid file and a log file (for
    /// hosts without systemd); returns once the daemon is up.
    #[arg(long)]
    pub daemon: bool,
    /// The pid file with --daemon (default /var/lib/fbs/NAME.pid).
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// The log file with --daemon (default /var/log/fbs/NAME.log).
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

/// What a daemon-capable command does first.
#[derive(Debug)]
pub enum Detach {
    /// The daemon was started (or failed to start): exit with this code.
    Exit(u8),
    /// Run here; the guard (in the detached process) removes the pid file at exit.
    Run(Option<PidFileGuard>),
}

impl DaemonArgs {
    /// With `--daemon`: start the detached copy of this command and say how it went. In the
    /// detached copy (and without `--daemon`): carry on, holding the pid file.
    pub fn detach(&self, name: &str) -> Detach {
        match daemonize::child_pid_file() {
            Ok(Some(guard)) => return Detach::Run(Some(guard)),
            Ok(None) => {}
            Err(e) => {
                eprintln!("fbs: {e}");
                return Detach::Exit(exit::UNAVAILABLE);
            }
        }
        if !self.daemon {
            return Detach::Run(None);
        }
        let mut files = DaemonFiles::named(name);
        if let Some(p) = &self.pid_file {
            files.pid_file = p.clone();
        }
        if let Some(p) = &self.log_file {
            files.log_file = p.clone();
        }
        let args: Vec<OsString> = std::env::args_os()
            .skip(1)
            .filter(|a| a != "--daemon")
            .collect();
        match daemonize::spawn_detached(&files, args) {
            Ok(pid) => {
                println!(
                    "fbs {name} started (pid {pid}, log {})",
                    files.log_file.display()
                );
                Detach::Exit(exit::SUCCESS)
            }
            Err(e) => {
                eprintln!("fbs {name}: {e}");
                Detach::Exit(exit::UNAVAILABLE)
            }
        }
    }
}

/// The daemon name of a worker serving `queues`: `worker` or `worker-x86_64-17+i686-17`.
pub fn worker_name(queues: &[String]) -> String {
    if queues.is_empty() {
        return "worker".into();
    }
    let qs: Vec<String> = queues.iter().map(|q| q.replace([':', '/'], "-")).collect();
    format!("worker-{}", qs.join("+"))
}
