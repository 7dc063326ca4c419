//! The fleet's job store on Redis: job records, leases and log streams on the *default
//! broker*, each queue on the broker of its arch (`[broker]`), delivery through apalis-redis.
//!
//! ## Who owns a job
//! The record decides, never the transport. A record is a hash (`fbs:job:<id>`, see
//! `record.rs`) whose mutable fields are separate hash fields; every change is one Lua script
//! (see `scripts.rs`), and every write a worker makes names its lease token, so a paused or
//! partitioned worker that comes back can never overwrite a newer attempt's result. Leases
//! are indexed in a sorted set by expiry; any live worker's `claim` first recovers expired
//! ones (back to `queued` with `attempt + 1`, or `failed` past `max_attempts`) and pushes the
//! id again, so a crashed worker's job is redone within one lease expiry plus one poll.
//!
//! ## How apalis is used
//! apalis-redis 1.0 (pinned `=1.0.0`) carries job *ids* on queue `fbs:<arch>:<release>`
//! (see `transport.rs`). Configured as the crate notes advise: `batch_size(1)`, an explicit
//! heartbeat (the lease heartbeat, at least 1 s) and `missed_heartbeats` (expiry ÷ heartbeat),
//! `concurrency` = the worker's slots, polling by a per-queue doorbell (`BLPOP` on a list
//! pushed with each job) plus an interval as a fallback, a unique worker name per process
//! (host + queues + instance id, + a generation number), and a handler that never returns an
//! error (apalis's 25 hidden retries never run; attempts are counted in the record).
//! Measured on this machine kind with `bench/apalis-probe.sh` (heartbeat 1 s × 2):
//! idle pickup 0.10 s; redo after `kill -9` by another worker 1.0 s, by a restarted worker
//! under a new name 1.0 s. Two behaviours needed work-arounds: a worker paused past the
//! orphan window is unregistered by its peers and its apalis worker then *ends* with
//! "Heartbeat failed: worker not registered", and a Redis restart ends it with "broken pipe".
//! So each queue's consumer is supervised and restarted under a new generation name, and a
//! redelivery is checked against the record (a live lease held by anyone means "drop it").
//!
//! ## What a job costs the broker
//! Measured with `bench/fleet.sh` (no-op jobs, one worker, 4 slots; Redis `commandstats`,
//! commands inside Lua scripts counted): 60–65 commands per job in about 15 round trips
//! (3 to submit, 12 in the worker), and 0.3–0.4 ms of Redis CPU, against 10 commands and
//! 0.1 ms for Celery 5 on the same server. 28 of them, and 4 of the 7 Lua scripts (push,
//! fetch, lease, result), are the apalis transport and its doorbell; the rest are the
//! record's fenced changes (claim, staging, final state), the record reads after claim and
//! finish, the lease scan on each claim, the log stream and the notification events. A plain
//! list queue (`LPUSH` / `BLMOVE` into a per-worker list / `LREM`) would carry the ids in 3
//! commands.
//!
//! Keys carry an optional prefix so tests share one server.

mod events;
mod logs;
mod record;
mod recovery;
mod registry;
mod scripts;
mod store;
mod tokens;
mod transport;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{LeaseSettings, QueueError};
use crate::config::{BrokerConfig, redact_url};
use crate::job::{JobId, QueueName};

pub use events::EventEntry;
pub use logs::{LogEntry, RedisLogSink};

/// Options beyond the broker URLs and lease timers.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Prepended to every key (tests use a unique one per test to share a server).
    pub prefix: String,
    /// Jobs this process builds at once (its apalis consumers' concurrency).
    pub slots: usize,
    /// Entries a finished job's log stream is trimmed to.
    pub log_cap: usize,
    /// How long a finished job's log stream is kept.
    pub log_retention: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            prefix: String::new(),
            slots: 1,
            log_cap: 100_000,
            log_retention: Duration::from_secs(30 * 86400),
        }
    }
}

/// The Redis job store (see the module docs).
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    label: String,
    conn: ConnectionManager,
    brokers: BrokerConfig,
    arch_conns: tokio::sync::Mutex<HashMap<String, ConnectionManager>>,
    settings: LeaseSettings,
    options: RedisOptions,
    inbox: Arc<transport::Inbox>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("broker", &self.inner.label)
            .field("prefix", &self.inner.options.prefix)
            .finish()
    }
}

async fn connect(url: &str) -> Result<ConnectionManager, QueueError> {
    let err = |e: redis::RedisError| QueueError::Backend {
        backend: redact_url(url),
        message: e.to_string(),
    };
    let client = redis::Client::open(url).map_err(err)?;
    let cfg = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(3)))
        .set_response_timeout(Some(Duration::from_secs(10)))
        .set_number_of_retries(2);
    client
        .get_connection_manager_with_config(cfg)
        .await
        .map_err(err)
}

impl RedisStore {
    /// Connect to the default broker of `brokers` (`redis://`, `rediss://`, with or without a
    /// password). Per-arch brokers are connected when first used.
    pub async fn open(
        brokers: &BrokerConfig,
        settings: LeaseSettings,
        options: RedisOptions,
    ) -> Result<Self, QueueError> {
        let url = brokers.default.clone().ok_or_else(|| QueueError::Backend {
            backend: "redis".into(),
            message: "no default broker configured ([broker] default, FBS_BROKER or --broker)"
                .into(),
        })?;
        let conn = connect(&url).await?;
        let mut ping = conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut ping)
            .await
            .map_err(|e| QueueError::Backend {
                backend: redact_url(&url),
                message: e.to_string(),
            })?;
        Ok(RedisStore {
            inner: Arc::new(Inner {
                label: redact_url(&url),
                url,
                conn,
                brokers: brokers.clone(),
                arch_conns: tokio::sync::Mutex::new(HashMap::new()),
                settings,
                inbox: Arc::new(transport::Inbox::new(options.slots)),
                options,
            }),
        })
    }

    /// The default broker, password redacted.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    fn err(&self, e: impl std::fmt::Display) -> QueueError {
        QueueError::Backend {
            backend: self.inner.label.clone(),
            message: e.to_string(),
        }
    }

    fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.inner.options.prefix)
    }

    fn job_key(&self, id: JobId) -> String {
        self.key(&format!("fbs:job:{id}"))
    }

    fn log_key(&self, id: JobId) -> String {
        self.key(&format!("fbs:log:{id}"))
    }

    fn queue_key(&self, q: &QueueName) -> String {
        self.key(q.as_str())
    }

    fn doorbell_key(&self, q: &QueueName) -> String {
        self.key(&format!("{}:doorbell", q.as_str()))
    }

    fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    /// The broker URL holding `q`.
    fn broker_url(&self, q: &QueueName) -> String {
        q.arch()
            .and_then(|a| self.inner.brokers.arch.get(&a))
            .cloned()
            .unwrap_or_else(|| self.inner.url.clone())
    }

    async fn queue_conn(&self, q: &QueueName) -> Result<ConnectionManager, QueueError> {
        let url = self.broker_url(q);
        if url == self.inner.url {
            return Ok(self.conn());
        }
        let mut conns = self.inner.arch_conns.lock().await;
        if let Some(c) = conns.get(&url) {
            return Ok(c.clone());
        }
        let c = connect(&url).await?;
        conns.insert(url, c.clone());
        Ok(c)
    }

    /// Put `id` on its queue (on that queue's broker) and wake an idle worker.
    async fn push_job(&self, q: &QueueName, id: JobId) -> Result<(), QueueError> {
        let conn = self.queue_conn(q).await?;
        transport::push(conn, &self.queue_key(q), &self.doorbell_key(q), id, true)
            .await
            .map_err(|e| QueueError::Backend {
                backend: redact_url(&self.broker_url(q)),
                message: e,
            })
    }

    /// Stop consuming: unclaimed deliveries go back on their queues, and the apalis workers
    /// stop once the jobs held here are done. Call when a worker shuts down.
    pub async fn close(&self) {
        for d in self.inner.inbox.drain().await {
            if let Err(e) = self.push_job(&d.queue, d.id).await {
                tracing::warn!(job = %d.id, error = %e, "cannot give an unclaimed job back");
            }
        }
        self.inner.inbox.stop.cancel();
        self.inner.inbox.join(Duration::from_secs(5)).await;
    }
}
