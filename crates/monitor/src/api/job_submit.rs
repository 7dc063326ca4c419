//! `POST /api/v1/jobs`: submit a build spec.
//!
//! The body is either the spec itself as TOML (`Content-Type: application/toml` or
//! `text/plain`), for specs without a kickstart or naming a kickstart URL on the allow-list,
//! or JSON `{"spec_toml" | "spec_ini": "...", "kickstart": "..."}`. The spec is validated by
//! the same readers as `fbs validate`; a 422 names the line and key (`field` is `SECTION.KEY`).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fbs_core::spec::SpecFormat;

use super::types::{JobView, SubmitRequest};
use crate::auth::Access;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use crate::submit::{self, Submission};

/// Submit a job.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs",
    security(("bearer" = [])),
    request_body(description = "The spec as TOML, or JSON with the spec and its kickstart",
        content(
            (SubmitRequest = "application/json"),
            (String = "application/toml"),
        )),
    responses(
        (status = 201, description = "Queued", body = JobView,
            headers(("Location" = String, description = "The job's URL"))),
        (status = 400, description = "A malformed body", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "A read-only token", body = ErrorBody),
        (status = 413, description = "The body or kickstart is too large", body = ErrorBody),
        (status = 415, description = "A body type other than JSON or TOML", body = ErrorBody),
        (status = 422, description = "The spec or kickstart is invalid", body = ErrorBody),
        (status = 503, description = "The job store is unreachable", body = ErrorBody),
    ))]
pub async fn submit_job(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    access.require_write()?;
    let sub = read_submission(&state, &headers, body).await?;
    let prepared = submit::prepare(&state, sub).await?;
    let job = submit::submit(&state, prepared).await?;
    let mut resp = (StatusCode::CREATED, Json(JobView::from(&job))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/jobs/{}", job.id)) {
        resp.headers_mut().insert(LOCATION, v);
    }
    Ok(resp)
}

async fn read_submission(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Submission> {
    let max = state.config().max_body_bytes;
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| ApiError::too_large(format!("the body is larger than {max} bytes")))?;
    let ctype = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match ctype.as_str() {
        "application/json" => {
            let req: SubmitRequest = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::bad_request(format!("the JSON body: {e}")).field("body"))?;
            let (spec, format) = match (req.spec_toml, req.spec_ini) {
                (Some(t), None) => (t, SpecFormat::Toml),
                (None, Some(i)) => (i, SpecFormat::Ini),
                _ => {
                    return Err(ApiError::invalid(
                        "give exactly one of `spec_toml` and `spec_ini`",
                    )
                    .field("spec_toml"));
                }
            };
            Ok(Submission {
                spec: spec.into_bytes(),
                format,
                kickstart: req.kickstart,
                kickstart_url: None,
            })
        }
        "application/toml" | "text/plain" | "text/x-toml" | "" => Ok(Submission {
            spec: bytes.to_vec(),
            format: SpecFormat::Toml,
            kickstart: None,
            kickstart_url: None,
        }),
        other => Err(ApiError::unsupported(format!(
            "a body of type `{other}`: send application/json or application/toml"
        ))
        .field("Content-Type")),
    }
}
