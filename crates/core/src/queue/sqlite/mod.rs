//! The embedded job store for `fbs local`: one SQLite file, claim-by-`UPDATE … RETURNING`.
//!
//! Why not apalis-sqlite: measured on this machine kind (see the project's crate notes), it
//! sets `PRAGMA synchronous=OFF` on the shared connection, refuses a restarted worker with the
//! same name for one heartbeat interval (`WORKER_ALREADY_EXISTS`), re-runs failed tasks with no
//! backoff, leaves a dead worker's jobs locked unless *another* live worker exists, and keeps no
//! attempt counter that survives a crash. Every one of those would need a workaround on top;
//! the fencing rules of this module need one table and five statements, each atomic on its own.
//!
//! Immutable submission data (spec, kickstart, submitter) is one JSON column; everything that
//! changes is its own column, so concurrent writers (a worker finishing, a user canceling)
//! never overwrite each other's fields.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tokio::sync::Notify;

mod rows;
mod tokens;

use rows::{SCHEMA, Submission, decode, migrate};

use super::{
    CancelResult, JobFilter, JobStore, Lease, LeaseSettings, LeaseStatus, Outcome, QueueError,
    WorkerIdentity, WorkerInfo,
};
use crate::job::{JobId, JobRecord, JobState, QueueName};

/// The columns every read selects (a macro so queries stay `&'static str`).
macro_rules! columns {
    () => {
        "id, queue, submission, state, attempt, lease_token, worker, worker_host, \
         created_at, started_at, finished_at, updated_at, artifacts, error, cancel_requested, \
         artifacts_host, stage_only"
    };
}

/// A job store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    label: String,
    settings: LeaseSettings,
    wake: Arc<Notify>,
}

impl SqliteStore {
    /// Open (creating if needed) the store at `path`.
    pub async fn open(path: &Path, settings: LeaseSettings) -> Result<Self, QueueError> {
        let label = format!("sqlite:{}", path.display());
        let err = |e: sqlx::Error| QueueError::Backend {
            backend: label.clone(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| QueueError::Backend {
                backend: label.clone(),
                message: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(err)?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await.map_err(err)?;
        migrate(&pool).await.map_err(err)?;
        Ok(SqliteStore {
            pool,
            label,
            settings,
            wake: Arc::new(Notify::new()),
        })
    }

    fn err(&self, e: sqlx::Error) -> QueueError {
        QueueError::Backend {
            backend: self.label.clone(),
            message: e.to_string(),
        }
    }

    /// Requeue (or fail, past the attempt limit) every job whose lease expired.
    async fn recover_expired(&self) -> Result<(), QueueError> {
        let now = now_ms();
        let max = i64::from(self.settings.max_attempts);
        sqlx::query(
            "UPDATE jobs SET state = 'failed', lease_token = NULL, lease_expires = NULL,
                finished_at = ?1, updated_at = ?1,
                error = printf('the worker running attempt %d stopped responding (lease expired); gave up after %d attempts', attempt, attempt)
             WHERE state IN ('running','staging') AND lease_expires < ?1 AND attempt >= ?2",
        )
        .bind(now)
        .bind(max)
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_token = NULL, lease_expires = NULL,
                attempt = attempt + 1, updated_at = ?1, started_at = NULL, stage_only = 0
             WHERE state IN ('running','staging') AND lease_expires < ?1 AND attempt < ?2",
        )
        .bind(now)
        .bind(max)
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn fetch(&self, id: JobId) -> Result<Option<JobRecord>, QueueError> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM jobs WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        row.map(|r| decode(&r)).transpose()
    }

    async fn must_get(&self, id: JobId) -> Result<JobRecord, QueueError> {
        self.fetch(id).await?.ok_or(QueueError::NotFound(id))
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn submit(&self, record: JobRecord) -> Result<(), QueueError> {
        let submission = Submission {
            spec: record.spec.clone(),
            kickstart: record.kickstart.clone(),
            submitter: record.submitter.clone(),
        };
        let json = serde_json::to_string(&submission).map_err(|e| QueueError::Corrupt {
            id: record.id.to_string(),
            message: e.to_string(),
        })?;
        sqlx::query(
            "INSERT INTO jobs (id, queue, submission, state, attempt, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(record.id.to_string())
        .bind(record.queue.as_str())
        .bind(json)
        .bind(record.state.as_str())
        .bind(i64::from(record.attempt))
        .bind(record.created_at.timestamp_millis())
        .bind(record.updated_at.timestamp_millis())
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        self.wake.notify_waiters();
        Ok(())
    }

    async fn get(&self, id: JobId) -> Result<Option<JobRecord>, QueueError> {
        self.fetch(id).await
    }

    async fn list(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, QueueError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM jobs
             WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR queue = ?2)
               AND (?4 IS NULL OR id < ?4)
             ORDER BY created_at DESC, id DESC LIMIT ?3"
        ))
        .bind(filter.state.map(|s| s.as_str()))
        .bind(filter.queue.as_ref().map(|q| q.as_str().to_owned()))
        .bind(i64::from(filter.limit.unwrap_or(100)))
        .bind(filter.before.map(|b| b.to_string()))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        rows.iter().map(decode).collect()
    }

    async fn claim(
        &self,
        queues: &[QueueName],
        worker: &WorkerIdentity,
    ) -> Result<Option<Lease>, QueueError> {
        self.recover_expired().await?;
        if queues.is_empty() {
            return Ok(None);
        }
        let names: Vec<&str> = queues.iter().map(|q| q.as_str()).collect();
        let token = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let expires = now + duration_ms(self.settings.expiry);
        let row = sqlx::query(concat!(
            "UPDATE jobs SET state = CASE WHEN state = 'queued' THEN 'running' ELSE state END,
                lease_token = ?1, lease_expires = ?2,
                worker = ?3, worker_host = ?4, started_at = ?5, updated_at = ?5
             WHERE id = (SELECT id FROM jobs
                         WHERE (state = 'queued' AND queue IN (SELECT value FROM json_each(?6)))
                            OR (state = 'staging' AND stage_only = 1 AND lease_token IS NULL
                                AND 'fbs:host:' || artifacts_host IN (SELECT value FROM json_each(?6)))
                         ORDER BY created_at, id LIMIT 1)
               AND (state = 'queued' OR (state = 'staging' AND lease_token IS NULL))
             RETURNING ",
            columns!()
        ))
        .bind(&token)
        .bind(expires)
        .bind(&worker.name)
        .bind(&worker.host)
        .bind(now)
        .bind(serde_json::Value::from(names).to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(Lease {
                record: decode(&r)?,
                token,
            })),
        }
    }

    async fn wait_for_work(&self, _queues: &[QueueName], timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.wake.notified()).await;
    }

    async fn heartbeat(&self, lease: &Lease) -> Result<LeaseStatus, QueueError> {
        let expires = now_ms() + duration_ms(self.settings.expiry);
        let row = sqlx::query(
            "UPDATE jobs SET lease_expires = ?1
             WHERE id = ?2 AND lease_token = ?3 AND state IN ('running','staging')
             RETURNING cancel_requested",
        )
        .bind(expires)
        .bind(lease.id().to_string())
        .bind(&lease.token)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(match row {
            None => LeaseStatus::Lost,
            Some(r) => LeaseStatus::Held {
                cancel_requested: r.get::<i64, _>(0) != 0,
            },
        })
    }

    async fn set_staging(&self, lease: &Lease) -> Result<(), QueueError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'staging', updated_at = ?1
             WHERE id = ?2 AND lease_token = ?3 AND state IN ('running','staging')",
        )
        .bind(now_ms())
        .bind(lease.id().to_string())
        .bind(&lease.token)
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        if done.rows_affected() == 0 {
            return Err(QueueError::LeaseLost(lease.id()));
        }
        Ok(())
    }

    async fn finish(&self, lease: &Lease, outcome: Outcome) -> Result<JobRecord, QueueError> {
        let keep = matches!(outcome, Outcome::StagingFailed { .. });
        let (state, artifacts, error) = match outcome {
            Outcome::Succeeded { artifacts } => (JobState::Succeeded, artifacts, None),
            Outcome::Failed { error } | Outcome::StagingFailed { error } => {
                (JobState::Failed, Vec::new(), Some(error))
            }
            Outcome::Canceled => (
                JobState::Canceled,
                Vec::new(),
                Some("canceled by request".to_owned()),
            ),
        };
        let artifacts = serde_json::to_string(&artifacts).map_err(|e| QueueError::Corrupt {
            id: lease.id().to_string(),
            message: e.to_string(),
        })?;
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET state = ?1, artifacts = ?2, error = ?3, lease_token = NULL,
                lease_expires = NULL, finished_at = ?4, updated_at = ?4, stage_only = 0,
                artifacts_host = CASE WHEN ?7 THEN worker_host ELSE NULL END
             WHERE id = ?5 AND lease_token = ?6 AND state IN ('running','staging')",
        )
        .bind(state.as_str())
        .bind(artifacts)
        .bind(error)
        .bind(now)
        .bind(lease.id().to_string())
        .bind(&lease.token)
        .bind(keep)
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        if done.rows_affected() == 0 {
            return Err(QueueError::LeaseLost(lease.id()));
        }
        self.must_get(lease.id()).await
    }

    async fn release(&self, lease: &Lease) -> Result<(), QueueError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_token = NULL, lease_expires = NULL,
                started_at = NULL, updated_at = ?1
             WHERE id = ?2 AND lease_token = ?3 AND state IN ('running','staging')",
        )
        .bind(now_ms())
        .bind(lease.id().to_string())
        .bind(&lease.token)
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        if done.rows_affected() == 0 {
            return Err(QueueError::LeaseLost(lease.id()));
        }
        self.wake.notify_waiters();
        Ok(())
    }

    async fn cancel(&self, id: JobId) -> Result<CancelResult, QueueError> {
        let now = now_ms();
        let queued = sqlx::query(
            "UPDATE jobs SET state = 'canceled', error = 'canceled before it started',
                finished_at = ?1, updated_at = ?1, stage_only = 0
             WHERE id = ?2 AND (state = 'queued' OR (state = 'staging' AND lease_token IS NULL))",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        if queued.rows_affected() == 1 {
            return Ok(CancelResult::Canceled);
        }
        let leased = sqlx::query(
            "UPDATE jobs SET cancel_requested = 1, updated_at = ?1
             WHERE id = ?2 AND state IN ('running','staging')",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        if leased.rows_affected() == 1 {
            return Ok(CancelResult::Requested);
        }
        let rec = self.must_get(id).await?;
        Ok(CancelResult::AlreadyFinal(rec.state))
    }

    async fn retry(&self, id: JobId) -> Result<JobRecord, QueueError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempt = attempt + 1, error = NULL,
                artifacts = '[]', cancel_requested = 0, started_at = NULL, finished_at = NULL,
                worker = NULL, worker_host = NULL, updated_at = ?1, artifacts_host = NULL,
                stage_only = 0
             WHERE id = ?2 AND state IN ('failed','canceled')",
        )
        .bind(now_ms())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        let rec = self.must_get(id).await?;
        if done.rows_affected() == 0 {
            return Err(QueueError::WrongState {
                id,
                state: rec.state,
                message: "only failed or canceled jobs can be retried".into(),
            });
        }
        self.wake.notify_waiters();
        Ok(rec)
    }

    async fn retry_stage(&self, id: JobId) -> Result<JobRecord, QueueError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'staging', attempt = attempt + 1, stage_only = 1,
                error = NULL, cancel_requested = 0, started_at = NULL, finished_at = NULL,
                lease_token = NULL, lease_expires = NULL, updated_at = ?1
             WHERE id = ?2 AND state = 'failed' AND artifacts_host IS NOT NULL",
        )
        .bind(now_ms())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        let rec = self.must_get(id).await?;
        if done.rows_affected() == 0 {
            return Err(QueueError::WrongState {
                id,
                state: rec.state,
                message: "only a job whose staging failed can be staged again (its artifacts \
                          are kept by the worker that built it); use `fbs retry` to rebuild"
                    .into(),
            });
        }
        self.wake.notify_waiters();
        Ok(rec)
    }

    async fn purge_finished(&self, before: DateTime<Utc>) -> Result<u64, QueueError> {
        let done = sqlx::query(
            "DELETE FROM jobs WHERE state IN ('succeeded','failed','canceled') AND finished_at < ?",
        )
        .bind(before.timestamp_millis())
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(done.rows_affected())
    }

    async fn announce(&self, info: &WorkerInfo, ttl: Duration) -> Result<(), QueueError> {
        let json = serde_json::to_string(info).map_err(|e| QueueError::Corrupt {
            id: info.name.clone(),
            message: e.to_string(),
        })?;
        sqlx::query("INSERT OR REPLACE INTO workers (name, info, expires) VALUES (?, ?, ?)")
            .bind(&info.name)
            .bind(json)
            .bind(now_ms() + duration_ms(ttl))
            .execute(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn withdraw(&self, name: &str) -> Result<(), QueueError> {
        sqlx::query("DELETE FROM workers WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn workers(&self) -> Result<Vec<WorkerInfo>, QueueError> {
        let rows = sqlx::query("SELECT info FROM workers WHERE expires >= ? ORDER BY name")
            .bind(now_ms())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(rows
            .iter()
            .filter_map(|r| serde_json::from_str(r.get::<&str, _>(0)).ok())
            .collect())
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
