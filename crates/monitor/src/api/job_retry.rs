//! `POST /api/v1/jobs/{id}/retry`: queue a failed or canceled job again as a new attempt.

use axum::Json;
use axum::extract::State;

use super::extract::JobPath;
use super::types::JobView;
use crate::auth::Access;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// Retry a job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs",
    params(("id" = String, Path, format = "uuid", description = "The job id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The job, queued again", body = JobView),
        (status = 400, description = "Not a job id", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "A read-only token", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "The job is not failed or canceled", body = ErrorBody),
        (status = 503, description = "The job store is unreachable", body = ErrorBody),
    ))]
pub async fn retry_job(
    State(state): State<AppState>,
    access: Access,
    JobPath(id): JobPath,
) -> ApiResult<Json<JobView>> {
    let who = access.require_write()?;
    let rec = state.jobs().retry(id).await?;
    tracing::info!(job = %id, by = who, attempt = rec.attempt, "retry");
    Ok(Json(JobView::from(&rec)))
}
