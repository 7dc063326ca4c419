//! The `Builder` trait: given a prepared job it runs a tool and returns a [`BuildReport`]: the
//! artifacts it made, and what the manifest records about them (packages, tool version, the
//! timestamp the images were made reproducible with, step timings).
//! Adapters (native, lorax, pungi, kiwi, livemedia-creator, livecd-creator) implement it.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use fbs_core::job::JobRecord;
use fbs_core::joblog::SharedSink;
use fbs_core::runner::RunError;
use tokio_util::sync::CancellationToken;

use crate::dirs::JobDirs;

/// Everything a builder may use: the job, its directories, its log, and the cancel signal.
#[derive(Clone)]
pub struct BuildContext {
    /// The job (spec, flattened kickstart, attempt).
    pub job: JobRecord,
    /// The job's own directories; a builder writes only under them.
    pub dirs: JobDirs,
    /// The job log.
    pub log: SharedSink,
    /// Fires when the job is canceled or its lease is lost.
    pub cancel: CancellationToken,
    /// The job's side repo of Koji builds, when the spec asked for any. Kickstart-driven
    /// builds also find it in the job's kickstart (see [`crate::siderepo::inject`]).
    pub side_repo: Option<crate::siderepo::SideRepo>,
}

impl std::fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildContext")
            .field("job", &self.job.id)
            .field("dirs", &self.dirs)
            .finish()
    }
}

/// One file a builder produced, under the job's output directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuiltArtifact {
    /// Absolute path (inside `dirs.output`).
    pub path: PathBuf,
    /// Media type.
    pub media_type: String,
    /// ISO volume id, for ISOs.
    pub volume_id: Option<String>,
    /// Whether the image boots (El Torito), for ISOs.
    pub bootable: Option<bool>,
}

/// How long one step of a build took (`install`, `squashfs`, `iso`, …), for the manifest.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepTiming {
    /// The step's name.
    pub step: String,
    /// Its wall-clock duration.
    pub duration: Duration,
}

/// What a build produced and what the manifest says about it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BuildReport {
    /// The files to stage.
    pub artifacts: Vec<BuiltArtifact>,
    /// The packages in the image, as sorted `NAME-EPOCH:VERSION-RELEASE.ARCH` strings.
    pub packages: Vec<String>,
    /// The builder's version including the tools it ran, when known (else the pipeline asks
    /// [`Builder::version`]).
    pub builder_version: Option<String>,
    /// The `SOURCE_DATE_EPOCH` the images were built with, when the builder sets one.
    pub source_date_epoch: Option<i64>,
    /// The builder's own steps, in order.
    pub steps: Vec<StepTiming>,
}

impl From<Vec<BuiltArtifact>> for BuildReport {
    fn from(artifacts: Vec<BuiltArtifact>) -> Self {
        BuildReport {
            artifacts,
            ..BuildReport::default()
        }
    }
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The tool is not installed on this host.
    #[error("{tool} is not installed on this host: {hint}")]
    ToolMissing {
        /// The tool.
        tool: String,
        /// What to install.
        hint: String,
    },
    /// The inputs cannot produce an image (e.g. no kernel in the repos for a boot ISO).
    #[error("{0}")]
    Input(String),
    /// A tool ran and failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Reading or writing the job directory failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The tool must run as root and this worker does not.
    #[error(
        "{tool} must run as root, and this worker runs as uid {uid}: run the worker as root, or choose builder = \"native\""
    )]
    NotRoot {
        /// The tool.
        tool: String,
        /// The worker's user id.
        uid: u32,
    },
    /// The job was canceled.
    #[error("canceled")]
    Canceled,
}

impl BuildError {
    /// True when the same job may succeed on another try (a flaky tool, a full disk freed
    /// later); input errors and missing tools are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            BuildError::Run(e) => e.is_retryable(),
            BuildError::Io { .. } => true,
            BuildError::ToolMissing { .. }
            | BuildError::Input(_)
            | BuildError::NotRoot { .. }
            | BuildError::Canceled => false,
        }
    }
}

/// A tool that turns a prepared job into image files.
#[async_trait]
pub trait Builder: Send + Sync + std::fmt::Debug {
    /// Short name (`native`, `lorax`, …), recorded in the manifest.
    fn name(&self) -> &'static str;

    /// True when the tool is installed on this host (`builder = "auto"` picks only installed
    /// builders).
    fn available(&self) -> bool {
        true
    }

    /// The tool's version, for the manifest, when it can be found.
    async fn version(&self) -> Option<String>;

    /// Build; files go under `ctx.dirs.output`.
    async fn build(&self, ctx: &BuildContext) -> Result<BuildReport, BuildError>;
}
