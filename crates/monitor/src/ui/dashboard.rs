//! `/`: the dashboard — jobs past and present, newest first, refreshed by the script every
//! two seconds from `/api/v1/jobs`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use fbs_core::job::JobRecord;
use fbs_core::queue::JobFilter;
use maud::{Markup, html};

use super::layout::{badge, page};
use super::{Page, ago, error_page};
use crate::auth::Access;
use crate::state::AppState;

/// How many jobs the dashboard shows.
pub const ROWS: u32 = 50;

/// The dashboard.
pub async fn dashboard(State(state): State<AppState>, access: Access) -> Response {
    let who = access.session.as_deref();
    if let Err(e) = access.require_read(&state, None) {
        return error_page(&e, who);
    }
    let filter = JobFilter {
        limit: Some(ROWS),
        ..JobFilter::default()
    };
    let jobs = match state.jobs().list(&filter).await {
        Ok(j) => j,
        Err(e) => return error_page(&e.into(), who),
    };
    let body = html! {
        h1 { "Jobs" }
        div.scroll {
            table #jobs {
                thead { tr {
                    th { "Job" } th { "State" } th { "Image" } th { "Queue" }
                    th { "Worker" } th { "Submitter" } th { "Age" }
                } }
                tbody data-poll={ "/api/v1/jobs?limit=" (ROWS) } {
                    @for j in &jobs { (row(j)) }
                }
            }
        }
        @if jobs.is_empty() { p.empty #no-jobs { "No jobs yet. " a href="/submit" { "Submit one." } } }
    };
    Page::ok(page("Jobs", who, body)).into_response()
}

/// One job's row (the script renders the same columns).
pub fn row(j: &JobRecord) -> Markup {
    let id = j.id.to_string();
    html! {
        tr data-id=(id) {
            td.id { a href={ "/jobs/" (id) } { (id[..8]) "…" } }
            td { (badge(j.state.as_str())) }
            td { (j.spec.image_type()) " " (j.spec.arch) "/" (j.spec.release) }
            td { (j.queue.as_str()) }
            td { (j.worker_host.as_deref().unwrap_or("—")) }
            td { (j.submitter) }
            td { time datetime=(j.created_at.to_rfc3339()) { (ago(j.created_at)) } }
        }
    }
}
