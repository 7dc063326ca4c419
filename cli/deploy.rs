//! `fbs deploy` and `fbs fleet status|stop|restart|logs`: flags in, the orchestrate library
//! does the work, the summary out; the exit code is non-zero when any host failed.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use fbs_core::exit;
use fbs_orchestrate::fleet::{self, Action, FleetOptions};
use fbs_orchestrate::progress::Mode;
use fbs_orchestrate::{DeployOptions, Task};

/// `fbs deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Tasks: copy-files-workers, install-packages-workers, deploy-workers, copy-files-webapp,
    /// install-packages-webapp, deploy-webapp, deploy-local, setup-cli (`_` spellings too);
    /// none = deploy-workers deploy-webapp setup-cli.
    #[arg(value_parser = parse_task)]
    pub tasks: Vec<Task>,
    /// The deploy config: the old deploy.conf (INI) or deploy.toml.
    #[arg(short = 'c', long, default_value = "conf/deploy.conf")]
    pub config: PathBuf,
    /// Only hosts matching this glob (`h[12]`, `root@10.0.0.*`).
    #[arg(long, value_name = "PATTERN")]
    pub hosts: Option<String>,
    /// Hosts worked on at once.
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
    /// Show what would be done (files, exact package commands per distribution, service
    /// commands) without connecting to any host.
    #[arg(long)]
    pub dry_run: bool,
    /// An ssh config file to use instead of ~/.ssh/config (ssh -F).
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// The API token setup-cli writes into the client config.
    #[arg(long, env = "FBS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Where setup-cli writes (default ~/.config/fbs/client.toml).
    #[arg(long, value_name = "FILE", env = "FBS_CLIENT_CONFIG")]
    pub client_config: Option<PathBuf>,
    /// deploy-local installs under this directory instead of / (no systemd, no packages).
    #[arg(long, value_name = "DIR")]
    pub local_root: Option<PathBuf>,
    /// Plain progress lines even on a terminal.
    #[arg(long)]
    pub plain: bool,
}

fn parse_task(s: &str) -> Result<Task, String> {
    s.parse()
}

/// `fbs fleet …`.
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Show every daemon of the fleet: running, dead (pid file left by a process that is
    /// gone), or stopped. Exit 0 only when all run.
    Status(FleetArgs),
    /// Stop the daemons.
    Stop(FleetArgs),
    /// Stop and start the daemons (a dead one is started again).
    Restart(FleetArgs),
    /// Print the daemon logs of one host.
    Logs {
        /// The host (as deploy.conf names it, or its address).
        host: String,
        /// Lines per log.
        #[arg(short = 'n', long, default_value_t = 100)]
        lines: usize,
        #[command(flatten)]
        common: FleetArgs,
    },
}

/// What every `fbs fleet` command takes.
#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    /// The deploy config.
    #[arg(short = 'c', long, default_value = "conf/deploy.conf")]
    pub config: PathBuf,
    /// Only hosts matching this glob.
    #[arg(long, value_name = "PATTERN")]
    pub hosts: Option<String>,
    /// Hosts worked on at once.
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
    /// An ssh config file to use instead of ~/.ssh/config.
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
}

impl FleetArgs {
    fn options(&self) -> FleetOptions {
        FleetOptions {
            config: self.config.clone(),
            hosts: self.hosts.clone(),
            parallel: self.parallel,
            ssh_config: self.ssh_config.clone(),
        }
    }
}

/// The master runs `fbs monitor` once this build has it (it also sends the mail), else
/// `fbs notify`.
fn choose_webapp() {
    use fbs_orchestrate::services::{Service, set_webapp};
    let cli = <crate::args::Cli as clap::CommandFactory>::command();
    set_webapp(if cli.find_subcommand("monitor").is_some() {
        Service::Monitor
    } else {
        Service::Notify
    });
}

/// Run `fbs deploy`.
pub async fn deploy(a: DeployArgs) -> u8 {
    choose_webapp();
    let opts = DeployOptions {
        config: a.config,
        tasks: a.tasks,
        hosts: a.hosts,
        parallel: a.parallel,
        ssh_config: a.ssh_config,
        token: a.token,
        client_config: a.client_config,
        local_root: a.local_root,
        binary: None,
        progress: if a.plain { Mode::Plain } else { Mode::Auto },
    };
    if a.dry_run {
        return match fbs_orchestrate::plan::plan(&opts) {
            Ok(text) => {
                print!("{text}");
                exit::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    match fbs_orchestrate::deploy(&opts).await {
        Ok(report) => {
            for w in &report.warnings {
                eprintln!("fbs deploy: warning: {w}");
            }
            print!("{}", report.render());
            if report.success() {
                exit::SUCCESS
            } else {
                exit::FAILED
            }
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &fbs_orchestrate::DeployError) -> u8 {
    eprintln!("fbs: {e}");
    match e {
        fbs_orchestrate::DeployError::Io { .. } => exit::UNAVAILABLE,
        _ => exit::INVALID_INPUT,
    }
}

/// Run `fbs fleet …`.
pub async fn fleet(cmd: FleetCommand) -> u8 {
    choose_webapp();
    let (action, args) = match cmd {
        FleetCommand::Status(a) => (Action::Status, a),
        FleetCommand::Stop(a) => (Action::Stop, a),
        FleetCommand::Restart(a) => (Action::Restart, a),
        FleetCommand::Logs {
            host,
            lines,
            common,
        } => {
            return match fleet::logs(&common.options(), &host, lines).await {
                Ok(text) => {
                    print!("{text}");
                    exit::SUCCESS
                }
                Err(e) => fail(&e),
            };
        }
    };
    match fleet::run(&args.options(), action).await {
        Ok(report) => {
            print!("{}", report.render());
            if report.success(action) {
                exit::SUCCESS
            } else {
                exit::FAILED
            }
        }
        Err(e) => fail(&e),
    }
}
