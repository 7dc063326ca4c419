//! `/jobs/{id}`: one job — spec summary, state timeline, error, artifacts with checksums and
//! links, and its log: followed live (server-sent events) while the job runs, whole after.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use fbs_core::job::JobRecord;
use maud::{Markup, html};

use super::layout::{badge, page};
use super::{Page, ago, error_page};
use crate::api::extract::parse_job_id;
use crate::auth::{Access, sign};
use crate::error::ApiError;
use crate::logs;
use crate::state::AppState;

/// The job page.
pub async fn job_page(
    State(state): State<AppState>,
    access: Access,
    Path(raw): Path<String>,
) -> Response {
    let who = access.session.as_deref();
    let id = match parse_job_id(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(&e, who),
    };
    if let Err(e) = access.require_read(&state, Some(id)) {
        return error_page(&e, who);
    }
    let rec = match state.jobs().get(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return error_page(&ApiError::not_found(format!("no job {id}")), who),
        Err(e) => return error_page(&e.into(), who),
    };
    // The page's own requests carry the read token when reads need one.
    let t = if state.config().read_token_required && who.is_none() && access.token.is_none() {
        format!("&t={}", sign::read_token(state.secret(), id))
    } else {
        String::new()
    };
    let final_log = if rec.state.is_final() {
        Some(
            logs::whole(&state, &rec)
                .await
                .unwrap_or_else(|e| vec![e.error]),
        )
    } else {
        None
    };
    let body = html! {
        h1 { "Job " code { (id) } }
        p.summary { (badge(rec.state.as_str())) " " span #summary { (rec.spec.summary()) } }
        @if let Some(e) = &rec.error { p.error { strong { "Why: " } (e) } }
        (facts(&rec))
        (artifacts(&rec))
        h2 { "Log" }
        @match &final_log {
            Some(lines) => {
                pre #log { @for l in lines { (l) "\n" } }
            }
            None => {
                pre #log data-follow={ "/api/v1/jobs/" (id) "/log?follow=1" (t) }
                    data-job={ "/api/v1/jobs/" (id) "?" (t.trim_start_matches('&')) } {}
                p.muted #log-status { "Following the log live…" }
            }
        }
    };
    Page::ok(page(
        &format!("Job {}", &raw[..8.min(raw.len())]),
        who,
        body,
    ))
    .into_response()
}

fn facts(r: &JobRecord) -> Markup {
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| match t {
        Some(t) => {
            html! { time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%S UTC")) " (" (ago(t)) ")" } }
        }
        None => html! { "—" },
    };
    html! {
        table.facts {
            tr { th { "Type" } td { (r.spec.image_type()) " " (r.spec.arch) "/" (r.spec.release) } }
            tr { th { "Queue" } td { (r.queue.as_str()) } }
            tr { th { "Submitter" } td { (r.submitter) } }
            tr { th { "Staging" } td { (r.spec.staging.redacted()) } }
            @if !r.spec.koji.is_empty() {
                tr { th { "Koji builds" } td {
                    (r.spec.koji.nvrs.join(" "))
                    @for b in &r.spec.koji.build_ids { " #" (b) }
                } }
            }
            tr { th { "Attempt" } td { (r.attempt) } }
            tr { th { "Worker" } td { (r.worker_host.as_deref().unwrap_or("—")) } }
            tr { th { "Submitted" } td { (when(Some(r.created_at))) } }
            tr { th { "Started" } td { (when(r.started_at)) } }
            tr { th { "Finished" } td { (when(r.finished_at)) } }
            tr { th { "Last change" } td { (when(Some(r.updated_at))) } }
        }
    }
}

fn artifacts(r: &JobRecord) -> Markup {
    html! {
        @if !r.artifacts.is_empty() {
            h2 { "Artifacts" }
            div.scroll { table.artifacts {
                thead { tr { th { "File" } th { "Size" } th { "SHA-256" } } }
                tbody { @for a in &r.artifacts { tr {
                    td { @match &a.url {
                        Some(u) if u.starts_with("http://") || u.starts_with("https://") || u.starts_with("ftp://") => { a href=(u) { (a.path) } }
                        _ => { (a.path) }
                    } }
                    td { (a.size) " B" }
                    td.hash { code { (a.sha256) } }
                } } }
            } }
        }
    }
}
