//! The notifier: consumes the notification events that `submit` and the job-ending scripts
//! append to the default broker (see `queue::redis`'s event stream), renders each mail from
//! the job record (and the last lines of the job's log stream) and sends it.
//!
//! Delivery is at-least-once and a success is never repeated:
//! - events are read through a consumer group and acknowledged only once handled, so an event
//!   whose notifier died is taken over by another after [`NotifierOptions::claim_idle`];
//! - before sending, the notifier takes a short lock on the mail's Message-ID and checks the
//!   sent-record; after a success it writes the sent-record, then acknowledges;
//! - a transient SMTP failure leaves the event pending and retries it with exponential backoff
//!   (capped at [`NotifierOptions::retry_max`]) for as long as it takes; a permanent one (a
//!   5xx refusal, a bad address) is reported and the event dropped.
//!
//! The notifier reads the broker only; builds never wait for it.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Links, Mail, Mailer, finished, submitted};
use crate::job::{EventKind, NotifyEvent};
use crate::queue::redis::{EventEntry, RedisStore};
use crate::queue::{JobStore, QueueError};

/// How the notifier reads, retries and takes over events.
#[derive(Debug, Clone)]
pub struct NotifierOptions {
    /// The consumer group every notifier shares.
    pub group: String,
    /// This notifier's name in the group (unique per process).
    pub consumer: String,
    /// An event another notifier took and has not acknowledged for this long is taken over.
    pub claim_idle: Duration,
    /// The wait before the first retry of a mail; doubles with each retry.
    pub retry_base: Duration,
    /// The longest wait between retries.
    pub retry_max: Duration,
    /// How long one read waits for new events.
    pub poll: Duration,
    /// Log lines the completion mail carries.
    pub tail_lines: usize,
}

impl Default for NotifierOptions {
    fn default() -> Self {
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let instance = uuid::Uuid::new_v4().simple().to_string();
        NotifierOptions {
            group: "notifiers".into(),
            consumer: format!("{host}/{}/{}", std::process::id(), &instance[..8]),
            claim_idle: Duration::from_secs(600),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            poll: Duration::from_secs(1),
            tail_lines: 50,
        }
    }
}

/// What became of one event.
enum Handled {
    /// Mailed, already mailed, or nothing to mail: acknowledged.
    Done,
    /// Try again later (SMTP or the broker away, or another notifier is sending it).
    Retry,
}

/// An event waiting for its next try.
struct Pending {
    entry: EventEntry,
    tries: u32,
    due: Instant,
}

/// Consume and mail notification events until `stop` fires (see the module docs).
/// Fails only when the broker cannot be reached at start.
pub async fn run_notifier(
    store: &RedisStore,
    mailer: &Mailer,
    links: &Links,
    options: &NotifierOptions,
    stop: CancellationToken,
) -> Result<(), QueueError> {
    store.ensure_event_group(&options.group).await?;
    tracing::info!(consumer = %options.consumer, broker = %store.label(), "notifier started");
    let n = Notifier {
        store,
        mailer,
        links,
        options,
    };
    let mut waiting: HashMap<String, Pending> = HashMap::new();
    // Events given to this consumer name before (a restart under the same name).
    let mut first = n.read(true, None).await.unwrap_or_default();
    let mut last_claim = Instant::now();
    loop {
        for entry in first.drain(..) {
            n.handle_new(entry, &mut waiting).await;
        }
        if stop.is_cancelled() {
            break;
        }
        let now = Instant::now();
        let due: Vec<String> = waiting
            .iter()
            .filter(|(_, p)| p.due <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let Some(mut p) = waiting.remove(&key) else {
                continue;
            };
            if let Handled::Retry = n.handle(&p.entry).await {
                p.tries += 1;
                p.due = Instant::now() + n.backoff(p.tries);
                waiting.insert(key, p);
            }
        }
        if last_claim.elapsed() >= options.claim_idle / 2 {
            last_claim = Instant::now();
            match store
                .claim_stale_events(&options.group, &options.consumer, options.claim_idle, 32)
                .await
            {
                Ok(taken) => {
                    for e in &taken {
                        tracing::info!(entry = %e.entry_id, "took over an unacknowledged event");
                    }
                    first.extend(taken);
                    continue;
                }
                Err(e) => tracing::warn!(error = %e, "cannot take over stale events"),
            }
        }
        let next_due = waiting.values().map(|p| p.due).min();
        let block = next_due
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(options.poll)
            .clamp(Duration::from_millis(10), options.poll);
        tokio::select! {
            _ = stop.cancelled() => break,
            r = n.read(false, Some(block)) => match r {
                Ok(entries) => first.extend(entries),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read notification events; retrying");
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(options.poll) => {}
                    }
                }
            },
        }
    }
    tracing::info!(consumer = %options.consumer, pending = waiting.len(), "notifier stopped");
    Ok(())
}

struct Notifier<'a> {
    store: &'a RedisStore,
    mailer: &'a Mailer,
    links: &'a Links,
    options: &'a NotifierOptions,
}

impl Notifier<'_> {
    async fn read(
        &self,
        pending: bool,
        block: Option<Duration>,
    ) -> Result<Vec<EventEntry>, QueueError> {
        let o = self.options;
        self.store
            .read_events(&o.group, &o.consumer, 32, block, pending)
            .await
    }

    fn backoff(&self, tries: u32) -> Duration {
        self.options
            .retry_base
            .saturating_mul(1u32 << tries.min(20))
            .min(self.options.retry_max)
    }

    async fn handle_new(&self, entry: EventEntry, waiting: &mut HashMap<String, Pending>) {
        if waiting.contains_key(&entry.entry_id) {
            return;
        }
        if let Handled::Retry = self.handle(&entry).await {
            waiting.insert(
                entry.entry_id.clone(),
                Pending {
                    entry,
                    tries: 1,
                    due: Instant::now() + self.backoff(0),
                },
            );
        }
    }

    async fn handle(&self, entry: &EventEntry) -> Handled {
        match self.try_handle(entry).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(entry = %entry.entry_id, error = %e, "broker error; event kept");
                Handled::Retry
            }
        }
    }

    async fn ack(&self, entry: &EventEntry) -> Result<Handled, QueueError> {
        self.store
            .ack_event(&self.options.group, &entry.entry_id)
            .await?;
        Ok(Handled::Done)
    }

    /// The mail for `event`, or `None` when there is nothing (left) to mail.
    async fn render(&self, event: &NotifyEvent) -> Result<Option<Mail>, QueueError> {
        let Some(rec) = self.store.get(event.job_id).await? else {
            return Ok(None);
        };
        Ok(match event.kind {
            EventKind::Submitted => Some(submitted(&rec, self.links)),
            // The job was retried since: its newer end is mailed by its own event.
            EventKind::Finished if !rec.state.is_final() || rec.attempt != event.attempt => None,
            EventKind::Finished => {
                let tail = self.store.log_tail(rec.id, self.options.tail_lines).await?;
                Some(finished(&rec, self.links, &tail))
            }
        })
    }

    async fn try_handle(&self, entry: &EventEntry) -> Result<Handled, QueueError> {
        let Some(event) = &entry.event else {
            tracing::warn!(entry = %entry.entry_id, "undecodable notification event dropped");
            return self.ack(entry).await;
        };
        let Some(mail) = self.render(event).await? else {
            return self.ack(entry).await;
        };
        let id = mail.message_id.as_str();
        if self.store.mail_sent(id).await? {
            return self.ack(entry).await;
        }
        let lock_ttl = Duration::from_secs(120);
        if !self
            .store
            .lock_mail(id, &self.options.consumer, lock_ttl)
            .await?
        {
            return Ok(Handled::Retry);
        }
        if self.store.mail_sent(id).await? {
            self.store.unlock_mail(id).await?;
            return self.ack(entry).await;
        }
        let sent = self.mailer.send(&mail).await;
        let result = match sent {
            Ok(()) => {
                self.store.mark_mail_sent(id).await?;
                tracing::info!(to = %mail.to, id, job = %event.job_id, "mail sent");
                Ok(Handled::Done)
            }
            Err(e) if e.is_retryable() => {
                tracing::warn!(to = %mail.to, id, error = %e, "mail not sent yet; will retry");
                Ok(Handled::Retry)
            }
            Err(e) => {
                tracing::error!(to = %mail.to, id, error = %e, "mail refused; given up");
                Ok(Handled::Done)
            }
        };
        self.store.unlock_mail(id).await?;
        match result {
            Ok(Handled::Done) => self.ack(entry).await,
            other => other,
        }
    }
}
