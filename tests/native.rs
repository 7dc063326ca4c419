//! The native builder against real tools and the RPM fixtures: live, boot and DVD ISOs are
//! checked with `checkisomd5`, `xorriso`, `unsquashfs` and `dnf`, booted in QEMU to the
//! fixture initramfs's marker, built twice to the same bytes, and a kickstart `%post` is
//! shown not to see the daemon's hidden config. This file holds the shared helpers; the
//! tests are in `native/`.

mod boot;
mod dvd;
mod live;
mod repro;
mod scripts;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fbs_core::job::JobRecord;
use fbs_core::joblog::{FileSink, SharedSink};
use fbs_core::runner::CancellationToken;
use fbs_core::spec::{
    Arch, BootOptions, BuildSpec, BuilderChoice, DvdOptions, DvdStage, ImageOptions,
    KickstartSource, KojiBuilds, LiveOptions, Repo, RepoKind, Staging,
};
use fbs_worker::builders::native::{NativeBuilder, NativeOptions};
use fbs_worker::dirs::JobDirs;
use fbs_worker::{BuildContext, BuildError, BuildReport, Builder};

use crate::helper::fixtures::{Fixtures, fixtures};

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
        staging_layout: Default::default(),
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
        side_repo: None,
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
