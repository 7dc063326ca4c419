//! `fbs fleet status|stop|restart [--hosts P]` and `fbs fleet logs HOST`: the daemons of the
//! deploy config's hosts, through systemd where it runs and pid files elsewhere. `status`
//! reports a dead daemon (its pid file names a process that is gone, or systemd says failed);
//! `restart` starts it again.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::inventory::{Host, Inventory};
use crate::layout::Layout;
use crate::remote::{Input, Remote, Ssh, check, qpath};
use crate::report::table;
use crate::run::{DeployError, control_dir, inventory, ssh_options};
use crate::services::{self, Service, State};

/// What to do to the daemons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Report them.
    Status,
    /// Stop them.
    Stop,
    /// Stop and start them.
    Restart,
}

/// Which fleet.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// The deploy config.
    pub config: PathBuf,
    /// Only hosts matching this glob.
    pub hosts: Option<String>,
    /// Hosts worked on at once.
    pub parallel: usize,
    /// An ssh config file overriding deploy.conf's and `~/.ssh/config`.
    pub ssh_config: Option<PathBuf>,
}

/// One daemon's row.
#[derive(Debug, Clone)]
pub struct Row {
    /// The host.
    pub host: String,
    /// The daemon (`worker-x86_64-17`, `monitor`), or `-` when the host was unreachable.
    pub service: String,
    /// Its state after the action, or the error.
    pub state: Result<State, String>,
}

/// The outcome of a fleet command.
#[derive(Debug, Clone, Default)]
pub struct FleetReport {
    /// One row per daemon (or per unreachable host).
    pub rows: Vec<Row>,
}

impl FleetReport {
    /// True when every daemon is as the action wants it (running; stopped for `stop`).
    pub fn success(&self, action: Action) -> bool {
        self.rows.iter().all(|r| {
            matches!(
                (&r.state, action),
                (Ok(State::Running(_)), Action::Status | Action::Restart)
                    | (Ok(State::Stopped), Action::Stop)
            )
        })
    }

    /// The table.
    pub fn render(&self) -> String {
        let rows: Vec<[String; 3]> = self
            .rows
            .iter()
            .map(|r| {
                let st = match &r.state {
                    Ok(s) => s.to_string(),
                    Err(e) => e.lines().next().unwrap_or("").to_owned(),
                };
                [r.host.clone(), r.service.clone(), st]
            })
            .collect();
        table(&["HOST", "DAEMON", "STATE"], &rows)
    }
}

async fn systemd(remote: &dyn Remote) -> anyhow::Result<bool> {
    let out = check(
        remote,
        "probing",
        "[ -d /run/systemd/system ] && echo 1 || echo 0",
        Input::None,
    )
    .await?;
    Ok(out.stdout.trim() == "1")
}

async fn on_host(
    remote: &dyn Remote,
    host: &Host,
    action: Action,
) -> anyhow::Result<Vec<(Service, State)>> {
    let l = Layout::system();
    let sd = systemd(remote).await?;
    let svcs = services::of(host);
    let query = |svcs: &[Service]| {
        svcs.iter()
            .map(|s| s.query_script(&l, sd))
            .collect::<String>()
    };
    let before = services::parse_states(
        &check(remote, "querying daemons", &query(&svcs), Input::None)
            .await?
            .stdout,
    );
    match action {
        Action::Status => {}
        Action::Stop => {
            let script: String = svcs.iter().map(|s| s.stop_script(&l, sd, 30)).collect();
            check(remote, "stopping daemons", &script, Input::None).await?;
        }
        Action::Restart => {
            for s in &svcs {
                // Keep the deploy stamp: a restart is not a new deployment.
                let stamp = before.get(&s.name()).and_then(|(_, st)| st.clone());
                check(
                    remote,
                    &format!("starting {}", s.name()),
                    &s.start_script(&l, sd, stamp.as_deref()),
                    Input::None,
                )
                .await?;
            }
        }
    }
    let after = if action == Action::Status {
        before
    } else {
        let wait = if action == Action::Restart {
            "sleep 1\n"
        } else {
            ""
        };
        services::parse_states(
            &check(
                remote,
                "querying daemons",
                &format!("{wait}{}", query(&svcs)),
                Input::None,
            )
            .await?
            .stdout,
        )
    };
    Ok(svcs
        .into_iter()
        .map(|s| {
            let st = after
                .get(&s.name())
                .map_or(State::Stopped, |(st, _)| st.clone());
            (s, st)
        })
        .collect())
}

/// Run `action` on the daemons of every (matching) host.
pub async fn run(opts: &FleetOptions, action: Action) -> Result<FleetReport, DeployError> {
    let inv = inventory(&opts.config, opts.hosts.as_deref())?;
    let dir = control_dir()?;
    let ssh = ssh_options(&inv, opts.ssh_config.as_deref(), dir.path());
    let sem = Arc::new(Semaphore::new(opts.parallel.max(1)));
    let runs = inv.hosts.iter().map(|h| {
        let (sem, ssh) = (&sem, &ssh);
        async move {
            let _permit = sem.acquire().await;
            let name = h.name();
            let r = match Ssh::connect(&h.login, ssh).await {
                Ok(remote) => {
                    let r = on_host(&remote, h, action).await;
                    remote.close().await;
                    r
                }
                Err(e) => Err(anyhow::Error::new(e)),
            };
            match r {
                Ok(list) => list
                    .into_iter()
                    .map(|(s, st)| Row {
                        host: name.clone(),
                        service: s.name(),
                        state: Ok(st),
                    })
                    .collect(),
                Err(e) => vec![Row {
                    host: name.clone(),
                    service: "-".into(),
                    state: Err(format!("{e:#}")),
                }],
            }
        }
    });
    let rows = futures::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    Ok(FleetReport { rows })
}

/// The last `lines` lines of the daemon logs of the host named `name` (exactly, or by glob).
pub async fn logs(opts: &FleetOptions, name: &str, lines: usize) -> Result<String, DeployError> {
    let inv: Inventory = inventory(&opts.config, None)?;
    let host = inv
        .hosts
        .iter()
        .find(|h| h.name() == name || h.login.host == name)
        .or_else(|| inv.hosts.iter().find(|h| h.matches(name)))
        .ok_or_else(|| DeployError::UnknownHost(name.to_owned()))?;
    let dir = control_dir()?;
    let ssh = ssh_options(&inv, opts.ssh_config.as_deref(), dir.path());
    let fail = |e: String| DeployError::Io {
        action: "read the logs of",
        path: PathBuf::from(host.name()),
        source: std::io::Error::other(e),
    };
    let remote = Ssh::connect(&host.login, &ssh)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let l = Layout::system();
    let mut script = String::from("if [ -d /run/systemd/system ]; then\n");
    for s in services::of(host) {
        script.push_str(&format!(
            "echo '==> journal of {u} <=='; journalctl -u {u} -n {lines} --no-pager 2>&1\n",
            u = s.unit()
        ));
    }
    script.push_str("fi\n");
    for s in services::of(host) {
        let f = qpath(&s.log_file(&l));
        script.push_str(&format!(
            "if [ -f {f} ]; then echo '==> '{f}' <=='; tail -n {lines} {f}; fi\n"
        ));
    }
    let out = remote
        .exec(&script, Input::None)
        .await
        .map_err(|e| fail(e.to_string()));
    remote.close().await;
    Ok(out?.stdout)
}
