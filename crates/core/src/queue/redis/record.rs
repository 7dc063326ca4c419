//! A job record as a Redis hash: the submission (spec, kickstart, submitter) as one JSON field
//! fixed at submit time, and every mutable value as its own field, so concurrent writers
//! (a worker finishing, a user canceling) touch disjoint fields.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};

use crate::job::{JobId, JobRecord, JobState, QueueName};
use crate::queue::QueueError;

/// The part of a record fixed at submission.
#[derive(serde::Serialize, serde::Deserialize)]
struct Submission {
    spec: crate::spec::BuildSpec,
    kickstart: Option<String>,
    submitter: String,
}

/// The hash fields of a new record.
pub(super) fn encode(record: &JobRecord) -> Result<Vec<(&'static str, String)>, QueueError> {
    let corrupt = |e: serde_json::Error| QueueError::Corrupt {
        id: record.id.to_string(),
        message: e.to_string(),
    };
    let submission = serde_json::to_string(&Submission {
        spec: record.spec.clone(),
        kickstart: record.kickstart.clone(),
        submitter: record.submitter.clone(),
    })
    .map_err(corrupt)?;
    let artifacts = serde_json::to_string(&record.artifacts).map_err(corrupt)?;
    let mut f = vec![
        ("id", record.id.to_string()),
        ("queue", record.queue.as_str().to_owned()),
        ("submission", submission),
        ("state", record.state.as_str().to_owned()),
        ("attempt", record.attempt.to_string()),
        ("created_at", ms(record.created_at)),
        ("updated_at", ms(record.updated_at)),
        ("artifacts", artifacts),
        (
            "cancel_requested",
            u8::from(record.cancel_requested).to_string(),
        ),
    ];
    if let Some(e) = &record.error {
        f.push(("error", e.clone()));
    }
    Ok(f)
}

fn ms(t: DateTime<Utc>) -> String {
    t.timestamp_millis().to_string()
}

fn ts(ms: &str) -> Option<DateTime<Utc>> {
    ms.parse::<i64>()
        .ok()
        .and_then(|v| Utc.timestamp_millis_opt(v).single())
}

/// A record from its hash fields (`HGETALL`); `None` for an empty hash.
pub(super) fn decode(
    id_hint: &str,
    h: &HashMap<String, String>,
) -> Result<Option<JobRecord>, QueueError> {
    if h.is_empty() {
        return Ok(None);
    }
    let corrupt = |m: String| QueueError::Corrupt {
        id: id_hint.to_owned(),
        message: m,
    };
    let field = |k: &str| {
        h.get(k)
            .map(String::as_str)
            .ok_or_else(|| corrupt(format!("missing field `{k}`")))
    };
    let opt = |k: &str| h.get(k).filter(|v| !v.is_empty()).cloned();
    let sub: Submission =
        serde_json::from_str(field("submission")?).map_err(|e| corrupt(e.to_string()))?;
    let artifacts = match h.get("artifacts") {
        Some(a) if !a.is_empty() => serde_json::from_str(a).map_err(|e| corrupt(e.to_string()))?,
        _ => Vec::new(),
    };
    Ok(Some(JobRecord {
        id: JobId::from_str(field("id")?).map_err(&corrupt)?,
        queue: QueueName::parse(field("queue")?).map_err(&corrupt)?,
        spec: sub.spec,
        kickstart: sub.kickstart,
        submitter: sub.submitter,
        state: JobState::from_str(field("state")?).map_err(&corrupt)?,
        attempt: field("attempt")?
            .parse()
            .map_err(|_| corrupt("bad attempt".into()))?,
        lease_token: opt("lease_token"),
        worker: opt("worker"),
        worker_host: opt("worker_host"),
        created_at: ts(field("created_at")?).unwrap_or_default(),
        started_at: h.get("started_at").and_then(|v| ts(v)),
        finished_at: h.get("finished_at").and_then(|v| ts(v)),
        updated_at: h.get("updated_at").and_then(|v| ts(v)).unwrap_or_default(),
        artifacts,
        error: opt("error"),
        cancel_requested: h.get("cancel_requested").is_some_and(|v| v == "1"),
        artifacts_host: opt("artifacts_host"),
        stage_only: h.get("stage_only").is_some_and(|v| v == "1"),
    }))
}
