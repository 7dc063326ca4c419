//! The fleet on real Redis: routing by arch (and by `[broker]` across two servers), crash
//! recovery with worker processes killed mid-build, the attempt limit, a Redis restart, cancel,
//! and the client commands driven as a user would. Timers are 0.5–2 s; waits are generous.

mod cli;
pub(crate) mod rig;

use std::time::{Duration, Instant};

use fbs_core::config::DaemonConfig;
use fbs_core::job::JobState;
use fbs_core::spec::Arch;
use nix::sys::signal::Signal;
use rig::{RedisServer, Rig, shared_redis};

/// Attempt 1 hangs (it is killed with its worker); later attempts build at once. Records the
/// holder (the worker's pid) and its own process group for cleanup.
const CRASH: &str = r#"echo $$ >> "$FBS_TEST_DIR/build-pids"; echo $PPID > "$FBS_TEST_DIR/holder-$FBS_JOB_ID"
echo "building attempt $FBS_ATTEMPT"; if [ "$FBS_ATTEMPT" = 1 ]; then sleep 300; fi
echo iso > "$OUT/test.iso""#;

async fn holder(rig: &Rig, id: fbs_core::job::JobId, attempt: u32) -> u32 {
    let rec = rig
        .wait_for(id, 30, "running", |r| {
            r.state == JobState::Running && r.attempt == attempt
        })
        .await;
    let file = rig.path(&format!("holder-{}", rec.id));
    let t = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "no holder file");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_workers_job_is_redone_once_by_a_peer_or_its_restarted_successor() {
    let Some(url) = shared_redis() else { return };
    let mut rig = Rig::new(&url).await;
    let mut workers = vec![rig.spawn_worker("x86_64:17", CRASH)];
    let mut redo_times = Vec::new();
    for round in 0..10 {
        let with_peer = round % 2 == 0;
        if with_peer && workers.len() < 2 {
            workers.push(rig.spawn_worker("x86_64:17", CRASH));
        }
        while !with_peer && workers.len() > 1 {
            let pid = workers.remove(0);
            rig.signal(pid, Signal::SIGKILL);
        }
        let job = rig.submit("x86_64", "17").await;
        let pid = holder(&rig, job.id, 1).await;
        assert!(
            workers.contains(&pid),
            "holder {pid} is not one of {workers:?}"
        );
        let killed = Instant::now();
        rig.signal(pid, Signal::SIGKILL);
        workers.retain(|p| *p != pid);
        if !with_peer {
            workers.push(rig.spawn_worker("x86_64:17", CRASH));
        }
        rig.wait_for(job.id, 30, "taken again", |r| {
            r.attempt == 2 && r.state != JobState::Queued
        })
        .await;
        redo_times.push(killed.elapsed());
        let done = rig
            .wait_for(job.id, 30, "finished", |r| r.state.is_final())
            .await;
        assert_eq!(done.state, JobState::Succeeded, "{:?}", done.error);
        assert_eq!(done.attempt, 2);
        let log = rig.log_text(job.id).await;
        assert_eq!(log.matches("staged test.iso").count(), 1, "{log}");
    }
    eprintln!("kill -9 → job taken again: {redo_times:?}");
    // Lease expiry (2 s) + one poll (0.5 s), with room for a loaded machine.
    assert!(redo_times.iter().all(|d| *d < Duration::from_secs(15)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_stale_worker_cannot_overwrite_the_newer_result() {
    let Some(url) = shared_redis() else { return };
    let mut rig = Rig::new(&url).await;
    let script = r#"echo $$ >> "$FBS_TEST_DIR/build-pids"; echo $PPID > "$FBS_TEST_DIR/holder-$FBS_JOB_ID"
if [ "$FBS_ATTEMPT" = 1 ]; then sleep 3; fi; echo "attempt $FBS_ATTEMPT" > "$OUT/test.iso""#;
    let a = rig.spawn_worker("x86_64:17", script);
    let b = rig.spawn_worker("x86_64:17", script);
    for _ in 0..2 {
        let job = rig.submit("x86_64", "17").await;
        let stale = holder(&rig, job.id, 1).await;
        rig.signal(stale, Signal::SIGSTOP);
        let done = rig
            .wait_for(job.id, 30, "finished", |r| r.state.is_final())
            .await;
        assert_eq!((done.state, done.attempt), (JobState::Succeeded, 2));
        rig.signal(stale, Signal::SIGCONT);
        // The stale worker's build ends meanwhile; give it time to try to write.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let after = rig.get(job.id).await;
        assert_eq!(after, done, "a stale worker changed the record");
        let log = rig.log_text(job.id).await;
        assert_eq!(log.matches("staged test.iso").count(), 1, "{log}");
        assert!(log.contains("lease lost"), "{log}");
    }
    assert!(
        rig.alive(a) && rig.alive(b),
        "workers survive a pause\n{}",
        rig.worker_logs()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_kills_its_worker_every_time_ends_failed_after_the_limit() {
    let Some(url) = shared_redis() else { return };
    let mut rig = Rig::new(&url).await;
    let script = "kill -9 $PPID; sleep 2";
    let mut pid = rig.spawn_worker("x86_64:17", script);
    let job = rig.submit("x86_64", "17").await;
    let t = Instant::now();
    loop {
        let r = rig.get(job.id).await;
        if r.state.is_final() {
            assert_eq!(r.state, JobState::Failed);
            assert_eq!(r.attempt, 3);
            let error = r.error.unwrap_or_default();
            assert!(error.contains("gave up after 3 attempts"), "{error}");
            break;
        }
        if !rig.alive(pid) {
            pid = rig.spawn_worker("x86_64:17", script);
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "job not failed: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_restart_loses_no_job_and_workers_carry_on() {
    if shared_redis().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = RedisServer::start(&dir.path().join("redis"));
    let mut rig = Rig::new(&server.url()).await;
    let pid = rig.spawn_worker("x86_64:17", "sleep 0.3; echo iso > \"$OUT/test.iso\"");
    let mut jobs = Vec::new();
    for _ in 0..6 {
        jobs.push(rig.submit("x86_64", "17").await);
    }
    server.restart();
    for j in &jobs {
        let r = rig
            .wait_for(j.id, 60, "finished", |r| r.state.is_final())
            .await;
        assert_eq!(r.state, JobState::Succeeded, "{:?}", r.error);
    }
    assert!(
        rig.alive(pid),
        "the worker kept running\n{}",
        rig.worker_logs()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_of_a_running_job_leaves_no_builder_process() {
    let Some(url) = shared_redis() else { return };
    let mut rig = Rig::new(&url).await;
    let script = r#"echo $$ >> "$FBS_TEST_DIR/build-pids"; sleep 1000 & echo $! > "$FBS_TEST_DIR/child-$FBS_JOB_ID"; wait"#;
    rig.spawn_worker("x86_64:17", script);
    let job = rig.submit("x86_64", "17").await;
    rig.wait_for(job.id, 30, "running", |r| r.state == JobState::Running)
        .await;
    let file = rig.path(&format!("child-{}", job.id));
    let t = Instant::now();
    let child: i32 = loop {
        if let Some(p) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break p;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "no child pid");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let out = rig
        .fbs()
        .args(["cancel", &job.id.to_string()])
        .output()
        .expect("fbs cancel");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("cancel requested"));
    let r = rig
        .wait_for(job.id, 30, "canceled", |r| r.state.is_final())
        .await;
    assert_eq!(r.state, JobState::Canceled);
    let t = Instant::now();
    while alive(child) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "builder child {child} survived the cancel"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2).is_none_or(|st| st != "Z"))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn queues_route_by_arch_and_release_across_two_brokers() {
    let Some(url) = shared_redis() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let second = RedisServer::start(&dir.path().join("redis2"));
    let rig = Rig::new(&url).await;
    let store = rig::store(&url, Some((Arch::I686, second.url())), &rig.prefix).await;
    let mut config = DaemonConfig::default();
    config.broker.default = Some(url.clone());
    config.broker.arch.insert(Arch::I686, second.url());
    config.worker.work_dir = rig.path("jobs");
    config.worker.shutdown_grace = Duration::from_secs(1);
    config.lease = rig::lease();
    let daemon = |queue: &str, host: &str| {
        let options = fbs_worker::daemon::DaemonOptions {
            queues: vec![queue.to_owned()],
            hostname: Some(host.to_owned()),
            key_prefix: rig.prefix.clone(),
            ..Default::default()
        };
        let stop = options.stop.clone();
        let builders = fbs_worker::script::ScriptBuilder::registry("echo iso > \"$OUT/test.iso\"");
        let handle = tokio::spawn(fbs_worker::daemon::run(config.clone(), options, builders));
        (stop, handle)
    };
    let submit = |arch: &str, release: &str| {
        let spec = fbs_core::spec::load_spec(&rig.spec_file(arch, release)).expect("spec");
        fbs_core::job::JobRecord::new(spec.spec, None)
    };
    use fbs_core::queue::JobStore;
    let (stop_a, a) = daemon("x86_64:17", "host-a");
    let i686 = submit("i686", "rawhide");
    let x86 = submit("x86_64", "17");
    store.submit(i686.clone()).await.expect("submit");
    store.submit(x86.clone()).await.expect("submit");
    let done = rig
        .wait_for(x86.id, 30, "finished", |r| r.state.is_final())
        .await;
    assert_eq!(done.state, JobState::Succeeded, "{:?}", done.error);
    assert_eq!(done.worker_host.as_deref(), Some("host-a"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rig.get(i686.id).await.state, JobState::Queued);

    // The i686 queue lives on the second broker, the records on the first.
    let keys = |u: String, pattern: String| async move {
        let client = redis::Client::open(u).expect("client");
        let mut c = client
            .get_multiplexed_async_connection()
            .await
            .expect("conn");
        redis::cmd("KEYS")
            .arg(pattern)
            .query_async::<Vec<String>>(&mut c)
            .await
            .expect("keys")
    };
    let q = format!("{}fbs:i686:rawhide*", rig.prefix);
    assert!(!keys(second.url(), q.clone()).await.is_empty());
    assert!(keys(url.clone(), q).await.is_empty());
    assert!(
        !keys(url.clone(), format!("{}fbs:job:{}", rig.prefix, i686.id))
            .await
            .is_empty()
    );

    let (stop_b, b) = daemon("i686:rawhide", "host-b");
    let done = rig
        .wait_for(i686.id, 30, "finished", |r| r.state.is_final())
        .await;
    assert_eq!(done.state, JobState::Succeeded, "{:?}", done.error);
    assert_eq!(done.worker_host.as_deref(), Some("host-b"));
    for (stop, h) in [(stop_a, a), (stop_b, b)] {
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(30), h)
            .await
            .expect("daemon stops")
            .expect("join")
            .expect("daemon ok");
    }
}
