//! `fbs status JOB [--json]`: one job's record.

use std::io::Write;

use fbs_core::exit;
use fbs_core::queue::{JobStore, QueueError};
use serde::Serialize;

use crate::fleet::{self, Fleet};

/// Print `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> u8 {
    match serde_json::to_string_pretty(value) {
        Ok(s) => {
            let _ = writeln!(std::io::stdout().lock(), "{s}");
            exit::SUCCESS
        }
        Err(e) => {
            eprintln!("fbs: cannot encode JSON: {e}");
            exit::FAILED
        }
    }
}

/// Run `fbs status`.
pub async fn run(fleet: &Fleet, job: &str, json: bool) -> u8 {
    let id = match fleet::job_id(job) {
        Ok(id) => id,
        Err(c) => return c,
    };
    let rec = match fleet.store.get(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return fleet::fail(&QueueError::NotFound(id)),
        Err(e) => return fleet::fail(&e),
    };
    if json {
        return print_json(&rec);
    }
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339())
    };
    println!("job:       {}", rec.id);
    println!("state:     {}", rec.state);
    println!("queue:     {}", rec.queue);
    println!("spec:      {}", rec.spec.summary());
    println!("submitter: {}", rec.submitter);
    println!("attempt:   {}", rec.attempt);
    println!("worker:    {}", rec.worker.as_deref().unwrap_or("-"));
    println!("submitted: {}", rec.created_at.to_rfc3339());
    println!("started:   {}", time(rec.started_at));
    println!("finished:  {}", time(rec.finished_at));
    if rec.cancel_requested && !rec.state.is_final() {
        println!("cancel:    requested");
    }
    if let Some(e) = &rec.error {
        println!("error:     {e}");
    }
    for a in &rec.artifacts {
        println!(
            "artifact:  {} ({} bytes, sha256 {})",
            a.path, a.size, a.sha256
        );
    }
    exit::SUCCESS
}
