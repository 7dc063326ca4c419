//! `fbs submit SPEC [--watch]`: validate the spec, flatten (or fetch) its kickstart here, store
//! the job on the default broker and put it on its queue; print the job id, the queue and
//! where to watch its log. With `--watch`, follow the log until the job ends and exit with the
//! job's outcome.

use std::path::Path;

use fbs_core::exit;
use fbs_core::job::JobRecord;
use fbs_core::queue::JobStore;

use crate::fleet::{self, Fleet};

/// The URL of a job's page on the monitor, when one is configured.
pub fn log_url(fleet: &Fleet, job: &JobRecord) -> Option<String> {
    fleet
        .config
        .monitor_url
        .as_deref()
        .map(|m| format!("{}/jobs/{}", m.trim_end_matches('/'), job.id))
}

/// Run `fbs submit`.
pub async fn run(fleet: &Fleet, spec: &Path, watch: bool) -> u8 {
    let prepared = match crate::prepare::load_job(spec, None).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return e.exit_code();
        }
    };
    for w in &prepared.warnings {
        eprintln!("{}: warning: {w}", spec.display());
    }
    let job = JobRecord::new(prepared.spec, prepared.kickstart);
    if let Err(e) = fleet.store.submit(job.clone()).await {
        return fleet::fail(&e);
    }
    println!("job {} queued on {}", job.id, job.queue);
    match log_url(fleet, &job) {
        Some(u) => println!("log: {u}"),
        None => println!("log: fbs logs -f {}", job.id),
    }
    if !watch {
        return exit::SUCCESS;
    }
    let code = crate::logs::follow(fleet, job.id).await;
    if code != exit::SUCCESS {
        return code;
    }
    match fleet.store.get(job.id).await {
        Ok(Some(r)) => {
            println!("job {} {}", r.id, r.state);
            if let Some(e) = &r.error {
                println!("error: {e}");
            }
            fleet::state_code(r.state)
        }
        Ok(None) => exit::FAILED,
        Err(e) => fleet::fail(&e),
    }
}
