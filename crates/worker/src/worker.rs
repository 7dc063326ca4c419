//! The worker loop: claim jobs from its queues under leases and run them through the
//! pipeline, up to `concurrency` at a time; stop taking work on shutdown.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fbs_core::job::{JobId, QueueName};
use fbs_core::queue::{JobStore, QueueError, WorkerIdentity};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::pipeline::Pipeline;

/// Switches for how long the loop runs (tests and `fbs local` stop on their own).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop taking jobs when this fires; running builds go on until `hand_back` fires.
    pub stop: CancellationToken,
    /// Interrupt running builds and hand their jobs back.
    pub hand_back: CancellationToken,
    /// Return once no job is running and none could be claimed.
    pub stop_when_idle: bool,
    /// Return once this job has reached a final state.
    pub until_job: Option<JobId>,
    /// The jobs running now (read by the worker registry).
    pub active: ActiveJobs,
}

/// The ids of the jobs a worker is running, shared with whoever reports on it.
#[derive(Debug, Clone, Default)]
pub struct ActiveJobs(Arc<Mutex<BTreeSet<JobId>>>);

impl ActiveJobs {
    /// The running jobs now.
    pub fn snapshot(&self) -> Vec<JobId> {
        self.lock().iter().copied().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<JobId>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A worker process's claiming loop.
#[derive(Debug, Clone)]
pub struct Worker {
    /// Its unique identity.
    pub identity: WorkerIdentity,
    /// The queues it serves.
    pub queues: Vec<QueueName>,
    /// Jobs built at once.
    pub concurrency: usize,
    /// How often an idle worker looks for work.
    pub poll: Duration,
    /// The pipeline each job goes through.
    pub pipeline: Pipeline,
}

impl Worker {
    /// A unique name: host, queues and a random instance id, so two workers on one host and a
    /// restarted worker never collide.
    pub fn unique_name(host: &str, queues: &[QueueName]) -> String {
        let qs: Vec<String> = queues
            .iter()
            .map(|q| q.as_str().trim_start_matches("fbs:").to_owned())
            .collect();
        let instance = uuid::Uuid::new_v4().simple().to_string();
        format!("{host}/{}/{}", qs.join(","), &instance[..8])
    }

    fn store(&self) -> &Arc<dyn JobStore> {
        &self.pipeline.store
    }

    /// Run until told to stop (see [`RunOptions`]).
    pub async fn run(&self, opts: RunOptions) -> Result<(), QueueError> {
        let mut running: JoinSet<Result<(), QueueError>> = JoinSet::new();
        loop {
            while let Some(done) = running.try_join_next() {
                log_join(done);
            }
            if let Some(id) = opts.until_job {
                let finished = match self.store().get(id).await {
                    Ok(r) => r.is_none_or(|r| r.state.is_final()),
                    Err(e) if e.is_retryable() => false,
                    Err(e) => return Err(e),
                };
                if finished {
                    break;
                }
            }
            if opts.stop.is_cancelled() {
                break;
            }
            let mut claimed = false;
            if running.len() < self.concurrency.max(1) {
                match self.store().claim(&self.queues, &self.identity).await {
                    Ok(Some(lease)) => {
                        claimed = true;
                        tracing::info!(job = %lease.id(), attempt = lease.record.attempt, "claimed");
                        let p = self.pipeline.clone();
                        let hand_back = opts.hand_back.clone();
                        let active = opts.active.clone();
                        active.lock().insert(lease.id());
                        running.spawn(async move {
                            let id = lease.id();
                            let r = p.run(lease, hand_back).await.map(|_| ());
                            active.lock().remove(&id);
                            r
                        });
                    }
                    Ok(None) => {}
                    Err(e) if e.is_retryable() => {
                        // The broker is away (restarting, unreachable): keep the running
                        // builds going and try again after a poll interval.
                        tracing::warn!(error = %e, "cannot claim; retrying");
                        tokio::select! {
                            _ = opts.stop.cancelled() => {}
                            _ = tokio::time::sleep(self.poll) => {}
                        }
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            if claimed {
                continue;
            }
            if running.is_empty() && opts.stop_when_idle {
                break;
            }
            // With every slot busy, only a finishing job frees one: waiting for work then
            // would return at once whenever a delivery is already waiting, and spin.
            let full = running.len() >= self.concurrency.max(1);
            tokio::select! {
                _ = opts.stop.cancelled() => {}
                _ = self.store().wait_for_work(&self.queues, self.poll), if !full => {}
                Some(done) = running.join_next(), if !running.is_empty() => log_join(done),
            }
        }
        while let Some(done) = running.join_next().await {
            log_join(done);
        }
        Ok(())
    }
}

fn log_join(done: Result<Result<(), QueueError>, tokio::task::JoinError>) {
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "job store error while finishing a job"),
        Err(e) => tracing::error!(error = %e, "a job task ended abnormally"),
    }
}
