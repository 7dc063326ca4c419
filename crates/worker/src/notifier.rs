//! `fbs notify`: the fleet's notifier run alone — the only process besides the master's
//! monitor that holds SMTP settings. It mails the events `fbs submit` and the workers leave
//! on the default broker (the loop is [`fbs_core::notify::run_notifier`]) until SIGTERM or
//! SIGINT (or [`NotifyOptions::stop`]).

use std::time::Duration;

use fbs_core::config::DaemonConfig;
use fbs_core::notify::{Links, MailError, Mailer, NotifierOptions, run_notifier};
use fbs_core::queue::QueueError;
use fbs_core::queue::redis::{RedisOptions, RedisStore};
use tokio_util::sync::CancellationToken;

/// What the command line (or a test) adds to the config.
#[derive(Debug, Clone, Default)]
pub struct NotifyOptions {
    /// Prefix for every Redis key (several installations or tests on one server).
    pub key_prefix: String,
    /// Install SIGTERM/SIGINT handlers (off in tests, which use `stop`).
    pub handle_signals: bool,
    /// Fires to stop the notifier.
    pub stop: CancellationToken,
    /// Take over events another notifier left unacknowledged this long (default 10 min).
    pub claim_idle: Option<Duration>,
}

/// Why the notifier could not run.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No usable SMTP settings.
    #[error("{0}")]
    Config(String),
    /// The SMTP settings are unusable.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The broker cannot be reached.
    #[error(transparent)]
    Store(#[from] QueueError),
}

impl NotifyError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            NotifyError::Config(_) | NotifyError::Mail(_) => fbs_core::exit::INVALID_INPUT,
            NotifyError::Store(_) => fbs_core::exit::UNAVAILABLE,
        }
    }
}

/// Run the notifier until stopped.
pub async fn run(config: DaemonConfig, options: NotifyOptions) -> Result<(), NotifyError> {
    let Some(smtp) = config.smtp.as_ref() else {
        return Err(NotifyError::Config(
            "no [smtp] section in the config: the notifier has nothing to send mail with".into(),
        ));
    };
    let mailer = Mailer::new(smtp)?;
    let store = RedisStore::open(
        &config.broker,
        config.lease,
        RedisOptions {
            prefix: options.key_prefix.clone(),
            log_retention: config.retention.logs,
            ..RedisOptions::default()
        },
    )
    .await?;
    let links = Links {
        monitor_url: config.monitor.public_url.clone(),
        ..Links::default()
    };
    let defaults = NotifierOptions::default();
    let notifier_options = NotifierOptions {
        retry_base: smtp.retry_base,
        retry_max: smtp
            .retry_base
            .saturating_mul(1 << smtp.retries.min(16))
            .max(smtp.retry_base),
        claim_idle: options.claim_idle.unwrap_or(defaults.claim_idle),
        ..defaults
    };
    let stop = options.stop.clone();
    if options.handle_signals {
        tokio::spawn(on_signal(stop.clone()));
    }
    run_notifier(&store, &mailer, &links, &notifier_options, stop).await?;
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
