//! `GET /readyz`: the job store answers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fbs_core::queue::JobFilter;

use super::health::role_name;
use super::types::HealthView;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Readiness: 200 when the job store answers, 503 when not.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "The store answers", body = HealthView),
        (status = 503, description = "The store does not answer", body = ErrorBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<HealthView>, ApiError> {
    let probe = JobFilter {
        limit: Some(1),
        ..JobFilter::default()
    };
    let check =
        tokio::time::timeout(std::time::Duration::from_secs(5), state.jobs().list(&probe)).await;
    match check {
        Ok(Ok(_)) => Ok(Json(HealthView {
            status: "ready".into(),
            role: role_name(state.role()).into(),
            store: Some(state.backend().label.clone()),
        })),
        Ok(Err(e)) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("job store not ready: {e}"),
        )),
        Err(_) => Err(ApiError::unavailable(
            "job store not ready: no answer in 5 s",
        )),
    }
}
