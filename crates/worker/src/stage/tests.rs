//! Unit tests of the stage step on local targets (FTP is tested against a real server in the
//! integration tests).

use std::fs;

use chrono::Utc;
use fbs_core::config::{PublicUrl, StagingConfig};
use fbs_core::job::JobId;
use fbs_core::joblog::MemorySink;
use fbs_core::spec::{
    Arch, BuildSpec, BuilderChoice, ImageOptions, KickstartSource, KojiBuilds, LiveOptions,
    Staging, StagingLayout,
};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::builder::BuiltArtifact;
use crate::manifest::Timing;

fn plan(dir: &Path, layout: StagingLayout) -> StagePlan {
    fs::write(dir.join("live.iso"), b"iso bytes").expect("write");
    StagePlan {
        input: ManifestInput {
            job_id: JobId::new(),
            spec: BuildSpec {
                arch: Arch::X86_64,
                release: "40".into(),
                staging: Staging::File {
                    path: dir.join("staging"),
                },
                staging_layout: layout,
                email: "qa@example.org".into(),
                koji: KojiBuilds::default(),
                builder: BuilderChoice::Native,
                source_date_epoch: None,
                image: ImageOptions::Live(LiveOptions {
                    label: "L".into(),
                    title: "L".into(),
                    product: "Fedora".into(),
                    releasever: "40".into(),
                    kickstart: KickstartSource::Path("l.ks".into()),
                }),
            },
            builder: "native".into(),
            builder_version: None,
            worker_host: "w".into(),
            timings: vec![Timing::new("build", std::time::Duration::from_secs(1))],
        },
        report: BuildReport::from(vec![BuiltArtifact {
            path: dir.join("live.iso"),
            media_type: "application/vnd.efi.iso".into(),
            volume_id: Some("L".into()),
            bootable: Some(false),
        }]),
        built_at: Utc::now(),
    }
}

fn config() -> StagingConfig {
    StagingConfig {
        public: vec![PublicUrl {
            prefix: "file:///".into(),
            url: "https://files.example.org/".into(),
        }],
        ..StagingConfig::default()
    }
}

#[tokio::test]
async fn stages_files_manifest_checksums_and_log_in_the_job_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plan = plan(tmp.path(), StagingLayout::Job);
    fs::write(tmp.path().join("build.log"), b"log\n").expect("write");
    let log = MemorySink::new(100);
    let staged = stage(
        &plan,
        &tmp.path().join("build.log"),
        &config(),
        &log,
        &CancellationToken::new(),
    )
    .await
    .expect("stage");
    let dest = tmp
        .path()
        .join("staging")
        .join(plan.input.job_id.to_string());
    let a = &staged.artifacts[0];
    assert_eq!((a.path.as_str(), a.size), ("live.iso", 9));
    let url = a.url.as_deref().expect("a public URL");
    assert!(url.starts_with("https://files.example.org/"), "{url}");
    assert!(
        url.ends_with(&format!("/{}/live.iso", plan.input.job_id)),
        "{url}"
    );
    let sums = fs::read_to_string(dest.join("CHECKSUM")).expect("read");
    assert_eq!(sums, format!("{}  live.iso\n", a.sha256));
    assert_eq!(fs::read(dest.join("build.log")).expect("log"), b"log\n");
    let text = fs::read_to_string(dest.join("manifest.json")).expect("manifest");
    let back: Manifest = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, staged.manifest);
    assert_eq!(back.artifacts[0].url.as_deref(), Some(url));
    assert_eq!(back.artifacts[0].sha256, a.sha256);
    assert_eq!(back.timings.last().map(|t| t.stage.as_str()), Some("stage"));
    assert_eq!(back.location.as_deref(), Some(staged.location.as_str()));

    // Staging again (a stage-only retry) gives the same files and leaves nothing behind.
    let again = stage(
        &plan,
        &tmp.path().join("build.log"),
        &config(),
        &log,
        &CancellationToken::new(),
    )
    .await
    .expect("stage again");
    assert_eq!(again.artifacts, staged.artifacts);
    let entries = fs::read_dir(tmp.path().join("staging"))
        .expect("ls")
        .count();
    assert_eq!(entries, 1);
}

#[tokio::test]
async fn the_flat_layout_uses_the_old_names() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plan = plan(tmp.path(), StagingLayout::Flat);
    let staged = stage(
        &plan,
        &tmp.path().join("none.log"),
        &StagingConfig::default(),
        &MemorySink::new(10),
        &CancellationToken::new(),
    )
    .await
    .expect("stage");
    let stamp = plan.built_at.format("%Y%m%d%H%M%S").to_string();
    let name = format!("live-x86_64-{stamp}.iso");
    assert_eq!(staged.artifacts[0].path, name);
    let dir = tmp.path().join("staging");
    assert!(dir.join(&name).is_file());
    let id = plan.input.job_id;
    let sums = fs::read_to_string(dir.join(format!("{id}.CHECKSUM"))).expect("sums");
    assert!(sums.ends_with(&format!("  {name}\n")), "{sums}");
    assert!(dir.join(format!("{id}.manifest.json")).is_file());
    assert!(dir.join(format!("{id}.build.log")).is_file());
}

#[test]
fn a_plan_survives_a_round_trip_through_its_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = plan(tmp.path(), StagingLayout::Job);
    let file = tmp.path().join(PLAN_FILE);
    p.save(&file).expect("save");
    let back = StagePlan::load(&file).expect("load");
    assert_eq!(back.report, p.report);
    assert_eq!(back.input.spec, p.input.spec);
    assert_eq!(back.built_at, p.built_at);
}
