//! Turning a spec file into what a job carries: the validated `BuildSpec` and its kickstart,
//! flattened here on the submitter's machine (files) or fetched (URLs) — workers never read a
//! path or URL from a spec.

use std::path::{Path, PathBuf};

use fbs_core::exit;
use fbs_core::kickstart::{self, KsError};
use fbs_core::spec::{self, BuildSpec, KickstartSource, SpecErrors};

/// The largest kickstart (after flattening or fetching) a job may carry.
pub const KICKSTART_LIMIT: u64 = 4 * 1024 * 1024;

/// A spec ready to submit.
#[derive(Debug, Clone)]
pub struct PreparedJob {
    /// The validated spec.
    pub spec: BuildSpec,
    /// The flattened kickstart, for types that use one.
    pub kickstart: Option<String>,
    /// Warnings worth showing (ignored keys, …).
    pub warnings: Vec<String>,
}

/// Why a spec cannot be submitted.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The spec is invalid (every problem listed).
    #[error("{0}")]
    Spec(SpecErrors),
    /// Its kickstart cannot be flattened or fetched.
    #[error("{0}")]
    Kickstart(KsError),
}

impl PrepareError {
    /// The exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            PrepareError::Spec(_) => exit::INVALID_INPUT,
            PrepareError::Kickstart(e) => e.exit_code(),
        }
    }
}

/// Load `path`, validate it, and flatten (or fetch) its kickstart. Includes must stay inside
/// `ks_root`, by default the spec's directory.
pub async fn load_job(path: &Path, ks_root: Option<&Path>) -> Result<PreparedJob, PrepareError> {
    let loaded = spec::load_spec(path).map_err(PrepareError::Spec)?;
    let kickstart = match loaded.spec.kickstart() {
        None => None,
        Some(KickstartSource::Path(ks)) => {
            let root: PathBuf = match ks_root {
                Some(r) => r.to_path_buf(),
                None => path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf(),
            };
            let flat = kickstart::flatten_file(ks, &root).map_err(PrepareError::Kickstart)?;
            Some(flat.text)
        }
        Some(KickstartSource::Url(url)) => Some(
            kickstart::flatten_url(url, KICKSTART_LIMIT)
                .await
                .map_err(PrepareError::Kickstart)?
                .text,
        ),
    };
    Ok(PreparedJob {
        spec: loaded.spec,
        kickstart,
        warnings: loaded.warnings,
    })
}
