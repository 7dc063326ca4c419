//! The stages of one attempt: prepare → build → stage, and the stage-only run of a
//! `fbs retry --stage-only`, which stages the artifacts an earlier attempt built on this host
//! (from the plan it kept in the job directory) without building again.

use fbs_core::job::Artifact;
use fbs_core::joblog::SharedSink;
use fbs_core::queue::Lease;
use tokio_util::sync::CancellationToken;

use super::{Pipeline, StageError};
use crate::builder::BuildContext;
use crate::dirs::JobDirs;
use crate::manifest::{ManifestInput, Timing};
use crate::stage::{self, PLAN_FILE, StagePlan};

fn prepare_err(message: String) -> StageError {
    StageError {
        stage: "prepare",
        message,
    }
}

fn stage_err(message: String) -> StageError {
    StageError {
        stage: "stage",
        message,
    }
}

impl Pipeline {
    /// Prepare, build and stage one leased job.
    pub(super) async fn stages(
        &self,
        lease: &Lease,
        dirs: &JobDirs,
        log: SharedSink,
        cancel: CancellationToken,
    ) -> Result<Vec<Artifact>, StageError> {
        let mut job = lease.record.clone();
        let prepare_started = std::time::Instant::now();
        log.fbs("== prepare");
        if let Some(ks) = &job.kickstart {
            let p = dirs.input.join("job.ks");
            std::fs::write(&p, ks)
                .map_err(|e| prepare_err(format!("cannot write {}: {e}", p.display())))?;
        }
        let builder = self
            .select(job.spec.builder, job.spec.image_type())
            .map_err(|e| prepare_err(e.to_string()))?;
        let side_repo =
            crate::siderepo::step::prepare(&self.side_repos, &mut job, dirs, &log, &cancel)
                .await
                .map_err(prepare_err)?;

        let prepare_time = prepare_started.elapsed();
        let build_started = std::time::Instant::now();
        log.fbs(&format!("== build with {}", builder.name()));
        let ctx = BuildContext {
            job: job.clone(),
            dirs: dirs.clone(),
            log: log.clone(),
            cancel: cancel.clone(),
            side_repo,
        };
        let built = match tokio::time::timeout(self.job_timeout, builder.build(&ctx)).await {
            Err(_) => {
                cancel.cancel();
                return Err(StageError {
                    stage: "build",
                    message: format!(
                        "timed out after {}",
                        humantime::format_duration(self.job_timeout)
                    ),
                });
            }
            Ok(r) => r.map_err(|e| StageError {
                stage: "build",
                message: e.to_string(),
            })?,
        };
        if cancel.is_cancelled() {
            return Err(StageError {
                stage: "build",
                message: "interrupted".into(),
            });
        }
        let build_time = build_started.elapsed();

        log.fbs("== stage");
        self.store
            .set_staging(lease)
            .await
            .map_err(|e| stage_err(e.to_string()))?;
        let builder_version = match built.builder_version {
            Some(_) => None,
            None => builder.version().await,
        };
        let plan = StagePlan {
            input: ManifestInput {
                job_id: job.id,
                spec: job.spec.clone(),
                builder: builder.name().to_owned(),
                builder_version,
                worker_host: self.host(lease),
                timings: vec![
                    Timing::new("prepare", prepare_time),
                    Timing::new("build", build_time),
                ],
            },
            report: built,
            built_at: chrono::Utc::now(),
        };
        // Kept so a failed staging can be redone here without a rebuild.
        plan.save(&dirs.root.join(PLAN_FILE))
            .map_err(|e| stage_err(e.to_string()))?;
        self.stage_plan(&plan, dirs, &log, &cancel).await
    }

    /// Stage what an earlier attempt built here (`fbs retry --stage-only`).
    pub(super) async fn stage_only(
        &self,
        lease: &Lease,
        dirs: &JobDirs,
        log: SharedSink,
        cancel: CancellationToken,
    ) -> Result<Vec<Artifact>, StageError> {
        log.fbs("== stage (stage-only retry: the artifacts built earlier on this host)");
        let file = dirs.root.join(PLAN_FILE);
        let mut plan = StagePlan::load(&file).map_err(|e| {
            stage_err(format!(
                "nothing to stage again: {e}; the job directory may have been collected \
                 (retention.job_dirs): use `fbs retry` to rebuild"
            ))
        })?;
        plan.input.worker_host = self.host(lease);
        self.stage_plan(&plan, dirs, &log, &cancel).await
    }

    async fn stage_plan(
        &self,
        plan: &StagePlan,
        dirs: &JobDirs,
        log: &SharedSink,
        cancel: &CancellationToken,
    ) -> Result<Vec<Artifact>, StageError> {
        let staged = stage::stage(plan, &dirs.log, &self.staging, log.as_ref(), cancel)
            .await
            .map_err(|e| stage_err(e.to_string()))?;
        for a in &staged.artifacts {
            log.fbs(&format!(
                "staged {} ({} bytes, sha256 {}){}",
                a.path,
                a.size,
                a.sha256,
                a.url
                    .as_deref()
                    .map(|u| format!(" at {u}"))
                    .unwrap_or_default()
            ));
        }
        Ok(staged.artifacts)
    }

    pub(super) fn host(&self, lease: &Lease) -> String {
        lease
            .record
            .worker_host
            .clone()
            .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned())
    }
}
