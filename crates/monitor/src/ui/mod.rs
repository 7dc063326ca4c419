//! The web UI: server-rendered pages (maud escapes everything interpolated, so job-supplied
//! text is always escaped), one small stylesheet, one script for live updates, and no inline
//! script or style (the Content-Security-Policy forbids them). One file per page handler.

pub mod dashboard;
pub mod job_page;
pub mod layout;
pub mod login_form;
pub mod login_post;
pub mod logout;
pub mod queues_page;
pub mod submit_form;
pub mod submit_post;
pub mod workers_page;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::Markup;

use crate::error::ApiError;
use crate::state::AppState;

/// The UI's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/jobs/{id}", get(job_page::job_page))
        .route(
            "/submit",
            get(submit_form::submit_form).post(submit_post::submit_post),
        )
        .route("/workers", get(workers_page::workers_page))
        .route("/queues", get(queues_page::queues_page))
        .route(
            "/login",
            get(login_form::login_form).post(login_post::login_post),
        )
        .route("/logout", post(logout::logout))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
}

/// A rendered page with its status and cookies to set.
#[derive(Debug)]
pub struct Page {
    /// The status.
    pub status: StatusCode,
    /// The HTML.
    pub markup: Markup,
    /// `Set-Cookie` values.
    pub cookies: Vec<String>,
}

impl Page {
    /// A 200 page.
    pub fn ok(markup: Markup) -> Self {
        Page {
            status: StatusCode::OK,
            markup,
            cookies: Vec::new(),
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.markup).into_response();
        for c in self.cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                r.headers_mut().append(SET_COOKIE, v);
            }
        }
        r.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

/// An error as an HTML page.
pub fn error_page(err: &ApiError, who: Option<&str>) -> Response {
    let login = err.status == StatusCode::UNAUTHORIZED;
    let body = maud::html! {
        h1 { (err.status.canonical_reason().unwrap_or("Error")) }
        p.error { (err.error) }
        @if login { p { a href="/login" { "Log in with an API token" } } }
    };
    Page {
        status: err.status,
        markup: layout::page("Error", who, body),
        cookies: Vec::new(),
    }
    .into_response()
}

async fn css() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../assets/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../assets/app.js"),
    )
}

/// "3 min ago"-style age of `t`.
pub fn ago(t: chrono::DateTime<chrono::Utc>) -> String {
    let s = (chrono::Utc::now() - t).num_seconds().max(0);
    match s {
        0..60 => format!("{s} s ago"),
        60..3600 => format!("{} min ago", s / 60),
        3600..86400 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86400),
    }
}
