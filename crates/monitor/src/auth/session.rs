//! Web sessions and CSRF protection.
//!
//! A browser logs in by posting an API token to `/login`; the answer sets `fbs_session` =
//! `NAME.EXPIRY.HMAC(secret, "session:NAME.EXPIRY")` — HttpOnly, SameSite=Strict, Secure when
//! the public URL is https — valid for 12 hours and only while the token NAME exists. Every
//! form post carries a `csrf` field equal to the `fbs_csrf` cookie (double submit), which the
//! pages set; a post whose field and cookie differ is refused with 403.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use chrono::Utc;

use super::sign;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "fbs_session";
/// The CSRF cookie's name (the form field is `csrf`).
pub const CSRF_COOKIE: &str = "fbs_csrf";
/// How long a session lasts.
pub const SESSION_SECS: i64 = 12 * 3600;

/// The value of cookie `name`, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A new session cookie value for token `name`.
pub fn new_session(secret: &[u8], name: &str) -> String {
    let body = format!("{name}.{}", Utc::now().timestamp() + SESSION_SECS);
    let sig = sign::sign(secret, &format!("session:{body}"));
    format!("{body}.{sig}")
}

/// The token name of a valid session value.
pub fn verify_session(secret: &[u8], value: &str) -> Option<String> {
    let (body, sig) = value.rsplit_once('.')?;
    if !sign::verify(secret, &format!("session:{body}"), sig) {
        return None;
    }
    let (name, expiry) = body.rsplit_once('.')?;
    let expiry: i64 = expiry.parse().ok()?;
    (expiry > Utc::now().timestamp()).then(|| name.to_owned())
}

/// The token name of the request's session, when valid and its token not revoked.
pub async fn current(parts: &Parts, state: &AppState) -> ApiResult<Option<String>> {
    let Some(name) =
        cookie(&parts.headers, SESSION_COOKIE).and_then(|v| verify_session(state.secret(), v))
    else {
        return Ok(None);
    };
    let tokens = state.tokens().tokens().await?;
    Ok(tokens.iter().any(|t| t.name == name).then_some(name))
}

/// The `Set-Cookie` value for a session (empty `value` ends it).
pub fn session_cookie(state: &AppState, value: &str) -> String {
    let age = if value.is_empty() { 0 } else { SESSION_SECS };
    let secure = if state.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={age}{secure}")
}

/// The request's CSRF cookie, or a fresh value and the `Set-Cookie` that sets it.
pub fn csrf_token(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, CSRF_COOKIE).filter(|v| v.len() == 64) {
        Some(v) => (v.to_owned(), None),
        None => {
            let v = sign::random_hex();
            let secure = if state.secure_cookies() {
                "; Secure"
            } else {
                ""
            };
            let set = format!("{CSRF_COOKIE}={v}; Path=/; HttpOnly; SameSite=Strict{secure}");
            (v, Some(set))
        }
    }
}

/// Refuse a form post whose `csrf` field does not equal its CSRF cookie.
pub fn check_csrf(headers: &HeaderMap, field: Option<&str>) -> ApiResult<()> {
    let cookie = cookie(headers, CSRF_COOKIE);
    match (cookie, field) {
        (Some(c), Some(f)) if !c.is_empty() && constant_eq(c.as_bytes(), f.as_bytes()) => Ok(()),
        _ => Err(ApiError::forbidden(
            "the form's CSRF token is missing or stale: reload the page and submit again",
        )),
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_signed_and_expire() {
        let v = new_session(b"k", "ops.team");
        assert_eq!(verify_session(b"k", &v), Some("ops.team".into()));
        assert_eq!(verify_session(b"other", &v), None);
        let forged = v.replacen("ops.team", "admin", 1);
        assert_eq!(verify_session(b"k", &forged), None);
        let body = format!("ops.{}", Utc::now().timestamp() - 1);
        let old = format!("{body}.{}", sign::sign(b"k", &format!("session:{body}")));
        assert_eq!(verify_session(b"k", &old), None);
    }

    #[test]
    fn csrf_needs_field_equal_to_cookie() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, "a=1; fbs_csrf=abc".parse().expect("header"));
        assert!(check_csrf(&h, Some("abc")).is_ok());
        assert!(check_csrf(&h, Some("abd")).is_err());
        assert!(check_csrf(&h, None).is_err());
        assert!(check_csrf(&HeaderMap::new(), Some("abc")).is_err());
    }
}
