//! `GET /api/v1/jobs/{id}`: one job.

use axum::Json;
use axum::extract::State;

use super::extract::JobPath;
use super::types::JobView;
use crate::auth::Access;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// One job by id.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, format = "uuid", description = "The job id")),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 400, description = "Not a job id", body = ErrorBody),
        (status = 401, description = "Reads need a token here", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 503, description = "The job store is unreachable", body = ErrorBody),
    ))]
pub async fn get_job(
    State(state): State<AppState>,
    access: Access,
    JobPath(id): JobPath,
) -> ApiResult<Json<JobView>> {
    access.require_read(&state, Some(id))?;
    let rec = state
        .jobs()
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))?;
    Ok(Json(JobView::from(&rec)))
}
