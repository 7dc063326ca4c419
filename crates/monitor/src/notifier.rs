//! The notifier of the webapp role (when SMTP is configured and the store is Redis): the same
//! loop as `fbs notify` (`fbs_core::notify::run_notifier`), sharing its consumer group, so the
//! master's monitor and any `fbs notify` split the events between them. When reads need a
//! token, the links in the mails carry each job's read token.

use fbs_core::config::SmtpConfig;
use fbs_core::notify::{Links, Mailer, NotifierOptions, run_notifier};
use fbs_core::queue::redis::RedisStore;
use tokio_util::sync::CancellationToken;

/// What the notifier needs besides the store.
#[derive(Debug, Clone)]
pub struct Options {
    /// Mail settings.
    pub smtp: SmtpConfig,
    /// The monitor's public URL, for links.
    pub public_url: Option<String>,
    /// The server secret, when links must carry read tokens.
    pub read_key: Option<Vec<u8>>,
}

/// Why the notifier stopped.
#[derive(Debug, thiserror::Error)]
#[error("notifier: {0}")]
pub struct NotifierError(String);

/// Run until `stop` fires.
pub async fn run(
    store: RedisStore,
    opts: Options,
    stop: CancellationToken,
) -> Result<(), NotifierError> {
    let mailer = Mailer::new(&opts.smtp).map_err(|e| NotifierError(e.to_string()))?;
    let links = Links {
        monitor_url: opts.public_url,
        read_key: opts.read_key,
    };
    let options = NotifierOptions {
        retry_base: opts.smtp.retry_base,
        ..NotifierOptions::default()
    };
    run_notifier(&store, &mailer, &links, &options, stop)
        .await
        .map_err(|e| NotifierError(e.to_string()))
}
