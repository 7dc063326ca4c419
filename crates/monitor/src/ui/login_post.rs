//! `POST /login`: check the CSRF token and the API token; set the session cookie.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fbs_core::queue::tokens::token_hash;

use super::error_page;
use crate::auth::session;
use crate::error::ApiError;
use crate::state::AppState;

/// Log in.
pub async fn login_post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let form = match read_form(body).await {
        Ok(f) => f,
        Err(e) => return error_page(&e, None),
    };
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Err(e) = session::check_csrf(&headers, get("csrf")) {
        return error_page(&e, None);
    }
    let token = get("token").unwrap_or("").trim();
    let found = match state.tokens().token_by_hash(&token_hash(token)).await {
        Ok(f) => f,
        Err(e) => return error_page(&e.into(), None),
    };
    let Some(t) = found.filter(|_| !token.is_empty()) else {
        return error_page(
            &ApiError::unauthorized("that API token is unknown or revoked"),
            None,
        );
    };
    let value = session::new_session(state.secret(), &t.name);
    let mut r = (StatusCode::SEE_OTHER, ()).into_response();
    r.headers_mut()
        .insert(LOCATION, HeaderValue::from_static("/"));
    if let Ok(v) = HeaderValue::from_str(&session::session_cookie(&state, &value)) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

/// A small urlencoded form body (at most 64 KiB).
pub async fn read_form(body: Body) -> Result<Vec<(String, String)>, ApiError> {
    let bytes = axum::body::to_bytes(body, 64 << 10)
        .await
        .map_err(|_| ApiError::too_large("the form is too large"))?;
    Ok(url::form_urlencoded::parse(&bytes).into_owned().collect())
}
