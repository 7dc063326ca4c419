//! The native builder against real tools and the RPM fixtures: live, boot and DVD ISOs are
//! checked with `checkisomd5`, `xorriso`, `unsquashfs` and `dnf`, booted in QEMU to the
//! fixture initramfs's marker, built twice to the same bytes, and a kickstart `%post` is
//! shown not to see the daemon's hidden config.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fbs_core::job::{JobRecord, JobState};
use fbs_core::joblog::{FileSink, SharedSink};
use fbs_core::queue::{JobStore, LeaseSettings, SqliteStore, WorkerIdentity};
use fbs_core::runner::CancellationToken;
use fbs_core::spec::{
    Arch, BootOptions, BuildSpec, BuilderChoice, DvdOptions, DvdStage, ImageOptions,
    KickstartSource, KojiBuilds, LiveOptions, Repo, RepoKind, Staging,
};
use fbs_worker::builders::native::{NativeBuilder, NativeOptions};
use fbs_worker::dirs::JobDirs;
use fbs_worker::manifest::Manifest;
use fbs_worker::{BuildContext, BuildError, BuildReport, Builder, Pipeline, RunOptions, Worker};

use crate::helper::fixtures::{BASE_MARKER, BOOT_MARKER, Fixtures, POST_RAN, fixtures};
use crate::helper::qemu;

const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

/// The live kickstart of the tests: the app, a shell, the kernel and the marker initramfs,
/// and a `%post` leaving a marker in `/etc`.
fn live_ks(repo: &Path) -> String {
    format!(
        "repo --name=fixtures --baseurl=file://{}\n\
         %packages\nfbs-test-app\nfbs-test-sh\nkernel\nfbs-test-initramfs\n%end\n\
         %post\n/usr/bin/busybox mkdir -p /etc\necho ks-post-ran > /etc/fbs-ks-post-ran\n%end\n",
        repo.display()
    )
}

fn spec(staging: &Path, image: ImageOptions) -> BuildSpec {
    BuildSpec {
        arch: Arch::X86_64,
        release: "40".into(),
        staging: Staging::File {
            path: staging.to_path_buf(),
        },
        email: "qa@example.org".into(),
        koji: KojiBuilds::default(),
        builder: BuilderChoice::Native,
        source_date_epoch: None,
        image,
    }
}

fn live(label: &str) -> ImageOptions {
    ImageOptions::Live(LiveOptions {
        label: label.into(),
        title: "FBS Test Live".into(),
        product: "FBS".into(),
        releasever: "40".into(),
        kickstart: KickstartSource::Path(PathBuf::from("live.ks")),
    })
}

fn boot(repo: &Path) -> ImageOptions {
    ImageOptions::Boot(BootOptions {
        product: "FBS".into(),
        version: "40".into(),
        release: "40".into(),
        updates: false,
        updates_testing: false,
        repos: vec![Repo {
            name: "fixtures".into(),
            url: format!("file://{}", repo.display()).parse().expect("url"),
            kind: RepoKind::Baseurl,
        }],
        proxy: None,
    })
}

fn dvd() -> ImageOptions {
    ImageOptions::Dvd(DvdOptions {
        name: "FBS".into(),
        version: "40".into(),
        flavor: "Test".into(),
        bugurl: None,
        nosource: true,
        sourceisos: false,
        force: false,
        stage: DvdStage::All,
        kickstart: KickstartSource::Path(PathBuf::from("dvd.ks")),
    })
}

fn dvd_ks(repo: &Path) -> String {
    format!(
        "repo --name=fixtures --baseurl=file://{}\n%packages\nfbs-test-app\nkernel\nfbs-test-initramfs\n%end\n",
        repo.display()
    )
}

/// One build run by calling the builder directly; its job directory is kept for inspection.
struct Direct {
    _tmp: tempfile::TempDir,
    dirs: JobDirs,
    result: Result<BuildReport, BuildError>,
    took: Duration,
}

impl Direct {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.dirs.log).unwrap_or_default()
    }

    fn report(&self) -> &BuildReport {
        match &self.result {
            Ok(r) => r,
            Err(e) => panic!("build failed: {e}\n--- log:\n{}", self.log()),
        }
    }

    fn iso(&self) -> &Path {
        &self.report().artifacts[0].path
    }
}

async fn build_direct(spec: BuildSpec, ks: Option<String>, opts: NativeOptions) -> Direct {
    let tmp = tempfile::tempdir().expect("tempdir");
    let job = JobRecord::new(spec, ks);
    let dirs = JobDirs::new(tmp.path(), job.id);
    dirs.create().expect("job dirs");
    let log: SharedSink = Arc::new(FileSink::open(&dirs.log).expect("log"));
    let ctx = BuildContext {
        job,
        dirs: dirs.clone(),
        log,
        cancel: CancellationToken::new(),
    };
    let started = Instant::now();
    let result = NativeBuilder::new(opts).build(&ctx).await;
    let took = started.elapsed();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let root = dirs.root.display().to_string();
    assert!(
        !mounts.lines().any(|l| l.contains(&root)),
        "a mount is left under {root}:\n{mounts}"
    );
    Direct {
        _tmp: tmp,
        dirs,
        result,
        took,
    }
}

/// Runs `cmd`; panics unless it succeeds; returns stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn iso_files(iso: &Path) -> Vec<String> {
    run(Command::new("xorriso")
        .args(["-indev"])
        .arg(iso)
        .args(["-find", "/", "-type", "f"]))
    .lines()
    .map(|l| l.trim().trim_matches('\'').to_owned())
    .collect()
}

fn extract_iso(iso: &Path, to: &Path) {
    run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", "/"])
        .arg(to));
}

fn sha256(p: &Path) -> String {
    run(Command::new("sha256sum").arg(p))
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn fx() -> Option<Fixtures> {
    fixtures()
}

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

#[tokio::test(flavor = "multi_thread")]
async fn a_post_script_cannot_see_the_hidden_config_dir() {
    let Some(fx) = fx() else { return };
    let secret_dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(secret_dir.path().join("secret"), "hunter2\n").expect("secret");
    let secret = secret_dir.path().join("secret");
    let ks = format!(
        "repo --name=fixtures --baseurl=file://{repo}\n\
         %packages\nfbs-test-app\n%end\n\
         %post --nochroot\n\
         if cat {secret} > \"$INSTALL_ROOT/leaked\" 2>/dev/null; then echo seen; else rm -f \"$INSTALL_ROOT/leaked\"; echo hidden > \"$INSTALL_ROOT/secret-check\"; fi\n\
         %end\n\
         %post --log=/ks-post.log\n\
         if [ -e {secret} ]; then echo seen > /chroot-check; else echo hidden > /chroot-check; fi\n\
         echo chrooted post says hello\n\
         %end\n",
        repo = fx.repo_nokernel().display(),
        secret = secret.display()
    );
    let opts = NativeOptions {
        hide: vec![secret_dir.path().to_path_buf()],
        ..NativeOptions::default()
    };
    let d = build_direct(
        spec(Path::new("/nonexistent"), live("Secret")),
        Some(ks),
        opts,
    )
    .await;
    let r = d.report();
    // No kernel in that repo: the ISO is made, marked not bootable, with a warning.
    assert_eq!(r.artifacts[0].bootable, Some(false));
    assert!(d.log().contains("the ISO will not boot"), "{}", d.log());
    let root = d.dirs.work.join("root");
    assert!(
        !root.join("leaked").exists(),
        "the %post read the hidden secret"
    );
    let check = std::fs::read_to_string(root.join("secret-check")).expect("the %post ran");
    assert_eq!(check.trim(), "hidden");
    let check = std::fs::read_to_string(root.join("chroot-check")).expect("the %post ran");
    assert_eq!(check.trim(), "hidden");
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret").trim(),
        "hunter2",
        "the secret itself is untouched"
    );
    let log = std::fs::read_to_string(root.join("ks-post.log")).expect("--log written");
    assert!(log.contains("chrooted post says hello"), "{log}");
    // The chroot's /proc, /sys and /dev were mounted in the script's namespace only.
    assert!(
        std::fs::read_dir(root.join("proc"))
            .expect("proc")
            .next()
            .is_none()
    );
    assert!(
        std::fs::read_dir(root.join("dev"))
            .expect("dev")
            .next()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_post_stops_the_build_only_with_erroronfail() {
    let Some(fx) = fx() else { return };
    let ks = |flag: &str| {
        format!(
            "repo --name=fixtures --baseurl=file://{}\n%packages\nfbs-test-app\n%end\n\
             %post {flag}\necho about to fail\nexit 7\n%end\n",
            fx.repo_nokernel().display()
        )
    };
    let d = build_direct(
        spec(Path::new("/nonexistent"), live("Fail")),
        Some(ks("--erroronfail")),
        NativeOptions::default(),
    )
    .await;
    let Err(e) = &d.result else {
        panic!("a failing %post --erroronfail did not fail the build")
    };
    assert!(matches!(e, BuildError::Input(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("%post #1 failed (--erroronfail)"), "{msg}");
    assert!(
        msg.contains("exit code 7") && msg.contains("about to fail"),
        "{msg}"
    );

    let d = build_direct(
        spec(Path::new("/nonexistent"), live("Fail")),
        Some(ks("")),
        NativeOptions::default(),
    )
    .await;
    d.report();
    assert!(d.log().contains("warning: %post #1 failed"), "{}", d.log());
}
