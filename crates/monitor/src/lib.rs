//! fbs-monitor: `fbs monitor` — the REST API (with its OpenAPI document), live job logs, the
//! web UI, `/metrics` and health checks, and on the master the notifier.
//!
//! Two roles, as the old service had: the **webapp** on the master (everything) and the
//! **worker** role on each worker host (its `/metrics`, `/healthz`, `/readyz` and its local
//! job log files by job id). [`run`] is what `fbs monitor` calls and what tests start
//! in-process (bind `127.0.0.1:0`, learn the address, stop by token).

pub mod api;
pub mod auth;
pub mod error;
pub mod hub;
pub mod logs;
pub mod metrics;
pub mod notifier;
pub mod router;
pub mod state;
pub mod submit;
pub mod token;
pub mod ui;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use fbs_core::config::DaemonConfig;
use fbs_core::queue::QueueError;
use tokio_util::sync::CancellationToken;

pub use router::app;
pub use state::{AppState, Backend, Role};

/// What the command line (or a test) adds to the config.
#[derive(Debug, Default)]
pub struct MonitorOptions {
    /// Listen address; overrides `monitor.listen`.
    pub listen: Option<String>,
    /// The role.
    pub role: Role,
    /// Prefix for every Redis key (several installations or tests on one server).
    pub key_prefix: String,
    /// Without a broker: the directory of the SQLite store (`jobs.db`) and job directories.
    pub state_dir: Option<PathBuf>,
    /// Install SIGTERM/SIGINT handlers (off in tests, which use `stop`).
    pub handle_signals: bool,
    /// Fires to stop the monitor.
    pub stop: CancellationToken,
    /// Told the bound address once listening.
    pub bound: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
    /// Run the notifier (webapp role with SMTP configured and a Redis store).
    pub notifier: bool,
    /// Use this backend instead of opening one from the config.
    pub backend: Option<Backend>,
}

/// Why the monitor could not run.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The configuration or command line is unusable.
    #[error("{0}")]
    Config(String),
    /// The job store failed.
    #[error(transparent)]
    Store(#[from] QueueError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("serving HTTP: {0}")]
    Serve(std::io::Error),
}

impl MonitorError {
    /// True when starting again later may work.
    pub fn is_retryable(&self) -> bool {
        match self {
            MonitorError::Store(e) => e.is_retryable(),
            MonitorError::Bind { .. } | MonitorError::Serve(_) => true,
            MonitorError::Config(_) => false,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            MonitorError::Config(_) => fbs_core::exit::INVALID_INPUT,
            _ => fbs_core::exit::UNAVAILABLE,
        }
    }
}

/// The work directory whose `<id>/build.log` files this monitor serves.
fn work_dir(config: &DaemonConfig, options: &MonitorOptions) -> PathBuf {
    match (&options.state_dir, &config.broker.default) {
        (Some(d), None) => d.join("jobs"),
        _ => config.worker.work_dir.clone(),
    }
}

/// Run the monitor until stopped (see the crate docs).
pub async fn run(config: DaemonConfig, mut options: MonitorOptions) -> Result<(), MonitorError> {
    let backend = match options.backend.take() {
        Some(b) => b,
        None => {
            token::open_backend(&config, &options.key_prefix, options.state_dir.as_deref()).await?
        }
    };
    let secret = backend
        .tokens
        .secret("monitor", &auth::sign::random_hex())
        .await?
        .into_bytes();
    let work_dir = work_dir(&config, &options);
    let state = AppState::new(
        options.role,
        backend.clone(),
        config.monitor.clone(),
        work_dir,
        secret.clone(),
    );
    let addr = options
        .listen
        .clone()
        .unwrap_or_else(|| config.monitor.listen.clone());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| MonitorError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local = listener.local_addr().map_err(MonitorError::Serve)?;
    tracing::info!(%local, role = ?options.role, store = %backend.label, "monitor listening");
    if let Some(tx) = options.bound.take() {
        let _ = tx.send(local);
    }
    let stop = options.stop.clone();
    if options.handle_signals {
        tokio::spawn(on_signal(stop.clone()));
    }
    if options.role == Role::Webapp && options.notifier {
        match (&config.smtp, &backend.redis) {
            (Some(smtp), Some(store)) => {
                let opts = notifier::Options {
                    smtp: smtp.clone(),
                    public_url: config.monitor.public_url.clone(),
                    read_key: config.monitor.read_token_required.then(|| secret.clone()),
                };
                let (store, stop) = (store.clone(), stop.clone());
                tokio::spawn(async move {
                    if let Err(e) = notifier::run(store, opts, stop).await {
                        tracing::error!(error = %e, "notifier stopped");
                    }
                });
            }
            (None, _) => tracing::info!("no [smtp] settings: the notifier does not run here"),
            (_, None) => tracing::info!("no broker: the notifier does not run here"),
        }
    }
    let serve = axum::serve(listener, app(state))
        .with_graceful_shutdown(stop.clone().cancelled_owned())
        .into_future();
    // Open log streams would hold a graceful shutdown forever: give them a few seconds.
    tokio::select! {
        r = serve => r.map_err(MonitorError::Serve)?,
        _ = async { stop.cancelled().await; tokio::time::sleep(Duration::from_secs(5)).await } => {}
    }
    tracing::info!("monitor stopped");
    Ok(())
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

#[cfg(test)]
mod tests;
