//! The side-repo step of the prepare stage: nothing when the spec names no Koji builds;
//! otherwise the side repo in `<job>/work/siderepo`, injected into the job's kickstart
//! (rewritten as `input/job.ks`) and handed to the builder.

use fbs_core::job::JobRecord;
use fbs_core::joblog::SharedSink;
use tokio_util::sync::CancellationToken;

use super::{SideRepo, SideRepoSettings, inject};
use crate::dirs::JobDirs;

/// Make the job's side repo and put it into its kickstart. The error is the stage's message.
pub async fn prepare(
    settings: &SideRepoSettings,
    job: &mut JobRecord,
    dirs: &JobDirs,
    log: &SharedSink,
    cancel: &CancellationToken,
) -> Result<Option<SideRepo>, String> {
    if job.spec.koji.is_empty() {
        return Ok(None);
    }
    log.fbs("== side repo");
    let dir = dirs.work.join("siderepo");
    let repo = super::make(settings, &job.spec, &dir, log.as_ref(), cancel)
        .await
        .map_err(|e| {
            let again = if e.is_retryable() {
                " (may pass on another try)"
            } else {
                ""
            };
            format!("side repo: {e}{again}")
        })?;
    if let Some(ks) = &job.kickstart {
        let injected = inject::kickstart(ks, &repo)
            .map_err(|e| format!("side repo: cannot add it to the kickstart: {e}"))?;
        for w in &injected.warnings {
            log.fbs(&format!("warning: {w}"));
        }
        let p = dirs.input.join("job.ks");
        std::fs::write(&p, &injected.text)
            .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        log.fbs(&format!(
            "kickstart: added repo {} ({}, cost 1); the other repos exclude {}",
            SideRepo::NAME,
            repo.url(),
            repo.packages.join(",")
        ));
        job.kickstart = Some(injected.text);
    }
    Ok(Some(repo))
}
