//! Stages one file as a job's only artifact, the way the pipeline does (checksum, manifest,
//! `CHECKSUM`, log), and prints how long it took: `stage_probe FILE STAGING-URL`.
//! Used by `bench/staging.sh`; FTP credentials as for a worker (`FBS_FTP_USER`, …).

use std::path::PathBuf;
use std::time::Instant;

use fbs_core::config::StagingConfig;
use fbs_core::job::JobId;
use fbs_core::joblog::MemorySink;
use fbs_core::spec::{Arch, BootOptions, BuildSpec, BuilderChoice, ImageOptions, KojiBuilds};
use fbs_worker::builder::{BuildReport, BuiltArtifact};
use fbs_worker::manifest::ManifestInput;
use fbs_worker::stage::{StagePlan, stage};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(target)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: stage_probe FILE STAGING-URL");
    };
    let staging = target.parse::<url::Url>()?;
    let staging = match staging.scheme() {
        "file" => fbs_core::spec::Staging::File {
            path: staging
                .to_file_path()
                .map_err(|()| anyhow::anyhow!("bad file URL"))?,
        },
        _ => fbs_core::spec::Staging::Ftp { url: staging },
    };
    let spec = BuildSpec {
        arch: Arch::X86_64,
        release: "40".into(),
        staging,
        staging_layout: Default::default(),
        email: "bench@example.org".into(),
        koji: KojiBuilds::default(),
        builder: BuilderChoice::Native,
        source_date_epoch: None,
        image: ImageOptions::Boot(BootOptions {
            product: "Fedora".into(),
            version: "40".into(),
            release: "40".into(),
            updates: false,
            updates_testing: false,
            repos: vec![],
            proxy: None,
        }),
    };
    let plan = StagePlan {
        input: ManifestInput {
            job_id: JobId::new(),
            spec,
            builder: "bench".into(),
            builder_version: None,
            worker_host: "bench".into(),
            timings: vec![],
        },
        report: BuildReport::from(vec![BuiltArtifact {
            path: PathBuf::from(&file),
            media_type: "application/vnd.efi.iso".into(),
            volume_id: None,
            bootable: None,
        }]),
        built_at: chrono::Utc::now(),
    };
    let log = MemorySink::new(1000);
    let cfg = StagingConfig::default();
    let t = Instant::now();
    stage(
        &plan,
        &PathBuf::from("/dev/null"),
        &cfg,
        &log,
        &Default::default(),
    )
    .await?;
    println!("{:.3}", t.elapsed().as_secs_f64());
    Ok(())
}
