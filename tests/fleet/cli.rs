//! The client commands driven as a user would: `fbs submit/jobs/status/cancel/retry/workers/
//! logs -f` against a worker process, outputs and exit codes checked.

use std::process::Output;
use std::time::{Duration, Instant};

use super::rig::{Rig, shared_redis};

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn run(rig: &Rig, args: &[&str]) -> Output {
    rig.fbs().args(args).output().expect("run fbs")
}

fn ok(rig: &Rig, args: &[&str]) -> String {
    let o = run(rig, args);
    assert!(
        o.status.success(),
        "fbs {args:?} failed: {}{}",
        text(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    text(&o)
}

fn job_id(submit_out: &str) -> String {
    submit_out
        .split_whitespace()
        .nth(1)
        .expect("job id in submit output")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_commands_as_a_user_runs_them() {
    let Some(url) = shared_redis() else { return };
    let mut rig = Rig::new(&url).await;
    rig.spawn_worker(
        "x86_64:17",
        "echo \"building $FBS_JOB_ID\"; echo iso > \"$OUT/test.iso\"",
    );
    let t = Instant::now();
    while !ok(&rig, &["workers"]).contains("fbs:x86_64:17") {
        assert!(t.elapsed() < Duration::from_secs(20), "no worker listed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let workers: serde_json::Value =
        serde_json::from_str(&ok(&rig, &["workers", "--json"])).expect("json");
    assert_eq!(workers.as_array().map(Vec::len), Some(1));

    let spec = rig.spec_file("x86_64", "17");
    let spec = spec.to_str().expect("utf-8 path");
    let out = ok(&rig, &["submit", spec, "--watch"]);
    let id = job_id(&out);
    assert!(
        out.starts_with(&format!("job {id} queued on fbs:x86_64:17\n")),
        "{out}"
    );
    assert!(out.contains(&format!("log: fbs logs -f {id}")), "{out}");
    assert!(out.contains(&format!("out building {id}")), "{out}");
    assert!(out.contains(&format!("job {id} succeeded")), "{out}");

    let status = ok(&rig, &["status", &id]);
    assert!(status.contains("state:     succeeded"), "{status}");
    assert!(status.contains("artifact:  test.iso"), "{status}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&rig, &["status", &id, "--json"])).expect("json");
    assert_eq!(json["state"], "succeeded");
    assert!(ok(&rig, &["logs", &id]).contains("job succeeded"));
    assert!(ok(&rig, &["logs", "-f", &id]).contains("staged test.iso"));
    let listed = ok(&rig, &["jobs", "--state", "succeeded", "--json"]);
    assert!(listed.contains(&id), "{listed}");
    assert!(ok(&rig, &["jobs"]).contains(&id));

    // A job for a queue no worker serves: cancel, retry, cancel again.
    let spec2 = rig.spec_file("i686", "rawhide");
    let spec2 = spec2.to_str().expect("utf-8 path");
    let out = rig
        .fbs()
        .args(["submit", spec2])
        .env("FBS_MONITOR_URL", "http://monitor.example:8080/")
        .output()
        .expect("submit");
    assert!(out.status.success());
    let out = text(&out);
    let id2 = job_id(&out);
    assert!(
        out.contains(&format!("log: http://monitor.example:8080/jobs/{id2}")),
        "{out}"
    );
    let queued = ok(&rig, &["jobs", "--queue", "i686:rawhide"]);
    assert!(
        queued.contains(&id2) && queued.contains("queued"),
        "{queued}"
    );
    assert_eq!(ok(&rig, &["cancel", &id2]), format!("job {id2} canceled\n"));
    assert!(ok(&rig, &["cancel", &id2]).contains("already ended: canceled"));
    assert_eq!(
        ok(&rig, &["retry", &id2]),
        format!("job {id2} queued again on fbs:i686:rawhide (attempt 2)\n")
    );
    assert!(ok(&rig, &["status", &id2]).contains("state:     queued"));
    ok(&rig, &["cancel", &id2]);

    // Mistakes exit with the documented codes.
    let o = run(&rig, &["retry", &id]);
    assert_eq!(o.status.code(), Some(2), "retrying a succeeded job");
    let o = run(&rig, &["status", "0190c3e2-0000-7000-8000-000000000000"]);
    assert_eq!(o.status.code(), Some(2), "an unknown job");
    let o = run(&rig, &["status", "not-a-job"]);
    assert_eq!(o.status.code(), Some(2));
    let o = rig
        .fbs()
        .args(["jobs", "--broker", "redis://127.0.0.1:1/0"])
        .output()
        .expect("jobs");
    assert_eq!(o.status.code(), Some(3), "an unreachable broker");
}
