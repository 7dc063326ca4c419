//! Side-repo failures through the worker: each job fails in the prepare stage with a message
//! naming the build or file, and the download cache holds nothing half-written or
//! unverified afterwards. Also offline mode, and signed copies checked by `getRPMChecksums`.

use std::path::Path;

use fbs_core::job::JobState;
use fbs_core::joblog::MemorySink;
use fbs_core::runner::CancellationToken;
use fbs_worker::siderepo::{self, SideRepoError, SideRepoSettings};

use super::{old_spec, run_job, settings};
use crate::helper::koji::{KOJIDEP_ID, SIGNING_KEY, Serve, StandIn, closed_port_url, fixtures};

/// Every cache entry passes its own key's check, and no temporary file is left.
fn assert_cache_clean(cache: &Path) {
    let tmp = cache.join("koji/tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    let dir = cache.join("koji/rpms/sigmd5");
    for e in std::fs::read_dir(&dir)
        .map(|d| d.flatten().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let (md5, size) = name
            .trim_end_matches(".rpm")
            .rsplit_once('-')
            .expect("md5-size.rpm");
        let d = siderepo::digest::digest_file(&e.path(), false).expect("digest");
        assert_eq!(d.sigmd5.as_deref(), Some(md5), "{name}");
        assert_eq!(d.size.to_string(), size, "{name}");
    }
}

/// A job for `nvr` against `hub` (changed by `change` first) fails mentioning every `want`.
async fn job_fails(hub: &StandIn, set: SideRepoSettings, nvr: &str, wants: &[&str]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let fx = fixtures().expect("fixtures");
    let cache = set.cache_dir.clone();
    let (spec, ks) = old_spec(
        &tmp.path().join("spec"),
        &tmp.path().join("staging"),
        &fx.join("base-old"),
        nvr,
        "",
    );
    let (rec, log) = run_job(spec, ks, set, &tmp.path().join("work")).await;
    assert_eq!(
        rec.state,
        JobState::Failed,
        "expected a failure mentioning {wants:?}:\n{log}"
    );
    let error = rec.error.unwrap_or_default();
    assert!(
        error.starts_with("prepare: side repo: "),
        "expected {wants:?}, got {error}"
    );
    for want in wants {
        assert!(
            error.contains(want),
            "{error:?} does not mention {want:?}\n{log}"
        );
    }
    assert!(log.contains(&error), "the job log has the reason:\n{log}");
    assert!(!log.contains("== build"), "the build never started:\n{log}");
    let _ = hub;
    assert_cache_clean(&cache);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_and_failed_builds_and_a_down_hub_fail_the_job_naming_them() {
    let Some(fx) = fixtures() else { return };
    let hub = StandIn::start(&fx).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    job_fails(
        &hub,
        settings(&hub, &cache),
        "nosuch-1.0-1.fc40;",
        &[&format!("build nosuch-1.0-1.fc40 not found on {}", hub.hub)],
    )
    .await;
    job_fails(
        &hub,
        settings(&hub, &cache),
        "failpkg-1.0-1.fc40;",
        &["build failpkg-1.0-1.fc40 is FAILED, not COMPLETE"],
    )
    .await;
    let mut down = settings(&hub, &cache);
    down.koji.hub = closed_port_url();
    job_fails(
        &hub,
        down.clone(),
        "kojipkg-2.0-1.fc40;",
        &[
            &format!("Koji hub {} is unreachable", down.koji.hub),
            "may pass on another try",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_404_a_wrong_size_and_a_wrong_checksum_fail_the_job_naming_the_file() {
    let Some(fx) = fixtures() else { return };
    let hub = StandIn::start(&fx).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    let nvr = "kojipkg-2.0-1.fc40";
    let data = "kojipkg-data-2.0-1.fc40.noarch.rpm";
    let arch = "kojipkg-2.0-1.fc40.x86_64.rpm";

    let path = hub.with(|s| s.path_of(nvr, data));
    hub.with(|s| s.files.insert(path.clone(), Serve::Status(404)));
    job_fails(
        &hub,
        settings(&hub, &cache),
        "kojipkg-2.0-1.fc40;",
        &[&format!(
            "downloading {data} of build {nvr} from {}{path}: HTTP 404",
            hub.topurl
        )],
    )
    .await;
    hub.with(|s| {
        let file = s.rpm_mut(data).file.clone();
        s.files.insert(path.clone(), Serve::File(file))
    });

    let size = hub.with(|s| {
        let r = s.rpm_mut(arch);
        r.size += 1;
        r.size
    });
    job_fails(
        &hub,
        settings(&hub, &cache),
        "kojipkg-2.0-1.fc40;",
        &[arch, nvr, &format!("Koji says {size}")],
    )
    .await;
    hub.with(|s| s.rpm_mut(arch).size -= 1);

    let real = hub.with(|s| {
        let r = s.rpm_mut(arch);
        std::mem::replace(
            &mut r.payloadhash,
            "0123456789abcdef0123456789abcdef".into(),
        )
    });
    job_fails(
        &hub,
        settings(&hub, &cache),
        "kojipkg-2.0-1.fc40;",
        &[
            arch,
            nvr,
            &format!(
                "header+payload MD5 {real}, Koji's payloadhash is 0123456789abcdef0123456789abcdef"
            ),
        ],
    )
    .await;
    hub.with(|s| s.rpm_mut(arch).payloadhash = real);

    // A 500 is retried once (the settings' one retry), then reported as retryable. A fresh
    // cache, since the jobs above may have cached the file before failing on another one.
    hub.with(|s| s.files.insert(path.clone(), Serve::Status(500)));
    let before = hub.with(|s| s.file_requests.iter().filter(|p| **p == path).count());
    job_fails(
        &hub,
        settings(&hub, &tmp.path().join("cache-500")),
        "kojipkg-2.0-1.fc40;",
        &[data, "HTTP 500", "may pass on another try"],
    )
    .await;
    let tries = hub.with(|s| s.file_requests.iter().filter(|p| **p == path).count()) - before;
    assert_eq!(tries, 2, "one try and one retry");
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_mode_needs_a_warm_cache_and_then_needs_no_hub() {
    let Some(fx) = fixtures() else { return };
    let hub = StandIn::start(&fx).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    let (spec, _) = old_spec(
        &tmp.path().join("spec"),
        &tmp.path().join("staging"),
        &fx.join("base-old"),
        "kojipkg-2.0-1.fc40;",
        &format!("{KOJIDEP_ID}"),
    );
    let mut offline = settings(&hub, &cache);
    offline.koji.offline = true;
    let cancel = CancellationToken::new();
    let e = siderepo::make(
        &offline,
        &spec,
        &tmp.path().join("s0"),
        &MemorySink::new(100),
        &cancel,
    )
    .await
    .expect_err("cold cache");
    assert!(matches!(e, SideRepoError::Offline { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("offline mode: what ")
            && msg.contains("build kojipkg-2.0-1.fc40")
            && msg.contains("not in the download cache"),
        "{msg}"
    );
    assert!(
        hub.with(|s| s.calls.is_empty()),
        "offline mode called the hub"
    );
    let online = settings(&hub, &cache);

    siderepo::make(
        &online,
        &spec,
        &tmp.path().join("s1"),
        &MemorySink::new(100),
        &cancel,
    )
    .await
    .expect("online");
    // The hub goes away; its answers and files are in the cache.
    drop(hub);
    let r = siderepo::make(
        &offline,
        &spec,
        &tmp.path().join("s2"),
        &MemorySink::new(100),
        &cancel,
    )
    .await
    .expect("offline from a warm cache");
    assert_eq!((r.downloaded_bytes, r.files.len()), (0, 3));
    assert_cache_clean(&cache);
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_copies_come_from_data_signed_and_are_checked_by_sha256() {
    let Some(fx) = fixtures() else { return };
    let hub = StandIn::start(&fx).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let (spec, _) = old_spec(
        &tmp.path().join("spec"),
        &tmp.path().join("staging"),
        &fx.join("base-old"),
        "kojipkg-2.0-1.fc40",
        "",
    );
    let mut set = settings(&hub, &tmp.path().join("cache"));
    set.koji.signing_key = Some(SIGNING_KEY.to_uppercase());
    let r = siderepo::make(
        &set,
        &spec,
        &tmp.path().join("s"),
        &MemorySink::new(100),
        &CancellationToken::new(),
    )
    .await
    .expect("signed side repo");
    assert_eq!(r.files.len(), 2);
    let requests = hub.with(|s| s.file_requests.clone());
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|p| p.contains(&format!("/data/signed/{SIGNING_KEY}/"))),
        "{requests:?}"
    );
    assert!(hub.with(|s| s.calls.iter().filter(|c| *c == "getRPMChecksums").count()) == 2);

    // A signed copy that is not the file getRPMChecksums describes is refused.
    let path = hub.with(|s| s.path_of("kojipkg-2.0-1.fc40", "kojipkg-2.0-1.fc40.x86_64.rpm"));
    let signed = path.replace("/x86_64/", &format!("/data/signed/{SIGNING_KEY}/x86_64/"));
    let other = fx.join("base-new/kojipkg-3.0-1.fc40.x86_64.rpm");
    hub.with(|s| s.files.insert(signed, Serve::File(other)));
    let mut fresh = set.clone();
    fresh.cache_dir = tmp.path().join("cache2");
    let e = siderepo::make(
        &fresh,
        &spec,
        &tmp.path().join("s2"),
        &MemorySink::new(100),
        &CancellationToken::new(),
    )
    .await
    .expect_err("mismatch");
    assert!(e.to_string().contains("getRPMChecksums says"), "{e}");
    assert_cache_clean(&fresh.cache_dir);
}
