//! `GET /api/v1/workers`: the workers alive now.

use axum::Json;
use axum::extract::State;

use super::types::WorkerView;
use crate::auth::Access;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// List live workers.
#[utoipa::path(get, path = "/api/v1/workers", tag = "fleet",
    responses(
        (status = 200, description = "Live workers by name", body = Vec<WorkerView>),
        (status = 401, description = "Reads need a token here", body = ErrorBody),
        (status = 503, description = "The job store is unreachable", body = ErrorBody),
    ))]
pub async fn list_workers(
    State(state): State<AppState>,
    access: Access,
) -> ApiResult<Json<Vec<WorkerView>>> {
    access.require_read(&state, None)?;
    let workers = state.jobs().workers().await?;
    Ok(Json(workers.iter().map(WorkerView::from).collect()))
}
