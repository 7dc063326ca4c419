//! Notification events on the default broker: a stream (`fbs:notify`) that `submit` and every
//! job-ending script append to, read by notifiers through a consumer group so an event a
//! notifier took but never acknowledged (it died) is claimed by another; plus the sent-record
//! (one key per Message-ID, kept for the log retention period) and a short per-mail lock, so
//! a mail that went out once is never sent again by a retry or a second notifier.
//!
//! The notifier loop itself is `fbs_core::notify::run_notifier`.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::streams::{StreamId, StreamReadReply};

use super::RedisStore;
use crate::job::{EventKind, JobId, NotifyEvent};
use crate::queue::QueueError;

/// Events kept in the stream (approximately) before the oldest are trimmed.
const STREAM_CAP: usize = 100_000;

/// One event as read from the stream, with the entry id to acknowledge it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEntry {
    /// The stream entry id.
    pub entry_id: String,
    /// The event; `None` when the entry cannot be decoded (it is acknowledged and skipped).
    pub event: Option<NotifyEvent>,
}

impl RedisStore {
    /// The notification stream's key.
    pub(super) fn notify_key(&self) -> String {
        self.key("fbs:notify")
    }

    fn sent_key(&self, message_id: &str) -> String {
        self.key(&format!("fbs:notify:sent:{message_id}"))
    }

    fn mail_lock_key(&self, message_id: &str) -> String {
        self.key(&format!("fbs:notify:lock:{message_id}"))
    }

    /// The `XADD` that appends `event` (for use inside a pipeline).
    pub(super) fn event_command(&self, event: &NotifyEvent) -> redis::Cmd {
        let mut c = redis::cmd("XADD");
        c.arg(self.notify_key())
            .arg("MAXLEN")
            .arg("~")
            .arg(STREAM_CAP)
            .arg("*")
            .arg("job_id")
            .arg(event.job_id.to_string())
            .arg("kind")
            .arg(event.kind.as_str())
            .arg("attempt")
            .arg(event.attempt)
            .arg("at")
            .arg(event.at.timestamp_millis());
        c
    }

    /// Append `event` to the notification stream.
    pub async fn push_event(&self, event: &NotifyEvent) -> Result<(), QueueError> {
        self.event_command(event)
            .query_async::<String>(&mut self.conn())
            .await
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Create the consumer group `group` (reading from the start of the stream) unless it
    /// exists.
    pub async fn ensure_event_group(&self, group: &str) -> Result<(), QueueError> {
        let r = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.notify_key())
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async::<()>(&mut self.conn())
            .await;
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Events for `consumer` of `group`: new ones (`pending = false`, waiting up to `block`
    /// for one), or the ones already delivered to it and not acknowledged (`pending = true`).
    pub async fn read_events(
        &self,
        group: &str,
        consumer: &str,
        count: usize,
        block: Option<Duration>,
        pending: bool,
    ) -> Result<Vec<EventEntry>, QueueError> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(count);
        if let Some(b) = block {
            cmd.arg("BLOCK")
                .arg(u64::try_from(b.as_millis()).unwrap_or(u64::MAX).max(1));
        }
        cmd.arg("STREAMS")
            .arg(self.notify_key())
            .arg(if pending { "0" } else { ">" });
        // A blocking read gets its own connection: it would stall the shared one.
        let reply: Option<StreamReadReply> = if block.is_some() {
            let client = redis::Client::open(self.inner.url.as_str()).map_err(|e| self.err(e))?;
            let cfg = redis::AsyncConnectionConfig::new()
                .set_response_timeout(block.map(|b| b + Duration::from_secs(10)))
                .set_connection_timeout(Some(Duration::from_secs(3)));
            let mut conn = client
                .get_multiplexed_async_connection_with_config(&cfg)
                .await
                .map_err(|e| self.err(e))?;
            cmd.query_async(&mut conn).await.map_err(|e| self.err(e))?
        } else {
            cmd.query_async(&mut self.conn())
                .await
                .map_err(|e| self.err(e))?
        };
        Ok(reply
            .map(|r| r.keys)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|k| k.ids)
            .map(entry)
            .collect())
    }

    /// Take over events that another consumer of `group` was given but has not acknowledged
    /// for `min_idle` (it died, or hangs).
    pub async fn claim_stale_events(
        &self,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<EventEntry>, QueueError> {
        let reply: redis::Value = redis::cmd("XAUTOCLAIM")
            .arg(self.notify_key())
            .arg(group)
            .arg(consumer)
            .arg(u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX))
            .arg("0-0")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        // Reply: [next-start-id, [[id, [field, value, …]], …], [deleted ids]].
        let redis::Value::Array(parts) = reply else {
            return Ok(Vec::new());
        };
        let Some(claimed) = parts.into_iter().nth(1) else {
            return Ok(Vec::new());
        };
        let r: redis::streams::StreamRangeReply =
            redis::from_redis_value(claimed).map_err(|e| self.err(e))?;
        Ok(r.ids.into_iter().map(entry).collect())
    }

    /// Acknowledge an event: it is done (mailed, or nothing to mail).
    pub async fn ack_event(&self, group: &str, entry_id: &str) -> Result<(), QueueError> {
        redis::cmd("XACK")
            .arg(self.notify_key())
            .arg(group)
            .arg(entry_id)
            .query_async::<i64>(&mut self.conn())
            .await
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Take the lock on sending mail `message_id` for `ttl`; false when another holds it.
    pub async fn lock_mail(
        &self,
        message_id: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, QueueError> {
        let r: Option<String> = redis::cmd("SET")
            .arg(self.mail_lock_key(message_id))
            .arg(holder)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1))
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        Ok(r.is_some())
    }

    /// Release the lock on mail `message_id`.
    pub async fn unlock_mail(&self, message_id: &str) -> Result<(), QueueError> {
        redis::cmd("DEL")
            .arg(self.mail_lock_key(message_id))
            .query_async::<i64>(&mut self.conn())
            .await
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// True when mail `message_id` was sent.
    pub async fn mail_sent(&self, message_id: &str) -> Result<bool, QueueError> {
        redis::cmd("EXISTS")
            .arg(self.sent_key(message_id))
            .query_async::<i64>(&mut self.conn())
            .await
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// Record that mail `message_id` was sent (kept as long as finished logs are).
    pub async fn mark_mail_sent(&self, message_id: &str) -> Result<(), QueueError> {
        let ttl = self.inner.options.log_retention.as_secs().max(86400);
        redis::cmd("SET")
            .arg(self.sent_key(message_id))
            .arg(Utc::now().timestamp_millis())
            .arg("EX")
            .arg(ttl)
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(|e| self.err(e))
    }

    /// The last `n` lines of job `id`'s log stream, oldest first.
    pub async fn log_tail(&self, id: JobId, n: usize) -> Result<Vec<String>, QueueError> {
        let r: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(self.log_key(id))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(n)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        let mut lines: Vec<String> = r
            .ids
            .iter()
            .map(|e| e.get::<String>("t").unwrap_or_default())
            .collect();
        lines.reverse();
        Ok(lines)
    }
}

fn entry(e: StreamId) -> EventEntry {
    let field = |k: &str| e.get::<String>(k);
    let event = (|| {
        let job_id = JobId::from_str(&field("job_id")?).ok()?;
        let kind = EventKind::from_str(&field("kind")?).ok()?;
        let attempt = field("attempt")?.parse().ok()?;
        let at = field("at")?
            .parse::<i64>()
            .ok()
            .and_then(DateTime::<Utc>::from_timestamp_millis)?;
        Some(NotifyEvent {
            job_id,
            kind,
            attempt,
            at,
        })
    })();
    EventEntry {
        entry_id: e.id,
        event,
    }
}
