//! `GET /healthz`: the process answers.

use axum::Json;
use axum::extract::State;

use super::types::HealthView;
use crate::state::{AppState, Role};

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The monitor runs", body = HealthView)))]
pub async fn healthz(State(state): State<AppState>) -> Json<HealthView> {
    Json(HealthView {
        status: "ok".into(),
        role: role_name(state.role()).into(),
        store: None,
    })
}

/// The role's name.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Webapp => "webapp",
        Role::Worker => "worker",
    }
}
