//! `fbs retry JOB`: queue a failed or canceled job again as a new attempt.

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
