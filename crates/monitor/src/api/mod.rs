//! REST API v1 (one file per handler) and its OpenAPI document, generated from the handlers'
//! annotations and types by utoipa and served at `/openapi.json`.

pub mod extract;
pub mod health;
pub mod job_cancel;
pub mod job_get;
pub mod job_log;
pub mod job_retry;
pub mod job_submit;
pub mod jobs_list;
pub mod queues;
pub mod ready;
pub mod types;
pub mod workers;

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::{AppState, Role};

/// The OpenAPI document's fixed parts; the paths come from the routes.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "fbs monitor",
        description = "Jobs, live logs, workers and queues of an fbs installation. Writes need \
            an API token (`Authorization: Bearer fbs_…`, from `fbs token create`); reads are open \
            unless the installation requires a token for them.",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerScheme),
    components(schemas(types::FollowFlag)),
    tags(
        (name = "jobs", description = "Submit, list, cancel and retry jobs"),
        (name = "logs", description = "Job logs, whole or live"),
        (name = "fleet", description = "Workers and queues"),
        (name = "health", description = "Liveness, readiness and metrics"),
    )
)]
pub struct ApiDoc;

#[derive(Debug)]
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API routes of `role` and their OpenAPI document.
pub fn routes(role: Role) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let r = OpenApiRouter::with_openapi(doc)
        .routes(routes!(health::healthz))
        .routes(routes!(ready::readyz))
        .routes(routes!(crate::metrics::metrics))
        .routes(routes!(job_log::job_log));
    let r = match role {
        Role::Worker => r,
        Role::Webapp => r
            .routes(routes!(jobs_list::list_jobs, job_submit::submit_job))
            .routes(routes!(job_get::get_job))
            .routes(routes!(job_cancel::cancel_job))
            .routes(routes!(job_retry::retry_job))
            .routes(routes!(workers::list_workers))
            .routes(routes!(queues::list_queues)),
    };
    r.split_for_parts()
}
