//! `JobStore` for [`RedisStore`]: records and leases through the Lua scripts, delivery through
//! the apalis consumers, recovery of expired leases on every claim.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{RedisStore, record, scripts};
use crate::job::{EventKind, JobId, JobRecord, JobState, NotifyEvent, QueueName};
use crate::queue::{
    CancelResult, JobFilter, JobStore, Lease, LeaseStatus, Outcome, QueueError, StoredLog,
    WorkerIdentity, WorkerInfo,
};

pub(super) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A lost or refused connection, as during a broker restart.
fn transient(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout()
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl RedisStore {
    pub(super) fn jobs_key(&self) -> String {
        self.key("fbs:jobs")
    }

    pub(super) fn leases_key(&self) -> String {
        self.key("fbs:leases")
    }

    pub(super) async fn fetch(&self, id: JobId) -> Result<Option<JobRecord>, QueueError> {
        let h: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(self.job_key(id))
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        record::decode(&id.to_string(), &h)
    }

    async fn must_get(&self, id: JobId) -> Result<JobRecord, QueueError> {
        self.fetch(id).await?.ok_or(QueueError::NotFound(id))
    }

    /// A fenced state change, retried while the broker is briefly away (a restart): a build
    /// must not fail because Redis restarted under it. When an earlier try went through but
    /// its reply was lost, the record already shows `state` and the change counts as done.
    async fn fenced(
        &self,
        lease: &Lease,
        state: &str,
        artifacts: &str,
        error: &str,
        keep: bool,
    ) -> Result<bool, QueueError> {
        let mut retried = false;
        for attempt in 0u64.. {
            let r: Result<i64, redis::RedisError> = scripts::fenced_set()
                .key(self.job_key(lease.id()))
                .key(self.leases_key())
                .key(self.notify_key())
                .arg(now_ms())
                .arg(&lease.token)
                .arg(lease.id().to_string())
                .arg(state)
                .arg(artifacts)
                .arg(error)
                .arg(if keep { "1" } else { "0" })
                .invoke_async(&mut self.conn())
                .await;
            match r {
                Ok(1) => return Ok(true),
                Ok(_) if retried => {
                    let now = self.fetch(lease.id()).await?;
                    return Ok(now.is_some_and(|r| {
                        r.state.as_str() == state && r.worker == lease.record.worker
                    }));
                }
                Ok(_) => return Ok(false),
                Err(e) if transient(&e) && attempt < 20 => {
                    tracing::warn!(job = %lease.id(), error = %e, "broker away; retrying");
                    retried = true;
                    tokio::time::sleep(Duration::from_millis(250 * (attempt + 1).min(4))).await;
                }
                Err(e) => return Err(self.err(e)),
            }
        }
        Ok(false)
    }

    async fn all_ids(&self) -> Result<Vec<String>, QueueError> {
        redis::cmd("ZREVRANGE")
            .arg(self.jobs_key())
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))
    }
}

#[async_trait]
impl JobStore for RedisStore {
    async fn submit(&self, record: JobRecord) -> Result<(), QueueError> {
        let fields = record::encode(&record)?;
        let mut hset = redis::cmd("HSET");
        hset.arg(self.job_key(record.id));
        for (k, v) in &fields {
            hset.arg(*k).arg(v);
        }
        redis::pipe()
            .atomic()
            .add_command(hset)
            .ignore()
            .cmd("ZADD")
            .arg(self.jobs_key())
            .arg(record.created_at.timestamp_millis())
            .arg(record.id.to_string())
            .ignore()
            .add_command(self.event_command(&NotifyEvent {
                job_id: record.id,
                kind: EventKind::Submitted,
                attempt: record.attempt,
                at: record.created_at,
            }))
            .ignore()
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        self.push_job(&record.queue, record.id).await
    }

    async fn get(&self, id: JobId) -> Result<Option<JobRecord>, QueueError> {
        self.fetch(id).await
    }

    async fn list(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, QueueError> {
        let limit = filter.limit.unwrap_or(100) as usize;
        let mut out = Vec::new();
        for chunk in self.all_ids().await?.chunks(200) {
            let mut p = redis::pipe();
            for raw in chunk {
                p.cmd("HGETALL").arg(self.key(&format!("fbs:job:{raw}")));
            }
            let hs: Vec<HashMap<String, String>> = p
                .query_async(&mut self.conn())
                .await
                .map_err(|e| self.err(e))?;
            for (raw, h) in chunk.iter().zip(hs) {
                let Some(rec) = record::decode(raw, &h)? else {
                    continue;
                };
                if filter.state.is_some_and(|s| s != rec.state)
                    || filter.queue.as_ref().is_some_and(|q| *q != rec.queue)
                    || filter.before.is_some_and(|b| rec.id >= b)
                {
                    continue;
                }
                out.push(rec);
                if out.len() >= limit {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    async fn claim(
        &self,
        queues: &[QueueName],
        worker: &WorkerIdentity,
    ) -> Result<Option<Lease>, QueueError> {
        self.reap().await?;
        if queues.is_empty() {
            return Ok(None);
        }
        self.ensure_consumers(queues, worker);
        while let Some(d) = self.inner.inbox.next().await {
            let token = uuid::Uuid::new_v4().to_string();
            let now = now_ms();
            let r: Result<String, _> = scripts::claim()
                .key(self.job_key(d.id))
                .key(self.leases_key())
                .key(self.notify_key())
                .arg(now)
                .arg(now + ms(self.inner.settings.expiry))
                .arg(&token)
                .arg(&worker.name)
                .arg(&worker.host)
                .arg(self.inner.settings.max_attempts)
                .arg(d.id.to_string())
                .invoke_async(&mut self.conn())
                .await;
            match r {
                Err(e) => {
                    // Keep the delivery: the record is unchanged and the job must not be lost.
                    self.inner.inbox.unread(d);
                    return Err(self.err(e));
                }
                Ok(r) if r == "ok" => {
                    self.inner.inbox.hold(d.id, d.ack);
                    let record = self.must_get(d.id).await?;
                    return Ok(Some(Lease { record, token }));
                }
                Ok(other) => {
                    tracing::debug!(job = %d.id, outcome = %other, "delivery dropped");
                }
            }
        }
        Ok(None)
    }

    async fn wait_for_work(&self, _queues: &[QueueName], timeout: Duration) {
        self.inner.inbox.wait(timeout).await;
    }

    async fn heartbeat(&self, lease: &Lease) -> Result<LeaseStatus, QueueError> {
        let (held, cancel): (i64, i64) = scripts::heartbeat()
            .key(self.job_key(lease.id()))
            .key(self.leases_key())
            .arg(now_ms())
            .arg(&lease.token)
            .arg(now_ms() + ms(self.inner.settings.expiry))
            .arg(lease.id().to_string())
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        if held == 0 {
            self.inner.inbox.done(lease.id());
            return Ok(LeaseStatus::Lost);
        }
        Ok(LeaseStatus::Held {
            cancel_requested: cancel == 1,
        })
    }

    async fn set_staging(&self, lease: &Lease) -> Result<(), QueueError> {
        if self.fenced(lease, "staging", "", "", false).await? {
            Ok(())
        } else {
            Err(QueueError::LeaseLost(lease.id()))
        }
    }

    async fn finish(&self, lease: &Lease, outcome: Outcome) -> Result<JobRecord, QueueError> {
        let keep = matches!(outcome, Outcome::StagingFailed { .. });
        let (state, artifacts, error) = match outcome {
            Outcome::Succeeded { artifacts } => (JobState::Succeeded, artifacts, String::new()),
            Outcome::Failed { error } | Outcome::StagingFailed { error } => {
                (JobState::Failed, Vec::new(), error)
            }
            Outcome::Canceled => (
                JobState::Canceled,
                Vec::new(),
                "canceled by request".to_owned(),
            ),
        };
        let artifacts = serde_json::to_string(&artifacts).map_err(|e| QueueError::Corrupt {
            id: lease.id().to_string(),
            message: e.to_string(),
        })?;
        let ok = self
            .fenced(lease, state.as_str(), &artifacts, &error, keep)
            .await;
        self.inner.inbox.done(lease.id());
        if !ok? {
            return Err(QueueError::LeaseLost(lease.id()));
        }
        self.must_get(lease.id()).await
    }

    async fn release(&self, lease: &Lease) -> Result<(), QueueError> {
        let ok = self.fenced(lease, "queued", "", "", false).await;
        self.inner.inbox.done(lease.id());
        if !ok? {
            return Err(QueueError::LeaseLost(lease.id()));
        }
        self.push_job(&lease.record.queue, lease.id()).await
    }

    async fn cancel(&self, id: JobId) -> Result<CancelResult, QueueError> {
        let r: String = scripts::cancel()
            .key(self.job_key(id))
            .key(self.leases_key())
            .key(self.notify_key())
            .arg(now_ms())
            .arg(id.to_string())
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        match r.as_str() {
            "did:canceled" => Ok(CancelResult::Canceled),
            "did:requested" => Ok(CancelResult::Requested),
            "gone" => Err(QueueError::NotFound(id)),
            other => Ok(CancelResult::AlreadyFinal(other.parse().map_err(|m| {
                QueueError::Corrupt {
                    id: id.to_string(),
                    message: m,
                }
            })?)),
        }
    }

    async fn retry(&self, id: JobId) -> Result<JobRecord, QueueError> {
        let r: String = scripts::retry()
            .key(self.job_key(id))
            .arg(now_ms())
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        match r.as_str() {
            "ok" => {
                let rec = self.must_get(id).await?;
                self.push_job(&rec.queue, id).await?;
                Ok(rec)
            }
            "gone" => Err(QueueError::NotFound(id)),
            other => Err(QueueError::WrongState {
                id,
                state: other.parse().map_err(|m| QueueError::Corrupt {
                    id: id.to_string(),
                    message: m,
                })?,
                message: "only failed or canceled jobs can be retried".into(),
            }),
        }
    }

    async fn retry_stage(&self, id: JobId) -> Result<JobRecord, QueueError> {
        let r: String = scripts::retry_stage()
            .key(self.job_key(id))
            .arg(now_ms())
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        let Some(why) = r.strip_prefix('!') else {
            let rec = self.must_get(id).await?;
            self.push_job(&QueueName::host(&r), id).await?;
            return Ok(rec);
        };
        match why {
            "gone" => Err(QueueError::NotFound(id)),
            "rebuild" => Err(QueueError::WrongState {
                id,
                state: JobState::Failed,
                message: "its staging did not fail, so no worker keeps artifacts to stage; \
                          use `fbs retry` to rebuild"
                    .into(),
            }),
            other => Err(QueueError::WrongState {
                id,
                state: other.parse().map_err(|m| QueueError::Corrupt {
                    id: id.to_string(),
                    message: m,
                })?,
                message: "only a failed job can be staged again".into(),
            }),
        }
    }

    async fn purge_finished(&self, before: DateTime<Utc>) -> Result<u64, QueueError> {
        let cutoff = before.timestamp_millis();
        let mut gone = 0;
        for chunk in self.all_ids().await?.chunks(200) {
            let mut p = redis::pipe();
            for raw in chunk {
                p.cmd("HMGET")
                    .arg(self.key(&format!("fbs:job:{raw}")))
                    .arg("state")
                    .arg("finished_at");
            }
            let rows: Vec<(Option<String>, Option<i64>)> = p
                .query_async(&mut self.conn())
                .await
                .map_err(|e| self.err(e))?;
            let mut del = redis::pipe();
            for (raw, (state, finished)) in chunk.iter().zip(rows) {
                let done = state
                    .as_deref()
                    .and_then(|s| s.parse::<JobState>().ok())
                    .is_some_and(JobState::is_final);
                if done && finished.is_some_and(|f| f < cutoff) || state.is_none() {
                    del.cmd("DEL")
                        .arg(self.key(&format!("fbs:job:{raw}")))
                        .arg(self.key(&format!("fbs:log:{raw}")))
                        .ignore();
                    del.cmd("ZREM").arg(self.jobs_key()).arg(raw).ignore();
                    gone += u64::from(state.is_some());
                }
            }
            del.query_async::<()>(&mut self.conn())
                .await
                .map_err(|e| self.err(e))?;
        }
        Ok(gone)
    }

    async fn announce(&self, info: &WorkerInfo, ttl: Duration) -> Result<(), QueueError> {
        self.announce_worker(info, ttl).await
    }

    async fn withdraw(&self, name: &str) -> Result<(), QueueError> {
        self.withdraw_worker(name).await
    }

    async fn workers(&self) -> Result<Vec<WorkerInfo>, QueueError> {
        self.live_workers().await
    }

    fn stored_log(&self, id: JobId) -> Option<Arc<dyn StoredLog>> {
        Some(Arc::new(self.log_sink(id)))
    }
}
