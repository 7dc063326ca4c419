//! Where a job's log is read from, whole or followed.
//!
//! 1. The job's Redis stream on the default broker (webapp role with a broker): whole while the
//!    job runs, trimmed and expiring after it ended.
//! 2. Files, once the stream is gone (or where there is no broker): this host's job directory
//!    `<work_dir>/<id>/build.log` (what the worker role serves), then the staged copy
//!    `<staging>/<id>/build.log` when the job staged to a `file://` directory this host sees.
//!    Both paths are built from the stored record and the parsed job id, never from a request.
//!
//! Lines are numbered from 1 in the order written; a follower that has read N lines resumes
//! with `from=N` (or SSE `Last-Event-ID: N`).

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use fbs_core::job::{JobId, JobRecord, JobState};
use fbs_core::spec::Staging;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};

use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Role};

/// One item of a followed log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowItem {
    /// Line number `n` (from 1) and its text.
    Line(u64, String),
    /// The job ended in this state; the stream ends.
    End(JobState),
    /// Reading failed; the stream ends.
    Error(String),
}

/// The log files that may hold job `rec`'s log, most current first.
pub fn log_files(state: &AppState, rec: &JobRecord) -> Vec<PathBuf> {
    let mut out = vec![job_dir_log(state, rec.id)];
    if state.role() == Role::Webapp
        && let Staging::File { path } = &rec.spec.staging
    {
        out.push(path.join(rec.id.to_string()).join("build.log"));
    }
    out
}

fn job_dir_log(state: &AppState, id: JobId) -> PathBuf {
    state.work_dir().join(id.to_string()).join("build.log")
}

fn read_lines(path: &std::path::Path) -> Option<Vec<String>> {
    let text = std::fs::read(path).ok()?;
    Some(
        String::from_utf8_lossy(&text)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

fn from_files(state: &AppState, rec: &JobRecord) -> Option<Vec<String>> {
    log_files(state, rec).iter().find_map(|p| read_lines(p))
}

fn gone(rec: &JobRecord) -> ApiError {
    let staged = match &rec.spec.staging {
        Staging::File { .. } => String::new(),
        other => format!(
            "; it was staged as {}/{}/build.log",
            other.redacted().trim_end_matches('/'),
            rec.id
        ),
    };
    ApiError::not_found(format!(
        "the log of job {} is no longer kept here{staged}",
        rec.id
    ))
}

/// The whole log as it is now, one entry per line.
pub async fn whole(state: &AppState, rec: &JobRecord) -> ApiResult<Vec<String>> {
    if state.role() == Role::Webapp
        && let Some(r) = state.redis()
    {
        let entries = r.read_log(rec.id).await?;
        if !entries.is_empty() {
            return Ok(entries.iter().map(|e| e.line.to_string()).collect());
        }
    }
    match from_files(state, rec) {
        Some(lines) => Ok(lines),
        None if !rec.state.is_final() => Ok(Vec::new()),
        None if rec.started_at.is_none() => Ok(Vec::new()),
        None => Err(gone(rec)),
    }
}

/// Follow the log from after line `from` until the job ends.
pub async fn follow(
    state: &AppState,
    rec: &JobRecord,
    from: u64,
) -> ApiResult<BoxStream<'static, FollowItem>> {
    if state.role() == Role::Webapp
        && let Some(r) = state.redis()
    {
        let existing = if from > 0 || rec.state.is_final() {
            Some(r.read_log(rec.id).await?)
        } else {
            None
        };
        if let Some(e) = existing.as_ref().filter(|e| !e.is_empty())
            && rec.state.is_final()
        {
            // Ended: every line is stored; no need to wait on the stream.
            let lines = e.iter().map(|e| e.line.to_string()).collect();
            let items: Vec<FollowItem> = numbered(lines, from)
                .chain(std::iter::once(FollowItem::End(rec.state)))
                .collect();
            return Ok(futures::stream::iter(items).boxed());
        }
        let stream_gone = rec.state.is_final() && existing.as_ref().is_some_and(Vec::is_empty);
        if !stream_gone {
            let (start_id, mut n) = match &existing {
                Some(e) if from > 0 => {
                    let k = usize::try_from(from).unwrap_or(usize::MAX).min(e.len());
                    (k.checked_sub(1).map(|i| e[i].id.clone()), k as u64)
                }
                _ => (None, 0),
            };
            let entries = r.follow(rec.id, start_id).await?;
            let (st, id) = (state.clone(), rec.id);
            let lines = entries.map(move |item| match item {
                Ok(e) => {
                    n += 1;
                    FollowItem::Line(n, e.line.to_string())
                }
                Err(e) => FollowItem::Error(e.to_string()),
            });
            return Ok(with_end(lines, st, id).boxed());
        }
    }
    if rec.state.is_final() {
        let lines = from_files(state, rec).ok_or_else(|| gone(rec))?;
        let end = rec.state;
        let items: Vec<FollowItem> = numbered(lines, from)
            .chain(std::iter::once(FollowItem::End(end)))
            .collect();
        return Ok(futures::stream::iter(items).boxed());
    }
    Ok(tail_file(state.clone(), rec.clone(), from).boxed())
}

fn numbered(lines: Vec<String>, from: u64) -> impl Iterator<Item = FollowItem> {
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l))
        .filter(move |(n, _)| *n > from)
        .map(|(n, l)| FollowItem::Line(n, l))
}

/// After the lines, one `End` with the job's final state; nothing after an error.
fn with_end(
    lines: impl Stream<Item = FollowItem> + Send + 'static,
    state: AppState,
    id: JobId,
) -> impl Stream<Item = FollowItem> + Send + 'static {
    let init = (lines.boxed(), Some((state, id)));
    futures::stream::unfold(init, |(mut lines, end)| async move {
        let (state, id) = end?;
        match lines.next().await {
            Some(FollowItem::Error(e)) => Some((FollowItem::Error(e), (lines, None))),
            Some(item) => Some((item, (lines, Some((state, id))))),
            None => {
                let item = match state.jobs().get(id).await {
                    Ok(Some(r)) => FollowItem::End(r.state),
                    Ok(None) => FollowItem::Error(format!("job {id} is gone")),
                    Err(e) => FollowItem::Error(e.to_string()),
                };
                Some((item, (lines, None)))
            }
        }
    })
}

struct Tail {
    state: AppState,
    rec: JobRecord,
    path: Option<PathBuf>,
    offset: u64,
    partial: Vec<u8>,
    line: u64,
    from: u64,
    done: bool,
}

/// Follow a job's local log file: poll for growth, end once the job has ended and the file is
/// read to its end.
fn tail_file(state: AppState, rec: JobRecord, from: u64) -> impl Stream<Item = FollowItem> {
    let t = Tail {
        state,
        rec,
        path: None,
        offset: 0,
        partial: Vec::new(),
        line: 0,
        from,
        done: false,
    };
    futures::stream::unfold(t, |mut t| async move {
        if t.done {
            return None;
        }
        loop {
            let mut out = t.read_more();
            if !out.is_empty() {
                return Some((out, t));
            }
            let rec = match t.state.jobs().get(t.rec.id).await {
                Ok(Some(r)) => r,
                Ok(None) => {
                    t.done = true;
                    return Some((vec![FollowItem::Error("the job is gone".into())], t));
                }
                Err(e) => {
                    t.done = true;
                    return Some((vec![FollowItem::Error(e.to_string())], t));
                }
            };
            if rec.state.is_final() {
                out = t.read_more();
                if !t.partial.is_empty() {
                    let text = String::from_utf8_lossy(&t.partial).into_owned();
                    t.partial.clear();
                    t.push(&mut out, text);
                }
                out.push(FollowItem::End(rec.state));
                t.done = true;
                return Some((out, t));
            }
            t.rec = rec;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .flat_map(futures::stream::iter)
}

impl Tail {
    fn push(&mut self, out: &mut Vec<FollowItem>, text: String) {
        self.line += 1;
        if self.line > self.from {
            out.push(FollowItem::Line(self.line, text));
        }
    }

    fn read_more(&mut self) -> Vec<FollowItem> {
        let mut out = Vec::new();
        if self.path.is_none() {
            self.path = log_files(&self.state, &self.rec)
                .into_iter()
                .find(|p| p.exists());
        }
        let Some(path) = &self.path else {
            return out;
        };
        let Ok(mut f) = std::fs::File::open(path) else {
            return out;
        };
        if f.seek(SeekFrom::Start(self.offset)).is_err() {
            return out;
        }
        let mut buf = Vec::new();
        if f.take(8 << 20).read_to_end(&mut buf).is_err() {
            return out;
        }
        self.offset += buf.len() as u64;
        self.partial.extend_from_slice(&buf);
        while let Some(pos) = self.partial.iter().position(|b| *b == b'\n') {
            let rest = self.partial.split_off(pos + 1);
            let mut line = std::mem::replace(&mut self.partial, rest);
            line.pop();
            let text = String::from_utf8_lossy(&line).into_owned();
            self.push(&mut out, text);
        }
        out
    }
}
