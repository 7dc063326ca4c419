//! Jobs: identifiers, states, the job record every backend stores, and queue names.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::spec::{Arch, BuildSpec};

/// A job's identifier: a UUIDv7, so ids sort by submission time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(Uuid);

impl JobId {
    /// A fresh id.
    pub fn new() -> Self {
        JobId(Uuid::now_v7())
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl Default for JobId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for JobId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Uuid::parse_str(s)
            .map(JobId)
            .map_err(|_| format!("`{s}` is not a job id (a UUID such as 0190c3e2-…)"))
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting on its queue.
    Queued,
    /// A worker holds it and is preparing or building.
    Running,
    /// Built; the artifacts are being staged.
    Staging,
    /// Done; artifacts staged.
    Succeeded,
    /// Ended with an error (see the record's `error`).
    Failed,
    /// Canceled by a user.
    Canceled,
}

impl JobState {
    /// Every state, in life order.
    pub const ALL: [JobState; 6] = [
        JobState::Queued,
        JobState::Running,
        JobState::Staging,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Canceled,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Staging => "staging",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Canceled => "canceled",
        }
    }

    /// True for the states a job never leaves on its own.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Canceled
        )
    }

    /// True while a worker holds the job under a lease.
    pub fn is_leased(self) -> bool {
        matches!(self, JobState::Running | JobState::Staging)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        JobState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!("`{s}` is not one of queued, running, staging, succeeded, failed, canceled")
            })
    }
}

/// The name of a queue: `fbs:<arch>:<release>` for builds, `fbs:host:<hostname>` for work that
/// must run on one host. Built only here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct QueueName(String);

impl QueueName {
    /// The build queue for an arch and release.
    pub fn build(arch: Arch, release: &str) -> Self {
        QueueName(format!("fbs:{arch}:{release}"))
    }

    /// The queue of one host.
    pub fn host(hostname: &str) -> Self {
        QueueName(format!("fbs:host:{hostname}"))
    }

    /// Parse `ARCH:RELEASE` (as given to `--queue`), `fbs:ARCH:RELEASE` or `fbs:host:NAME`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let rest = s.strip_prefix("fbs:").unwrap_or(s);
        let (a, b) = rest.split_once(':').ok_or_else(|| {
            format!("`{s}` is not a queue (expected ARCH:RELEASE, e.g. x86_64:17)")
        })?;
        if b.is_empty() || b.contains(char::is_whitespace) || b.contains(':') {
            return Err(format!("`{s}` is not a queue: bad release or host `{b}`"));
        }
        if a == "host" {
            return Ok(QueueName::host(b));
        }
        let arch: Arch = a.parse()?;
        Ok(QueueName::build(arch, b))
    }

    /// The arch of a build queue (`None` for a host queue).
    pub fn arch(&self) -> Option<Arch> {
        let mut parts = self.0.splitn(3, ':');
        let (_, a) = (parts.next(), parts.next()?);
        if a == "host" {
            return None;
        }
        a.parse().ok()
    }

    /// The full name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One file a job produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// Path relative to the job's staging directory.
    pub path: String,
    /// Media type (`application/vnd.efi.iso`, `application/json`, …).
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256.
    pub sha256: String,
    /// Where a user can fetch it, when the staging target has a public URL.
    #[serde(default)]
    pub url: Option<String>,
}

/// A job as every backend stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Its id.
    pub id: JobId,
    /// Its queue.
    pub queue: QueueName,
    /// What to build.
    pub spec: BuildSpec,
    /// The kickstart, flattened on the submitter's machine (`None` for types without one).
    pub kickstart: Option<String>,
    /// Who submitted it (mail address).
    pub submitter: String,
    /// Where it is in its life.
    pub state: JobState,
    /// Attempt number, starting at 1; a lease lost or a crash adds one.
    pub attempt: u32,
    /// The token of the lease currently held (fencing: only its holder may write results).
    pub lease_token: Option<String>,
    /// Name of the worker holding or last holding it.
    pub worker: Option<String>,
    /// Host of that worker.
    pub worker_host: Option<String>,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When its current attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// When its state last changed.
    pub updated_at: DateTime<Utc>,
    /// Staged files.
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
    /// Why it failed, in words a person can act on.
    pub error: Option<String>,
    /// A user asked for it to be canceled; the worker holding it stops.
    #[serde(default)]
    pub cancel_requested: bool,
    /// The host that keeps the built artifacts of a job whose staging failed (in its work
    /// directory), so `fbs retry --stage-only` can stage them there without a rebuild.
    #[serde(default)]
    pub artifacts_host: Option<String>,
    /// The job waits on (or runs) a stage-only retry: its worker only stages the artifacts
    /// already built on `artifacts_host`.
    #[serde(default)]
    pub stage_only: bool,
}

impl JobRecord {
    /// A new queued record for `spec`.
    pub fn new(spec: BuildSpec, kickstart: Option<String>) -> Self {
        let now = Utc::now();
        JobRecord {
            id: JobId::new(),
            queue: QueueName::build(spec.arch, &spec.release),
            submitter: spec.email.clone(),
            spec,
            kickstart,
            state: JobState::Queued,
            attempt: 1,
            lease_token: None,
            worker: None,
            worker_host: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            updated_at: now,
            artifacts: Vec::new(),
            error: None,
            cancel_requested: false,
            artifacts_host: None,
            stage_only: false,
        }
    }
}

impl JobRecord {
    /// Where artifact `name` of this job is staged, credentials removed:
    /// `ftp://host/pub/<job-id>/name`, `file:///srv/staging/<job-id>/name` (no `<job-id>/`
    /// in the flat layout).
    pub fn staged_location(&self, name: &str) -> String {
        let base = self.spec.staging.redacted();
        let base = base.trim_end_matches('/');
        match self.spec.staging_layout {
            crate::spec::StagingLayout::Job => format!("{base}/{}/{name}", self.id),
            crate::spec::StagingLayout::Flat => format!("{base}/{name}"),
        }
    }
}

/// What a notification event says happened to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The job was queued.
    Submitted,
    /// The job reached a final state (its record says which).
    Finished,
}

impl EventKind {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Submitted => "submitted",
            EventKind::Finished => "finished",
        }
    }
}

impl FromStr for EventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "submitted" => Ok(EventKind::Submitted),
            "finished" => Ok(EventKind::Finished),
            _ => Err(format!("`{s}` is not an event kind (submitted, finished)")),
        }
    }
}

/// A notification event on the default broker (`fbs:notify`): pushed when a job is
/// submitted and when it ends, consumed by the notifier, which mails the submitter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyEvent {
    /// The job.
    pub job_id: JobId,
    /// What happened.
    pub kind: EventKind,
    /// The job's attempt when it happened (a retried job mails its new result too).
    pub attempt: u32,
    /// When it happened.
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_are_built_in_one_shape() {
        assert_eq!(
            QueueName::build(Arch::X86_64, "17").as_str(),
            "fbs:x86_64:17"
        );
        assert_eq!(
            QueueName::parse("i386:rawhide").map(|q| q.to_string()),
            Ok("fbs:i686:rawhide".into())
        );
        assert_eq!(
            QueueName::parse("fbs:host:w1").map(|q| q.to_string()),
            Ok("fbs:host:w1".into())
        );
        assert!(QueueName::parse("x86_64").is_err());
        assert!(QueueName::parse("sparc:17").is_err());
        assert!(QueueName::parse("x86_64:").is_err());
    }

    #[test]
    fn job_ids_round_trip_and_sort_by_time() {
        let a = JobId::new();
        let b = JobId::new();
        assert!(a < b);
        assert_eq!(a.to_string().parse::<JobId>(), Ok(a));
        assert!("nope".parse::<JobId>().is_err());
    }

    #[test]
    fn states_parse_and_classify() {
        for s in JobState::ALL {
            assert_eq!(s.as_str().parse::<JobState>(), Ok(s));
        }
        assert!(JobState::Canceled.is_final());
        assert!(JobState::Staging.is_leased());
        assert!(!JobState::Queued.is_leased());
    }
}
