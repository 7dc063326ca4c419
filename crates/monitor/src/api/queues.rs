//! `GET /api/v1/queues`: every queue with jobs or workers, its depth and its oldest job.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use fbs_core::job::{JobRecord, JobState};
use fbs_core::queue::{JobFilter, WorkerInfo};

use super::types::QueueView;
use crate::auth::Access;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// How many unfinished jobs are looked at.
const SCAN: u32 = 10_000;

/// List queues.
#[utoipa::path(get, path = "/api/v1/queues", tag = "fleet",
    responses(
        (status = 200, description = "Queues by name", body = Vec<QueueView>),
        (status = 401, description = "Reads need a token here", body = ErrorBody),
        (status = 503, description = "The job store is unreachable", body = ErrorBody),
    ))]
pub async fn list_queues(
    State(state): State<AppState>,
    access: Access,
) -> ApiResult<Json<Vec<QueueView>>> {
    access.require_read(&state, None)?;
    Ok(Json(queue_views(&state).await?))
}

/// The queues, as the API and the queues page show them.
pub async fn queue_views(state: &AppState) -> ApiResult<Vec<QueueView>> {
    let mut jobs = Vec::new();
    for s in [JobState::Queued, JobState::Running, JobState::Staging] {
        let f = JobFilter {
            state: Some(s),
            limit: Some(SCAN),
            ..JobFilter::default()
        };
        jobs.extend(state.jobs().list(&f).await?);
    }
    let workers = state.jobs().workers().await?;
    Ok(summarize(&jobs, &workers))
}

/// Group unfinished jobs and workers by queue.
pub fn summarize(jobs: &[JobRecord], workers: &[WorkerInfo]) -> Vec<QueueView> {
    let mut out: BTreeMap<String, QueueView> = BTreeMap::new();
    let entry = |out: &mut BTreeMap<String, QueueView>, q: &str| {
        out.entry(q.to_owned())
            .or_insert_with(|| QueueView {
                queue: q.to_owned(),
                depth: 0,
                running: 0,
                workers: 0,
                oldest_job: None,
                oldest_queued_at: None,
            })
            .clone()
    };
    for j in jobs {
        let mut v = entry(&mut out, j.queue.as_str());
        if j.state == JobState::Queued {
            v.depth += 1;
            if v.oldest_queued_at.is_none_or(|t| j.created_at < t) {
                v.oldest_queued_at = Some(j.created_at);
                v.oldest_job = Some(j.id.to_string());
            }
        } else if j.state.is_leased() {
            v.running += 1;
        }
        out.insert(v.queue.clone(), v);
    }
    for w in workers {
        for q in &w.queues {
            let mut v = entry(&mut out, q.as_str());
            v.workers += 1;
            out.insert(v.queue.clone(), v);
        }
    }
    out.into_values().collect()
}
