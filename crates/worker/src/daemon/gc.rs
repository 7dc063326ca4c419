//! Garbage collection on a worker: finished job records and their log streams older than
//! `retention.jobs`, and this host's job directories older than `retention.job_dirs` (never
//! one of a running job).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fbs_core::config::DaemonConfig;
use fbs_core::job::JobId;
use fbs_core::queue::JobStore;
use tokio_util::sync::CancellationToken;

use crate::dirs::JobDirs;
use crate::worker::ActiveJobs;

/// Collect every `every` until `done`.
pub(super) async fn run(
    store: Arc<dyn JobStore>,
    config: DaemonConfig,
    active: ActiveJobs,
    every: Duration,
    done: CancellationToken,
) {
    loop {
        once(store.as_ref(), &config, &active).await;
        tokio::select! {
            _ = done.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// One collection pass.
pub async fn once(store: &dyn JobStore, config: &DaemonConfig, active: &ActiveJobs) {
    let cutoff = chrono::Utc::now()
        - chrono::Duration::from_std(config.retention.jobs).unwrap_or(chrono::Duration::MAX);
    match store.purge_finished(cutoff).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(records = n, "removed finished job records"),
        Err(e) => tracing::warn!(error = %e, "cannot remove finished job records"),
    }
    let work = config.worker.work_dir.clone();
    let keep = config.retention.job_dirs;
    let running = active.snapshot();
    let removed = tokio::task::spawn_blocking(move || old_dirs(&work, keep, &running)).await;
    if let Ok(n @ 1..) = removed {
        tracing::info!(dirs = n, "removed old job directories");
    }
}

fn old_dirs(work: &std::path::Path, keep: Duration, running: &[JobId]) -> usize {
    let Ok(entries) = std::fs::read_dir(work) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let Some(id) = e.file_name().to_str().and_then(|s| s.parse::<JobId>().ok()) else {
            continue;
        };
        if running.contains(&id) {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > keep);
        if old {
            match JobDirs::new(work, id).remove() {
                Ok(_) => n += 1,
                Err(err) => tracing::warn!(job = %id, error = %err, "cannot remove job directory"),
            }
        }
    }
    n
}
