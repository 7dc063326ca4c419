//! Why a side repo could not be made, naming the build or file concerned, and whether the
//! job may succeed on another try.

use std::path::PathBuf;

use fbs_core::runner::RunError;

use crate::koji::KojiError;

/// A failure of the side-repo step.
#[derive(Debug, thiserror::Error)]
pub enum SideRepoError {
    /// The hub said no, or could not be asked.
    #[error(transparent)]
    Koji(#[from] KojiError),
    /// A build has nothing for the image's architecture.
    #[error("build {nvr} has no RPMs for {arches} (only debuginfo, source or other arches)")]
    NoRpms {
        /// The build.
        nvr: String,
        /// The arches asked for.
        arches: String,
    },
    /// Koji gave no way to check a file.
    #[error("{file} of build {nvr}: {problem}")]
    Unverifiable {
        /// The RPM file name.
        file: String,
        /// Its build.
        nvr: String,
        /// What is missing.
        problem: String,
    },
    /// A download failed.
    #[error("downloading {file} of build {nvr} from {url}: {message}")]
    Download {
        /// The RPM file name.
        file: String,
        /// Its build.
        nvr: String,
        /// Where from.
        url: String,
        /// What went wrong (HTTP status, network error).
        message: String,
        /// Whether another try may work (5xx, network) or not (404).
        retryable: bool,
    },
    /// A download was complete but is not the file Koji describes.
    #[error("{file} of build {nvr} from {url} is not the file Koji describes: {problem}")]
    Mismatch {
        /// The RPM file name.
        file: String,
        /// Its build.
        nvr: String,
        /// Where from.
        url: String,
        /// Which check failed, with both values.
        problem: String,
    },
    /// Offline mode and the cache lacks something.
    #[error(
        "offline mode: {what} is not in the download cache {cache}; run once with the hub reachable (koji.offline = false)"
    )]
    Offline {
        /// What is missing.
        what: String,
        /// The cache directory.
        cache: PathBuf,
    },
    /// Reading or writing the cache or the side repo failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// `createrepo_c` is not installed.
    #[error(
        "createrepo_c is not installed on this host: install createrepo-c (Debian) or createrepo_c (Fedora)"
    )]
    NoCreaterepo,
    /// `createrepo_c` failed.
    #[error("making the side repo's metadata failed: {0}")]
    Createrepo(RunError),
    /// The job was canceled.
    #[error("canceled")]
    Canceled,
}

impl SideRepoError {
    /// True when the same job may succeed on another try.
    pub fn is_retryable(&self) -> bool {
        match self {
            SideRepoError::Koji(e) => e.is_retryable(),
            SideRepoError::Download { retryable, .. } => *retryable,
            SideRepoError::Io { .. } => true,
            SideRepoError::Createrepo(e) => e.is_retryable(),
            SideRepoError::NoRpms { .. }
            | SideRepoError::Unverifiable { .. }
            | SideRepoError::Mismatch { .. }
            | SideRepoError::Offline { .. }
            | SideRepoError::NoCreaterepo
            | SideRepoError::Canceled => false,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| SideRepoError::Io {
            action,
            path,
            source,
        }
    }
}
