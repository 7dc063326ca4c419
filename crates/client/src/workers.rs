//! `fbs workers [--json]`: the workers alive now (announced within their lease expiry).

use fbs_core::exit;
use fbs_core::queue::JobStore;

use crate::fleet::{self, Fleet};

/// Run `fbs workers`.
pub async fn run(fleet: &Fleet, json: bool) -> u8 {
    let workers = match fleet.store.workers().await {
        Ok(w) => w,
        Err(e) => return fleet::fail(&e),
    };
    if json {
        return crate::status::print_json(&workers);
    }
    println!(
        "{:<40}  {:<16}  {:<8}  {:<19}  QUEUES / JOBS",
        "NAME", "HOST", "RUNNING", "LAST HEARTBEAT"
    );
    for w in &workers {
        let queues: Vec<&str> = w.queues.iter().map(|q| q.as_str()).collect();
        let jobs: Vec<String> = w.jobs.iter().map(ToString::to_string).collect();
        println!(
            "{:<40}  {:<16}  {:<8}  {:<19}  {} / {}",
            w.name,
            w.host,
            format!("{}/{}", w.jobs.len(), w.concurrency),
            w.heartbeat_at.format("%Y-%m-%d %H:%M:%S"),
            queues.join(","),
            if jobs.is_empty() {
                "-".to_owned()
            } else {
                jobs.join(",")
            }
        );
    }
    exit::SUCCESS
}
