//! The SQLite store's table: its schema, the columns added since the first release (added to
//! an older database when it is opened), and decoding a row into a [`JobRecord`].

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use crate::job::{JobId, JobRecord, JobState, QueueName};
use crate::queue::QueueError;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    submission TEXT NOT NULL,
    state TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    lease_token TEXT,
    lease_expires INTEGER,
    worker TEXT,
    worker_host TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    updated_at INTEGER NOT NULL,
    artifacts TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    artifacts_host TEXT,
    stage_only INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (queue, state, created_at);
CREATE INDEX IF NOT EXISTS jobs_lease ON jobs (state, lease_expires);
CREATE TABLE IF NOT EXISTS workers (
    name TEXT PRIMARY KEY,
    info TEXT NOT NULL,
    expires INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// The part of a record fixed at submission.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Submission {
    pub spec: crate::spec::BuildSpec,
    pub kickstart: Option<String>,
    pub submitter: String,
}

/// Columns added after the first release, added to an older database on open.
const ADDED_COLUMNS: [(&str, &str); 2] = [
    (
        "artifacts_host",
        "ALTER TABLE jobs ADD COLUMN artifacts_host TEXT",
    ),
    (
        "stage_only",
        "ALTER TABLE jobs ADD COLUMN stage_only INTEGER NOT NULL DEFAULT 0",
    ),
];

pub(super) async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let have: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info('jobs')")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    for (column, alter) in ADDED_COLUMNS {
        if !have.iter().any(|c| c == column) {
            sqlx::query(alter).execute(pool).await?;
        }
    }
    Ok(())
}

fn ts(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub(super) fn decode(row: &SqliteRow) -> Result<JobRecord, QueueError> {
    let id_text: String = row.get("id");
    let corrupt = |m: String| QueueError::Corrupt {
        id: id_text.clone(),
        message: m,
    };
    let id = JobId::from_str(&id_text).map_err(&corrupt)?;
    let sub: Submission =
        serde_json::from_str(row.get("submission")).map_err(|e| corrupt(e.to_string()))?;
    let state = JobState::from_str(row.get("state")).map_err(&corrupt)?;
    let queue = QueueName::parse(row.get("queue")).map_err(&corrupt)?;
    let artifacts =
        serde_json::from_str(row.get("artifacts")).map_err(|e| corrupt(e.to_string()))?;
    let attempt: i64 = row.get("attempt");
    Ok(JobRecord {
        id,
        queue,
        spec: sub.spec,
        kickstart: sub.kickstart,
        submitter: sub.submitter,
        state,
        attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
        lease_token: row.get("lease_token"),
        worker: row.get("worker"),
        worker_host: row.get("worker_host"),
        created_at: ts(row.get("created_at")),
        started_at: row.get::<Option<i64>, _>("started_at").map(ts),
        finished_at: row.get::<Option<i64>, _>("finished_at").map(ts),
        updated_at: ts(row.get("updated_at")),
        artifacts,
        error: row.get("error"),
        cancel_requested: row.get::<i64, _>("cancel_requested") != 0,
        artifacts_host: row.get("artifacts_host"),
        stage_only: row.get::<i64, _>("stage_only") != 0,
    })
}
