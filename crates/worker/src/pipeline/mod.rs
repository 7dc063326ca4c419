//! The build pipeline for one leased job: prepare → build → stage → notify, in the job's own
//! directory, with the lease renewed in the background. Every stage writes to the job log;
//! a stage failure ends the job `failed` with a reason naming the stage.
//!
//! When staging fails the built artifacts stay in the job directory (`output/` and the stage
//! plan) and the record names this host, so `fbs retry --stage-only` can stage them again
//! here (see `stages.rs`); the job directory goes only when garbage collection takes it.

mod stages;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fbs_core::config::StagingConfig;
use fbs_core::job::JobRecord;
use fbs_core::joblog::{FileSink, MemorySink, SharedSink, Tee};
use fbs_core::queue::{JobStore, Lease, LeaseStatus, Outcome, QueueError};
use fbs_core::spec::{BuilderChoice, ImageType};
use tokio_util::sync::CancellationToken;

use crate::builder::{BuildError, Builder};
use crate::dirs::JobDirs;

/// A failure of one stage, in words a person can act on.
#[derive(Debug, thiserror::Error)]
#[error("{stage}: {message}")]
pub struct StageError {
    /// `prepare`, `build`, `stage`.
    pub stage: &'static str,
    /// What went wrong.
    pub message: String,
}

/// How many last log lines the completion mail carries.
pub const LOG_TAIL_LINES: usize = 50;

/// Told when a job ends (the mail notifier in distributed and local mode).
#[async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// The job reached a final state; `log_tail` holds the last lines of its log.
    async fn job_finished(&self, job: &JobRecord, log_tail: &[String]);
}

/// Why the build was interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interrupt {
    Canceled,
    LeaseLost,
    Shutdown,
}

/// Runs leased jobs through the stages.
#[derive(Clone)]
pub struct Pipeline {
    /// Where job records live.
    pub store: Arc<dyn JobStore>,
    /// The builders this host has, by choice.
    pub builders: BTreeMap<&'static str, Arc<dyn Builder>>,
    /// The worker's own builder choice, which wins over the spec's.
    pub builder_override: Option<BuilderChoice>,
    /// Parent of the per-job directories.
    pub work_dir: std::path::PathBuf,
    /// How often the lease is renewed.
    pub heartbeat: Duration,
    /// The longest a build may run.
    pub job_timeout: Duration,
    /// Extra log sink (the terminal in `fbs local`).
    pub extra_log: Option<SharedSink>,
    /// Who is told when a job ends.
    pub notifier: Option<Arc<dyn Notifier>>,
    /// How side repos of Koji builds are made (hub, download cache).
    pub side_repos: crate::siderepo::SideRepoSettings,
    /// Staging credentials, transfer settings and public URLs.
    pub staging: StagingConfig,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("builders", &self.builders.keys().collect::<Vec<_>>())
            .field("work_dir", &self.work_dir)
            .finish()
    }
}

impl Pipeline {
    /// Pick the builder for `choice` among those present; the worker's own choice wins.
    /// `auto` takes the Fedora tool for `image` when it is installed, else `native`.
    pub fn select(
        &self,
        choice: BuilderChoice,
        image: ImageType,
    ) -> Result<Arc<dyn Builder>, BuildError> {
        let choice = self.builder_override.unwrap_or(choice);
        let name = match choice {
            BuilderChoice::Auto => crate::builders::auto_choice(&self.builders, image),
            BuilderChoice::Native => "native",
            BuilderChoice::Lorax => "lorax",
            BuilderChoice::Pungi => "pungi",
            BuilderChoice::Kiwi => "kiwi",
            BuilderChoice::LivemediaCreator => "livemedia-creator",
            BuilderChoice::LivecdCreator => "livecd-creator",
        };
        self.builders
            .get(name)
            .cloned()
            .ok_or_else(|| BuildError::ToolMissing {
                tool: format!("builder `{name}`"),
                hint: format!(
                    "this worker has builders [{}]; choose one of them with `builder =` in the spec or worker config",
                    self.builders.keys().copied().collect::<Vec<_>>().join(", ")
                ),
            })
    }

    /// Run one leased job to its end. `shutdown` (fired when a stopping worker's grace period
    /// is over) interrupts the build and hands the job back to its queue.
    /// Returns the final record, or `None` when the job was handed back or the lease lost.
    pub async fn run(
        &self,
        lease: Lease,
        shutdown: CancellationToken,
    ) -> Result<Option<JobRecord>, QueueError> {
        let job = lease.record.clone();
        let dirs = JobDirs::new(&self.work_dir, job.id);
        // A stage-only retry reuses what the earlier attempt left; a build starts clean.
        let created = if job.stage_only {
            std::fs::create_dir_all(&dirs.root).map(|()| Vec::new())
        } else {
            dirs.create()
        };
        let mut sinks: Vec<SharedSink> = Vec::new();
        if created.is_ok() {
            match FileSink::open(&dirs.log) {
                Ok(s) => sinks.push(Arc::new(s)),
                Err(e) => tracing::warn!(job = %job.id, error = %e, "cannot open job log"),
            }
        }
        if let Some(x) = &self.extra_log {
            sinks.push(x.clone());
        }
        let stored = self.store.stored_log(job.id);
        if let Some(s) = &stored {
            sinks.push(s.clone());
        }
        let tail = Arc::new(MemorySink::new(LOG_TAIL_LINES));
        sinks.push(tail.clone());
        let log: SharedSink = Arc::new(Tee::new(sinks));
        log.fbs(&format!(
            "job {} attempt {} on {}: {}",
            job.id,
            job.attempt,
            job.worker.as_deref().unwrap_or("?"),
            job.spec.summary()
        ));

        let cancel = CancellationToken::new();
        let why = Arc::new(std::sync::Mutex::new(None::<Interrupt>));
        let beat = tokio::spawn(heartbeat_loop(
            self.store.clone(),
            lease.clone(),
            self.heartbeat,
            cancel.clone(),
            shutdown.clone(),
            why.clone(),
        ));

        let result = match created {
            Err(e) => Err(StageError {
                stage: "prepare",
                message: format!("cannot create {}: {e}", dirs.root.display()),
            }),
            Ok(_) if job.stage_only => {
                self.stage_only(&lease, &dirs, log.clone(), cancel.clone())
                    .await
            }
            Ok(_) => {
                self.stages(&lease, &dirs, log.clone(), cancel.clone())
                    .await
            }
        };
        beat.abort();
        let interrupt = *why.lock().unwrap_or_else(|p| p.into_inner());

        let outcome = match (interrupt, result) {
            (Some(Interrupt::LeaseLost), _) => {
                log.fbs("lease lost: a newer attempt owns this job; stopping without a result");
                None
            }
            (Some(Interrupt::Shutdown), Err(_)) => {
                log.fbs("worker stopping: job handed back to its queue");
                self.store.release(&lease).await.ok();
                None
            }
            (Some(Interrupt::Canceled), _) => Some(Outcome::Canceled),
            (_, Ok(artifacts)) => Some(Outcome::Succeeded { artifacts }),
            (_, Err(e))
                if e.stage == "stage" && dirs.root.join(crate::stage::PLAN_FILE).exists() =>
            {
                let host = self.host(&lease);
                Some(Outcome::StagingFailed {
                    error: format!(
                        "{e}; the built artifacts are kept on {host} ({}): \
                         `fbs retry --stage-only {}` stages them again there",
                        dirs.output.display(),
                        job.id
                    ),
                })
            }
            (_, Err(e)) => Some(Outcome::Failed {
                error: e.to_string(),
            }),
        };
        if dirs.work.exists()
            && let Err(e) = crate::dirs::remove_tree(&dirs.work)
        {
            tracing::warn!(job = %job.id, error = %e, "cannot clean the work directory");
        }
        let Some(outcome) = outcome else {
            if let Some(s) = &stored {
                s.flush().await;
            }
            return Ok(None);
        };
        match &outcome {
            Outcome::Succeeded { .. } => log.fbs("job succeeded"),
            Outcome::Failed { error } | Outcome::StagingFailed { error } => {
                log.fbs(&format!("job failed: {error}"))
            }
            Outcome::Canceled => log.fbs("job canceled"),
        }
        if let Some(s) = &stored {
            s.flush().await;
        }
        match self.store.finish(&lease, outcome).await {
            Ok(rec) => {
                if let Some(s) = &stored {
                    s.seal().await;
                }
                if let Some(n) = &self.notifier {
                    let lines: Vec<String> = tail.lines().iter().map(ToString::to_string).collect();
                    n.job_finished(&rec, &lines).await;
                }
                Ok(Some(rec))
            }
            Err(QueueError::LeaseLost(_)) => {
                log.fbs("lease lost before the result was recorded; a newer attempt owns it");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

async fn heartbeat_loop(
    store: Arc<dyn JobStore>,
    lease: Lease,
    every: Duration,
    cancel: CancellationToken,
    shutdown: CancellationToken,
    why: Arc<std::sync::Mutex<Option<Interrupt>>>,
) {
    let set = |i: Interrupt| {
        let mut w = why.lock().unwrap_or_else(|p| p.into_inner());
        w.get_or_insert(i);
        cancel.cancel();
    };
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => { set(Interrupt::Shutdown); return; }
            _ = tokio::time::sleep(every) => {}
        }
        match store.heartbeat(&lease).await {
            Ok(LeaseStatus::Held {
                cancel_requested: true,
            }) => {
                set(Interrupt::Canceled);
                return;
            }
            Ok(LeaseStatus::Held { .. }) => {}
            Ok(LeaseStatus::Lost) => {
                set(Interrupt::LeaseLost);
                return;
            }
            Err(e) => tracing::warn!(job = %lease.id(), error = %e, "heartbeat failed; retrying"),
        }
    }
}
