//! `GET /api/v1/jobs`: jobs newest first, filtered by state and queue, in pages.

use axum::Json;
use axum::extract::State;
use fbs_core::job::QueueName;
use fbs_core::queue::JobFilter;

use super::extract::{ApiQuery, parse_job_id};
use super::types::{JobPage, JobView, ListQuery};
use crate::auth::Access;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// The page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page.
pub const MAX_LIMIT: u32 = 500;

/// List jobs.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(ListQuery),
    responses(
        (status = 200, description = "A page of jobs, newest first", body = JobPage),
        (status = 400, description = "A malformed filter or cursor", body = ErrorBody),
        (status = 401, description = "Reads need a token here", body = ErrorBody),
        (status = 503, description = "The job store is unreachable", body = ErrorBody),
    ))]
pub async fn list_jobs(
    State(state): State<AppState>,
    access: Access,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<JobPage>> {
    access.require_read(&state, None)?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit must be 1–{MAX_LIMIT}")).field("limit"));
    }
    let queue = q
        .queue
        .as_deref()
        .map(QueueName::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e).field("queue"))?;
    let before = q
        .cursor
        .as_deref()
        .map(|c| parse_job_id(c).map_err(|e| e.field("cursor")))
        .transpose()?;
    let filter = JobFilter {
        state: q.state.map(Into::into),
        queue,
        limit: Some(limit + 1),
        before,
    };
    let mut jobs = state.jobs().list(&filter).await?;
    let more = jobs.len() > limit as usize;
    jobs.truncate(limit as usize);
    let next_cursor = more
        .then(|| jobs.last().map(|j| j.id.to_string()))
        .flatten();
    Ok(Json(JobPage {
        jobs: jobs.iter().map(JobView::from).collect(),
        next_cursor,
    }))
}
