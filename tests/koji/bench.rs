//! The side-repo benchmark `bench/koji.sh` runs (ignored in normal test runs): the RPMs in
//! `FBS_BENCH_KOJI_RPMS` served by the stand-in as one build, made into a side repo by fbs
//! (cold cache), and fetched by `curl` one after another and by `xargs -P4 curl`, each
//! followed by `createrepo_c`, so all three end with the same repository.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fbs_core::joblog::MemorySink;
use fbs_core::runner::CancellationToken;
use fbs_worker::siderepo;

use super::{old_spec, settings};
use crate::helper::koji::{HubBuild, StandIn, read_rpms};

fn timed(cmd: &mut Command) -> Duration {
    let started = Instant::now();
    let st = cmd.status().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(st.success(), "{cmd:?} failed");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark; bench/koji.sh runs it"]
async fn bench_side_repo_against_curl() {
    let dir = std::env::var_os("FBS_BENCH_KOJI_RPMS").expect("FBS_BENCH_KOJI_RPMS names the RPMs");
    let rpms = read_rpms(Path::new(&dir), 10);
    let total: i64 = rpms.iter().map(|r| r.size).sum();
    let hub = StandIn::with_builds(vec![HubBuild {
        id: 1,
        name: "benchset".into(),
        version: "1.0".into(),
        release: "1".into(),
        state: 1,
        volume: "DEFAULT".into(),
        draft: false,
        rpms,
    }])
    .await;
    let urls: Vec<String> = hub.with(|s| {
        s.files
            .keys()
            .filter(|k| !k.contains("/data/signed/"))
            .map(|k| format!("{}{k}", hub.topurl))
            .collect()
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    let (spec, _) = old_spec(
        &tmp.path().join("spec"),
        &tmp.path().join("st"),
        tmp.path(),
        "benchset-1.0-1",
        "",
    );
    let set = settings(&hub, &tmp.path().join("cache"));
    let started = Instant::now();
    let repo = siderepo::make(
        &set,
        &spec,
        &tmp.path().join("side"),
        &MemorySink::new(10_000),
        &CancellationToken::new(),
    )
    .await
    .expect("side repo");
    let fbs = started.elapsed();
    let started = Instant::now();
    siderepo::make(
        &set,
        &spec,
        &tmp.path().join("side2"),
        &MemorySink::new(10_000),
        &CancellationToken::new(),
    )
    .await
    .expect("side repo from the cache");
    let warm = started.elapsed();

    let (u1, u2) = (urls.clone(), urls.clone());
    let seq_dir = tmp.path().join("seq");
    let par_dir = tmp.path().join("par");
    let (seq, par) = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&seq_dir).expect("mkdir");
        std::fs::create_dir_all(&par_dir).expect("mkdir");
        let seq = timed(
            Command::new("curl")
                .args(["-sf", "--remote-name-all"])
                .args(&u1)
                .current_dir(&seq_dir),
        ) + timed(
            Command::new("createrepo_c")
                .args(["--no-database", "-q"])
                .arg(&seq_dir),
        );
        let list = u2.join("\n");
        let par = timed(
            Command::new("sh")
                .args([
                    "-c",
                    "printf '%s\\n' \"$1\" | xargs -P4 -n1 curl -sfO",
                    "bench",
                    &list,
                ])
                .current_dir(&par_dir),
        ) + timed(
            Command::new("createrepo_c")
                .args(["--no-database", "-q"])
                .arg(&par_dir),
        );
        (seq, par)
    })
    .await
    .expect("curl ran");
    let mb = total as f64 / 1e6;
    println!(
        "side repo of {} RPMs, {mb:.0} MB, from the stand-in on loopback (each ends with createrepo_c):",
        repo.files.len()
    );
    for (what, t) in [
        ("fbs (4 parallel, verified)", fbs),
        ("curl sequential", seq),
        ("xargs -P4 curl", par),
        ("fbs, warm cache", warm),
    ] {
        println!(
            "  {what:<28} {:>7.2} s  {:>7.1} MB/s",
            t.as_secs_f64(),
            mb / t.as_secs_f64()
        );
    }
    println!(
        "  ratio fbs / curl sequential: {:.2}; fbs / xargs -P4: {:.2}",
        fbs.as_secs_f64() / seq.as_secs_f64(),
        fbs.as_secs_f64() / par.as_secs_f64()
    );
}
