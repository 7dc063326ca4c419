//! The stage step: put a job's artifacts where its spec says — a local directory
//! (`file:///path`, see `local.rs`) or an FTP/FTPS server (see `ftp.rs`, `upload.rs`) — in
//! the job's layout (see `names.rs`): the artifacts, then `manifest.json` (see
//! [`crate::manifest`]), `CHECKSUM` (the `sha256sum -c` format) and the job log last.
//!
//! Staging is idempotent: the same [`StagePlan`] staged twice gives the same files, so a
//! stage-only retry (`fbs retry --stage-only`) or a redone attempt simply stages again. The
//! plan is kept in the job directory (`stage.json`) beside the built artifacts until the job
//! directory is collected.

mod creds;
mod ftp;
mod local;
mod names;
mod progress;
mod tls;
mod upload;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use fbs_core::config::StagingConfig;
use fbs_core::job::Artifact;
use fbs_core::joblog::LogSink;
use fbs_core::spec::Staging;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::builder::BuildReport;
use crate::manifest::{Manifest, ManifestInput};

pub use creds::{Credentials, NetrcEntry, Secret, parse_netrc};
pub use names::{Names, checksum_text, sha256_file};
pub use progress::size as human_size;

/// The file in the job directory holding the [`StagePlan`].
pub const PLAN_FILE: &str = "stage.json";

/// Why staging failed.
#[derive(Debug, thiserror::Error)]
pub enum StageFailure {
    /// Reading an artifact or writing a local target failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The FTP server could not be reached or refused a command.
    #[error("FTP {server}: cannot {action}: {message}")]
    Ftp {
        /// `host:port` (never credentials).
        server: String,
        /// What was being done.
        action: String,
        /// What happened.
        message: String,
        /// A connection problem or a transient (4xx) reply: a later try may succeed.
        retryable: bool,
    },
    /// The staging settings cannot work (an unreadable password file, a bad CA file).
    #[error("staging settings: {0}")]
    Config(String),
    /// The job was canceled while staging.
    #[error("canceled while staging")]
    Canceled,
}

impl StageFailure {
    /// True when a later try may succeed (the server was away or busy, the disk was full).
    pub fn is_retryable(&self) -> bool {
        match self {
            StageFailure::Io { .. } => true,
            StageFailure::Ftp { retryable, .. } => *retryable,
            StageFailure::Config(_) | StageFailure::Canceled => false,
        }
    }
}

/// One file to put, in order.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    /// Its name in the staging directory.
    pub name: String,
    /// Its bytes.
    pub source: Source,
    /// Its size.
    pub size: u64,
}

/// Where an upload's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A file (an artifact).
    File(PathBuf),
    /// Generated text (manifest, checksums).
    Bytes(Vec<u8>),
    /// A file still growing (the job log): what it holds when its turn comes.
    Snapshot(PathBuf),
}

impl Upload {
    /// The upload with a [`Source::Snapshot`] read now (others unchanged).
    pub(crate) fn snapshot(&self) -> Upload {
        match &self.source {
            Source::Snapshot(p) => {
                let bytes = std::fs::read(p).unwrap_or_default();
                Upload {
                    name: self.name.clone(),
                    size: bytes.len() as u64,
                    source: Source::Bytes(bytes),
                }
            }
            _ => self.clone(),
        }
    }
}

/// Everything staging needs to stage a build again: what the pipeline knew (spec, builder,
/// host, timings), what the builder reported, and when the build ended (flat-layout names).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StagePlan {
    /// The pipeline's part of the manifest.
    pub input: ManifestInput,
    /// The builder's report (artifacts under the job's output directory).
    pub report: BuildReport,
    /// When the build ended.
    pub built_at: DateTime<Utc>,
}

impl StagePlan {
    /// Keep the plan at `path`.
    pub fn save(&self, path: &Path) -> Result<(), StageFailure> {
        let io = |source| StageFailure::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        };
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        let tmp = path.with_extension("json.part");
        std::fs::write(&tmp, json).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// The plan kept at `path`.
    pub fn load(path: &Path) -> Result<Self, StageFailure> {
        let io = |source| StageFailure::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        };
        let bytes = std::fs::read(path).map_err(io)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
    }
}

/// What was staged.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The artifacts (names, sizes, checksums, public URLs), manifest and log excluded.
    pub artifacts: Vec<Artifact>,
    /// The manifest as written.
    pub manifest: Manifest,
    /// Where, credentials removed.
    pub location: String,
}

/// Where the files are going.
enum Target<'a> {
    Local(local::LocalStage),
    Ftp(Box<upload::FtpStage<'a>>),
}

impl Target<'_> {
    async fn put(&mut self, uploads: Vec<Upload>) -> Result<(), StageFailure> {
        match self {
            Target::Ftp(f) => f.put(&uploads).await,
            Target::Local(l) => {
                // The copies block: run them off the async threads, then take the stage back.
                let stage = std::mem::replace(l, local::LocalStage::detached());
                let (stage, r) = tokio::task::spawn_blocking(move || {
                    let r = stage.put(&uploads);
                    (stage, r)
                })
                .await
                .map_err(|e| StageFailure::Config(format!("staging task: {e}")))?;
                *l = stage;
                r
            }
        }
    }

    async fn commit(self) -> Result<(), StageFailure> {
        match self {
            Target::Ftp(f) => {
                f.finish().await;
                Ok(())
            }
            Target::Local(l) => tokio::task::spawn_blocking(move || l.commit())
                .await
                .map_err(|e| StageFailure::Config(format!("staging task: {e}")))?,
        }
    }
}

/// Stage `plan`'s artifacts and the job log at `log_file` to the spec's target. The
/// artifacts' checksums are computed while they are on their way (the manifest and
/// `CHECKSUM`, which need them, follow the artifacts).
pub async fn stage(
    plan: &StagePlan,
    log_file: &Path,
    cfg: &StagingConfig,
    log: &dyn LogSink,
    cancel: &CancellationToken,
) -> Result<Staged, StageFailure> {
    let started = Instant::now();
    let spec = &plan.input.spec;
    let target = &spec.staging;
    let names = Names::new(
        spec.staging_layout,
        plan.input.job_id,
        spec.arch,
        plan.built_at,
    );
    let location = {
        let base = target.redacted();
        let base = base.trim_end_matches('/');
        if names.dir.is_empty() {
            format!("{base}/")
        } else {
            format!("{base}/{}/", names.dir)
        }
    };
    log.fbs(&format!("staging to {location}"));
    let mut uploads = Vec::new();
    for a in &plan.report.artifacts {
        let size = std::fs::metadata(&a.path)
            .map_err(|source| StageFailure::Io {
                action: "read",
                path: a.path.clone(),
                source,
            })?
            .len();
        uploads.push(Upload {
            name: names.artifact(&a.path),
            source: Source::File(a.path.clone()),
            size,
        });
    }
    let paths: Vec<PathBuf> = plan
        .report
        .artifacts
        .iter()
        .map(|a| a.path.clone())
        .collect();
    let hashing = tokio::task::spawn_blocking(move || {
        paths
            .iter()
            .map(|p| sha256_file(p))
            .collect::<Result<Vec<_>, _>>()
    });
    let mut dest = match target {
        Staging::File { path } => {
            let (base, dir) = (path.clone(), names.dir.clone());
            let stage = tokio::task::spawn_blocking(move || local::LocalStage::begin(&base, &dir))
                .await
                .map_err(|e| StageFailure::Config(format!("staging task: {e}")))??;
            Target::Local(stage)
        }
        Staging::Ftp { url } => Target::Ftp(Box::new(upload::FtpStage::begin(
            url, &names.dir, cfg, log, cancel,
        )?)),
    };
    dest.put(uploads.clone()).await?;
    let sums = hashing
        .await
        .map_err(|e| StageFailure::Config(format!("checksum task: {e}")))??;
    let mut artifacts = Vec::new();
    for ((a, u), (size, sha256)) in plan.report.artifacts.iter().zip(&uploads).zip(sums) {
        if size != u.size {
            return Err(StageFailure::Io {
                action: "stage",
                path: a.path.clone(),
                source: std::io::Error::other("the file changed while it was staged"),
            });
        }
        artifacts.push(Artifact {
            url: cfg.public_url(target, &names.rel(&u.name)),
            path: u.name.clone(),
            media_type: a.media_type.clone(),
            size,
            sha256,
        });
    }
    let mut manifest = Manifest::new(&plan.input, &plan.report, &artifacts, started.elapsed());
    manifest.location = Some(location.clone());
    let sums = checksum_text(
        artifacts
            .iter()
            .map(|a| (a.path.as_str(), a.sha256.as_str())),
    );
    let mut rest = Vec::new();
    for (name, bytes) in [
        (names.manifest.clone(), manifest.to_json().into_bytes()),
        (names.checksum.clone(), sums.into_bytes()),
    ] {
        rest.push(Upload {
            name,
            size: bytes.len() as u64,
            source: Source::Bytes(bytes),
        });
    }
    // Last, with everything logged up to its turn (the transfers included).
    rest.push(Upload {
        name: names.log.clone(),
        size: 0,
        source: Source::Snapshot(log_file.to_path_buf()),
    });
    dest.put(rest).await?;
    dest.commit().await?;
    Ok(Staged {
        artifacts,
        manifest,
        location,
    })
}

#[cfg(test)]
mod tests;
