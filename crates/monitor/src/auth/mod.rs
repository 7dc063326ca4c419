//! Who is calling, and what they may do.
//!
//! - **API tokens** (`fbs token create`): `Authorization: Bearer fbs_…`. The store keeps only
//!   their SHA-256. Every write through the API needs one.
//! - **Per-job read tokens**: `r1.` + HMAC-SHA256(server secret, job id), carried as `?t=` in
//!   mailed links (or as a bearer). They open that one job's page, record and log — reads only.
//! - **Sessions** for the web UI: a browser logs in with an API token and gets a signed,
//!   HttpOnly, SameSite=Strict cookie; every form post also carries a CSRF token that must equal
//!   the `fbs_csrf` cookie (double submit).
//!
//! Reads are open unless `monitor.read_token_required` is set. There is no debug bypass.

pub mod session;
pub mod sign;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use fbs_core::job::JobId;
use fbs_core::queue::tokens::token_hash;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The prefix of API tokens.
pub const TOKEN_PREFIX: &str = "fbs_";

/// A fresh API token: `fbs_` + 64 hex digits (256 random bits from the OS).
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", sign::random_hex())
}

/// What a request carries, checked against the stores.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// The name of a valid API token given as a bearer.
    pub token: Option<String>,
    /// A bearer was given but is no valid token (`Some(reason)`).
    pub bad_bearer: Option<String>,
    /// The token name of a valid session cookie.
    pub session: Option<String>,
    /// A per-job read token (`?t=` or a bearer `r1.…`).
    pub read_token: Option<String>,
}

impl Access {
    /// The caller's token name, for writes through the API (bearer only: a cookie alone must
    /// never be enough, or other sites could post with it).
    pub fn require_write(&self) -> ApiResult<&str> {
        if let Some(t) = &self.token {
            return Ok(t);
        }
        if self.read_token.is_some() && self.bad_bearer.is_none() {
            return Err(ApiError::forbidden(
                "a per-job read token cannot change anything; use an API token",
            ));
        }
        Err(ApiError::unauthorized(
            self.bad_bearer.clone().unwrap_or_else(|| {
                "this needs an API token: Authorization: Bearer fbs_… (fbs token create)".into()
            }),
        ))
    }

    /// Whether the caller may read `job` (or, with `None`, the lists).
    pub fn require_read(&self, state: &AppState, job: Option<JobId>) -> ApiResult<()> {
        if !state.config().read_token_required || self.token.is_some() || self.session.is_some() {
            return Ok(());
        }
        if let (Some(job), Some(t)) = (job, &self.read_token)
            && sign::verify_read_token(state.secret(), job, t)
        {
            return Ok(());
        }
        if let Some(reason) = &self.bad_bearer {
            return Err(ApiError::unauthorized(reason.clone()));
        }
        Err(ApiError::unauthorized(
            "reading needs a token here: an API token, a login, or the link from the job's mail",
        ))
    }
}

impl FromRequestParts<AppState> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let mut access = Access::default();
        if let Some(h) = parts.headers.get(AUTHORIZATION) {
            let raw = h.to_str().unwrap_or("");
            match raw.split_once(' ') {
                Some((scheme, value)) if scheme.eq_ignore_ascii_case("bearer") => {
                    let value = value.trim();
                    if value.starts_with(sign::READ_PREFIX) {
                        access.read_token = Some(value.to_owned());
                    } else {
                        match state.tokens().token_by_hash(&token_hash(value)).await {
                            Ok(Some(t)) => access.token = Some(t.name),
                            Ok(None) => {
                                access.bad_bearer =
                                    Some("the API token is unknown or revoked".into())
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
                _ => access.bad_bearer = Some("Authorization must be `Bearer TOKEN`".into()),
            }
        }
        if let Some(q) = parts.uri.query()
            && let Some((_, t)) = url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "t")
            && access.read_token.is_none()
        {
            access.read_token = Some(t.into_owned());
        }
        access.session = session::current(parts, state).await?;
        Ok(access)
    }
}
