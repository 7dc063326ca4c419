//! Koji side repos against the stand-in hub (`helper::koji`) and real tools: the stand-in
//! checked with the real `koji` client library, SIGMD5 checked against `rpm`, side repos
//! from an old-format spec, native DVD builds that take the Koji version over older and
//! newer base packages, the cache, offline mode, and every failure naming its build or file.

mod bench;
mod failures;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use fbs_core::config::KojiConfig;
use fbs_core::job::{JobRecord, JobState, QueueName};
use fbs_core::joblog::MemorySink;
use fbs_core::queue::{JobStore, LeaseSettings, SqliteStore, WorkerIdentity};
use fbs_core::runner::CancellationToken;
use fbs_core::spec::{BuildSpec, load_spec};
use fbs_worker::koji::{BuildRef, KojiClient, PathInfo};
use fbs_worker::manifest::Manifest;
use fbs_worker::siderepo::{self, SideRepoSettings};
use fbs_worker::{Pipeline, RunOptions, Worker};

use crate::helper::koji::{KOJIDEP_ID, StandIn, fixtures};
use crate::helper::venv_tool;

/// Side-repo settings for the stand-in with the cache in `cache`; retries are quick.
pub(crate) fn settings(hub: &StandIn, cache: &Path) -> SideRepoSettings {
    SideRepoSettings {
        koji: KojiConfig {
            hub: hub.hub.clone(),
            topurl: hub.topurl.clone(),
            signing_key: None,
            offline: false,
        },
        cache_dir: cache.to_path_buf(),
        retries: 1,
        backoff: Duration::from_millis(50),
        ..SideRepoSettings::default()
    }
}

/// An old-format (FBS INI) DVD spec with `nvr`/`bid` lists ending in `;`, its kickstart
/// naming `base` as the only repo; read and flattened as `fbs submit` does.
pub(crate) fn old_spec(
    dir: &Path,
    staging: &Path,
    base: &Path,
    nvr: &str,
    bid: &str,
) -> (BuildSpec, String) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(
        dir.join("dvd.ks"),
        format!(
            "repo --name=base --baseurl=file://{}\n%packages\nkojipkg\nkojidep\n%end\n",
            base.display()
        ),
    )
    .expect("ks");
    std::fs::write(
        dir.join("dvd.conf"),
        format!(
            "[DEFAULT]\ntype=dvd\narch=x86_64\nrelease=40\nstaging=file://{}\nemail=qa@example.org\n\n\
             [dvd]\nname=FBS\nversion=40\nflavor=Koji\nnosource=1\nstage=all\nconfig=dvd.ks\n\
             nvr={nvr}\nbid={bid}\n",
            staging.display()
        ),
    )
    .expect("spec");
    let mut spec = load_spec(&dir.join("dvd.conf")).expect("spec loads").spec;
    spec.builder = fbs_core::spec::BuilderChoice::Native;
    let ks = fbs_core::kickstart::flatten_file(&dir.join("dvd.ks"), dir).expect("flattens");
    (spec, ks.text)
}

/// A job run through a worker with the given side-repo settings: its final record and log.
pub(crate) async fn run_job(
    spec: BuildSpec,
    ks: String,
    side: SideRepoSettings,
    work: &Path,
) -> (JobRecord, String) {
    let lease = LeaseSettings {
        expiry: Duration::from_secs(30),
        heartbeat: Duration::from_secs(2),
        poll: Duration::from_millis(200),
        max_attempts: 1,
    };
    std::fs::create_dir_all(work).expect("mkdir");
    let store = Arc::new(
        SqliteStore::open(&work.join("jobs.db"), lease)
            .await
            .expect("store"),
    );
    let job = JobRecord::new(spec, Some(ks));
    store.submit(job.clone()).await.expect("submit");
    let queues = vec![job.queue.clone(), QueueName::host("koji-test")];
    let worker = Worker {
        identity: WorkerIdentity {
            name: Worker::unique_name("koji-test", &queues),
            host: "koji-test".into(),
        },
        queues,
        concurrency: 1,
        poll: Duration::from_millis(200),
        pipeline: Pipeline {
            store: store.clone(),
            builders: fbs_worker::builders::default_builders(),
            builder_override: None,
            work_dir: work.join("jobs"),
            heartbeat: Duration::from_secs(2),
            job_timeout: Duration::from_secs(900),
            extra_log: None,
            notifier: None,
            staging: Default::default(),
            side_repos: side,
        },
    };
    let opts = RunOptions {
        stop_when_idle: true,
        ..RunOptions::default()
    };
    tokio::time::timeout(Duration::from_secs(1200), worker.run(opts))
        .await
        .expect("worker finished in time")
        .expect("worker ok");
    let rec = store.get(job.id).await.expect("get").expect("exists");
    let log = std::fs::read_to_string(work.join("jobs").join(job.id.to_string()).join("build.log"))
        .unwrap_or_default();
    (rec, log)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_koji_client_reads_the_stand_in_and_agrees_on_every_url() {
    let Some(fx) = fixtures() else { return };
    let Some(python) = venv_tool("python") else {
        return;
    };
    let hub = StandIn::start(&fx).await;
    let script = r#"
import json, sys, koji
hub, topurl = sys.argv[1], sys.argv[2]
s = koji.ClientSession(hub)
pi = koji.PathInfo(topdir=topurl)
out = {}
for ref in ["kojipkg-2.0-1.fc40", 5000000001, "kojipkg-2.0-1.fc40,draft_1003"]:
    b = s.getBuild(ref)
    rpms = s.listRPMs(buildID=b["id"], arches=["x86_64", "noarch"])
    out[str(ref)] = {"id": b["id"], "state": b["state"], "epoch": b["epoch"],
                     "urls": sorted(pi.build(b) + "/" + pi.rpm(r) for r in rpms),
                     "sizes": sorted(r["size"] for r in rpms)}
out["missing"] = s.getBuild("nosuch-1.0-1.fc40")
try:
    s.getBuild("garbage")
    out["fault"] = None
except koji.GenericError as e:
    out["fault"] = str(e)
print(json.dumps(out))
"#;
    let (hub_url, topurl) = (hub.hub.clone(), hub.topurl.clone());
    let py = python.clone();
    let text = tokio::task::spawn_blocking(move || {
        run(Command::new(py)
            .arg("-c")
            .arg(script)
            .arg(hub_url)
            .arg(topurl))
    })
    .await
    .expect("python ran");
    let oracle: serde_json::Value = serde_json::from_str(text.trim()).expect("json");
    assert_eq!(oracle["missing"], serde_json::Value::Null);
    assert!(
        oracle["fault"]
            .as_str()
            .is_some_and(|f| f.contains("invalid format: garbage")),
        "{oracle}"
    );
    assert_eq!(oracle["5000000001"]["id"], KOJIDEP_ID);
    assert_eq!(
        oracle["kojipkg-2.0-1.fc40"]["epoch"],
        serde_json::Value::Null
    );

    let client = KojiClient::new(&hub.hub).expect("client");
    let paths = PathInfo::new(&hub.topurl);
    for (key, r) in [
        (
            "kojipkg-2.0-1.fc40",
            BuildRef::Nvr("kojipkg-2.0-1.fc40".into()),
        ),
        ("5000000001", BuildRef::Id(KOJIDEP_ID)),
        (
            "kojipkg-2.0-1.fc40,draft_1003",
            BuildRef::Nvr("kojipkg-2.0-1.fc40,draft_1003".into()),
        ),
    ] {
        let b = client.complete_build(&r).await.expect("build");
        assert_eq!(b.id, oracle[key]["id"].as_i64().expect("id"), "{key}");
        let rpms = client
            .list_rpms(b.id, &["x86_64", "noarch"])
            .await
            .expect("rpms");
        let mut ours: Vec<String> = rpms.iter().map(|x| paths.rpm_url(&b, x)).collect();
        ours.sort();
        let theirs: Vec<String> = oracle[key]["urls"]
            .as_array()
            .expect("urls")
            .iter()
            .map(|u| u.as_str().expect("str").to_owned())
            .collect();
        assert_eq!(ours, theirs, "{key}");
        for u in &ours {
            let resp = reqwest::get(u).await.expect("get");
            assert!(resp.status().is_success(), "{u}: {}", resp.status());
        }
    }
    assert!(
        oracle["5000000001"]["urls"][0]
            .as_str()
            .is_some_and(|u| u.contains("/vol/archive/packages/"))
    );
    assert!(
        oracle["kojipkg-2.0-1.fc40,draft_1003"]["urls"][0]
            .as_str()
            .is_some_and(|u| u.contains("/1.fc40,draft_1003/") && u.ends_with("1.fc40.noarch.rpm"))
    );
    assert!(
        client
            .get_build(&BuildRef::Nvr("nosuch-1.0-1.fc40".into()))
            .await
            .expect("call")
            .is_none()
    );
    let e = client
        .get_build(&BuildRef::Nvr("garbage".into()))
        .await
        .expect_err("fault");
    assert!(
        e.to_string()
            .contains("fault 1000: koji.GenericError: invalid format: garbage"),
        "{e}"
    );
}

#[test]
fn sigmd5_is_what_rpm_reports_for_every_fixture_rpm() {
    let Some(fx) = fixtures() else { return };
    let mut files: Vec<PathBuf> = Vec::new();
    for d in ["build-kojipkg", "build-kojidep", "base-old", "base-new"] {
        for e in std::fs::read_dir(fx.join(d)).expect("dir") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "rpm") {
                files.push(p);
            }
        }
    }
    if let Some(main) = crate::helper::fixtures::fixtures() {
        for name in ["fbs-test-sh", "fbs-test-app", "kernel"] {
            files.push(main.rpm(name));
        }
    }
    assert!(files.len() >= 13, "{files:?}");
    for f in &files {
        let want = run(Command::new("rpm")
            .args(["-qp", "--nosignature", "--qf", "%{SIGMD5}"])
            .arg(f));
        let got = siderepo::digest::digest_file(f, false).expect("digest");
        assert_eq!(got.sigmd5.as_deref(), Some(want.trim()), "{}", f.display());
        assert_eq!(got.size, std::fs::metadata(f).expect("meta").len());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_old_spec_gives_a_side_repo_of_exactly_the_right_rpms_and_a_second_one_downloads_nothing()
 {
    let Some(fx) = fixtures() else { return };
    let hub = StandIn::start(&fx).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let (spec, _) = old_spec(
        &tmp.path().join("spec"),
        &tmp.path().join("staging"),
        &fx.join("base-old"),
        "kojipkg-2.0-1.fc40;",
        &format!("{KOJIDEP_ID};"),
    );
    assert_eq!(spec.koji.build_ids, [KOJIDEP_ID]);
    let set = settings(&hub, &tmp.path().join("cache"));
    let log = MemorySink::new(1000);
    let dir = tmp.path().join("side1");
    let repo = siderepo::make(&set, &spec, &dir, &log, &CancellationToken::new())
        .await
        .expect("side repo");
    assert_eq!(
        repo.files,
        [
            "kojidep-1.0-1.fc40.noarch.rpm",
            "kojipkg-2.0-1.fc40.x86_64.rpm",
            "kojipkg-data-2.0-1.fc40.noarch.rpm"
        ]
    );
    assert_eq!(repo.packages, ["kojidep", "kojipkg", "kojipkg-data"]);
    assert_eq!(repo.builds, ["kojipkg-2.0-1.fc40", "kojidep-1.0-1.fc40"]);
    let served = hub.with(|s| s.bytes_served);
    assert_eq!(repo.downloaded_bytes, served);
    assert!(served > 0);

    // The metadata is valid: dnf reads exactly these packages from it.
    let scratch = tmp.path().join("scratch");
    let empty = tmp.path().join("empty-reposd");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let listed = run(Command::new("dnf")
        .args(["-q", "--releasever=40", "--noplugins"])
        .arg(format!("--installroot={}", scratch.display()))
        .arg(format!("--setopt=reposdir={}", empty.display()))
        .arg(format!("--repofrompath=side,file://{}", dir.display()))
        .args([
            "--repo=side",
            "--setopt=side.gpgcheck=0",
            "repoquery",
            "--qf",
            "%{name}-%{version}-%{release}.%{arch}\\n",
        ]));
    let mut listed: Vec<&str> = listed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "kojidep-1.0-1.fc40.noarch",
            "kojipkg-2.0-1.fc40.x86_64",
            "kojipkg-data-2.0-1.fc40.noarch"
        ]
    );
    let texts = log.texts();
    assert!(
        texts.iter().any(|t| t.starts_with("koji: [3/3] ")),
        "{texts:?}"
    );

    // The same spec again: everything from the cache.
    let log = MemorySink::new(1000);
    let again = siderepo::make(
        &set,
        &spec,
        &tmp.path().join("side2"),
        &log,
        &CancellationToken::new(),
    )
    .await
    .expect("side repo again");
    assert_eq!(again.downloaded_bytes, 0);
    assert_eq!(again.from_cache, 3);
    assert_eq!(
        hub.with(|s| s.bytes_served),
        served,
        "nothing downloaded the second time"
    );
    assert!(
        log.texts()
            .iter()
            .any(|t| t.contains("downloaded 0 bytes, 3 from the cache")),
        "{:?}",
        log.texts()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_native_dvd_takes_the_koji_version_over_older_and_newer_base_packages() {
    let Some(fx) = fixtures() else { return };
    let hub = StandIn::start(&fx).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    for base in ["base-old", "base-new"] {
        let staging = tmp.path().join("staging");
        let (spec, ks) = old_spec(
            &tmp.path().join(base),
            &staging,
            &fx.join(base),
            "kojipkg-2.0-1.fc40;",
            &format!("{KOJIDEP_ID};"),
        );
        let (rec, log) = run_job(
            spec,
            ks,
            settings(&hub, &cache),
            &tmp.path().join(format!("w-{base}")),
        )
        .await;
        assert_eq!(
            rec.state,
            JobState::Succeeded,
            "{base}: {:?}\n{log}",
            rec.error
        );
        let dest = staging.join(rec.id.to_string());
        let manifest: Manifest = serde_json::from_str(
            &std::fs::read_to_string(dest.join("manifest.json")).expect("manifest"),
        )
        .expect("manifest parses");
        let pkgs = manifest.packages.join("\n");
        for want in [
            "kojipkg-0:2.0-1.fc40.x86_64",
            "kojipkg-data-0:2.0-1.fc40.noarch",
            "kojidep-0:1.0-1.fc40.noarch",
        ] {
            assert!(
                manifest.packages.iter().any(|p| p == want),
                "{base}: {want} missing from\n{pkgs}"
            );
        }
        assert!(
            !pkgs.contains("1.0-1.fc40.x86_64") && !pkgs.contains(":3.0-"),
            "{base}:\n{pkgs}"
        );
        let staged_log = std::fs::read_to_string(dest.join("build.log")).unwrap_or_default();
        assert!(
            staged_log.contains("repo --name=fbs-side")
                || staged_log.contains("added repo fbs-side"),
            "{staged_log}"
        );
        if base == "base-new" {
            assert!(
                staged_log.contains("downloaded 0 bytes, 3 from the cache"),
                "{staged_log}"
            );
        }
    }
}
