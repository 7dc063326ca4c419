//! schemathesis against a live monitor on 127.0.0.1: generated requests for every operation
//! of `/openapi.json` (a bounded number each), with a valid API token; no server errors, and
//! every answer conforms to the document (status codes, content types, bodies). One worker:
//! schemathesis's generator is not thread-safe on CPython 3.11 (`ast.parse` in threads fails
//! with "AST constructor recursion depth mismatch").

use std::process::Command;
use std::time::{Duration, Instant};

use fbs_core::config::DaemonConfig;
use fbs_core::queue::SqliteStore;

use super::server::Monitor;
use crate::helper;

#[tokio::test(flavor = "multi_thread")]
async fn the_api_conforms_to_its_openapi_document() {
    let Some(st) = helper::venv_tool("schemathesis") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("jobs.db"), Default::default())
        .await
        .expect("store");
    let mut config = DaemonConfig::default();
    config.worker.work_dir = dir.path().join("jobs");
    let monitor = Monitor::start(
        config,
        fbs_monitor::Backend::sqlite(store, "sqlite:schemathesis"),
    )
    .await;
    let schema = monitor.url("/openapi.json");
    let auth = format!("Authorization: Bearer {}", monitor.token);
    let report = dir.path().join("report");
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .args(["run", &schema, "--checks"])
            .arg("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance")
            .args(["--max-examples", "25", "--request-timeout", "10", "--workers", "1"])
            .args(["--seed", "1", "--no-color", "--suppress-health-check", "all"])
            .args(["-H", &auth])
            .env("SCHEMATHESIS_HOOKS", "")
            .current_dir(report.parent().unwrap_or(std::path::Path::new(".")))
            .output()
            .expect("schemathesis runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}\n{stderr}");
    eprintln!("schemathesis took {:.1} s", started.elapsed().as_secs_f64());
    assert!(
        out.status.success(),
        "schemathesis found problems (see above)"
    );
    assert!(
        started.elapsed() < Duration::from_secs(240),
        "keep the run bounded"
    );
    monitor.stop().await;
}
