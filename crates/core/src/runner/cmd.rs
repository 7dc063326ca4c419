//! [`Cmd`]: the description of one external command — what to run, where, with which
//! environment and input, how long it may take, and how it is isolated from the daemon.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::quote;

/// How long a stopped command gets between SIGTERM and SIGKILL, unless set.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// The most stdout a [`Cmd::capture_stdout`] command returns, in bytes.
pub const CAPTURE_LIMIT: usize = 16 * 1024 * 1024;

/// How a command is isolated from the daemon that runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// No isolation: the command shares the daemon's namespaces.
    #[default]
    None,
    /// Its own mount namespace with private propagation: mounts it makes (a chroot's
    /// `/proc`, `/sys`, `/dev`) are never seen outside and vanish with it, and the
    /// [`Cmd::hide`] paths are covered. Needs root.
    MountNs,
    /// [`Isolation::MountNs`] plus its own pid namespace with a fresh `/proc`: the command
    /// sees only its own processes, and when it ends every process it left behind is killed
    /// by the kernel, even one that left the process group with `setsid`. Needs root.
    /// A small `sh` is the namespace's init (pid 1) and the tool its child, so a tool killed
    /// by signal N shows as exit code 128+N.
    MountPidNs,
}

impl Isolation {
    /// True for the namespace variants.
    pub fn is_isolated(self) -> bool {
        self != Isolation::None
    }

    fn describe(self) -> &'static str {
        match self {
            Isolation::None => "none",
            Isolation::MountNs => "mount namespace",
            Isolation::MountPidNs => "mount+pid namespace",
        }
    }
}

/// One external command. Build it with [`Cmd::new`] and the chained setters, then hand it
/// to [`run`](super::run).
///
/// `Debug` and the job log show environment variable *names* only: values may be secrets.
#[derive(Clone)]
pub struct Cmd {
    pub(super) program: OsString,
    pub(super) args: Vec<OsString>,
    pub(super) cwd: Option<PathBuf>,
    pub(super) env: Vec<(OsString, Option<OsString>)>,
    pub(super) env_clear: bool,
    pub(super) stdin: Option<Vec<u8>>,
    pub(super) timeout: Option<Duration>,
    pub(super) grace: Duration,
    pub(super) name: Option<String>,
    pub(super) capture_stdout: bool,
    pub(super) isolation: Isolation,
    pub(super) hidden: Vec<PathBuf>,
}

impl Cmd {
    /// A command running `program` (a name looked up in `PATH`, or a path), with no
    /// arguments, no stdin, no timeout and no isolation.
    pub fn new(program: impl Into<OsString>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            cwd: None,
            env: Vec::new(),
            env_clear: false,
            stdin: None,
            timeout: None,
            grace: DEFAULT_GRACE,
            name: None,
            capture_stdout: false,
            isolation: Isolation::None,
            hidden: Vec::new(),
        }
    }

    /// Append one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Append arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Run in `dir` instead of the daemon's working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Set an environment variable (its value is never logged).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    /// Remove an inherited environment variable.
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.env.push((key.into(), None));
        self
    }

    /// Start from an empty environment; only [`Cmd::env`] variables are passed.
    pub fn env_clear(mut self) -> Self {
        self.env_clear = true;
        self
    }

    /// Write `bytes` to the command's stdin, then close it (default: stdin is `/dev/null`).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Stop the command (and its process group) when it runs longer than `limit`.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Time between SIGTERM and SIGKILL when the command is stopped (default
    /// [`DEFAULT_GRACE`]).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The name used in messages (default: the program's file name).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Also return stdout as a string (up to [`CAPTURE_LIMIT`] bytes), e.g. for `rpm -qa`.
    /// It is still streamed to the log.
    pub fn capture_stdout(mut self) -> Self {
        self.capture_stdout = true;
        self
    }

    /// Run in the given namespaces.
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// Hide `path` from the command: inside its mount namespace an empty read-only tmpfs
    /// covers it (a file is covered by `/dev/null`). Use for the daemon's config and state
    /// directories. Give absolute paths (a relative one is taken from the command's working
    /// directory). Needs an isolated [`Isolation`] (else [`run`](super::run) refuses the
    /// command); a path that does not exist is skipped; a path that cannot be covered stops
    /// the command before the tool starts (exit code 125).
    pub fn hide(mut self, path: impl Into<PathBuf>) -> Self {
        self.hidden.push(path.into());
        self
    }

    /// The program as given.
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    /// The arguments.
    pub fn get_args(&self) -> &[OsString] {
        &self.args
    }

    /// The working directory, when set.
    pub fn get_cwd(&self) -> Option<&Path> {
        self.cwd.as_deref()
    }

    /// The timeout, when set.
    pub fn get_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The isolation.
    pub fn get_isolation(&self) -> Isolation {
        self.isolation
    }

    /// The paths hidden from the command.
    pub fn hidden(&self) -> &[PathBuf] {
        &self.hidden
    }

    /// The value set for environment variable `key` by [`Cmd::env`] (the last one wins);
    /// `Some(None)` when it is removed.
    pub fn get_env(&self, key: &str) -> Option<Option<&OsStr>> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_deref())
    }

    /// The name used in messages.
    pub fn display_name(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let p = Path::new(&self.program);
        p.file_name()
            .unwrap_or(p.as_os_str())
            .to_string_lossy()
            .into_owned()
    }

    /// The command line, shell-quoted (program and arguments; never the environment).
    pub fn command_line(&self) -> String {
        quote::command_line(
            std::iter::once(self.program.as_os_str())
                .chain(self.args.iter().map(OsString::as_os_str)),
        )
    }

    /// The line logged when the command starts: its command line and settings, with
    /// environment variable names but not their values.
    pub(super) fn log_line(&self) -> String {
        let mut s = format!("$ {}", self.command_line());
        let mut notes = Vec::new();
        if let Some(cwd) = &self.cwd {
            notes.push(format!("in {}", quote::quote(cwd.as_os_str())));
        }
        if let Some(t) = self.timeout {
            notes.push(format!("timeout {}", super::error::human_duration(t)));
        }
        if self.isolation.is_isolated() {
            notes.push(self.isolation.describe().to_owned());
        }
        if !self.hidden.is_empty() {
            let paths: Vec<String> = self
                .hidden
                .iter()
                .map(|p| quote::quote(p.as_os_str()))
                .collect();
            notes.push(format!("hiding {}", paths.join(" ")));
        }
        let names = self.env_names();
        if self.env_clear || !names.is_empty() {
            let clear = if self.env_clear { "cleared " } else { "" };
            notes.push(
                format!("env {clear}{}", names.join(" "))
                    .trim_end()
                    .to_owned(),
            );
        }
        if let Some(input) = &self.stdin {
            notes.push(format!("stdin {} bytes", input.len()));
        }
        if !notes.is_empty() {
            s.push_str(&format!("  ({})", notes.join("; ")));
        }
        s
    }

    /// `+NAME` for each set variable and `-NAME` for each removed one.
    fn env_names(&self) -> Vec<String> {
        self.env
            .iter()
            .map(|(k, v)| {
                let sign = if v.is_some() { '+' } else { '-' };
                format!("{sign}{}", k.to_string_lossy())
            })
            .collect()
    }
}

impl fmt::Debug for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cmd")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("cwd", &self.cwd)
            .field("env", &self.env_names())
            .field("env_clear", &self.env_clear)
            .field("stdin_bytes", &self.stdin.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .field("grace", &self.grace)
            .field("name", &self.name)
            .field("capture_stdout", &self.capture_stdout)
            .field("isolation", &self.isolation)
            .field("hidden", &self.hidden)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_records_everything() {
        let c = Cmd::new("/usr/sbin/lorax")
            .arg("-p")
            .args(["Fedora", "two words"])
            .cwd("/work/job")
            .env("TOKEN", "hunter2")
            .env_remove("HOME")
            .timeout(Duration::from_secs(7200))
            .isolation(Isolation::MountPidNs)
            .hide("/etc/fbs");
        assert_eq!(c.display_name(), "lorax");
        assert_eq!(c.get_args().len(), 3);
        assert_eq!(c.get_env("TOKEN"), Some(Some(OsStr::new("hunter2"))));
        assert_eq!(c.get_env("HOME"), Some(None));
        assert_eq!(c.command_line(), "/usr/sbin/lorax -p Fedora 'two words'");
        assert_eq!(Cmd::new("x").name("builder").display_name(), "builder");
    }

    #[test]
    fn log_line_and_debug_never_show_env_values() {
        let c = Cmd::new("dnf")
            .arg("install")
            .env("FBS_FTP_PASSWORD", "hunter2")
            .env_remove("HOME")
            .stdin("secret input")
            .isolation(Isolation::MountNs)
            .hide("/etc/fbs");
        let line = c.log_line();
        assert_eq!(
            line,
            "$ dnf install  (mount namespace; hiding /etc/fbs; env +FBS_FTP_PASSWORD -HOME; stdin 12 bytes)"
        );
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("hunter2") && !dbg.contains("secret input"),
            "{dbg}"
        );
    }
}
