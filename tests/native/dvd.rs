//! DVDs: a package repository on the disc that dnf installs from, and a boot in QEMU.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use fbs_worker::builders::native::NativeOptions;

use super::{BOOT_TIMEOUT, build_direct, dvd, dvd_ks, extract_iso, fx, iso_files, run, spec};
use crate::helper::fixtures::{BOOT_MARKER, POST_RAN};
use crate::helper::qemu;

#[tokio::test(flavor = "multi_thread")]
async fn a_dvd_carries_a_repository_dnf_installs_from() {
    let Some(fx) = fx() else { return };
    let d = build_direct(
        spec(Path::new("/nonexistent"), dvd()),
        Some(dvd_ks(&fx.repo())),
        NativeOptions::default(),
    )
    .await;
    let r = d.report();
    eprintln!("DVD built in {:?}", d.took);
    assert_eq!(r.artifacts[0].bootable, Some(true));
    let iso = d.iso();
    run(Command::new("checkisomd5").arg(iso));
    let files = iso_files(iso);
    assert!(
        files
            .iter()
            .any(|f| f == "/Packages/f/fbs-test-app-2.0-1.noarch.rpm"),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f == "/repodata/repomd.xml"),
        "{files:?}"
    );

    // The DVD's own repository, read from an extracted copy, installs the app and its deps.
    let tmp = tempfile::tempdir().expect("tempdir");
    let tree = tmp.path().join("dvd");
    extract_iso(iso, &tree);
    let root = tmp.path().join("root");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(home.join(".rpmmacros"), "%_dbpath /var/lib/rpm\n").expect("macros");
    run(Command::new("dnf")
        .env("HOME", &home)
        .arg("-y")
        .arg(format!("--installroot={}", root.display()))
        .args([
            "--releasever=40",
            "--setopt=reposdir=/dev/null",
            "--nogpgcheck",
            "--noplugins",
        ])
        .arg(format!("--repofrompath=dvd,file://{}", tree.display()))
        .args(["install", "fbs-test-app"]));
    let q = run(Command::new("rpm")
        .env("HOME", &home)
        .arg(format!("--root={}", root.display()))
        .args([
            "--dbpath=/var/lib/rpm",
            "-q",
            "fbs-test-app",
            "fbs-test-base",
        ]));
    assert!(q.contains("fbs-test-app-2.0-1.noarch"), "{q}");
    assert_eq!(
        std::fs::read_to_string(root.join("var/lib/fbs-test/post-ran"))
            .expect("post-ran")
            .trim(),
        POST_RAN
    );

    // And it boots.
    let started = Instant::now();
    qemu::boot_iso(iso, BOOT_MARKER, BOOT_TIMEOUT).unwrap_or_else(|e| panic!("DVD boot: {e}"));
    eprintln!("DVD booted in {:?}", started.elapsed());
}
