//! The deploy tasks, with the old tool's names (one file each), and what they share: the
//! per-host context ([`HostCtx`]) that probes a host once, remembers which steps already ran
//! (so `copy-files-workers` and `copy-files-webapp` on one host push the binary once), and
//! collects what changed.

mod copy_files_webapp;
mod copy_files_workers;
mod deploy_local;
mod deploy_webapp;
mod deploy_workers;
mod install_packages_webapp;
mod install_packages_workers;
pub mod setup_cli;
mod start;
mod steps;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::inventory::Host;
use crate::layout::Layout;
use crate::progress::Progress;
use crate::remote::Remote;
use crate::remote::files::FileState;

pub(crate) use steps::Probe;

/// A deploy task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Task {
    /// Binary, config and units to the worker hosts.
    CopyFilesWorkers,
    /// The builder's packages (and Redis on the broker's host) on the worker hosts.
    InstallPackagesWorkers,
    /// Both of the above, then (re)start the workers that need it.
    DeployWorkers,
    /// Binary, config (with SMTP) and the monitor unit to the master.
    CopyFilesWebapp,
    /// The master's packages.
    InstallPackagesWebapp,
    /// Both of the above, then (re)start the monitor if needed.
    DeployWebapp,
    /// Deploy the roles of the hosts that are this machine, without ssh.
    DeployLocal,
    /// Write this user's client config.
    SetupCli,
}

impl Task {
    /// Every task, in the order they run.
    pub const ALL: [Task; 8] = [
        Task::CopyFilesWorkers,
        Task::InstallPackagesWorkers,
        Task::DeployWorkers,
        Task::CopyFilesWebapp,
        Task::InstallPackagesWebapp,
        Task::DeployWebapp,
        Task::DeployLocal,
        Task::SetupCli,
    ];

    /// What `fbs deploy` with no task runs: everything for every role.
    pub const DEFAULT: [Task; 3] = [Task::DeployWorkers, Task::DeployWebapp, Task::SetupCli];

    /// The task's name (`copy-files-workers`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Task::CopyFilesWorkers => "copy-files-workers",
            Task::InstallPackagesWorkers => "install-packages-workers",
            Task::DeployWorkers => "deploy-workers",
            Task::CopyFilesWebapp => "copy-files-webapp",
            Task::InstallPackagesWebapp => "install-packages-webapp",
            Task::DeployWebapp => "deploy-webapp",
            Task::DeployLocal => "deploy-local",
            Task::SetupCli => "setup-cli",
        }
    }

    /// True for the tasks that run on remote hosts over ssh.
    pub fn is_remote(self) -> bool {
        !matches!(self, Task::DeployLocal | Task::SetupCli)
    }

    /// True when the task does anything on `host`.
    pub fn applies_to(self, host: &Host) -> bool {
        match self {
            Task::CopyFilesWorkers | Task::InstallPackagesWorkers | Task::DeployWorkers => {
                !host.queues.is_empty()
            }
            Task::CopyFilesWebapp | Task::InstallPackagesWebapp | Task::DeployWebapp => host.master,
            Task::DeployLocal => host.login.is_local(),
            Task::SetupCli => false,
        }
    }

    /// Run the task on one host.
    pub(crate) async fn run(self, ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
        match self {
            Task::CopyFilesWorkers => copy_files_workers::run(ctx).await,
            Task::InstallPackagesWorkers => install_packages_workers::run(ctx).await,
            Task::DeployWorkers => deploy_workers::run(ctx).await,
            Task::CopyFilesWebapp => copy_files_webapp::run(ctx).await,
            Task::InstallPackagesWebapp => install_packages_webapp::run(ctx).await,
            Task::DeployWebapp => deploy_webapp::run(ctx).await,
            Task::DeployLocal => deploy_local::run(ctx).await,
            Task::SetupCli => Ok(()),
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Task {
    type Err = String;

    /// The old names, with `-` or `_`.
    fn from_str(s: &str) -> Result<Task, String> {
        let norm = s.trim().replace('_', "-");
        Task::ALL
            .into_iter()
            .find(|t| t.as_str() == norm)
            .ok_or_else(|| {
                let names: Vec<&str> = Task::ALL.iter().map(|t| t.as_str()).collect();
                format!("`{s}` is not a deploy task (one of: {})", names.join(", "))
            })
    }
}

/// What every host receives: the binary and, per host, its config text. `Debug` shows only
/// the config sizes (the master's holds the SMTP password).
#[derive(Clone)]
pub struct Artifacts {
    /// The `fbs` binary pushed to hosts.
    pub binary: PathBuf,
    /// Its sha256.
    pub binary_sha: String,
    /// Its size.
    pub binary_len: u64,
    /// Host name → its daemon config text.
    pub configs: BTreeMap<String, String>,
}

impl std::fmt::Debug for Artifacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: BTreeMap<&String, usize> =
            self.configs.iter().map(|(h, c)| (h, c.len())).collect();
        f.debug_struct("Artifacts")
            .field("binary", &self.binary)
            .field("binary_sha", &self.binary_sha)
            .field("binary_len", &self.binary_len)
            .field("config_bytes", &sizes)
            .finish()
    }
}

/// One host during a deploy.
pub struct HostCtx<'a> {
    /// How to reach it.
    pub remote: &'a dyn Remote,
    /// Its roles.
    pub host: &'a Host,
    /// What it receives.
    pub art: &'a Artifacts,
    /// Where things go.
    pub layout: &'a Layout,
    /// Progress reports.
    pub progress: &'a Progress,
    /// The default broker's Redis runs here.
    pub broker_host: bool,
    /// The package sets this run installs on the host (checked with the probe).
    pub package_sets: Vec<crate::packages::Set>,
    /// What changed, in words, for the summary.
    pub changes: Vec<String>,
    probe: Option<Probe>,
    done: BTreeSet<String>,
}

impl std::fmt::Debug for HostCtx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostCtx")
            .field("host", &self.remote.name())
            .field("changes", &self.changes)
            .finish_non_exhaustive()
    }
}

impl<'a> HostCtx<'a> {
    /// A fresh context.
    pub fn new(
        remote: &'a dyn Remote,
        host: &'a Host,
        art: &'a Artifacts,
        layout: &'a Layout,
        progress: &'a Progress,
        broker_host: bool,
    ) -> Self {
        HostCtx {
            remote,
            host,
            art,
            layout,
            progress,
            broker_host,
            package_sets: Vec::new(),
            changes: Vec::new(),
            probe: None,
            done: BTreeSet::new(),
        }
    }

    fn step(&self, msg: &str) {
        self.progress.step(self.remote.name(), msg);
    }

    /// True the first time `key` is asked for (steps run once per host).
    fn first(&mut self, key: &str) -> bool {
        self.done.insert(key.to_owned())
    }

    fn file(&self, p: &std::path::Path) -> FileState {
        self.probe
            .as_ref()
            .and_then(|pr| pr.files.get(p).cloned())
            .unwrap_or_default()
    }
}
