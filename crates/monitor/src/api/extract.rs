//! Extractors whose rejections are JSON [`ApiError`]s: the job id in the path (parsed as a
//! UUID, never used as a path) and query strings.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use fbs_core::job::JobId;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The `{id}` path segment as a job id. Anything that is not a UUID is a 400.
#[derive(Debug, Clone, Copy)]
pub struct JobPath(pub JobId);

impl<S: Send + Sync> FromRequestParts<S> for JobPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("the job id is not valid text").field("id"))?;
        parse_job_id(&raw).map(JobPath)
    }
}

/// Parse a job id from a request, refusing anything but a plain UUID.
pub fn parse_job_id(raw: &str) -> Result<JobId, ApiError> {
    if raw.len() > 64 {
        return Err(ApiError::bad_request("not a job id (a UUID such as 0190c3e2-…)").field("id"));
    }
    raw.parse::<JobId>()
        .map_err(|_| ApiError::bad_request("not a job id (a UUID such as 0190c3e2-…)").field("id"))
}

/// A query string deserialized into `T`; a malformed one is a 400 naming the parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => {
                let text = e.body_text();
                let field = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .and_then(|rest| rest.split_once(':'))
                    .map(|(f, _)| f)
                    .or_else(|| text.split('`').nth(1))
                    .filter(|f| {
                        !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
                    .map(str::to_owned);
                let mut err = ApiError::bad_request(text);
                err.field = field;
                Err(err)
            }
        }
    }
}
