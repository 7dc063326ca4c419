//! `GET /api/v1/jobs/{id}/log`: the whole log (with `Range: bytes=…`), or with `follow=1` the
//! log from line `from` on, streamed until the job ends — as server-sent events when the
//! client accepts `text/event-stream` (one `id: N` / `data: LINE` event per line, then an
//! `end` event whose data is the final state), else as plain chunked text.

use std::convert::Infallible;
use std::fmt::Write;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{
    ACCEPT, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_RANGE, CONTENT_TYPE, RANGE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use futures::stream::BoxStream;

use super::extract::{ApiQuery, JobPath};
use super::types::{FollowFlag, LogQuery};
use crate::auth::Access;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::logs::{self, FollowItem};
use crate::state::AppState;

/// A job's log.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/log", tag = "logs",
    params(("id" = String, Path, format = "uuid", description = "The job id"), LogQuery,
        ("Range" = Option<String>, Header, description = "`bytes=START-END` of the whole log"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume a follow after this line")),
    responses(
        (status = 200, description = "The log (whole, or followed)", content(
            (String = "text/plain"),
            (String = "text/event-stream"))),
        (status = 206, description = "The asked-for byte range", content_type = "text/plain", body = String),
        (status = 400, description = "Not a job id, or a bad parameter", body = ErrorBody),
        (status = 401, description = "Reads need a token here", body = ErrorBody),
        (status = 404, description = "No such job, or its log is no longer kept", body = ErrorBody),
        (status = 416, description = "The range lies outside the log", body = ErrorBody),
        (status = 503, description = "The job store is unreachable", body = ErrorBody),
    ))]
pub async fn job_log(
    State(state): State<AppState>,
    access: Access,
    JobPath(id): JobPath,
    ApiQuery(q): ApiQuery<LogQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    access.require_read(&state, Some(id))?;
    let rec = state
        .jobs()
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))?;
    if q.follow != Some(FollowFlag::Yes) {
        let lines = logs::whole(&state, &rec).await?;
        let mut text = lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        return ranged(text.into_bytes(), headers.get(RANGE));
    }
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let from = q.from.unwrap_or(0).max(resume.unwrap_or(0));
    let items = logs::follow(&state, &rec).await?;
    let sse = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    let body = render(items, from, sse);
    let mut resp = Response::new(Body::from_stream(body));
    let h = resp.headers_mut();
    let ctype = if sse {
        "text/event-stream"
    } else {
        "text/plain; charset=utf-8"
    };
    h.insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}

/// How often an idle SSE stream gets a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The followed log as body chunks, one per batch, rendered once per batch: plain lines, or
/// SSE events (`id: N`, `data: LINE`; then `event: end`, whose data is the final state).
fn render(
    items: BoxStream<'static, FollowItem>,
    from: u64,
    sse: bool,
) -> impl futures::Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    futures::stream::unfold(Some((items, from)), move |st| async move {
        let (mut items, mut last) = st?;
        loop {
            let next = if sse {
                match tokio::time::timeout(KEEP_ALIVE, items.next()).await {
                    Ok(n) => n,
                    Err(_) => {
                        return Some((
                            Ok(Bytes::from_static(b": keep-alive\n\n")),
                            Some((items, last)),
                        ));
                    }
                }
            } else {
                items.next().await
            };
            let chunk = match next? {
                FollowItem::Lines(lines) => {
                    let mut out = String::new();
                    let seen = last;
                    for (n, text) in lines.lines.iter().filter(|(n, _)| *n > seen) {
                        if sse {
                            // A line never holds a newline; a stray CR would split the field.
                            let _ = write!(out, "id: {n}\ndata: {}\n\n", text.replace('\r', ""));
                        } else {
                            out.push_str(text);
                            out.push('\n');
                        }
                        last = *n;
                    }
                    if out.is_empty() {
                        continue;
                    }
                    out
                }
                FollowItem::End(state) if sse => {
                    return Some((
                        Ok(Bytes::from(format!("event: end\ndata: {state}\n\n"))),
                        None,
                    ));
                }
                FollowItem::End(_) => return None,
                FollowItem::Error(e) if sse => {
                    let e = e.replace(['\r', '\n'], " ");
                    return Some((
                        Ok(Bytes::from(format!("event: error\ndata: {e}\n\n"))),
                        None,
                    ));
                }
                FollowItem::Error(e) => {
                    return Some((
                        Ok(Bytes::from(format!("fbs: log stream failed: {e}\n"))),
                        None,
                    ));
                }
            };
            return Some((Ok(Bytes::from(chunk)), Some((items, last))));
        }
    })
}

/// The body, or the single byte range `Range` asks for (several ranges: the whole body).
fn ranged(body: Vec<u8>, range: Option<&HeaderValue>) -> ApiResult<Response> {
    let len = body.len() as u64;
    let plain = |status: StatusCode, bytes: Vec<u8>| {
        let mut r = (status, bytes).into_response();
        let h = r.headers_mut();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        r
    };
    let Some(spec) = range.and_then(|v| v.to_str().ok()) else {
        return Ok(plain(StatusCode::OK, body));
    };
    let Some(set) = spec.trim().strip_prefix("bytes=") else {
        return Ok(plain(StatusCode::OK, body));
    };
    if set.contains(',') {
        return Ok(plain(StatusCode::OK, body));
    }
    let unsatisfiable = || {
        let mut r = ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            format!("the range `{spec}` lies outside the log ({len} bytes)"),
        )
        .field("Range")
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
            r.headers_mut().insert(CONTENT_RANGE, v);
        }
        r
    };
    let (a, b) = set.split_once('-').unwrap_or((set, ""));
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(s), Some(e)) if s <= e => (s, e.min(len.saturating_sub(1))),
        (Some(s), None) if b.is_empty() => (s, len.saturating_sub(1)),
        (None, Some(n)) if a.is_empty() && n > 0 => (len.saturating_sub(n), len.saturating_sub(1)),
        // A malformed range is ignored (RFC 9110 §14.2).
        _ if a.parse::<u64>().is_err() && b.parse::<u64>().is_err() => {
            return Ok(plain(StatusCode::OK, body));
        }
        _ => return Ok(unsatisfiable()),
    };
    if len == 0 || start >= len {
        return Ok(unsatisfiable());
    }
    let part = body[start as usize..=end as usize].to_vec();
    let mut r = plain(StatusCode::PARTIAL_CONTENT, part);
    if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
        r.headers_mut().insert(CONTENT_RANGE, v);
    }
    Ok(r)
}
