//! Live ISOs through the worker: staged with a manifest, checked inside out, booted.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fbs_core::job::{JobRecord, JobState};
use fbs_core::queue::{JobStore, LeaseSettings, SqliteStore, WorkerIdentity};
use fbs_core::spec::Arch;
use fbs_worker::manifest::Manifest;
use fbs_worker::{Pipeline, RunOptions, Worker};

use super::{BOOT_TIMEOUT, extract_iso, fx, iso_files, live, live_ks, run, sha256, spec};
use crate::helper::fixtures::{BASE_MARKER, BOOT_MARKER, POST_RAN};
use crate::helper::qemu;

#[tokio::test(flavor = "multi_thread")]
async fn a_live_iso_through_the_worker_holds_the_packages_and_boots() {
    let Some(fx) = fx() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let settings = LeaseSettings {
        expiry: Duration::from_secs(30),
        heartbeat: Duration::from_secs(2),
        poll: Duration::from_millis(200),
        max_attempts: 1,
    };
    let store = Arc::new(
        SqliteStore::open(&tmp.path().join("jobs.db"), settings)
            .await
            .expect("store"),
    );
    let staging = tmp.path().join("staging");
    let job = JobRecord::new(
        spec(&staging, live("FBS Test Live")),
        Some(live_ks(&fx.repo())),
    );
    store.submit(job.clone()).await.expect("submit");
    let queues = vec![fbs_core::job::QueueName::build(Arch::X86_64, "40")];
    let worker = Worker {
        identity: WorkerIdentity {
            name: Worker::unique_name("test", &queues),
            host: "native-test".into(),
        },
        queues,
        concurrency: 1,
        poll: Duration::from_millis(200),
        pipeline: Pipeline {
            store: store.clone(),
            builders: fbs_worker::builders::default_builders(),
            builder_override: None,
            work_dir: tmp.path().join("jobs"),
            heartbeat: Duration::from_secs(2),
            job_timeout: Duration::from_secs(1200),
            extra_log: None,
            notifier: None,
            side_repos: fbs_worker::siderepo::SideRepoSettings::default(),
            staging: Default::default(),
        },
    };
    let started = Instant::now();
    let opts = RunOptions {
        stop_when_idle: true,
        ..RunOptions::default()
    };
    tokio::time::timeout(Duration::from_secs(1500), worker.run(opts))
        .await
        .expect("worker finished")
        .expect("worker ok");
    let took = started.elapsed();
    let rec = store.get(job.id).await.expect("get").expect("exists");
    let dest = staging.join(job.id.to_string());
    let log = std::fs::read_to_string(dest.join("build.log")).unwrap_or_default();
    assert_eq!(rec.state, JobState::Succeeded, "{:?}\n{log}", rec.error);
    eprintln!("live build through the worker took {took:?}");

    // The manifest describes the staged ISO exactly.
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(dest.join("manifest.json")).expect("manifest.json"),
    )
    .expect("manifest parses");
    eprintln!(
        "{}",
        std::fs::read_to_string(dest.join("manifest.json")).unwrap_or_default()
    );
    assert_eq!(manifest.schema_version, 1);
    assert_eq!(manifest.job_id, job.id);
    assert_eq!(manifest.builder.name, "native");
    let a = &manifest.artifacts[0];
    let iso = dest.join(&a.path);
    assert_eq!(a.path, "FBS-Test-Live.iso");
    assert_eq!(a.sha256, sha256(&iso));
    assert_eq!(a.volume_id.as_deref(), Some("FBS-TEST-LIVE"));
    assert_eq!(a.bootable, Some(true));
    assert_eq!(a.media_type, "application/vnd.efi.iso");
    assert!(
        manifest
            .packages
            .iter()
            .any(|p| p == "fbs-test-app-0:2.0-1.noarch"),
        "{:?}",
        manifest.packages
    );
    assert!(manifest.source_date_epoch.is_some());
    assert!(manifest.timings.iter().any(|t| t.stage == "build.squashfs"));
    run(Command::new("sha256sum")
        .arg("-c")
        .arg("CHECKSUM")
        .current_dir(&dest));

    // The ISO: md5 implanted, the expected files, the volume id.
    run(Command::new("checkisomd5").arg(&iso));
    let files = iso_files(&iso);
    for f in [
        "/LiveOS/squashfs.img",
        "/images/pxeboot/vmlinuz",
        "/images/pxeboot/initrd.img",
        "/isolinux/isolinux.bin",
        "/isolinux/isolinux.cfg",
        "/isolinux/ldlinux.c32",
    ] {
        assert!(files.iter().any(|x| x == f), "{f} missing from {files:?}");
    }
    let toc = run(Command::new("xorriso").arg("-indev").arg(&iso).arg("-toc"));
    assert!(toc.contains("FBS-TEST-LIVE"), "{toc}");

    // The squashed root: package files, the package %post marker, the kickstart %post marker.
    let x = tmp.path().join("iso");
    extract_iso(&iso, &x);
    let sq = tmp.path().join("sq");
    run(Command::new("unsquashfs")
        .args(["-no-progress", "-d"])
        .arg(&sq)
        .arg(x.join("LiveOS/squashfs.img")));
    let read = |p: &str| std::fs::read_to_string(sq.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    assert_eq!(read("usr/share/fbs-test/base.txt").trim(), BASE_MARKER);
    assert_eq!(read("var/lib/fbs-test/post-ran").trim(), POST_RAN);
    assert_eq!(read("etc/fbs-ks-post-ran").trim(), "ks-post-ran");
    assert!(
        sq.join("var/lib/rpm/rpmdb.sqlite").is_file(),
        "rpmdb at the standard path"
    );
    // dnf's cache, logs and history are not in the image; the rpmdb is not in /root.
    let empty = |p: &str| std::fs::read_dir(sq.join(p)).map_or(true, |mut d| d.next().is_none());
    assert!(empty("var/cache/dnf"), "dnf's cache is in the image");
    for gone in [
        "root/.rpmdb",
        "var/log/dnf.log",
        "var/lib/dnf/history.sqlite",
    ] {
        assert!(!sq.join(gone).exists(), "{gone} is in the image");
    }
    let listing = run(Command::new("unsquashfs")
        .arg("-l")
        .arg(x.join("LiveOS/squashfs.img")));
    assert!(listing.contains("usr/share/fbs-test/base.txt"), "{listing}");
    let cfg = std::fs::read_to_string(x.join("isolinux/isolinux.cfg")).expect("cfg");
    assert!(cfg.contains("SERIAL 0 115200"), "{cfg}");
    assert!(cfg.contains(
        "root=live:CDLABEL=FBS-TEST-LIVE rd.live.image console=tty0 console=ttyS0,115200"
    ));

    // It boots (BIOS, and UEFI when OVMF is installed).
    let started = Instant::now();
    qemu::boot_iso(&iso, BOOT_MARKER, BOOT_TIMEOUT).unwrap_or_else(|e| panic!("BIOS boot: {e}"));
    eprintln!("live ISO booted (BIOS) in {:?}", started.elapsed());
    if qemu::ovmf().is_some() {
        let started = Instant::now();
        qemu::boot_iso_uefi(&iso, BOOT_MARKER, BOOT_TIMEOUT)
            .unwrap_or_else(|e| panic!("UEFI boot: {e}"));
        eprintln!("live ISO booted (UEFI) in {:?}", started.elapsed());
    }
}
