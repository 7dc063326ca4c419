//! The notifier (webapp role, when SMTP is configured and the store is Redis): consumes the
//! notification events on the default broker, reads each job's record, renders the mail with
//! `fbs_core::notify` and sends it with retries and backoff. Delivery is at-least-once: an
//! event is acknowledged only once its mail is sent (or refused for good), and each sent
//! Message-ID is recorded so a redelivered event never mails twice. Unacknowledged events are
//! picked up again every minute and after a restart.

use std::time::{Duration, Instant};

use fbs_core::config::SmtpConfig;
use fbs_core::job::JobId;
use fbs_core::notify::{self, Links, Mail, Mailer};
use fbs_core::queue::JobStore;
use fbs_core::queue::redis::{Delivered, NotifyKind, RedisStore};
use tokio_util::sync::CancellationToken;

use crate::auth::sign;

/// How many last log lines the completion mail carries.
pub const LOG_TAIL: usize = 50;

/// What the notifier needs besides the store.
#[derive(Debug, Clone)]
pub struct NotifierOptions {
    /// Mail settings.
    pub smtp: SmtpConfig,
    /// The monitor's public URL, for links.
    pub public_url: Option<String>,
    /// Signs per-job read tokens into links (`Some` when reads need a token).
    pub read_secret: Option<Vec<u8>>,
    /// How long sent-records are kept.
    pub keep_sent: Duration,
    /// This consumer's name in the group (stable per host, so a restart resumes its events).
    pub consumer: String,
}

/// Why the notifier could not start.
#[derive(Debug, thiserror::Error)]
#[error("notifier: {0}")]
pub struct NotifierError(String);

/// Run until `stop` fires.
pub async fn run(
    store: RedisStore,
    opts: NotifierOptions,
    stop: CancellationToken,
) -> Result<(), NotifierError> {
    let mailer = Mailer::new(&opts.smtp).map_err(|e| NotifierError(e.to_string()))?;
    let n = Notifier {
        store,
        mailer,
        links: Links {
            monitor_url: opts.public_url.clone(),
        },
        delays: (0..opts.smtp.retries)
            .map(|i| opts.smtp.retry_base.saturating_mul(1 << i.min(16)))
            .collect(),
        opts,
    };
    let mut wait = Duration::from_millis(200);
    while let Err(e) = n.store.ensure_notify_group().await {
        tracing::warn!(error = %e, "notifier: broker not ready");
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(Duration::from_secs(10));
    }
    tracing::info!(consumer = %n.opts.consumer, "notifier started");
    let mut last_sweep: Option<Instant> = None;
    loop {
        let sweep = last_sweep.is_none_or(|t| t.elapsed() > Duration::from_secs(60));
        let read = n
            .store
            .read_notify(&n.opts.consumer, sweep, Duration::from_secs(2));
        let batch = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            b = read => b,
        };
        if sweep {
            last_sweep = Some(Instant::now());
        }
        match batch {
            Ok(items) => {
                for d in items {
                    n.handle(d, &stop).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "notifier: cannot read events");
                tokio::select! {
                    _ = stop.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

struct Notifier {
    store: RedisStore,
    mailer: Mailer,
    links: Links,
    delays: Vec<Duration>,
    opts: NotifierOptions,
}

impl Notifier {
    async fn ack(&self, entry: &str) {
        if let Err(e) = self.store.ack_notify(entry).await {
            tracing::warn!(error = %e, "notifier: cannot acknowledge an event");
        }
    }

    async fn handle(&self, d: Delivered, stop: &CancellationToken) {
        let Some(ev) = d.event else {
            tracing::warn!(entry = %d.entry, "notifier: unreadable event dropped");
            return self.ack(&d.entry).await;
        };
        let rec = match self.store.get(ev.job_id).await {
            Ok(Some(r)) => r,
            Ok(None) => {
                tracing::warn!(job = %ev.job_id, "notifier: the job is gone; no mail");
                return self.ack(&d.entry).await;
            }
            Err(e) => {
                tracing::warn!(job = %ev.job_id, error = %e, "notifier: cannot read the job");
                return;
            }
        };
        let mut mail = match ev.kind {
            NotifyKind::Submitted => notify::submitted(&rec, &self.links),
            NotifyKind::Finished => {
                let tail = self.tail(ev.job_id).await;
                notify::finished(&rec, &self.links, &tail)
            }
        };
        self.add_read_token(&mut mail, ev.job_id);
        match self.store.was_sent(&mail.message_id).await {
            Ok(true) => {
                tracing::info!(id = %mail.message_id, "notifier: already sent");
                return self.ack(&d.entry).await;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "notifier: cannot check the sent-record");
                return;
            }
        }
        if self.deliver(&mail, stop).await {
            if let Err(e) = self
                .store
                .mark_sent(&mail.message_id, self.opts.keep_sent)
                .await
            {
                tracing::warn!(error = %e, "notifier: cannot record a sent mail");
            }
            self.ack(&d.entry).await;
        }
    }

    async fn tail(&self, id: JobId) -> Vec<String> {
        match self.store.read_log(id).await {
            Ok(entries) => {
                let skip = entries.len().saturating_sub(LOG_TAIL);
                entries[skip..].iter().map(|e| e.line.to_string()).collect()
            }
            Err(_) => Vec::new(),
        }
    }

    /// Links to the job page carry the job's read token when reads need one.
    fn add_read_token(&self, mail: &mut Mail, id: JobId) {
        let (Some(secret), Some(base)) = (&self.opts.read_secret, &self.links.monitor_url) else {
            return;
        };
        let url = format!("{}/jobs/{id}", base.trim_end_matches('/'));
        let with = format!("{url}?t={}", sign::read_token(secret, id));
        mail.text = mail.text.replace(&url, &with);
        mail.html = mail
            .html
            .replace(&notify::escape_html(&url), &notify::escape_html(&with));
    }

    /// Send with retries; true when sent or refused for good (nothing more to do).
    async fn deliver(&self, mail: &Mail, stop: &CancellationToken) -> bool {
        let mut waits = self.delays.iter();
        loop {
            match self.mailer.send(mail).await {
                Ok(()) => {
                    tracing::info!(to = %mail.to, id = %mail.message_id, "mail sent");
                    return true;
                }
                Err(e) if e.is_retryable() => match waits.next() {
                    Some(w) => {
                        tracing::warn!(error = %e, retry_in = ?w, "mail not sent yet");
                        tokio::select! {
                            _ = stop.cancelled() => return false,
                            _ = tokio::time::sleep(*w) => {}
                        }
                    }
                    None => {
                        tracing::warn!(id = %mail.message_id, error = %e, "mail not sent; retried later");
                        return false;
                    }
                },
                Err(e) => {
                    tracing::error!(id = %mail.message_id, to = %mail.to, error = %e, "mail refused; given up");
                    return true;
                }
            }
        }
    }
}
