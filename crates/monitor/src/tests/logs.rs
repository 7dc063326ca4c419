//! Logs from job files (no broker): whole, byte ranges, and follow as plain text and SSE.

use std::io::Write;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fbs_core::queue::{JobStore, Outcome, WorkerIdentity};

use super::{TestApp, boot_spec};

fn worker() -> WorkerIdentity {
    WorkerIdentity {
        name: "w".into(),
        host: "h".into(),
    }
}

#[tokio::test]
async fn whole_logs_and_byte_ranges() {
    let app = TestApp::new().await;
    let j = app.add_job(boot_spec("17")).await;
    let uri = format!("/api/v1/jobs/{}/log", j.id);
    let (s, _, body) = app.get(&uri).await;
    assert_eq!(
        (s, body.len()),
        (StatusCode::OK, 0),
        "a queued job has an empty log"
    );
    let dir = app.work_dir().join(j.id.to_string());
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("build.log"), "one\ntwo\nthree\n").expect("log");
    let (s, _, body) = app.get(&uri).await;
    assert_eq!((s, &body[..]), (StatusCode::OK, &b"one\ntwo\nthree\n"[..]));
    let range = |r: &'static str| {
        Request::get(&uri)
            .header("range", r)
            .body(Body::empty())
            .expect("req")
    };
    let (s, h, body) = app.call(range("bytes=4-6")).await;
    assert_eq!((s, &body[..]), (StatusCode::PARTIAL_CONTENT, &b"two"[..]));
    assert_eq!(h["content-range"], "bytes 4-6/14");
    let (s, _, body) = app.call(range("bytes=-6")).await;
    assert_eq!(
        (s, &body[..]),
        (StatusCode::PARTIAL_CONTENT, &b"three\n"[..])
    );
    let (s, _, body) = app.call(range("bytes=8-")).await;
    assert_eq!(
        (s, &body[..]),
        (StatusCode::PARTIAL_CONTENT, &b"three\n"[..])
    );
    let (s, h, _) = app.call(range("bytes=99-")).await;
    assert_eq!(s, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(h["content-range"], "bytes */14");
    let (s, _, _) = app.call(range("bytes=0-1,4-5")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = app.call(range("lines=1-2")).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn follow_streams_a_growing_file_in_order_and_ends_with_the_job() {
    let app = TestApp::new().await;
    let j = app.add_job(boot_spec("17")).await;
    let lease = app
        .store
        .claim(std::slice::from_ref(&j.queue), &worker())
        .await
        .expect("claim")
        .expect("a job");
    let dir = app.work_dir().join(j.id.to_string());
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("build.log");
    std::fs::write(&path, "").expect("log");
    let store = app.store.clone();
    let writer = tokio::spawn(async move {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        for i in 1..=300 {
            // Half lines too: the follower must never split or reorder them.
            write!(f, "line {i} ").expect("write");
            f.flush().expect("flush");
            writeln!(f, "end").expect("write");
            if i % 50 == 0 {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        store
            .finish(
                &lease,
                Outcome::Failed {
                    error: "test".into(),
                },
            )
            .await
            .expect("finish");
    });
    let uri = format!("/api/v1/jobs/{}/log?follow=1", j.id);
    let (s, h, body) = tokio::time::timeout(Duration::from_secs(60), app.get(&uri))
        .await
        .expect("the follow ends when the job ends");
    writer.await.expect("writer");
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("text/plain"))
    );
    let text = String::from_utf8_lossy(&body);
    let want: Vec<String> = (1..=300).map(|i| format!("line {i} end")).collect();
    assert_eq!(text.lines().collect::<Vec<_>>(), want);

    // SSE from line 298 (Last-Event-ID), on the finished job.
    let req = Request::get(&uri)
        .header("accept", "text/event-stream")
        .header("last-event-id", "298")
        .body(Body::empty())
        .expect("req");
    let (s, h, body) = app.call(req).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("text/event-stream"))
    );
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("id: 299\ndata: line 299 end\n"), "{text}");
    assert!(text.contains("id: 300\ndata: line 300 end\n"), "{text}");
    assert!(!text.contains("line 298 end"), "{text}");
    assert!(text.contains("event: end\ndata: failed\n"), "{text}");
}
