//! `GET /metrics` in the Prometheus text format (0.0.4), written by hand: jobs by state and
//! queue, queue depth and oldest waiting job, workers alive, and from the job records'
//! timestamps two histograms — time queued (created → started) and time building and staging
//! (started → finished). On a worker host: its job directories and its own live workers.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use fbs_core::job::{JobRecord, JobState};
use fbs_core::queue::{JobFilter, WorkerInfo};

use crate::error::{ApiResult, ErrorBody};
use crate::state::{AppState, Role};

/// Histogram bucket bounds, in seconds.
pub const BUCKETS: [f64; 14] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0, 14400.0,
    21600.0,
];

/// How many job records feed the metrics.
const SCAN: u32 = 10_000;

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 503, description = "The job store is unreachable", body = ErrorBody),
    ))]
pub async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let text = match state.role() {
        Role::Webapp => {
            let filter = JobFilter {
                limit: Some(SCAN),
                ..JobFilter::default()
            };
            let jobs = state.jobs().list(&filter).await?;
            let workers = state.jobs().workers().await?;
            render(&jobs, &workers, Utc::now())
        }
        Role::Worker => worker_host(&state).await?,
    };
    let mut r = text.into_response();
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(r)
}

/// A label value, escaped as the text format requires.
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }

    fn write(&self, out: &mut String, name: &str, queue: &str) {
        let q = label(queue);
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{queue=\"{q}\",le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{queue=\"{q}\",le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{queue=\"{q}\"}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{queue=\"{q}\"}} {}", self.count);
    }
}

fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds().max(0) as f64 / 1000.0
}

/// The master's metrics for these records and workers.
pub fn render(jobs: &[JobRecord], workers: &[WorkerInfo], now: DateTime<Utc>) -> String {
    let mut by_state: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
    let mut oldest: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    let mut wait: BTreeMap<String, Histogram> = BTreeMap::new();
    let mut run: BTreeMap<String, Histogram> = BTreeMap::new();
    for j in jobs {
        let q = j.queue.to_string();
        *by_state.entry((q.clone(), j.state.as_str())).or_default() += 1;
        if j.state == JobState::Queued {
            let o = oldest.entry(q.clone()).or_insert(j.created_at);
            *o = (*o).min(j.created_at);
        }
        if let Some(s) = j.started_at {
            wait.entry(q.clone())
                .or_default()
                .observe(secs(j.created_at, s));
            if let (Some(f), true) = (j.finished_at, j.state.is_final()) {
                run.entry(q).or_default().observe(secs(s, f));
            }
        }
    }
    let mut out = String::new();
    head(&mut out, "fbs_jobs", "gauge", "Jobs by queue and state.");
    for ((q, s), n) in &by_state {
        let _ = writeln!(out, "fbs_jobs{{queue=\"{}\",state=\"{s}\"}} {n}", label(q));
    }
    head(
        &mut out,
        "fbs_queue_depth",
        "gauge",
        "Jobs waiting on each queue.",
    );
    let queues: std::collections::BTreeSet<&String> = by_state.keys().map(|(q, _)| q).collect();
    for q in &queues {
        let n = by_state
            .get(&((*q).clone(), "queued"))
            .copied()
            .unwrap_or(0);
        let _ = writeln!(out, "fbs_queue_depth{{queue=\"{}\"}} {n}", label(q));
    }
    head(
        &mut out,
        "fbs_queue_oldest_age_seconds",
        "gauge",
        "How long the oldest waiting job of each queue has waited.",
    );
    for (q, t) in &oldest {
        let _ = writeln!(
            out,
            "fbs_queue_oldest_age_seconds{{queue=\"{}\"}} {}",
            label(q),
            secs(*t, now)
        );
    }
    head(
        &mut out,
        "fbs_workers_alive",
        "gauge",
        "Worker processes alive now.",
    );
    let _ = writeln!(out, "fbs_workers_alive {}", workers.len());
    head(
        &mut out,
        "fbs_job_wait_seconds",
        "histogram",
        "Time from submission to the start of the current attempt.",
    );
    for (q, h) in &wait {
        h.write(&mut out, "fbs_job_wait_seconds", q);
    }
    head(
        &mut out,
        "fbs_job_run_seconds",
        "histogram",
        "Time from the start of the last attempt to the end (build and staging).",
    );
    for (q, h) in &run {
        h.write(&mut out, "fbs_job_run_seconds", q);
    }
    out
}

async fn worker_host(state: &AppState) -> ApiResult<String> {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let mut dirs = 0u64;
    let mut log_bytes = 0u64;
    if let Ok(rd) = std::fs::read_dir(state.work_dir()) {
        for e in rd.flatten() {
            if e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<fbs_core::job::JobId>().is_ok())
            {
                dirs += 1;
                log_bytes += std::fs::metadata(e.path().join("build.log")).map_or(0, |m| m.len());
            }
        }
    }
    let mine = state
        .jobs()
        .workers()
        .await?
        .into_iter()
        .filter(|w| w.host == host)
        .count();
    let mut out = String::new();
    head(
        &mut out,
        "fbs_job_dirs",
        "gauge",
        "Job directories on this host.",
    );
    let _ = writeln!(out, "fbs_job_dirs {dirs}");
    head(
        &mut out,
        "fbs_job_log_bytes",
        "gauge",
        "Bytes of job logs on this host.",
    );
    let _ = writeln!(out, "fbs_job_log_bytes {log_bytes}");
    head(
        &mut out,
        "fbs_workers_alive",
        "gauge",
        "Worker processes alive on this host.",
    );
    let _ = writeln!(out, "fbs_workers_alive{{host=\"{}\"}} {mine}", label(&host));
    head(
        &mut out,
        "fbs_monitor_uptime_seconds",
        "gauge",
        "Seconds since the monitor started.",
    );
    let _ = writeln!(out, "fbs_monitor_uptime_seconds {}", state.uptime());
    Ok(out)
}
