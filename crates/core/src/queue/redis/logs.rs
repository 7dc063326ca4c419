//! Job log streams: every line of a job also goes to a Redis stream per job on the default
//! broker (`fbs:log:<id>`), whole while the job runs; when the job ends the stream is trimmed
//! to a cap and set to expire after the retention period. Any process can follow a job's log
//! by id ([`RedisStore::follow`]); the follow ends when the job ends.
//!
//! Writing never blocks the build: lines go through an unbounded channel to a task that
//! appends them in batches (one pipeline of `XADD`s per batch).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use redis::streams::StreamReadReply;
use tokio::sync::{mpsc, oneshot};

use super::RedisStore;
use crate::job::JobId;
use crate::joblog::{LogLine, LogSink, LogStream};
use crate::queue::{QueueError, StoredLog};

/// One entry of a job's log stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The stream entry id; pass it back to `follow` to resume after it.
    pub id: String,
    /// The line.
    pub line: LogLine,
}

enum Msg {
    Line(LogLine),
    Flush(oneshot::Sender<()>),
    Seal(oneshot::Sender<()>),
}

/// A [`LogSink`] appending to a job's Redis stream (see the module docs).
#[derive(Debug)]
pub struct RedisLogSink {
    tx: mpsc::UnboundedSender<Msg>,
}

impl LogSink for RedisLogSink {
    fn write(&self, line: &LogLine) {
        let _ = self.tx.send(Msg::Line(line.clone()));
    }
}

#[async_trait]
impl StoredLog for RedisLogSink {
    async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(30), rx).await;
        }
    }

    async fn seal(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Seal(tx)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(30), rx).await;
        }
    }
}

const BATCH: usize = 512;

impl RedisStore {
    /// A sink for job `id`'s log stream. Needs a Tokio runtime (it spawns its writer).
    pub fn log_sink(&self, id: JobId) -> RedisLogSink {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(self.clone().log_writer(id, rx));
        RedisLogSink { tx }
    }

    async fn log_writer(self, id: JobId, mut rx: mpsc::UnboundedReceiver<Msg>) {
        let key = self.log_key(id);
        let mut buf: Vec<LogLine> = Vec::new();
        while let Some(first) = rx.recv().await {
            let mut control = None;
            let mut next = Some(first);
            while let Some(m) = next.take() {
                match m {
                    Msg::Line(l) => buf.push(l),
                    Msg::Flush(t) => control = Some((t, false)),
                    Msg::Seal(t) => control = Some((t, true)),
                }
                if control.is_some() || buf.len() >= BATCH {
                    break;
                }
                next = rx.try_recv().ok();
            }
            self.append(&key, &mut buf).await;
            if let Some((ack, seal)) = control {
                if seal {
                    self.seal_stream(&key).await;
                }
                let _ = ack.send(());
            }
        }
        self.append(&key, &mut buf).await;
    }

    async fn append(&self, key: &str, buf: &mut Vec<LogLine>) {
        if buf.is_empty() {
            return;
        }
        for attempt in 0..5u64 {
            let mut p = redis::pipe();
            for l in buf.iter() {
                p.cmd("XADD")
                    .arg(key)
                    .arg("*")
                    .arg("ts")
                    .arg(l.ts.timestamp_millis())
                    .arg("s")
                    .arg(l.stream.tag())
                    .arg("t")
                    .arg(&l.text)
                    .ignore();
            }
            match p.query_async::<()>(&mut self.conn()).await {
                Ok(()) => {
                    buf.clear();
                    return;
                }
                Err(e) => {
                    tracing::warn!(stream = key, error = %e, "cannot append to the log stream");
                    tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
                }
            }
        }
        tracing::warn!(
            stream = key,
            lines = buf.len(),
            "log lines dropped from the stream"
        );
        buf.clear();
    }

    async fn seal_stream(&self, key: &str) {
        let o = &self.inner.options;
        let ttl = u64::try_from(o.log_retention.as_millis()).unwrap_or(u64::MAX);
        let r = redis::pipe()
            .cmd("XTRIM")
            .arg(key)
            .arg("MAXLEN")
            .arg("~")
            .arg(o.log_cap)
            .ignore()
            .cmd("PEXPIRE")
            .arg(key)
            .arg(ttl.max(1))
            .ignore()
            .query_async::<()>(&mut self.conn())
            .await;
        if let Err(e) = r {
            tracing::warn!(stream = key, error = %e, "cannot trim the log stream");
        }
    }

    /// Job `id`'s log as stored now (the whole stream), without waiting for more.
    pub async fn read_log(&self, id: JobId) -> Result<Vec<LogEntry>, QueueError> {
        let r: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.log_key(id))
            .arg("-")
            .arg("+")
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        Ok(r.ids.into_iter().map(entry).collect())
    }

    /// At most `count` entries of job `id`'s log after entry `after`, without waiting.
    pub async fn read_log_after(
        &self,
        id: JobId,
        after: &str,
        count: usize,
    ) -> Result<Vec<LogEntry>, QueueError> {
        let r: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.log_key(id))
            .arg(format!("({after}"))
            .arg("+")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        Ok(r.ids.into_iter().map(entry).collect())
    }

    /// Job `id`'s log from after entry `from` (from the start when `None`), following new
    /// lines until the job has ended and every line is read.
    pub async fn follow(
        &self,
        id: JobId,
        from: Option<String>,
    ) -> Result<impl Stream<Item = Result<LogEntry, QueueError>> + Send + 'static, QueueError> {
        let client = redis::Client::open(self.inner.url.as_str()).map_err(|e| self.err(e))?;
        let cfg = redis::AsyncConnectionConfig::new()
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_connection_timeout(Some(Duration::from_secs(3)));
        let conn = client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
            .map_err(|e| self.err(e))?;
        let st = Follow {
            store: self.clone(),
            key: self.log_key(id),
            id,
            conn,
            last: from.unwrap_or_else(|| "0-0".into()),
            ended: false,
        };
        Ok(futures::stream::unfold(st, Follow::step).flat_map(futures::stream::iter))
    }
}

struct Follow {
    store: RedisStore,
    key: String,
    id: JobId,
    conn: redis::aio::MultiplexedConnection,
    last: String,
    ended: bool,
}

type Batch = Vec<Result<LogEntry, QueueError>>;

impl Follow {
    async fn step(mut self) -> Option<(Batch, Follow)> {
        if self.ended {
            return None;
        }
        loop {
            match self.read(Some(1000)).await {
                Err(e) => return self.end(vec![Err(e)]),
                Ok(v) if !v.is_empty() => return Some((v.into_iter().map(Ok).collect(), self)),
                Ok(_) => {}
            }
            match self.store.fetch(self.id).await {
                Err(e) => return self.end(vec![Err(e)]),
                Ok(Some(r)) if !r.state.is_final() => continue,
                Ok(_) => {
                    let rest = match self.read(None).await {
                        Ok(v) => v.into_iter().map(Ok).collect(),
                        Err(e) => vec![Err(e)],
                    };
                    return self.end(rest);
                }
            }
        }
    }

    fn end(mut self, batch: Batch) -> Option<(Batch, Follow)> {
        self.ended = true;
        if batch.is_empty() {
            None
        } else {
            Some((batch, self))
        }
    }

    async fn read(&mut self, block_ms: Option<u64>) -> Result<Vec<LogEntry>, QueueError> {
        let mut cmd = redis::cmd("XREAD");
        cmd.arg("COUNT").arg(BATCH);
        if let Some(b) = block_ms {
            cmd.arg("BLOCK").arg(b);
        }
        cmd.arg("STREAMS").arg(&self.key).arg(&self.last);
        let reply: Option<StreamReadReply> = cmd
            .query_async(&mut self.conn)
            .await
            .map_err(|e| self.store.err(e))?;
        let out: Vec<LogEntry> = reply
            .map(|r| r.keys)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|k| k.ids)
            .map(entry)
            .collect();
        if let Some(e) = out.last() {
            self.last = e.id.clone();
        }
        Ok(out)
    }
}

fn entry(e: redis::streams::StreamId) -> LogEntry {
    let text: String = e.get("t").unwrap_or_default();
    let tag: String = e.get("s").unwrap_or_default();
    let ms: i64 = e.get("ts").unwrap_or_default();
    let stream = match tag.as_str() {
        "out" => LogStream::Stdout,
        "err" => LogStream::Stderr,
        _ => LogStream::Fbs,
    };
    let ts = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    LogEntry {
        id: e.id,
        line: LogLine { ts, stream, text },
    }
}
