//! The job subcommands (`worker`, `notify`, `submit`, `jobs`, `status`, `cancel`, `retry`,
//! `workers`, `logs`) and the one `match` that hands each to its library function.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use fbs_core::exit;
use fbs_core::job::JobState;

/// Where the client commands find the broker.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The default broker (redis://HOST:PORT/DB, redis://:PASSWORD@HOST:PORT/DB or rediss://…); overrides
    /// FBS_BROKER and the client config.
    #[arg(long, value_name = "URL")]
    pub broker: Option<String>,
    /// The client config (default: FBS_CLIENT_CONFIG, else ~/.config/fbs/client.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The job subcommands (flattened into the top level).
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Run a worker: build jobs from the queues on the broker until stopped (SIGTERM).
    #[command(after_help = fbs_core::exit::HELP)]
    Worker {
        /// A queue to serve, as ARCH:RELEASE (repeatable; default: worker.queues).
        #[arg(long = "queue", value_name = "ARCH:RELEASE")]
        queues: Vec<String>,
        /// Jobs built at once (default: worker.concurrency).
        #[arg(long)]
        concurrency: Option<usize>,
        /// The daemon config (TOML, or a deploy.conf); default FBS_CONFIG, else /etc/fbs/fbs.toml.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The default broker; overrides FBS_BROKER and the config.
        #[arg(long, value_name = "URL")]
        broker: Option<String>,
        #[command(flatten)]
        daemon: crate::daemon::DaemonArgs,
    },
    /// Submit a build spec to the fleet; prints the job id, its queue and its log URL.
    #[command(after_help = fbs_core::exit::HELP)]
    Submit {
        /// The spec (FBS INI `.conf` or TOML `.toml`).
        spec: PathBuf,
        /// Follow the job's log until it ends; exit with its outcome.
        #[arg(long)]
        watch: bool,
        #[command(flatten)]
        conn: ClientArgs,
    },
    /// List jobs, newest first.
    Jobs {
        /// Only jobs in this state.
        #[arg(long)]
        state: Option<JobState>,
        /// Only jobs on this queue (ARCH:RELEASE).
        #[arg(long)]
        queue: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// JSON on stdout.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        conn: ClientArgs,
    },
    /// Show one job.
    Status {
        /// The job id.
        job: String,
        /// JSON on stdout.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        conn: ClientArgs,
    },
    /// Cancel a job (a running build is stopped and its processes killed).
    Cancel {
        /// The job id.
        job: String,
        #[command(flatten)]
        conn: ClientArgs,
    },
    /// Queue a failed or canceled job again.
    Retry {
        /// The job id.
        job: String,
        /// Only stage again the artifacts a job whose staging failed left on its worker
        /// (routed to that worker's host); no rebuild.
        #[arg(long)]
        stage_only: bool,
        #[command(flatten)]
        conn: ClientArgs,
    },
    /// Run the notifier: mail the submitted/finished events of the fleet's jobs (needs the
    /// `[smtp]` section; the only role besides the master's monitor that holds it).
    #[command(after_help = fbs_core::exit::HELP)]
    Notify {
        /// The daemon config (TOML, or a deploy.conf); default FBS_CONFIG, else /etc/fbs/fbs.toml.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The default broker; overrides FBS_BROKER and the config.
        #[arg(long, value_name = "URL")]
        broker: Option<String>,
        /// Take over events another notifier left unacknowledged this long (e.g. 10m).
        #[arg(long, value_name = "DURATION", value_parser = fbs_core::config::duration::parse)]
        claim_idle: Option<std::time::Duration>,
        #[command(flatten)]
        daemon: crate::daemon::DaemonArgs,
    },
    /// List the workers alive now.
    Workers {
        /// JSON on stdout.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        conn: ClientArgs,
    },
    /// Print a job's log.
    Logs {
        /// The job id.
        job: String,
        /// Keep printing new lines until the job ends.
        #[arg(short, long)]
        follow: bool,
        /// Read the log from this monitor (default: the client config's monitor_url, else
        /// the broker).
        #[arg(long, value_name = "URL")]
        monitor: Option<String>,
        #[command(flatten)]
        conn: ClientArgs,
    },
}

/// Run a fleet subcommand; returns the exit code.
pub fn run(command: JobCommand) -> u8 {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fbs: cannot start the async runtime: {e}");
            return exit::UNAVAILABLE;
        }
    };
    rt.block_on(dispatch(command))
}

async fn dispatch(command: JobCommand) -> u8 {
    use fbs_client as c;
    let conn = match &command {
        JobCommand::Worker {
            queues,
            concurrency,
            config,
            broker,
            daemon,
        } => {
            let guard = match daemon.detach(&crate::daemon::worker_name(queues)) {
                crate::daemon::Detach::Exit(code) => return code,
                crate::daemon::Detach::Run(guard) => guard,
            };
            let code = worker(queues, *concurrency, config.clone(), broker.clone()).await;
            drop(guard);
            return code;
        }
        JobCommand::Notify {
            config,
            broker,
            claim_idle,
            daemon,
        } => {
            let guard = match daemon.detach("notify") {
                crate::daemon::Detach::Exit(code) => return code,
                crate::daemon::Detach::Run(guard) => guard,
            };
            let code = notify(config.clone(), broker.clone(), *claim_idle).await;
            drop(guard);
            return code;
        }
        JobCommand::Submit { conn, .. }
        | JobCommand::Jobs { conn, .. }
        | JobCommand::Status { conn, .. }
        | JobCommand::Cancel { conn, .. }
        | JobCommand::Retry { conn, .. }
        | JobCommand::Workers { conn, .. }
        | JobCommand::Logs { conn, .. } => conn.clone(),
    };
    if let JobCommand::Logs {
        job,
        follow,
        monitor,
        ..
    } = &command
        && (conn.broker.is_none() || monitor.is_some())
        && let Some(code) =
            c::logs::via_monitor(monitor.as_deref(), conn.config.as_deref(), job, *follow).await
    {
        return code;
    }
    let fleet = match c::fleet::connect(conn.broker.as_deref(), conn.config.as_deref()).await {
        Ok(f) => f,
        Err(code) => return code,
    };
    match command {
        JobCommand::Worker { .. } => exit::SUCCESS,
        JobCommand::Notify { .. } => exit::SUCCESS,
        JobCommand::Submit { spec, watch, .. } => c::submit::run(&fleet, &spec, watch).await,
        JobCommand::Jobs {
            state,
            queue,
            limit,
            json,
            ..
        } => c::jobs::run(&fleet, state, queue.as_deref(), limit, json).await,
        JobCommand::Status { job, json, .. } => c::status::run(&fleet, &job, json).await,
        JobCommand::Cancel { job, .. } => c::cancel::run(&fleet, &job).await,
        JobCommand::Retry {
            job,
            stage_only: true,
            ..
        } => c::retry::run_stage_only(&fleet, &job).await,
        JobCommand::Retry { job, .. } => c::retry::run(&fleet, &job).await,
        JobCommand::Workers { json, .. } => c::workers::run(&fleet, json).await,
        JobCommand::Logs { job, follow, .. } => c::logs::run(&fleet, &job, follow).await,
    }
}

async fn worker(
    queues: &[String],
    concurrency: Option<usize>,
    config: Option<PathBuf>,
    broker: Option<String>,
) -> u8 {
    let (mut cfg, _) = match fbs_core::config::load_daemon(config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fbs: {e}");
            return exit::INVALID_INPUT;
        }
    };
    if let Some(b) = broker {
        cfg.broker.default = Some(b);
    }
    let options = fbs_worker::daemon::DaemonOptions {
        queues: queues.to_vec(),
        concurrency,
        key_prefix: std::env::var(fbs_client::fleet::PREFIX_ENV).unwrap_or_default(),
        handle_signals: true,
        ..Default::default()
    };
    let builders = fbs_worker::script::ScriptBuilder::from_env()
        .or_else(fbs_worker::builders::noop::NoopBuilder::from_env)
        .unwrap_or_else(fbs_worker::builders::default_builders);
    match fbs_worker::daemon::run(cfg, options, builders).await {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            eprintln!("fbs worker: {e}");
            e.exit_code()
        }
    }
}

async fn notify(
    config: Option<PathBuf>,
    broker: Option<String>,
    claim_idle: Option<std::time::Duration>,
) -> u8 {
    let (mut cfg, _) = match fbs_core::config::load_daemon(config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fbs: {e}");
            return exit::INVALID_INPUT;
        }
    };
    if let Some(b) = broker {
        cfg.broker.default = Some(b);
    }
    let options = fbs_worker::notifier::NotifyOptions {
        key_prefix: std::env::var(fbs_client::fleet::PREFIX_ENV).unwrap_or_default(),
        handle_signals: true,
        claim_idle,
        ..Default::default()
    };
    match fbs_worker::notifier::run(cfg, options).await {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            eprintln!("fbs notify: {e}");
            e.exit_code()
        }
    }
}
