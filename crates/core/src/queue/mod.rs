//! Queues and job stores: the trait every backend implements (embedded SQLite here, Redis for
//! the fleet), the lease and fencing rules they share, and the backend errors.
//!
//! A job is claimed under a **lease**: a random token written into the record plus an expiry
//! the holder renews by heartbeat. Every write a worker makes names its token, so a worker that
//! lost its lease (crashed, paused, partitioned) can never overwrite the result of a newer
//! attempt. Expired leases send the job back to `queued` with `attempt + 1`, up to
//! `max_attempts`, after which the job ends `failed` saying why.

#[cfg(feature = "redis")]
pub mod redis;
mod sqlite;
pub mod tokens;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::job::{Artifact, JobId, JobRecord, JobState, QueueName};

pub use sqlite::SqliteStore;
pub use tokens::{ApiToken, TokenStore};

/// A worker process as it announces itself (`fbs workers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInfo {
    /// Its unique name.
    pub name: String,
    /// The host it runs on.
    pub host: String,
    /// The queues it serves.
    pub queues: Vec<QueueName>,
    /// Jobs it builds at once.
    pub concurrency: usize,
    /// The jobs it holds now.
    pub jobs: Vec<JobId>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    pub heartbeat_at: DateTime<Utc>,
}

/// A job log sink that also lives in the store (a Redis stream per job): flushed before the
/// job's result is recorded, sealed (trimmed, set to expire) after.
#[async_trait]
pub trait StoredLog: crate::joblog::LogSink + std::fmt::Debug {
    /// Wait until every line written so far is stored.
    async fn flush(&self);
    /// The job ended: flush, then trim to the size cap and expire after the retention period.
    async fn seal(&self);
}

/// The timers and limits of a store. Every timer is configurable (tests use 1–2 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseSettings {
    /// How long a lease lasts without a heartbeat.
    #[serde(with = "crate::config::duration")]
    pub expiry: Duration,
    /// How often a holder renews its lease.
    #[serde(with = "crate::config::duration")]
    pub heartbeat: Duration,
    /// How often an idle worker looks for work when nothing wakes it.
    #[serde(with = "crate::config::duration")]
    pub poll: Duration,
    /// Attempts (a lost lease counts as one) before a job ends `failed`.
    pub max_attempts: u32,
}

impl Default for LeaseSettings {
    fn default() -> Self {
        LeaseSettings {
            expiry: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            max_attempts: 3,
        }
    }
}

/// Who is claiming: a worker's unique name and its host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerIdentity {
    /// Unique per process: host, queue set and an instance id.
    pub name: String,
    /// The host it runs on.
    pub host: String,
}

/// A job held under a lease.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    /// The job as it was when claimed (state `running`, or `staging` for a stage-only retry).
    pub record: JobRecord,
    /// The fencing token; every write by the holder names it.
    pub token: String,
}

impl Lease {
    /// The job's id.
    pub fn id(&self) -> JobId {
        self.record.id
    }
}

/// What a heartbeat learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseStatus {
    /// Still ours; `cancel_requested` says a user asked to stop.
    Held {
        /// A user asked for the job to be canceled.
        cancel_requested: bool,
    },
    /// Not ours any more: expired and given to another attempt, or the job ended.
    Lost,
}

/// How an attempt ended, written by its lease holder.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Built and staged.
    Succeeded {
        /// The staged files.
        artifacts: Vec<Artifact>,
    },
    /// Failed for a reason a person can act on.
    Failed {
        /// The reason.
        error: String,
    },
    /// Built, but staging failed: the artifacts stay in the job directory on the host that
    /// built them (recorded as `artifacts_host`), for `fbs retry --stage-only`.
    StagingFailed {
        /// The reason.
        error: String,
    },
    /// Stopped because a user canceled it.
    Canceled,
}

/// Filters for listing jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs on this queue.
    pub queue: Option<QueueName>,
    /// At most this many, newest first (default 100).
    pub limit: Option<u32>,
    /// Only jobs older than this one (paging: the last id of the previous page).
    pub before: Option<JobId>,
}

/// What `cancel` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelResult {
    /// It was queued and is now `canceled`.
    Canceled,
    /// It is running; its worker was asked to stop.
    Requested,
    /// It had already ended in this state; nothing changed.
    AlreadyFinal(JobState),
}

/// A backend failure.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The backend could not be reached or answered with an error.
    #[error("job store {backend}: {message}")]
    Backend {
        /// Which backend (`sqlite:/path`, `redis://host`).
        backend: String,
        /// What went wrong.
        message: String,
    },
    /// No job has this id.
    #[error("no job {0}")]
    NotFound(JobId),
    /// The caller's lease is no longer valid; a newer attempt owns the job.
    #[error("lease on job {0} was lost; a newer attempt owns it")]
    LeaseLost(JobId),
    /// The request does not fit the job's state (e.g. retrying a running job).
    #[error("job {id} is {state}: {message}")]
    WrongState {
        /// The job.
        id: JobId,
        /// Its current state.
        state: JobState,
        /// Why the request cannot be done.
        message: String,
    },
    /// A stored record could not be decoded.
    #[error("job {id}: stored record is unreadable: {message}")]
    Corrupt {
        /// The job.
        id: String,
        /// What failed to decode.
        message: String,
    },
}

impl QueueError {
    /// True when trying again later may succeed (the backend was unreachable).
    pub fn is_retryable(&self) -> bool {
        matches!(self, QueueError::Backend { .. })
    }
}

/// A queue plus job store: what `fbs local` (SQLite) and the fleet (Redis) both implement.
#[async_trait]
pub trait JobStore: Send + Sync + std::fmt::Debug {
    /// Store a new `queued` record and put it on its queue.
    async fn submit(&self, record: JobRecord) -> Result<(), QueueError>;

    /// One job by id.
    async fn get(&self, id: JobId) -> Result<Option<JobRecord>, QueueError>;

    /// Jobs matching `filter`, newest first.
    async fn list(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, QueueError>;

    /// Take the oldest queued job from any of `queues` under a fresh lease, or `None`.
    /// Expired leases are recovered first (back to `queued`, or `failed` past the limit).
    async fn claim(
        &self,
        queues: &[QueueName],
        worker: &WorkerIdentity,
    ) -> Result<Option<Lease>, QueueError>;

    /// Wait until a job may be available on `queues` (a submit wakes it) or `timeout` passes.
    async fn wait_for_work(&self, queues: &[QueueName], timeout: Duration);

    /// Renew the lease; says whether it is still held and whether cancel was asked.
    async fn heartbeat(&self, lease: &Lease) -> Result<LeaseStatus, QueueError>;

    /// Move a held job from `running` to `staging`.
    async fn set_staging(&self, lease: &Lease) -> Result<(), QueueError>;

    /// End the held job with `outcome`; fails with `LeaseLost` if the lease is not ours.
    async fn finish(&self, lease: &Lease, outcome: Outcome) -> Result<JobRecord, QueueError>;

    /// Give a held job back without counting an attempt (graceful shutdown).
    async fn release(&self, lease: &Lease) -> Result<(), QueueError>;

    /// Cancel a job: at once when queued, by request when leased.
    async fn cancel(&self, id: JobId) -> Result<CancelResult, QueueError>;

    /// Queue a failed or canceled job again as a new attempt.
    async fn retry(&self, id: JobId) -> Result<JobRecord, QueueError>;

    /// `fbs retry --stage-only`: take a job whose staging failed from `failed` back to
    /// `staging` (a new attempt, `stage_only` set) and route it to the host queue of the
    /// worker that keeps its artifacts, whose worker then only stages them.
    async fn retry_stage(&self, id: JobId) -> Result<JobRecord, QueueError>;

    /// Delete finished records (and their stored logs) older than `before`; returns how many
    /// went.
    async fn purge_finished(&self, before: DateTime<Utc>) -> Result<u64, QueueError>;

    /// Say that a worker is alive (its info expires after `ttl` unless announced again).
    async fn announce(&self, info: &WorkerInfo, ttl: Duration) -> Result<(), QueueError>;

    /// Remove a stopping worker's announcement.
    async fn withdraw(&self, name: &str) -> Result<(), QueueError>;

    /// The workers alive now, by name.
    async fn workers(&self) -> Result<Vec<WorkerInfo>, QueueError>;

    /// A sink that stores job `id`'s log lines in the store too, when the backend keeps logs
    /// (Redis streams); `None` when logs live only in the job's file.
    fn stored_log(&self, _id: JobId) -> Option<std::sync::Arc<dyn StoredLog>> {
        None
    }
}

#[cfg(test)]
pub(crate) mod tests;
