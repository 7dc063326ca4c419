//! `fbs logs [-f] JOB`: print a job's log from its stream on the default broker; with `-f`,
//! keep printing new lines until the job ends.

use std::io::Write;

use fbs_core::exit;
use fbs_core::job::JobId;
use fbs_core::queue::JobStore;
use futures::StreamExt;

use crate::fleet::{self, Fleet};

/// Run `fbs logs`.
pub async fn run(fleet: &Fleet, job: &str, follow_it: bool) -> u8 {
    let id = match fleet::job_id(job) {
        Ok(id) => id,
        Err(c) => return c,
    };
    match fleet.store.get(id).await {
        Ok(Some(_)) => {}
        Ok(None) => return fleet::fail(&fbs_core::queue::QueueError::NotFound(id)),
        Err(e) => return fleet::fail(&e),
    }
    if follow_it {
        return follow(fleet, id).await;
    }
    match fleet.store.read_log(id).await {
        Ok(entries) => {
            let mut out = std::io::stdout().lock();
            for e in entries {
                let _ = writeln!(out, "{}", e.line);
            }
            exit::SUCCESS
        }
        Err(e) => fleet::fail(&e),
    }
}

/// Print job `id`'s log until the job ends.
pub async fn follow(fleet: &Fleet, id: JobId) -> u8 {
    let stream = match fleet.store.follow(id, None).await {
        Ok(s) => s,
        Err(e) => return fleet::fail(&e),
    };
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", e.line);
                let _ = out.flush();
            }
            Err(e) => return fleet::fail(&e),
        }
    }
    exit::SUCCESS
}
