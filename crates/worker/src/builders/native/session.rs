//! One native build in progress: its directories, the environment every tool gets, the
//! `SOURCE_DATE_EPOCH` once known, step timings, and the one way tools are run (through
//! [`fbs_core::runner::run`], with the job's log and cancel token).
//!
//! Tools start from an empty environment: the daemon's own variables (which may hold
//! secrets) never reach dnf, scriptlets or kickstart scripts. Each gets `PATH`, `HOME` (the
//! job's own, whose `.rpmmacros` fixes the rpmdb path), `LC_ALL=C.UTF-8`, `TZ=UTC` and,
//! once known, `SOURCE_DATE_EPOCH`.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use fbs_core::runner::{self, Cmd, Isolation, Output};

use super::NativeOptions;
use crate::builder::{BuildContext, BuildError, StepTiming};

/// The `PATH` tools get.
pub(crate) const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A build in progress.
pub(crate) struct Session<'a> {
    pub ctx: &'a BuildContext,
    pub opts: &'a NativeOptions,
    /// `work/home`: `HOME` for every tool.
    pub home: PathBuf,
    /// `SOURCE_DATE_EPOCH`, once decided.
    pub sde: Option<i64>,
    pub steps: Vec<StepTiming>,
    /// Numbers the output files of [`Session::stdout_quiet`].
    quiet: std::sync::atomic::AtomicU32,
}

impl<'a> Session<'a> {
    /// A session for `ctx`; creates `work/home`.
    pub fn new(ctx: &'a BuildContext, opts: &'a NativeOptions) -> Result<Self, BuildError> {
        let home = ctx.dirs.work.join("home");
        mkdir(&home)?;
        Ok(Session {
            ctx,
            opts,
            home,
            sde: ctx.job.spec.source_date_epoch,
            steps: Vec::new(),
            quiet: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// A path under the job's work directory.
    pub fn work(&self, rel: &str) -> PathBuf {
        self.ctx.dirs.work.join(rel)
    }

    /// `program` with the build's environment, timeout and (for `Isolation::MountPidNs`) the
    /// hidden paths.
    pub fn cmd(&self, program: &str) -> Cmd {
        let mut c = Cmd::new(program)
            .env_clear()
            .env("PATH", PATH)
            .env("HOME", &self.home)
            .env("LC_ALL", "C.UTF-8")
            .env("TZ", "UTC")
            .timeout(self.opts.tool_timeout);
        if let Some(t) = self.sde {
            c = c.env("SOURCE_DATE_EPOCH", t.to_string());
        }
        c
    }

    /// [`Session::cmd`] in its own mount and pid namespaces with the daemon's config hidden:
    /// for anything that runs package scriptlets or kickstart scripts.
    pub fn isolated(&self, program: &str) -> Cmd {
        let mut c = self.cmd(program).isolation(Isolation::MountPidNs);
        for p in &self.opts.hide {
            c = c.hide(p);
        }
        c
    }

    /// Run `cmd`, streaming its output into the job log.
    pub async fn run(&self, cmd: &Cmd) -> Result<Output, BuildError> {
        if self.ctx.cancel.is_cancelled() {
            return Err(BuildError::Canceled);
        }
        match runner::run(cmd, self.ctx.log.as_ref(), &self.ctx.cancel).await {
            Ok(o) => Ok(o),
            Err(runner::RunError::Canceled { .. }) => Err(BuildError::Canceled),
            Err(e) => Err(e.into()),
        }
    }

    /// Run `cmd` and return its stdout.
    pub async fn stdout(&self, cmd: Cmd) -> Result<String, BuildError> {
        Ok(self
            .run(&cmd.capture_stdout())
            .await?
            .stdout
            .unwrap_or_default())
    }

    /// Run `program args…` with its stdout going to a file instead of the job log (for
    /// package and file lists thousands of lines long), and return that output.
    pub async fn stdout_quiet<I, S>(&self, program: &str, args: I) -> Result<String, BuildError>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString>,
    {
        let n = self
            .quiet
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out = self.work(&format!("query-{n}.out"));
        let cmd = self
            .cmd("sh")
            .args(["-c", "out=$1; shift; exec \"$@\" > \"$out\"", "fbs-query"])
            .arg(&out)
            .arg(program)
            .args(args)
            .name(program);
        self.run(&cmd).await?;
        let text = std::fs::read(&out).map_err(io_err("read", &out))?;
        let _ = std::fs::remove_file(&out);
        Ok(String::from_utf8_lossy(&text).into_owned())
    }

    /// A line from fbs in the job log.
    pub fn note(&self, msg: &str) {
        self.ctx.log.fbs(msg);
    }

    /// A warning in the job log.
    pub fn warn(&self, msg: &str) {
        self.ctx.log.fbs(&format!("warning: {msg}"));
    }

    /// Record that step `name` started at `started` and ends now.
    pub fn step_done(&mut self, name: &str, started: Instant) {
        let duration = started.elapsed();
        self.note(&format!("step {name} took {:.1} s", duration.as_secs_f64()));
        self.steps.push(StepTiming {
            step: name.to_owned(),
            duration,
        });
    }
}

/// Map an I/O error on `path` to a [`BuildError`].
pub(crate) fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> BuildError {
    let path = path.to_path_buf();
    move |source| BuildError::Io {
        action,
        path,
        source,
    }
}

/// `mkdir -p`.
pub(crate) fn mkdir(p: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(p).map_err(io_err("create", p))
}

/// Write a file.
pub(crate) fn write(p: &Path, data: impl AsRef<[u8]>) -> Result<(), BuildError> {
    std::fs::write(p, data).map_err(io_err("write", p))
}

/// Copy a file.
pub(crate) fn copy(from: &Path, to: &Path) -> Result<(), BuildError> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(io_err("copy", from))
}
