//! The API's JSON types (with their OpenAPI schemas) and their conversion from the store's
//! records. Job-supplied strings are data here; JSON encoding is their escaping.

use chrono::{DateTime, Utc};
use fbs_core::job::{Artifact, JobRecord, JobState};
use fbs_core::queue::WorkerInfo;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StateView {
    /// Waiting on its queue.
    Queued,
    /// A worker is preparing or building it.
    Running,
    /// Built; being staged.
    Staging,
    /// Done.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Canceled by a user.
    Canceled,
}

impl From<JobState> for StateView {
    fn from(s: JobState) -> Self {
        match s {
            JobState::Queued => StateView::Queued,
            JobState::Running => StateView::Running,
            JobState::Staging => StateView::Staging,
            JobState::Succeeded => StateView::Succeeded,
            JobState::Failed => StateView::Failed,
            JobState::Canceled => StateView::Canceled,
        }
    }
}

impl From<StateView> for JobState {
    fn from(s: StateView) -> Self {
        match s {
            StateView::Queued => JobState::Queued,
            StateView::Running => JobState::Running,
            StateView::Staging => JobState::Staging,
            StateView::Succeeded => JobState::Succeeded,
            StateView::Failed => JobState::Failed,
            StateView::Canceled => JobState::Canceled,
        }
    }
}

/// One staged file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArtifactView {
    /// Path relative to the job's staging directory.
    pub path: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256.
    pub sha256: String,
    /// Where to fetch it, when known.
    pub url: Option<String>,
}

impl From<&Artifact> for ArtifactView {
    fn from(a: &Artifact) -> Self {
        ArtifactView {
            path: a.path.clone(),
            media_type: a.media_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
            url: a.url.clone(),
        }
    }
}

/// A job as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    /// The job id (a UUIDv7).
    #[schema(format = "uuid")]
    pub id: String,
    /// Its queue (`fbs:<arch>:<release>`).
    pub queue: String,
    /// Its state.
    pub state: StateView,
    /// `boot`, `dvd` or `live`.
    #[serde(rename = "type")]
    pub image_type: String,
    /// Target architecture.
    pub arch: String,
    /// Target release.
    pub release: String,
    /// One-line summary of the spec.
    pub summary: String,
    /// Who submitted it.
    pub submitter: String,
    /// Attempt number (from 1).
    pub attempt: u32,
    /// The worker holding or last holding it.
    pub worker: Option<String>,
    /// That worker's host.
    pub worker_host: Option<String>,
    /// Submitted at.
    pub created_at: DateTime<Utc>,
    /// Current attempt started at.
    pub started_at: Option<DateTime<Utc>>,
    /// Ended at.
    pub finished_at: Option<DateTime<Utc>>,
    /// Last state change.
    pub updated_at: DateTime<Utc>,
    /// Why it failed.
    pub error: Option<String>,
    /// A cancel was asked for.
    pub cancel_requested: bool,
    /// Staged files.
    pub artifacts: Vec<ArtifactView>,
    /// The validated spec, as stored.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
}

impl From<&JobRecord> for JobView {
    fn from(r: &JobRecord) -> Self {
        JobView {
            id: r.id.to_string(),
            queue: r.queue.to_string(),
            state: r.state.into(),
            image_type: r.spec.image_type().to_string(),
            arch: r.spec.arch.to_string(),
            release: r.spec.release.clone(),
            summary: r.spec.summary(),
            submitter: r.submitter.clone(),
            attempt: r.attempt,
            worker: r.worker.clone(),
            worker_host: r.worker_host.clone(),
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            updated_at: r.updated_at,
            error: r.error.clone(),
            cancel_requested: r.cancel_requested,
            artifacts: r.artifacts.iter().map(ArtifactView::from).collect(),
            spec: spec_json(r),
        }
    }
}

/// The spec as JSON with any staging password removed.
fn spec_json(r: &JobRecord) -> serde_json::Value {
    let mut v = serde_json::to_value(&r.spec).unwrap_or(serde_json::Value::Null);
    if let Some(s) = v.get_mut("staging") {
        *s = serde_json::Value::String(r.spec.staging.redacted());
    }
    v
}

/// One page of jobs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobPage {
    /// The jobs.
    pub jobs: Vec<JobView>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging for `GET /api/v1/jobs`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only jobs in this state.
    pub state: Option<StateView>,
    /// Only jobs on this queue (`ARCH:RELEASE` or `fbs:ARCH:RELEASE`).
    pub queue: Option<String>,
    /// At most this many (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(format = "uuid")]
    pub cursor: Option<String>,
    /// Unused here; accepted so links carrying a read token work.
    #[param(ignore)]
    pub t: Option<String>,
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancelOutcome {
    /// It was queued and is now canceled.
    Canceled,
    /// It is running; its worker was asked to stop.
    Requested,
    /// It had already ended; nothing changed.
    AlreadyFinal,
}

/// The answer to a cancel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CancelView {
    /// What happened.
    pub result: CancelOutcome,
    /// The job now.
    pub job: JobView,
}

/// A worker process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkerView {
    /// Its unique name.
    pub name: String,
    /// Its host.
    pub host: String,
    /// The queues it serves.
    pub queues: Vec<String>,
    /// Jobs it builds at once.
    pub concurrency: usize,
    /// The jobs it holds now.
    pub jobs: Vec<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    pub heartbeat_at: DateTime<Utc>,
}

impl From<&WorkerInfo> for WorkerView {
    fn from(w: &WorkerInfo) -> Self {
        WorkerView {
            name: w.name.clone(),
            host: w.host.clone(),
            queues: w.queues.iter().map(ToString::to_string).collect(),
            concurrency: w.concurrency,
            jobs: w.jobs.iter().map(ToString::to_string).collect(),
            started_at: w.started_at,
            heartbeat_at: w.heartbeat_at,
        }
    }
}

/// A queue and what waits on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueView {
    /// The queue.
    pub queue: String,
    /// Jobs waiting.
    pub depth: u64,
    /// Jobs running or staging.
    pub running: u64,
    /// Workers serving it now.
    pub workers: u64,
    /// The job that has waited longest.
    pub oldest_job: Option<String>,
    /// When it was submitted.
    pub oldest_queued_at: Option<DateTime<Utc>>,
}

/// Liveness and readiness answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthView {
    /// `ok`, `ready`.
    pub status: String,
    /// `webapp` or `worker`.
    pub role: String,
    /// The job store, for `/readyz`.
    pub store: Option<String>,
}

/// A job submission as JSON. Give the spec as TOML (`spec_toml`) or in the FBS INI format
/// (`spec_ini`), exactly one of them, and the kickstart text for `dvd` and `live` specs
/// (flattened: `%include` is not resolved by the server).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// The spec in TOML.
    pub spec_toml: Option<String>,
    /// The spec in the FBS INI format.
    pub spec_ini: Option<String>,
    /// The kickstart text.
    pub kickstart: Option<String>,
}

/// Where a log follow starts.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Stream new lines until the job ends (SSE with `Accept: text/event-stream`, else plain
    /// chunked text).
    pub follow: Option<FollowFlag>,
    /// Lines already read: the stream starts after line N (SSE ids are line numbers, and
    /// `Last-Event-ID` is honoured).
    #[param(minimum = 0)]
    pub from: Option<u64>,
    /// A per-job read token (the link in the job's mail), when reads need one.
    pub t: Option<String>,
}

/// `follow=1` / `follow=true`, `follow=0` / `follow=false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum FollowFlag {
    /// Follow.
    #[serde(rename = "1", alias = "true")]
    Yes,
    /// Do not follow.
    #[serde(rename = "0", alias = "false")]
    No,
}
