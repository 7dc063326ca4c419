//! `fbs retry JOB`: queue a failed or canceled job again as a new attempt.
//! `fbs retry --stage-only JOB`: stage again, without a rebuild, a job whose staging failed:
//! it goes back to `staging` on the queue of the host that keeps its artifacts.

use fbs_core::exit;
use fbs_core::queue::JobStore;

use crate::fleet::{self, Fleet};

/// Run `fbs retry`.
pub async fn run(fleet: &Fleet, job: &str) -> u8 {
    let id = match fleet::job_id(job) {
        Ok(id) => id,
        Err(c) => return c,
    };
    match fleet.store.retry(id).await {
        Ok(r) => {
            println!(
                "job {id} queued again on {} (attempt {})",
                r.queue, r.attempt
            );
            exit::SUCCESS
        }
        Err(e) => fleet::fail(&e),
    }
}

/// Run `fbs retry --stage-only`.
pub async fn run_stage_only(fleet: &Fleet, job: &str) -> u8 {
    let id = match fleet::job_id(job) {
        Ok(id) => id,
        Err(c) => return c,
    };
    match fleet.store.retry_stage(id).await {
        Ok(r) => {
            let host = r.artifacts_host.as_deref().unwrap_or("?");
            println!(
                "job {id} staging again on {} (attempt {}, artifacts kept on {host})",
                fbs_core::job::QueueName::host(host),
                r.attempt
            );
            exit::SUCCESS
        }
        Err(e) => fleet::fail(&e),
    }
}
