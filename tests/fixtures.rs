//! Integration tests of the RPM fixtures and the QEMU boot helper: the repositories hold what
//! the builders' tests expect, the kernel is Debian's real one, and a hand-made ISO of the
//! fixture kernel and initramfs boots to the marker under BIOS and UEFI.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helper::fixtures::{BASE_MARKER, BOOT_MARKER, Fixtures, POST_RAN, fixtures};
use crate::helper::qemu;

const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs `cmd`, asserts success, returns stdout.
fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs `first | second`, asserts both succeed, returns the stdout of `second`.
fn pipe(first: &mut Command, second: &mut Command) -> Vec<u8> {
    let mut a = first
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {first:?}: {e}"));
    let a_out = a.stdout.take().expect("piped stdout");
    let b = second
        .stdin(a_out)
        .output()
        .unwrap_or_else(|e| panic!("starting {second:?}: {e}"));
    let a_status = a.wait().expect("waiting for the first command");
    assert!(a_status.success(), "{first:?} failed ({a_status})");
    assert!(
        b.status.success(),
        "{second:?} failed ({}):\n{}",
        b.status,
        String::from_utf8_lossy(&b.stderr)
    );
    b.stdout
}

/// `rpm` with its HOME and database in `tmp`, so the host's `~/.rpmdb` is never touched.
fn rpm(tmp: &Path) -> Command {
    let mut c = Command::new("rpm");
    c.env("HOME", tmp).arg("--dbpath").arg(tmp.join("rpmdb"));
    c
}

/// `NAME ARCH` of every package in `repo`.
fn packages(repo: &Path, tmp: &Path) -> BTreeSet<String> {
    let rpms: Vec<_> = std::fs::read_dir(repo)
        .expect("reading the repo")
        .map(|e| e.expect("repo entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rpm"))
        .collect();
    let out = run(rpm(tmp)
        .args(["-qp", "--qf", "%{NAME} %{ARCH}\\n"])
        .args(&rpms));
    String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Unpacks an RPM's payload into `dir`.
fn unpack(rpm: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).expect("creating the unpack dir");
    pipe(
        Command::new("rpm2cpio").arg(rpm),
        Command::new("cpio")
            .args(["-idm", "--quiet"])
            .current_dir(dir),
    );
}

/// The kernel and initramfs from the fixture RPMs, unpacked under `dir`.
fn unpack_boot_files(fx: &Fixtures, dir: &Path) -> (PathBuf, PathBuf) {
    unpack(&fx.rpm("kernel"), dir);
    unpack(&fx.rpm("fbs-test-initramfs"), dir);
    let vmlinuz = dir.join(format!("boot/vmlinuz-{}", fx.kver()));
    let initrd = dir.join(format!("boot/initramfs-{}.img", fx.kver()));
    assert!(
        vmlinuz.is_file() && initrd.is_file(),
        "kernel or initramfs missing after unpacking"
    );
    (vmlinuz, initrd)
}

#[test]
fn repos_hold_the_fixture_packages() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    for repo in [fx.repo(), fx.repo_nokernel()] {
        assert!(
            repo.join("repodata/repomd.xml").is_file(),
            "{} has no metadata",
            repo.display()
        );
    }
    let want: BTreeSet<String> = [
        "fbs-test-app noarch",
        "fbs-test-base noarch",
        "fbs-test-initramfs x86_64",
        "fbs-test-sh x86_64",
        "kernel x86_64",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(packages(&fx.repo(), tmp.path()), want);
    let without: BTreeSet<String> = want
        .iter()
        .filter(|p| !p.starts_with("kernel ") && !p.starts_with("fbs-test-initramfs "))
        .cloned()
        .collect();
    assert_eq!(packages(&fx.repo_nokernel(), tmp.path()), without);

    let q = |name: &str, what: &str| {
        String::from_utf8_lossy(&run(rpm(tmp.path()).arg("-qp").arg(what).arg(fx.rpm(name))))
            .into_owned()
    };
    assert!(
        q("fbs-test-sh", "--provides")
            .lines()
            .any(|l| l == "/bin/sh")
    );
    assert!(
        q("fbs-test-app", "--requires")
            .lines()
            .any(|l| l == "fbs-test-base >= 1.0")
    );
    let kver = fx.kver();
    let kernel_files = q("kernel", "--list");
    for f in [
        format!("/lib/modules/{kver}/vmlinuz"),
        format!("/boot/vmlinuz-{kver}"),
    ] {
        assert!(
            kernel_files.lines().any(|l| l == f),
            "kernel lacks {f}:\n{kernel_files}"
        );
    }
    let initramfs_files = q("fbs-test-initramfs", "--list");
    assert_eq!(
        initramfs_files.trim(),
        format!("/boot/initramfs-{kver}.img")
    );
}

#[test]
fn kernel_rpm_carries_debians_vmlinuz_unchanged() {
    let Some(fx) = fixtures() else { return };
    let kver = fx.kver();
    let debian = pipe(
        Command::new("dpkg-deb")
            .arg("--fsys-tarfile")
            .arg(fx.kernel_deb()),
        Command::new("tar").args(["-xO", &format!("./boot/vmlinuz-{kver}")]),
    );
    assert!(
        debian.len() > 1 << 20,
        "Debian's vmlinuz is only {} bytes",
        debian.len()
    );
    for path in [
        format!("./lib/modules/{kver}/vmlinuz"),
        format!("./boot/vmlinuz-{kver}"),
    ] {
        let packaged = pipe(
            Command::new("rpm2cpio").arg(fx.rpm("kernel")),
            Command::new("cpio").args(["-i", "--quiet", "--to-stdout", &path]),
        );
        assert!(
            packaged == debian,
            "{path} in the kernel RPM differs from Debian's vmlinuz"
        );
    }
}

#[test]
fn dnf_installs_from_the_fixture_repos() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("creating HOME");
    // Debian's rpm keeps its database in ~/.rpmdb: point the install root's at /var/lib/rpm.
    std::fs::write(home.join(".rpmmacros"), "%_dbpath /var/lib/rpm\n").expect("writing .rpmmacros");
    let dnf = |root: &Path, repo: &Path, pkgs: &[&str]| {
        Command::new("dnf")
            .env("HOME", &home)
            .args(["-y", "-q", "--noplugins", "--releasever=fbs-test"])
            .args(["--setopt=reposdir=/dev/null", "--nogpgcheck"])
            .arg(format!("--installroot={}", root.display()))
            .arg(format!("--repofrompath=fixtures,file://{}", repo.display()))
            .arg("install")
            .args(pkgs)
            .stdin(Stdio::null())
            .output()
            .expect("starting dnf")
    };

    let root = tmp.path().join("root");
    let out = dnf(&root, &fx.repo(), &["fbs-test-app", "fbs-test-sh"]);
    assert!(
        out.status.success(),
        "dnf: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let post = std::fs::read_to_string(root.join("var/lib/fbs-test/post-ran"))
        .expect("fbs-test-base's %post left no /var/lib/fbs-test/post-ran");
    assert_eq!(post.trim(), POST_RAN);
    assert!(root.join("usr/share/fbs-test/app.txt").is_file());
    let base = std::fs::read_to_string(root.join("usr/share/fbs-test/base.txt"))
        .expect("fbs-test-base's file is missing");
    assert_eq!(base.trim(), BASE_MARKER);
    assert!(
        root.join("var/lib/rpm").is_dir(),
        "the root's rpmdb is not at /var/lib/rpm"
    );

    let root = tmp.path().join("root-nokernel");
    let out = dnf(&root, &fx.repo_nokernel(), &["fbs-test-sh", "kernel"]);
    assert!(!out.status.success(), "repo-nokernel offered a kernel");
}

/// A BIOS-bootable isolinux ISO of the fixture kernel and initramfs, made under `dir`.
fn isolinux_iso(fx: &Fixtures, dir: &Path) -> PathBuf {
    let (vmlinuz, initrd) = unpack_boot_files(fx, &dir.join("x"));
    let tree = dir.join("tree");
    let iso_dir = tree.join("isolinux");
    std::fs::create_dir_all(&iso_dir).expect("creating the ISO tree");
    for (from, to) in [
        (Path::new("/usr/lib/ISOLINUX/isolinux.bin"), "isolinux.bin"),
        (
            Path::new("/usr/lib/syslinux/modules/bios/ldlinux.c32"),
            "ldlinux.c32",
        ),
        (vmlinuz.as_path(), "vmlinuz"),
        (initrd.as_path(), "initrd.img"),
    ] {
        std::fs::copy(from, iso_dir.join(to))
            .unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
    }
    std::fs::write(
        iso_dir.join("isolinux.cfg"),
        "SERIAL 0 115200\nDEFAULT fbs\nPROMPT 0\nTIMEOUT 1\nLABEL fbs\n  KERNEL vmlinuz\n  \
         APPEND initrd=initrd.img console=ttyS0,115200 panic=-1\n",
    )
    .expect("writing isolinux.cfg");
    let iso = dir.join("boot.iso");
    run(Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-R", "-J", "-V", "FBS_FIXTURE"])
        .args(["-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat"])
        .args(["-no-emul-boot", "-boot-load-size", "4", "-boot-info-table"])
        .args(["-isohybrid-mbr", "/usr/lib/ISOLINUX/isohdpfx.bin", "-o"])
        .arg(&iso)
        .arg(&tree));
    iso
}

#[test]
fn isolinux_iso_of_the_fixture_kernel_boots_to_the_marker() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let iso = isolinux_iso(&fx, tmp.path());
    let t0 = Instant::now();
    let out = qemu::boot_iso(&iso, BOOT_MARKER, BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("isolinux ISO booted to the marker in {:.1?}", t0.elapsed());
    let booted = format!("Linux version {} ", fx.kver());
    assert!(
        out.contains(&booted),
        "no {booted:?} in the serial output:\n{out}"
    );
}

#[test]
fn boot_without_the_marker_times_out_and_stops_qemu() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let iso = isolinux_iso(&fx, tmp.path());
    let t0 = Instant::now();
    let err = qemu::boot_iso(&iso, "NO-SUCH-MARKER", Duration::from_secs(3))
        .expect_err("a marker that is never printed must fail the boot");
    assert!(
        t0.elapsed() < Duration::from_secs(20),
        "the timeout took {:?}",
        t0.elapsed()
    );
    assert!(err.contains("within 3s"), "unexpected error: {err}");
    // The VM was killed and reaped: no process still has this ISO open.
    let iso = iso.to_string_lossy().into_owned();
    let left: Vec<_> = std::fs::read_dir("/proc")
        .expect("reading /proc")
        .filter_map(Result::ok)
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&iso))
        })
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "qemu processes left behind: {left:?}");
}

#[test]
fn grub_efi_iso_of_the_fixture_kernel_boots_to_the_marker_under_uefi() {
    let Some(fx) = fixtures() else { return };
    assert!(
        qemu::ovmf().is_some(),
        "OVMF is missing: run scripts/testenv.sh up"
    );
    let tmp = tempfile::tempdir().expect("temp dir");
    let (vmlinuz, initrd) = unpack_boot_files(&fx, &tmp.path().join("x"));
    let tree = tmp.path().join("tree");
    let boot = tree.join("boot");
    std::fs::create_dir_all(boot.join("grub")).expect("creating the ISO tree");
    std::fs::copy(&vmlinuz, boot.join("vmlinuz")).expect("copying the kernel");
    std::fs::copy(&initrd, boot.join("initrd.img")).expect("copying the initramfs");
    std::fs::write(
        boot.join("grub/grub.cfg"),
        "serial --unit=0 --speed=115200\nterminal_input serial console\n\
         terminal_output serial console\nset timeout=1\nmenuentry fbs {\n  \
         linux /boot/vmlinuz console=ttyS0,115200 panic=-1\n  initrd /boot/initrd.img\n}\n",
    )
    .expect("writing grub.cfg");
    let iso = tmp.path().join("grub.iso");
    run(Command::new("grub-mkrescue")
        .arg("-o")
        .arg(&iso)
        .arg(&tree)
        .args(["--", "-volid", "FBS_GRUB"]));

    let t0 = Instant::now();
    let out =
        qemu::boot_iso_uefi(&iso, BOOT_MARKER, BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "grub ISO booted to the marker under UEFI in {:.1?}",
        t0.elapsed()
    );
    assert!(
        out.contains("efi: EFI v"),
        "the kernel did not start under EFI:\n{out}"
    );
}
