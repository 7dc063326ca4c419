//! A real browser on the web UI: Debian's Chromium driven by playwright-core (installed by
//! `scripts/testenv.sh` under the test environment; no browser download), against an
//! in-process monitor on Redis and a real `fbs worker` whose script builder prints slowly.
//! Screenshots are written under the target directory and their paths printed.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use fbs_core::config::DaemonConfig;

use super::server::Monitor;
use crate::fleet::rig::{Rig, shared_redis};
use crate::helper;

fn node_modules() -> Option<PathBuf> {
    match std::env::var_os("FBS_TEST_NODE_MODULES") {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.join("playwright-core").is_dir(),
                "playwright-core is missing from {} (scripts/testenv.sh up installs it)",
                p.display()
            );
            Some(p)
        }
        None if helper::opted_out() => {
            eprintln!("skipped: FBS_TEST_NODE_MODULES is not set and FBS_TEST_OPTOUT=1");
            None
        }
        None => panic!(
            "FBS_TEST_NODE_MODULES is not set: run the tests through scripts/test.sh (or set FBS_TEST_OPTOUT=1)"
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_submits_a_job_and_watches_it_live() {
    let Some(url) = shared_redis() else { return };
    let Some(modules) = node_modules() else {
        return;
    };
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing (scripts/testenv.sh up installs it)"
    );
    let mut rig = Rig::new(&url).await;
    let monitor = Monitor::start(
        DaemonConfig::default(),
        fbs_monitor::Backend::redis(rig.store.clone()),
    )
    .await;
    let script = "i=1; while [ $i -le 24 ]; do echo \"build step $i of 24\"; sleep 0.25; i=$((i+1)); done; \
        echo iso > \"$OUT/test.iso\"";
    rig.spawn_worker("x86_64:17", script);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("monitor-browser");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let js = helper::root().join("tests/monitor/browser.js");
    let mut cmd = Command::new("node");
    cmd.arg(&js)
        .env("NODE_PATH", &modules)
        .env("FBS_URL", monitor.url(""))
        .env("FBS_TOKEN", &monitor.token)
        .env("FBS_SHOTS", &shots)
        .env("FBS_STAGING", rig.path("staging"));
    let out = tokio::time::timeout(
        Duration::from_secs(240),
        tokio::task::spawn_blocking(move || cmd.output()),
    )
    .await
    .expect("the browser run ends")
    .expect("join")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser run failed:\n{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        rig.worker_logs()
    );
    let seen: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("json");
    let live = seen["live_text"].as_str().unwrap_or("");
    assert!(live.contains("build step 3 of 24"), "{seen}");
    assert!(
        !live.contains("build step 24 of 24") || !live.contains("job succeeded"),
        "the page showed lines while the job ran: {seen}"
    );
    assert_eq!(seen["final_badge"].as_str(), Some("succeeded"), "{seen}");
    let final_log = seen["final_log"].as_str().unwrap_or("");
    for i in 1..=24 {
        assert!(
            final_log.contains(&format!("build step {i} of 24")),
            "line {i}: {seen}"
        );
    }
    assert_eq!(
        seen["phone_overflow"].as_bool(),
        Some(false),
        "the phone page scrolls sideways"
    );
    for f in [
        "job-live.png",
        "dashboard.png",
        "job-done.png",
        "dashboard-phone.png",
    ] {
        let p = shots.join(f);
        assert!(
            p.metadata().is_ok_and(|m| m.len() > 1000),
            "{}",
            p.display()
        );
        eprintln!("screenshot: {}", p.display());
    }
    let id: fbs_core::job::JobId = seen["job"].as_str().expect("job id").parse().expect("uuid");
    assert_eq!(rig.get(id).await.state, fbs_core::job::JobState::Succeeded);
    monitor.stop().await;
}
