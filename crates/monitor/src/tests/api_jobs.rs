//! Listing, reading, cancel and retry, workers, queues, health, metrics, the OpenAPI document.

use std::time::Duration;

use axum::http::StatusCode;
use chrono::Utc;
use fbs_core::job::QueueName;
use fbs_core::queue::{JobStore, WorkerInfo};

use super::{TestApp, boot_spec, error_of};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::new().await;
    let (s, v) = app.get_json("/healthz").await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, v) = app.get_json("/readyz").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["store"].as_str(), Some("sqlite:test"));
}

#[tokio::test]
async fn jobs_are_listed_newest_first_in_pages_with_filters() {
    let app = TestApp::new().await;
    let a = app.add_job(boot_spec("17")).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let b = app.add_job(boot_spec("40")).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let c = app.add_job(boot_spec("40")).await;
    let (s, v) = app.get_json("/api/v1/jobs?limit=2").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let ids: Vec<&str> = v["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids, [c.id.to_string(), b.id.to_string()]);
    let cursor = v["next_cursor"].as_str().expect("a next page");
    let (_, v) = app
        .get_json(&format!("/api/v1/jobs?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(v["jobs"][0]["id"].as_str(), Some(a.id.to_string().as_str()));
    assert!(v["next_cursor"].is_null());
    let (_, v) = app
        .get_json("/api/v1/jobs?queue=x86_64:17&state=queued")
        .await;
    assert_eq!(v["jobs"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        v["jobs"][0]["summary"]
            .as_str()
            .map(|s| s.contains("boot x86_64/17")),
        Some(true)
    );
    for (q, field) in [
        ("state=done", "state"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=x", "limit"),
        ("cursor=../../etc", "cursor"),
        ("queue=sparc:17", "queue"),
    ] {
        let (s, v) = app.get_json(&format!("/api/v1/jobs?{q}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert_eq!(v["field"].as_str(), Some(field), "{q}: {v}");
    }
}

#[tokio::test]
async fn one_job_by_id_or_a_clear_error() {
    let app = TestApp::new().await;
    let j = app.add_job(boot_spec("17")).await;
    let (s, v) = app.get_json(&format!("/api/v1/jobs/{}", j.id)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["state"].as_str(), Some("queued"));
    assert_eq!(v["queue"].as_str(), Some("fbs:x86_64:17"));
    let other = fbs_core::job::JobId::new();
    let (s, v) = app.get_json(&format!("/api/v1/jobs/{other}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(error_of(&v).contains(&other.to_string()));
    let (s, v) = app.get_json("/api/v1/jobs/nope").await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("id"))
    );
}

#[tokio::test]
async fn cancel_and_retry_need_a_token_and_fit_the_state() {
    let app = TestApp::new().await;
    let j = app.add_job(boot_spec("17")).await;
    let cancel = format!("/api/v1/jobs/{}/cancel", j.id);
    let retry = format!("/api/v1/jobs/{}/retry", j.id);
    let (s, _) = app.post(&cancel, "application/json", "", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app
        .post(&cancel, "application/json", "", Some("fbs_wrong"))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = app.post(&retry, "", "", Some(&app.token)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = app.post(&cancel, "", "", Some(&app.token)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["result"].as_str(), Some("canceled"));
    assert_eq!(v["job"]["state"].as_str(), Some("canceled"));
    let (_, v) = app.post(&cancel, "", "", Some(&app.token)).await;
    assert_eq!(v["result"].as_str(), Some("already_final"));
    let (s, v) = app.post(&retry, "", "", Some(&app.token)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["attempt"].as_u64()),
        (Some("queued"), Some(2))
    );
    let gone = format!("/api/v1/jobs/{}/cancel", fbs_core::job::JobId::new());
    let (s, _) = app.post(&gone, "", "", Some(&app.token)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn workers_queues_and_metrics_describe_the_fleet() {
    let app = TestApp::new().await;
    let j = app.add_job(boot_spec("17")).await;
    let mut weird = boot_spec("17");
    weird.release = "r\"1\\".into();
    app.add_job(weird).await;
    let info = WorkerInfo {
        name: "w1".into(),
        host: "host-a".into(),
        queues: vec![QueueName::parse("x86_64:17").expect("queue")],
        concurrency: 2,
        jobs: vec![],
        started_at: Utc::now(),
        heartbeat_at: Utc::now(),
    };
    app.store
        .announce(&info, Duration::from_secs(60))
        .await
        .expect("announce");
    let (s, v) = app.get_json("/api/v1/workers").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v[0]["host"].as_str(), Some("host-a"));
    let (_, v) = app.get_json("/api/v1/queues").await;
    let q = v
        .as_array()
        .expect("queues")
        .iter()
        .find(|q| q["queue"] == "fbs:x86_64:17")
        .expect("queue");
    assert_eq!(
        (q["depth"].as_u64(), q["workers"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(q["oldest_job"].as_str(), Some(j.id.to_string().as_str()));
    let (s, h, body) = app.get("/metrics").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("text/plain; version=0.0.4"))
    );
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("fbs_jobs{queue=\"fbs:x86_64:17\",state=\"queued\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("fbs_queue_depth{queue=\"fbs:x86_64:17\"} 1"),
        "{text}"
    );
    assert!(text.contains("fbs_workers_alive 1"), "{text}");
    assert!(
        text.contains("fbs:x86_64:r\\\"1\\\\\""),
        "label escaped: {text}"
    );
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert_eq!(
            line.rsplit_once(' ').map(|(_, v)| v.parse::<f64>().is_ok()),
            Some(true),
            "{line}"
        );
    }
}

#[tokio::test]
async fn metrics_histograms_come_from_record_timestamps() {
    let mut j = fbs_core::job::JobRecord::new(boot_spec("17"), None);
    j.started_at = Some(j.created_at + chrono::Duration::seconds(3));
    j.finished_at = Some(j.created_at + chrono::Duration::seconds(100));
    j.state = fbs_core::job::JobState::Succeeded;
    let text = crate::metrics::render(&[j], &[], Utc::now());
    assert!(
        text.contains("fbs_job_wait_seconds_bucket{queue=\"fbs:x86_64:17\",le=\"5\"} 1"),
        "{text}"
    );
    assert!(text.contains("fbs_job_wait_seconds_bucket{queue=\"fbs:x86_64:17\",le=\"1\"} 0"));
    assert!(text.contains("fbs_job_run_seconds_bucket{queue=\"fbs:x86_64:17\",le=\"60\"} 0"));
    assert!(text.contains("fbs_job_run_seconds_bucket{queue=\"fbs:x86_64:17\",le=\"120\"} 1"));
    assert!(text.contains("fbs_job_run_seconds_sum{queue=\"fbs:x86_64:17\"} 97"));
    assert!(text.contains("# TYPE fbs_job_run_seconds histogram"));
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint() {
    let app = TestApp::new().await;
    let (s, v) = app.get_json("/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["openapi"].as_str().is_some_and(|o| o.starts_with("3.")));
    for p in [
        "/api/v1/jobs",
        "/api/v1/jobs/{id}",
        "/api/v1/jobs/{id}/cancel",
        "/api/v1/jobs/{id}/retry",
        "/api/v1/jobs/{id}/log",
        "/api/v1/workers",
        "/api/v1/queues",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(v["paths"][p].is_object(), "{p} missing");
    }
    assert!(v["paths"]["/api/v1/jobs"]["post"].is_object());
    assert!(v["components"]["securitySchemes"]["bearer"].is_object());
    let (s, v) = app.get_json("/no/such/page").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(error_of(&v).contains("nothing at"));
}

#[tokio::test]
async fn the_worker_role_serves_only_its_own_endpoints() {
    let app = TestApp::with(|_| {}, crate::state::Role::Worker).await;
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
    let (s, _, body) = app.get("/metrics").await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("fbs_job_dirs 0"));
    for p in ["/api/v1/jobs", "/api/v1/workers", "/", "/submit"] {
        assert_eq!(app.get(p).await.0, StatusCode::NOT_FOUND, "{p}");
    }
}
