//! Following a job's log on real Redis while a real `fbs worker` writes it: followers that
//! start while the job is queued get every line, in order, and their streams end when the job
//! ends — as plain text, as SSE, and through `fbs logs -f --monitor`.

use std::process::Stdio;
use std::time::Duration;

use fbs_core::config::DaemonConfig;
use fbs_core::job::JobState;
use futures::StreamExt;

use super::server::Monitor;
use crate::fleet::rig::{Rig, shared_redis};

const LINES: usize = 3000;

async fn read_stream(url: String, accept: &'static str) -> String {
    let client = reqwest::Client::new();
    let resp = client
        .get(&url)
        .header("accept", accept)
        .send()
        .await
        .expect("follow request");
    assert_eq!(resp.status(), 200, "{url}");
    let mut body = resp.bytes_stream();
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.expect("stream chunk"));
    }
    String::from_utf8(out).expect("utf-8")
}

fn sse_lines(text: &str) -> (Vec<String>, Vec<u64>, Option<String>) {
    let (mut data, mut ids, mut end) = (Vec::new(), Vec::new(), None);
    for ev in text.split("\n\n") {
        let field = |k: &str| {
            ev.lines()
                .find_map(|l| l.strip_prefix(k).map(|v| v.trim_start().to_owned()))
        };
        match field("event:").as_deref() {
            Some("end") => end = field("data:"),
            Some(other) => panic!("unexpected event {other}: {ev}"),
            None => {
                if let (Some(id), Some(d)) = (field("id:"), field("data:")) {
                    ids.push(id.parse().expect("numeric id"));
                    data.push(d);
                }
            }
        }
    }
    (data, ids, end)
}

#[tokio::test(flavor = "multi_thread")]
async fn followers_get_every_line_in_order_and_stop_when_the_job_ends() {
    let Some(url) = shared_redis() else { return };
    let mut rig = Rig::new(&url).await;
    let job = rig.submit("x86_64", "17").await;
    let monitor = Monitor::start(
        DaemonConfig::default(),
        fbs_monitor::Backend::redis(rig.store.clone()),
    )
    .await;
    let log = monitor.url(&format!("/api/v1/jobs/{}/log?follow=1", job.id));
    // Three followers start while the job is still queued: they wait.
    let plain = tokio::spawn(read_stream(log.clone(), "text/plain"));
    let sse = tokio::spawn(read_stream(log.clone(), "text/event-stream"));
    let cli = rig
        .fbs()
        .args([
            "logs",
            "-f",
            &job.id.to_string(),
            "--monitor",
            &monitor.url(""),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fbs logs");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !plain.is_finished() && !sse.is_finished(),
        "followers wait for a queued job"
    );
    let script = format!(
        "i=1; while [ $i -le {LINES} ]; do echo \"payload line $i\"; \
         if [ $((i % 300)) = 0 ]; then sleep 0.2; fi; i=$((i+1)); done; echo iso > \"$OUT/test.iso\""
    );
    rig.spawn_worker("x86_64:17", &script);
    let plain = tokio::time::timeout(Duration::from_secs(120), plain)
        .await
        .expect("the plain follow ends with the job")
        .expect("join");
    let sse = tokio::time::timeout(Duration::from_secs(30), sse)
        .await
        .expect("the SSE follow ends with the job")
        .expect("join");
    let done = rig.get(job.id).await;
    assert_eq!(done.state, JobState::Succeeded, "{:?}", done.error);

    // The whole log as stored, rendered as the monitor renders it.
    let whole: Vec<String> = rig
        .store
        .read_log(job.id)
        .await
        .expect("read log")
        .iter()
        .map(|e| e.line.to_string())
        .collect();
    let payload: Vec<String> = whole
        .iter()
        .filter_map(|l| l.split_once(" out ").map(|(_, t)| t.to_owned()))
        .filter(|t| t.starts_with("payload line "))
        .collect();
    let want: Vec<String> = (1..=LINES).map(|i| format!("payload line {i}")).collect();
    assert_eq!(payload, want, "the stored log holds every line in order");
    assert_eq!(plain.lines().collect::<Vec<_>>(), whole, "plain follower");
    let (data, ids, end) = sse_lines(&sse);
    assert_eq!(data, whole, "SSE follower");
    assert_eq!(ids, (1..=whole.len() as u64).collect::<Vec<_>>());
    assert_eq!(end.as_deref(), Some("succeeded"));

    let out = tokio::task::spawn_blocking(move || cli.wait_with_output())
        .await
        .expect("join")
        .expect("fbs logs ran");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .collect::<Vec<_>>(),
        whole,
        "fbs logs -f --monitor"
    );

    // A finished job: the whole log at once, and a resumed follow from line 100.
    let resumed = read_stream(format!("{log}&from=100"), "text/plain").await;
    assert_eq!(resumed.lines().collect::<Vec<_>>(), whole[100..].to_vec());
    let text = reqwest::get(monitor.url(&format!("/api/v1/jobs/{}/log", job.id)))
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert_eq!(text.lines().collect::<Vec<_>>(), whole);
    monitor.stop().await;
}
