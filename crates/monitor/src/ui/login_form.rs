//! `GET /login`: log in with an API token (or, when logged in, log out).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::Page;
use super::layout::page;
use crate::auth::{Access, session};
use crate::state::AppState;

/// The login page.
pub async fn login_form(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
) -> Response {
    let (csrf, set) = session::csrf_token(&state, &headers);
    let who = access.session.as_deref();
    let body = html! {
        h1 { "Log in" }
        @if let Some(w) = who {
            p { "Logged in as " strong { (w) } "." }
            form method="post" action="/logout" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Log out" }
            }
        } @else {
            p { "Paste an API token (" code { "fbs token create --name NAME" } " prints one)." }
            form #login method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                label { "API token" input type="password" name="token" autocomplete="off" required; }
                button type="submit" { "Log in" }
            }
        }
    };
    let mut p = Page::ok(page("Log in", who, body));
    p.cookies.extend(set);
    p.into_response()
}
