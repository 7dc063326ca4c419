//! `POST /logout`: end the session (CSRF-checked).

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error_page;
use super::login_post::read_form;
use crate::auth::session;
use crate::state::AppState;

/// Log out.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let form = match read_form(body).await {
        Ok(f) => f,
        Err(e) => return error_page(&e, None),
    };
    let csrf = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    if let Err(e) = session::check_csrf(&headers, csrf) {
        return error_page(&e, None);
    }
    let mut r = (StatusCode::SEE_OTHER, ()).into_response();
    r.headers_mut()
        .insert(LOCATION, HeaderValue::from_static("/login"));
    if let Ok(v) = HeaderValue::from_str(&session::session_cookie(&state, "")) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}
