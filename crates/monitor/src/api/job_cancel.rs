//! `POST /api/v1/jobs/{id}/cancel`: cancel a job (at once when queued, by request when a
//! worker holds it).

use axum::Json;
use axum::extract::State;
use fbs_core::queue::CancelResult;

use super::extract::JobPath;
use super::types::{CancelOutcome, CancelView, JobView};
use crate::auth::Access;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// Cancel a job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs",
    params(("id" = String, Path, format = "uuid", description = "The job id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the cancel did", body = CancelView),
        (status = 400, description = "Not a job id", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "A read-only token", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 503, description = "The job store is unreachable", body = ErrorBody),
    ))]
pub async fn cancel_job(
    State(state): State<AppState>,
    access: Access,
    JobPath(id): JobPath,
) -> ApiResult<Json<CancelView>> {
    let who = access.require_write()?;
    let result = match state.jobs().cancel(id).await? {
        CancelResult::Canceled => CancelOutcome::Canceled,
        CancelResult::Requested => CancelOutcome::Requested,
        CancelResult::AlreadyFinal(_) => CancelOutcome::AlreadyFinal,
    };
    tracing::info!(job = %id, by = who, ?result, "cancel");
    let rec = state
        .jobs()
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))?;
    Ok(Json(CancelView {
        result,
        job: JobView::from(&rec),
    }))
}
