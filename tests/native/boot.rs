//! Boot ISOs: lorax's layout, a boot in QEMU, and the error for repositories without a kernel.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use fbs_worker::BuildError;
use fbs_worker::builders::native::NativeOptions;

use super::{BOOT_TIMEOUT, boot, build_direct, fx, iso_files, run, spec};
use crate::helper::fixtures::BOOT_MARKER;
use crate::helper::qemu;

#[tokio::test(flavor = "multi_thread")]
async fn a_boot_iso_from_the_fixture_repo_boots() {
    let Some(fx) = fx() else { return };
    let d = build_direct(
        spec(Path::new("/nonexistent"), boot(&fx.repo())),
        None,
        NativeOptions::default(),
    )
    .await;
    let r = d.report();
    eprintln!("boot ISO built in {:?}", d.took);
    assert_eq!(
        r.artifacts[0].path.file_name().and_then(|n| n.to_str()),
        Some("boot.iso")
    );
    assert_eq!(r.artifacts[0].volume_id.as_deref(), Some("FBS-40-X86_64"));
    assert_eq!(r.artifacts[0].bootable, Some(true));
    let iso = d.iso();
    run(Command::new("checkisomd5").arg(iso));
    let files = iso_files(iso);
    for f in [
        "/images/pxeboot/vmlinuz",
        "/images/pxeboot/initrd.img",
        "/isolinux/isolinux.cfg",
        "/.treeinfo",
        "/.discinfo",
    ] {
        assert!(files.iter().any(|x| x == f), "{f} missing from {files:?}");
    }
    let kernel = r.packages.iter().find(|p| p.starts_with("kernel-"));
    assert!(kernel.is_some(), "{:?}", r.packages);
    let started = Instant::now();
    qemu::boot_iso(iso, BOOT_MARKER, BOOT_TIMEOUT).unwrap_or_else(|e| panic!("boot: {e}"));
    eprintln!("boot ISO booted in {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_boot_iso_without_a_kernel_in_the_repos_fails_saying_so() {
    let Some(fx) = fx() else { return };
    let d = build_direct(
        spec(Path::new("/nonexistent"), boot(&fx.repo_nokernel())),
        None,
        NativeOptions::default(),
    )
    .await;
    let Err(e) = &d.result else {
        panic!("a boot ISO without a kernel was built");
    };
    assert!(matches!(e, BuildError::Input(_)), "{e:?}");
    assert!(!e.is_retryable());
    assert_eq!(
        e.to_string(),
        "the repositories provide no kernel package: a boot ISO needs one"
    );
}
