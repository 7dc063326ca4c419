//! Reproducibility: the same spec built twice from the same packages gives the same bytes.

use std::path::PathBuf;
use std::time::Duration;

use fbs_worker::builders::native::NativeOptions;

use super::{boot, build_direct, dvd, dvd_ks, fx, live, live_ks, sha256, spec};

#[tokio::test(flavor = "multi_thread")]
async fn two_live_builds_of_one_spec_are_byte_identical() {
    let Some(fx) = fx() else { return };
    let staging = PathBuf::from("/nonexistent");
    let ks = live_ks(&fx.repo());
    let a = build_direct(
        spec(&staging, live("Repro")),
        Some(ks.clone()),
        NativeOptions::default(),
    )
    .await;
    // A second apart at least, so wall-clock times would show.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let b = build_direct(
        spec(&staging, live("Repro")),
        Some(ks),
        NativeOptions::default(),
    )
    .await;
    let (ha, hb) = (sha256(a.iso()), sha256(b.iso()));
    eprintln!(
        "two live builds: {ha} ({:?}) and {hb} ({:?})",
        a.took, b.took
    );
    assert_eq!(ha, hb, "the two ISOs differ");
    assert_eq!(a.report().packages, b.report().packages);
    assert_eq!(a.report().source_date_epoch, b.report().source_date_epoch);
}

#[tokio::test(flavor = "multi_thread")]
async fn boot_isos_and_dvds_are_byte_identical_when_rebuilt() {
    let Some(fx) = fx() else { return };
    let staging = PathBuf::from("/nonexistent");
    for (what, image, ks) in [
        ("boot", boot(&fx.repo()), None),
        ("dvd", dvd(), Some(dvd_ks(&fx.repo()))),
    ] {
        let a = build_direct(
            spec(&staging, image.clone()),
            ks.clone(),
            NativeOptions::default(),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let b = build_direct(spec(&staging, image), ks, NativeOptions::default()).await;
        let (ha, hb) = (sha256(a.iso()), sha256(b.iso()));
        eprintln!(
            "two {what} builds: {ha} ({:?}) and {hb} ({:?})",
            a.took, b.took
        );
        assert_eq!(ha, hb, "the two {what} ISOs differ");
    }
}
