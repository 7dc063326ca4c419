//! `fbs jobs [--state S] [--queue Q] [--json]`: list jobs, newest first.

use fbs_core::exit;
use fbs_core::job::{JobState, QueueName};
use fbs_core::queue::{JobFilter, JobStore};

use crate::fleet::{self, Fleet};

/// Run `fbs jobs`.
pub async fn run(
    fleet: &Fleet,
    state: Option<JobState>,
    queue: Option<&str>,
    limit: u32,
    json: bool,
) -> u8 {
    let queue = match queue.map(QueueName::parse).transpose() {
        Ok(q) => q,
        Err(e) => {
            eprintln!("fbs: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let filter = JobFilter {
        state,
        queue,
        limit: Some(limit),
        ..JobFilter::default()
    };
    let jobs = match fleet.store.list(&filter).await {
        Ok(j) => j,
        Err(e) => return fleet::fail(&e),
    };
    if json {
        return crate::status::print_json(&jobs);
    }
    println!(
        "{:<36}  {:<9}  {:<20}  {:>7}  {:<19}  WORKER",
        "ID", "STATE", "QUEUE", "ATTEMPT", "SUBMITTED"
    );
    for j in &jobs {
        println!(
            "{:<36}  {:<9}  {:<20}  {:>7}  {:<19}  {}",
            j.id,
            j.state,
            j.queue,
            j.attempt,
            j.created_at.format("%Y-%m-%d %H:%M:%S"),
            j.worker_host.as_deref().unwrap_or("-")
        );
    }
    exit::SUCCESS
}
