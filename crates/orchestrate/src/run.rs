//! The deploy engine: read the inventory, derive every host's config, then run the tasks on
//! all hosts at once, bounded by a semaphore (`--parallel`), each host on its own connection
//! with its own progress line. One failing host never stops the others; the report lists
//! every host's outcome.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fbs_core::config::ConfigError;
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::hostconf;
use crate::inventory::{Host, Inventory};
use crate::layout::Layout;
use crate::packages::Set;
use crate::progress::{self, Mode, Progress};
use crate::remote::{Local, Remote, RemoteError, Ssh, SshOptions, files};
use crate::report::{HostOutcome, Report};
use crate::tasks::{Artifacts, HostCtx, Task, setup_cli};

/// What `fbs deploy` was asked to do. `Debug` hides the token.
#[derive(Clone)]
pub struct DeployOptions {
    /// The deploy config (deploy.conf or deploy.toml).
    pub config: PathBuf,
    /// The tasks; empty means [`Task::DEFAULT`].
    pub tasks: Vec<Task>,
    /// Only hosts matching this glob.
    pub hosts: Option<String>,
    /// Hosts worked on at once.
    pub parallel: usize,
    /// An ssh config file overriding deploy.conf's and `~/.ssh/config`.
    pub ssh_config: Option<PathBuf>,
    /// The API token for `setup-cli`.
    pub token: Option<String>,
    /// Where `setup-cli` writes (default `~/.config/fbs/client.toml`).
    pub client_config: Option<PathBuf>,
    /// `deploy-local` installs under this directory instead of `/`.
    pub local_root: Option<PathBuf>,
    /// The binary to push (default: this program).
    pub binary: Option<PathBuf>,
    /// How progress is shown.
    pub progress: Mode,
}

impl std::fmt::Debug for DeployOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeployOptions")
            .field("config", &self.config)
            .field("tasks", &self.tasks)
            .field("hosts", &self.hosts)
            .field("parallel", &self.parallel)
            .field("ssh_config", &self.ssh_config)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("client_config", &self.client_config)
            .field("local_root", &self.local_root)
            .field("binary", &self.binary)
            .finish()
    }
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            config: PathBuf::from("conf/deploy.conf"),
            tasks: Vec::new(),
            hosts: None,
            parallel: 8,
            ssh_config: None,
            token: None,
            client_config: None,
            local_root: None,
            binary: None,
            progress: Mode::Auto,
        }
    }
}

/// Why a deploy could not start at all (per-host failures are in the [`Report`]).
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The deploy config is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `--hosts` matched nothing.
    #[error("--hosts `{0}` matches no host of the deploy config")]
    NoHosts(String),
    /// No host named that.
    #[error("no host of the deploy config is named `{0}`")]
    UnknownHost(String),
    /// A local file could not be read or made.
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
}

/// Load the inventory and apply `--hosts`.
pub fn inventory(config: &Path, hosts: Option<&str>) -> Result<Inventory, DeployError> {
    let mut inv = Inventory::load(config)?;
    if let Some(p) = hosts
        && inv.retain_matching(p) == 0
    {
        return Err(DeployError::NoHosts(p.to_owned()));
    }
    Ok(inv)
}

/// The ssh settings for this run: `--ssh-config` wins over deploy.conf's `[ssh] config`.
pub(crate) fn ssh_options(
    inv: &Inventory,
    ssh_config: Option<&Path>,
    control_dir: &Path,
) -> SshOptions {
    SshOptions {
        config: ssh_config
            .map(Path::to_path_buf)
            .or_else(|| inv.ssh.config.clone()),
        identity: inv.ssh.identity.clone(),
        host_keys: inv.ssh.host_keys,
        connect_timeout: inv.ssh.connect_timeout,
        control_dir: control_dir.to_path_buf(),
        persist: Duration::from_secs(60),
    }
}

/// A private directory for the control sockets (removed when dropped).
pub(crate) fn control_dir() -> Result<tempfile::TempDir, DeployError> {
    tempfile::Builder::new()
        .prefix("fbs-ssh-")
        .tempdir()
        .map_err(|source| DeployError::Io {
            action: "create a control directory in",
            path: std::env::temp_dir(),
            source,
        })
}

/// Everything hosts receive, derived once.
pub fn artifacts(inv: &Inventory, binary: Option<&Path>) -> Result<Artifacts, DeployError> {
    let binary = match binary {
        Some(b) => b.to_path_buf(),
        None => std::env::current_exe().map_err(|source| DeployError::Io {
            action: "find",
            path: PathBuf::from("/proc/self/exe"),
            source,
        })?,
    };
    let io = |source| DeployError::Io {
        action: "read",
        path: binary.clone(),
        source,
    };
    let binary_sha = files::sha256_file(&binary).map_err(io)?;
    let binary_len = std::fs::metadata(&binary).map_err(io)?.len();
    let mut configs = std::collections::BTreeMap::new();
    for h in &inv.hosts {
        configs.insert(h.name(), hostconf::daemon_config(inv, h)?);
    }
    Ok(Artifacts {
        binary,
        binary_sha,
        binary_len,
        configs,
    })
}

/// Run a deploy.
pub async fn deploy(opts: &DeployOptions) -> Result<Report, DeployError> {
    let t0 = Instant::now();
    // Configs, the broker's host and the client config come from the whole fleet; `--hosts`
    // only picks the hosts worked on (a host's config never depends on the filter).
    let full = inventory(&opts.config, None)?;
    let inv = inventory(&opts.config, opts.hosts.as_deref())?;
    let tasks = if opts.tasks.is_empty() {
        Task::DEFAULT.to_vec()
    } else {
        opts.tasks.clone()
    };
    let remote_tasks: Vec<Task> = tasks.iter().copied().filter(|t| t.is_remote()).collect();
    let targets: Vec<&Host> = inv
        .hosts
        .iter()
        .filter(|h| remote_tasks.iter().any(|t| t.applies_to(h)))
        .collect();
    let locals: Vec<&Host> = if tasks.contains(&Task::DeployLocal) {
        inv.hosts.iter().filter(|h| h.login.is_local()).collect()
    } else {
        Vec::new()
    };
    let art = {
        let full = full.clone();
        let b = opts.binary.clone();
        tokio::task::spawn_blocking(move || artifacts(&full, b.as_deref()))
            .await
            .map_err(|e| DeployError::Io {
                action: "hash",
                path: PathBuf::from("the binary"),
                source: std::io::Error::other(e),
            })??
    };
    let mut names: Vec<String> = targets.iter().map(|h| h.name()).collect();
    names.extend(locals.iter().map(|h| format!("local:{}", h.name())));
    let (progress, renderer) = progress::start(&names, opts.progress);
    let dir = control_dir()?;
    let ssh = ssh_options(&inv, opts.ssh_config.as_deref(), dir.path());
    let sem = Arc::new(Semaphore::new(opts.parallel.max(1)));
    let broker = full.broker_host().map(Host::name);
    let system = Layout::system();

    let remote_runs = targets.iter().map(|h| {
        let (sem, ssh, progress, art, system) = (&sem, &ssh, &progress, &art, &system);
        let tasks = &remote_tasks;
        let is_broker = broker.as_deref() == Some(h.name().as_str());
        let span = tracing::info_span!("host", host = %h.name());
        async move {
            let _permit = sem.acquire().await;
            let t = Instant::now();
            let name = h.name();
            tracing::debug!("deploying");
            progress.step(&name, "connecting");
            let result = match Ssh::connect(&h.login, ssh).await {
                Ok(remote) => {
                    let r = on_host(&remote, h, art, system, progress, is_broker, tasks).await;
                    remote.close().await;
                    r
                }
                Err(e) => Err(remote_error(e)),
            };
            outcome(h, &name, result, t, progress)
        }
        .instrument(span)
    });
    let mut outcomes = futures::future::join_all(remote_runs).await;

    let layout = match &opts.local_root {
        Some(r) => Layout::under(r),
        None => Layout::system(),
    };
    if tasks.contains(&Task::DeployLocal) && locals.is_empty() {
        outcomes.push(HostOutcome {
            host: "local".into(),
            roles: "-".into(),
            changes: Vec::new(),
            error: Some("deploy-local: no host of the deploy config is this machine (localhost, 127.0.0.1 or its host name)".into()),
            elapsed: Duration::ZERO,
        });
    }
    for h in locals {
        let t = Instant::now();
        let name = format!("local:{}", h.name());
        let remote = Local::new(name.clone());
        let is_broker = broker.as_deref() == Some(h.name().as_str());
        let r = on_host(
            &remote,
            h,
            &art,
            &layout,
            &progress,
            is_broker,
            &[Task::DeployLocal],
        )
        .await;
        outcomes.push(outcome(h, &name, r, t, &progress));
    }
    renderer.finish(progress).await;

    if tasks.contains(&Task::SetupCli) {
        let t = Instant::now();
        let path = opts
            .client_config
            .clone()
            .unwrap_or_else(setup_cli::default_path);
        let r = setup_cli::run(&full, opts.token.clone(), &path);
        outcomes.push(HostOutcome {
            host: "client config".into(),
            roles: path.display().to_string(),
            changes: match &r {
                Ok(true) => vec!["written".into()],
                _ => Vec::new(),
            },
            error: r.err().map(|e| format!("{e:#}")),
            elapsed: t.elapsed(),
        });
    }
    Ok(Report {
        outcomes,
        warnings: inv.warnings.clone(),
        elapsed: t0.elapsed(),
    })
}

fn remote_error(e: RemoteError) -> anyhow::Error {
    anyhow::Error::new(e)
}

async fn on_host(
    remote: &dyn Remote,
    host: &Host,
    art: &Artifacts,
    layout: &Layout,
    progress: &Progress,
    is_broker: bool,
    tasks: &[Task],
) -> anyhow::Result<Vec<String>> {
    let mut ctx = HostCtx::new(remote, host, art, layout, progress, is_broker);
    ctx.package_sets = package_sets(host, tasks, is_broker);
    for t in tasks {
        if *t == Task::DeployLocal || t.applies_to(host) {
            t.run(&mut ctx)
                .await
                .map_err(|e| e.context(format!("{t}")))?;
        }
    }
    Ok(ctx.changes)
}

/// The package sets `tasks` install on `host`.
fn package_sets(host: &Host, tasks: &[Task], is_broker: bool) -> Vec<Set> {
    let mut sets = Vec::new();
    let has = |ts: &[Task]| tasks.iter().any(|t| ts.contains(t));
    if !host.queues.is_empty()
        && has(&[
            Task::InstallPackagesWorkers,
            Task::DeployWorkers,
            Task::DeployLocal,
        ])
    {
        sets.push(Set::Builder);
    }
    if host.master
        && has(&[
            Task::InstallPackagesWebapp,
            Task::DeployWebapp,
            Task::DeployLocal,
        ])
    {
        sets.push(Set::Webapp);
    }
    if is_broker && !sets.is_empty() {
        sets.push(Set::Broker);
    }
    sets
}

fn outcome(
    h: &Host,
    name: &str,
    r: anyhow::Result<Vec<String>>,
    t: Instant,
    progress: &Progress,
) -> HostOutcome {
    let (changes, error) = match r {
        Ok(c) => (c, None),
        Err(e) => (Vec::new(), Some(format!("{e:#}"))),
    };
    let msg = match (&error, changes.is_empty()) {
        (Some(e), _) => e.lines().next().unwrap_or("").to_owned(),
        (None, true) => "unchanged".to_owned(),
        (None, false) => format!("changed: {}", changes.join(", ")),
    };
    progress.done(name, error.is_none(), &msg);
    HostOutcome {
        host: name.to_owned(),
        roles: h.roles(),
        changes,
        error,
        elapsed: t.elapsed(),
    }
}
