//! `fbs worker`: the fleet worker daemon. It serves its queues (`--queue ARCH:RELEASE` or
//! `worker.queues`) and its host queue `fbs:host:<hostname>` from the Redis broker, builds up
//! to `concurrency` jobs at once, announces itself (name, host, queues, current jobs, last
//! heartbeat) for `fbs workers`, and garbage-collects finished records, log streams and job
//! directories after their retention periods.
//!
//! Shutdown (SIGTERM/SIGINT, or [`DaemonOptions::stop`]): stop claiming, let running builds
//! finish for up to `worker.shutdown_grace`, then hand the rest back to their queues.

mod gc;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fbs_core::config::DaemonConfig;
use fbs_core::job::QueueName;
use fbs_core::queue::redis::{RedisOptions, RedisStore};
use fbs_core::queue::{JobStore, QueueError, WorkerIdentity, WorkerInfo};
use tokio_util::sync::CancellationToken;

use crate::builder::Builder;
use crate::pipeline::Pipeline;
use crate::worker::{ActiveJobs, RunOptions, Worker};

/// What the command line (or a test) adds to the config.
#[derive(Debug, Clone, Default)]
pub struct DaemonOptions {
    /// `--queue ARCH:RELEASE` values; when given they replace `worker.queues`.
    pub queues: Vec<String>,
    /// `--concurrency`; overrides `worker.concurrency`.
    pub concurrency: Option<usize>,
    /// The host name (default: the machine's).
    pub hostname: Option<String>,
    /// Prefix for every Redis key (several installations or tests on one server).
    pub key_prefix: String,
    /// Install SIGTERM/SIGINT handlers (off in tests, which use `stop`).
    pub handle_signals: bool,
    /// Fires to stop the daemon as SIGTERM would.
    pub stop: CancellationToken,
    /// Return once idle (no job running, none to claim).
    pub stop_when_idle: bool,
    /// How often garbage collection runs (default: hourly).
    pub gc_every: Option<Duration>,
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The configuration or command line is unusable.
    #[error("{0}")]
    Config(String),
    /// The broker failed.
    #[error(transparent)]
    Store(#[from] QueueError),
}

impl DaemonError {
    /// True when starting again later may work (the broker was unreachable).
    pub fn is_retryable(&self) -> bool {
        matches!(self, DaemonError::Store(e) if e.is_retryable())
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            DaemonError::Config(_) => fbs_core::exit::INVALID_INPUT,
            DaemonError::Store(_) => fbs_core::exit::UNAVAILABLE,
        }
    }
}

/// The queues to serve: the options' or the config's, then the host queue.
fn queues(
    config: &DaemonConfig,
    options: &DaemonOptions,
    host: &str,
) -> Result<Vec<QueueName>, DaemonError> {
    let given = if options.queues.is_empty() {
        &config.worker.queues
    } else {
        &options.queues
    };
    if given.is_empty() {
        return Err(DaemonError::Config(
            "no queues to serve: pass --queue ARCH:RELEASE or set worker.queues".into(),
        ));
    }
    let mut qs = Vec::new();
    for q in given {
        let q = QueueName::parse(q).map_err(DaemonError::Config)?;
        if !qs.contains(&q) {
            qs.push(q);
        }
    }
    qs.push(QueueName::host(host));
    Ok(qs)
}

/// Run the worker daemon until stopped (see the module docs).
pub async fn run(
    config: DaemonConfig,
    options: DaemonOptions,
    builders: BTreeMap<&'static str, Arc<dyn Builder>>,
) -> Result<(), DaemonError> {
    let host = options
        .hostname
        .clone()
        .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned());
    let queues = queues(&config, &options, &host)?;
    let concurrency = options
        .concurrency
        .unwrap_or(config.worker.concurrency)
        .max(1);
    let identity = WorkerIdentity {
        name: Worker::unique_name(&host, &queues),
        host: host.clone(),
    };
    let redis_options = RedisOptions {
        prefix: options.key_prefix.clone(),
        slots: concurrency,
        log_retention: config.retention.logs,
        ..RedisOptions::default()
    };
    let store = RedisStore::open(&config.broker, config.lease, redis_options).await?;
    let shared: Arc<dyn JobStore> = Arc::new(store.clone());
    let worker = Worker {
        identity: identity.clone(),
        queues: queues.clone(),
        concurrency,
        poll: config.lease.poll,
        pipeline: Pipeline {
            store: shared.clone(),
            builders,
            builder_override: config.worker.builder,
            work_dir: config.worker.work_dir.clone(),
            heartbeat: config.lease.heartbeat,
            job_timeout: config.worker.job_timeout,
            extra_log: None,
            notifier: None,
            side_repos: crate::siderepo::SideRepoSettings::from_config(&config),
            staging: config.staging.clone(),
        },
    };
    tracing::info!(worker = %identity.name, broker = %store.label(),
        queues = ?queues.iter().map(QueueName::as_str).collect::<Vec<_>>(), concurrency, "worker started");

    let stop = options.stop.clone();
    let hand_back = CancellationToken::new();
    let done = CancellationToken::new();
    if options.handle_signals {
        tokio::spawn(on_signal(stop.clone()));
    }
    let grace = config.worker.shutdown_grace;
    let (stop2, hand2) = (stop.clone(), hand_back.clone());
    tokio::spawn(async move {
        stop2.cancelled().await;
        tracing::info!(grace = %humantime::format_duration(grace), "stopping: no new jobs; running builds may finish");
        tokio::time::sleep(grace).await;
        hand2.cancel();
    });
    let active = ActiveJobs::default();
    let info = WorkerInfo {
        name: identity.name.clone(),
        host,
        queues: queues.clone(),
        concurrency,
        jobs: Vec::new(),
        started_at: Utc::now(),
        heartbeat_at: Utc::now(),
    };
    let ttl = config.lease.expiry;
    tokio::spawn(announce_loop(
        shared.clone(),
        info,
        active.clone(),
        config.lease.heartbeat,
        ttl,
        done.clone(),
    ));
    tokio::spawn(gc::run(
        shared.clone(),
        config.clone(),
        active.clone(),
        options.gc_every.unwrap_or(Duration::from_secs(3600)),
        done.clone(),
    ));

    let result = worker
        .run(RunOptions {
            stop: stop.clone(),
            hand_back,
            stop_when_idle: options.stop_when_idle,
            until_job: None,
            active,
        })
        .await;
    done.cancel();
    store.close().await;
    if let Err(e) = shared.withdraw(&identity.name).await {
        tracing::warn!(error = %e, "cannot withdraw the worker's announcement");
    }
    tracing::info!(worker = %identity.name, "worker stopped");
    result.map_err(DaemonError::from)
}

async fn on_signal(stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    stop.cancel();
}

async fn announce_loop(
    store: Arc<dyn JobStore>,
    mut info: WorkerInfo,
    active: ActiveJobs,
    every: Duration,
    ttl: Duration,
    done: CancellationToken,
) {
    loop {
        info.jobs = active.snapshot();
        info.heartbeat_at = Utc::now();
        if let Err(e) = store.announce(&info, ttl.max(every * 2)).await {
            tracing::warn!(error = %e, "cannot announce the worker");
        }
        tokio::select! {
            _ = done.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
