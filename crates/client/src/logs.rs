//! `fbs logs [-f] JOB`: print a job's log from its stream on the default broker; with `-f`,
//! keep printing new lines until the job ends. With `--monitor URL` (or `monitor_url` in the
//! client config) the log comes from the monitor's API instead (see [`via_monitor`]).

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

/// Run `fbs logs` through the monitor at `monitor`, else at the client config's `monitor_url`;
/// `None` when neither names one (the caller then reads the broker). A follow that loses its
/// connection resumes after the last line received (`from=N`), up to five times.
pub async fn via_monitor(
    monitor: Option<&str>,
    config: Option<&std::path::Path>,
    job: &str,
    follow_it: bool,
) -> Option<u8> {
    let cfg = match fbs_core::config::load_client(config) {
        Ok((c, _)) => c,
        Err(e) => {
            eprintln!("fbs: {e}");
            return Some(exit::INVALID_INPUT);
        }
    };
    let base = monitor.map(str::to_owned).or(cfg.monitor_url.clone())?;
    let id = match fleet::job_id(job) {
        Ok(id) => id,
        Err(c) => return Some(c),
    };
    Some(monitor_log(&base, cfg.token.as_deref(), id, follow_it).await)
}

async fn monitor_log(base: &str, token: Option<&str>, id: JobId, follow_it: bool) -> u8 {
    let client = match reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fbs: HTTP client: {e}");
            return exit::UNAVAILABLE;
        }
    };
    let mut lines: u64 = 0;
    let mut failures = 0;
    loop {
        let mut url = format!("{}/api/v1/jobs/{id}/log", base.trim_end_matches('/'));
        if follow_it {
            url.push_str(&format!("?follow=1&from={lines}"));
        }
        let mut req = client.get(&url).header("Accept", "text/plain");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if follow_it && failures < 5 && lines > 0 => {
                failures += 1;
                eprintln!("fbs: monitor connection lost ({e}); resuming");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
            Err(e) => {
                eprintln!("fbs: cannot reach the monitor at {base}: {e}");
                return exit::UNAVAILABLE;
            }
        };
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            let msg = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or(text);
            eprintln!("fbs: monitor: {status}: {msg}");
            return if status.is_server_error() {
                exit::UNAVAILABLE
            } else {
                exit::INVALID_INPUT
            };
        }
        let mut body = resp.bytes_stream();
        let mut broken = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => {
                    lines += bytes.iter().filter(|b| **b == b'\n').count() as u64;
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(&bytes);
                    let _ = out.flush();
                }
                Err(e) => {
                    broken = Some(e);
                    break;
                }
            }
        }
        match broken {
            None => return exit::SUCCESS,
            Some(e) if follow_it && failures < 5 => {
                failures += 1;
                eprintln!("fbs: monitor stream broke ({e}); resuming after line {lines}");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            Some(e) => {
                eprintln!("fbs: monitor stream broke: {e}");
                return exit::UNAVAILABLE;
            }
        }
    }
}
