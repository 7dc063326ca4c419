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
//! with `from=N` (or SSE `Last-Event-ID: N`). Followers of a job on Redis share one reader
//! (see [`crate::hub`]).

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fbs_core::job::{JobId, JobRecord, JobState};
use fbs_core::queue::redis::RedisStore;
use fbs_core::spec::Staging;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tokio::sync::broadcast;

use crate::error::{ApiError, ApiResult};
use crate::hub::{Batch, Lines, Msg};
use crate::state::{AppState, Role};

/// One item of a followed log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowItem {
    /// Lines numbered from 1, ascending; a batch may repeat numbers already delivered (the
    /// consumer skips what it has seen).
    Lines(Lines),
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

/// Follow the log until the job ends. Items may start before line `from`; the consumer skips
/// line numbers it does not want.
pub async fn follow(
    state: &AppState,
    rec: &JobRecord,
) -> ApiResult<BoxStream<'static, FollowItem>> {
    if state.role() == Role::Webapp
        && let Some(r) = state.redis()
    {
        // Subscribe before reading the history: a line is then in one or the other.
        let rx = (!rec.state.is_final()).then(|| state.hubs().subscribe(r, rec.id));
        let history = r.read_log(rec.id).await?;
        let last_id = history.last().map(|e| e.id.clone());
        let history = numbered(history.iter().map(|e| e.line.to_string()), last_id);
        match rx {
            Some(rx) => return Ok(live(history, rx, r.clone(), rec.id).boxed()),
            None if !history.lines.is_empty() => {
                let items = vec![FollowItem::Lines(history), FollowItem::End(rec.state)];
                return Ok(futures::stream::iter(items).boxed());
            }
            // Ended, and its stream is gone: the files below.
            None => {}
        }
    }
    if rec.state.is_final() {
        let lines = from_files(state, rec).ok_or_else(|| gone(rec))?;
        let items = vec![
            FollowItem::Lines(numbered(lines.into_iter(), None)),
            FollowItem::End(rec.state),
        ];
        return Ok(futures::stream::iter(items).boxed());
    }
    Ok(tail_file(state.clone(), rec.clone()).boxed())
}

fn numbered(lines: impl Iterator<Item = String>, last_id: Option<String>) -> Lines {
    Arc::new(Batch {
        lines: lines.enumerate().map(|(i, l)| (i as u64 + 1, l)).collect(),
        last_id,
    })
}

/// Where a live follower is: its receiver, the last line it got and that line's stream id,
/// and whether it is reading missed lines from the stream.
struct Live {
    rx: broadcast::Receiver<Msg>,
    store: RedisStore,
    id: JobId,
    last_n: u64,
    last_id: Option<String>,
    catching_up: bool,
}

/// How many missed lines one catch-up read takes.
const CATCH_UP: usize = 20_000;

/// The history, then the hub's batches until the job ends; after a lag, the missed lines from
/// the stream.
fn live(
    history: Lines,
    rx: broadcast::Receiver<Msg>,
    store: RedisStore,
    id: JobId,
) -> impl Stream<Item = FollowItem> + Send + 'static {
    let st = Live {
        rx,
        store,
        id,
        last_n: history.lines.last().map_or(0, |l| l.0),
        last_id: history.last_id.clone(),
        catching_up: false,
    };
    let first = futures::stream::once(async move { FollowItem::Lines(history) });
    let rest = futures::stream::unfold(Some(st), |st| async move {
        let mut st = st?;
        if st.catching_up {
            let got = match &st.last_id {
                Some(after) => st.store.read_log_after(st.id, after, CATCH_UP).await,
                None => st.store.read_log(st.id).await,
            };
            let entries = match got {
                Ok(e) => e,
                Err(e) => return Some((FollowItem::Error(e.to_string()), None)),
            };
            st.catching_up = entries.len() >= CATCH_UP;
            let b = Batch {
                lines: entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (st.last_n + 1 + i as u64, e.line.to_string()))
                    .collect(),
                last_id: entries.last().map(|e| e.id.clone()).or(st.last_id.clone()),
            };
            st.last_n += entries.len() as u64;
            st.last_id = b.last_id.clone();
            return Some((FollowItem::Lines(Arc::new(b)), Some(st)));
        }
        let item = match st.rx.recv().await {
            Ok(Msg::Lines(b)) => {
                if let Some((n, _)) = b.lines.last()
                    && *n > st.last_n
                {
                    st.last_n = *n;
                    st.last_id = b.last_id.clone();
                }
                FollowItem::Lines(b)
            }
            Ok(Msg::End(s)) => return Some((FollowItem::End(s), None)),
            Ok(Msg::Error(e)) => return Some((FollowItem::Error(e), None)),
            Err(broadcast::error::RecvError::Lagged(_)) => {
                st.catching_up = true;
                FollowItem::Lines(Arc::default())
            }
            Err(broadcast::error::RecvError::Closed) => {
                return Some((FollowItem::Error("the log stream ended early".into()), None));
            }
        };
        Some((item, Some(st)))
    });
    first.chain(rest)
}

struct Tail {
    state: AppState,
    rec: JobRecord,
    path: Option<PathBuf>,
    offset: u64,
    partial: Vec<u8>,
    line: u64,
    done: bool,
}

/// Follow a job's local log file: poll for growth, end once the job has ended and the file is
/// read to its end.
fn tail_file(state: AppState, rec: JobRecord) -> impl Stream<Item = FollowItem> {
    let t = Tail {
        state,
        rec,
        path: None,
        offset: 0,
        partial: Vec::new(),
        line: 0,
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
        match out.last_mut() {
            Some(FollowItem::Lines(l)) => Arc::make_mut(l).lines.push((self.line, text)),
            _ => out.push(FollowItem::Lines(Arc::new(Batch {
                lines: vec![(self.line, text)],
                last_id: None,
            }))),
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
