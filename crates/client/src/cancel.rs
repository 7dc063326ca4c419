//! `fbs cancel JOB`: a queued job is canceled at once; a running one is stopped by its worker
//! (which kills the build's process group).

use fbs_core::exit;
use fbs_core::queue::{CancelResult, JobStore};

use crate::fleet::{self, Fleet};

/// Run `fbs cancel`.
pub async fn run(fleet: &Fleet, job: &str) -> u8 {
    let id = match fleet::job_id(job) {
        Ok(id) => id,
        Err(c) => return c,
    };
    match fleet.store.cancel(id).await {
        Ok(CancelResult::Canceled) => println!("job {id} canceled"),
        Ok(CancelResult::Requested) => {
            println!("job {id}: cancel requested; its worker stops the build")
        }
        Ok(CancelResult::AlreadyFinal(s)) => println!("job {id} already ended: {s}"),
        Err(e) => return fleet::fail(&e),
    }
    exit::SUCCESS
}
