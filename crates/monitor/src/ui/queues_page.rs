//! `/queues`: every queue with its depth, running jobs, workers and oldest waiting job.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::page;
use super::{Page, ago, error_page};
use crate::api::queues::queue_views;
use crate::auth::Access;
use crate::state::AppState;

/// The queues page.
pub async fn queues_page(State(state): State<AppState>, access: Access) -> Response {
    let who = access.session.as_deref();
    if let Err(e) = access.require_read(&state, None) {
        return error_page(&e, who);
    }
    let queues = match queue_views(&state).await {
        Ok(q) => q,
        Err(e) => return error_page(&e, who),
    };
    let body = html! {
        h1 { "Queues" }
        @if queues.is_empty() { p.empty { "No queue has jobs or workers." } }
        @else {
            div.scroll { table #queues {
                thead { tr { th { "Queue" } th { "Waiting" } th { "Running" } th { "Workers" } th { "Oldest waiting" } } }
                tbody { @for q in &queues { tr {
                    td { code { (q.queue) } }
                    td { (q.depth) }
                    td { (q.running) }
                    td { (q.workers) }
                    td { @match (&q.oldest_job, q.oldest_queued_at) {
                        (Some(j), Some(t)) => { a href={ "/jobs/" (j) } { (j[..8.min(j.len())]) "…" } " " (ago(t)) }
                        _ => { "—" }
                    } }
                } } }
            } }
        }
    };
    Page::ok(page("Queues", who, body)).into_response()
}
