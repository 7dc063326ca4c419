//! `/workers`: the workers alive now — host, queues, current jobs, last heartbeat.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::page;
use super::{Page, ago, error_page};
use crate::auth::Access;
use crate::state::AppState;

/// The workers page.
pub async fn workers_page(State(state): State<AppState>, access: Access) -> Response {
    let who = access.session.as_deref();
    if let Err(e) = access.require_read(&state, None) {
        return error_page(&e, who);
    }
    let workers = match state.jobs().workers().await {
        Ok(w) => w,
        Err(e) => return error_page(&e.into(), who),
    };
    let body = html! {
        h1 { "Workers" }
        @if workers.is_empty() { p.empty { "No worker is alive." } }
        @else {
            div.scroll { table #workers {
                thead { tr { th { "Worker" } th { "Host" } th { "Queues" } th { "Jobs" } th { "Started" } th { "Heartbeat" } } }
                tbody { @for w in &workers { tr {
                    td { span.badge.s-alive { "alive" } " " (w.name) }
                    td { (w.host) }
                    td { @for q in &w.queues { code { (q.as_str()) } " " } }
                    td {
                        @if w.jobs.is_empty() { "idle" }
                        @for j in &w.jobs { a href={ "/jobs/" (j) } { (j.to_string()[..8]) "…" } " " }
                        " (" (w.jobs.len()) "/" (w.concurrency) ")"
                    }
                    td { (ago(w.started_at)) }
                    td { time datetime=(w.heartbeat_at.to_rfc3339()) { (ago(w.heartbeat_at)) } }
                } } }
            } }
        }
    };
    Page::ok(page("Workers", who, body)).into_response()
}
