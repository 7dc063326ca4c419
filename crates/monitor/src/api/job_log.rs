//! `GET /api/v1/jobs/{id}/log`: the whole log (with `Range: bytes=…`), or with `follow=1` the
//! log from line `from` on, streamed until the job ends — as server-sent events when the
//! client accepts `text/event-stream` (one `id: N` / `data: LINE` event per line, then an
//! `end` event whose data is the final state), else as plain chunked text.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{
    ACCEPT, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_RANGE, CONTENT_TYPE, RANGE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

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
    let items = logs::follow(&state, &rec, from).await?;
    let sse = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    if sse {
        let events = items.map(|i| Ok::<_, Infallible>(event(i)));
        let mut resp = Sse::new(events)
            .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
            .into_response();
        resp.headers_mut()
            .insert("x-accel-buffering", HeaderValue::from_static("no"));
        return Ok(resp);
    }
    let chunks = items.map(|i| {
        Ok::<_, Infallible>(Bytes::from(match i {
            FollowItem::Line(_, text) => text + "\n",
            FollowItem::End(_) => String::new(),
            FollowItem::Error(e) => format!("fbs: log stream failed: {e}\n"),
        }))
    });
    let mut resp = Response::new(Body::from_stream(chunks));
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}

fn event(item: FollowItem) -> Event {
    match item {
        // A line never holds a newline; a stray CR would split an SSE field.
        FollowItem::Line(n, text) => Event::default()
            .id(n.to_string())
            .data(text.replace('\r', "")),
        FollowItem::End(state) => Event::default().event("end").data(state.as_str()),
        FollowItem::Error(e) => Event::default()
            .event("error")
            .data(e.replace(['\r', '\n'], " ")),
    }
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
