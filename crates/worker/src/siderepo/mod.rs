//! The side repo: a job's Koji builds (`nvr`/`bid` in the spec) turned into a package
//! repository the builder installs from, made in the prepare stage.
//!
//! 1. Each build is looked up (`getBuild`, by NVR or id) and must be COMPLETE; its RPMs are
//!    listed (`listRPMs(buildID=…, arches=[…])`) and filtered ([`select`]).
//! 2. Every RPM is fetched into the worker's download cache ([`cache`], [`fetch`]) — at most
//!    [`SideRepoSettings::parallel`] at once, each verified against Koji's `size` and
//!    `payloadhash` (or, with a signing key configured, the signed copy against
//!    `getRPMChecksums`) before it enters the cache.
//! 3. The files are linked into `<job>/work/siderepo/` and `createrepo_c` makes the metadata.
//!
//! The hub's answers are cached too, so `koji.offline = true` rebuilds a side repo from the
//! cache alone (and says clearly what is missing when the cache is cold). How the side repo
//! reaches the builder: [`inject`].

pub mod cache;
pub mod digest;
mod error;
pub mod fetch;
pub mod inject;
mod make;
pub mod select;
pub mod step;

use std::path::PathBuf;
use std::time::Duration;

use fbs_core::config::{DaemonConfig, KojiConfig};

pub use error::SideRepoError;
pub use make::make;

/// How side repos are made on this worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideRepoSettings {
    /// Hub, topurl, signing key, offline mode.
    pub koji: KojiConfig,
    /// The worker's cache directory (the download cache is `<cache_dir>/koji`).
    pub cache_dir: PathBuf,
    /// Downloads at once. Default 4.
    pub parallel: usize,
    /// Tries after the first for a hub call or download that failed in a way that may pass.
    /// Default 3.
    pub retries: u32,
    /// The first pause between tries, doubled each time. Default 1 s.
    pub backoff: Duration,
    /// The longest `createrepo_c` may run. Default 30 minutes.
    pub tool_timeout: Duration,
}

impl Default for SideRepoSettings {
    fn default() -> Self {
        SideRepoSettings {
            koji: KojiConfig::default(),
            cache_dir: fbs_core::config::WorkerConfig::default().cache_dir,
            parallel: 4,
            retries: 3,
            backoff: Duration::from_secs(1),
            tool_timeout: Duration::from_secs(30 * 60),
        }
    }
}

impl SideRepoSettings {
    /// The settings a daemon config gives (its `[koji]` section and the worker's cache dir).
    pub fn from_config(cfg: &DaemonConfig) -> Self {
        SideRepoSettings {
            koji: cfg.koji.clone(),
            cache_dir: cfg.worker.cache_dir.clone(),
            ..SideRepoSettings::default()
        }
    }
}

/// A side repo made for a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideRepo {
    /// Its directory (RPMs and `repodata/`).
    pub dir: PathBuf,
    /// The builds in it, as NVRs.
    pub builds: Vec<String>,
    /// The package names it provides, sorted: the base repos exclude these.
    pub packages: Vec<String>,
    /// Its RPM files, sorted.
    pub files: Vec<String>,
    /// Bytes downloaded for it (0 when everything came from the cache).
    pub downloaded_bytes: u64,
    /// Files taken from the cache.
    pub from_cache: usize,
}

impl SideRepo {
    /// The repo name used in kickstarts and repo files.
    pub const NAME: &'static str = "fbs-side";

    /// Its `file://` URL.
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.display())
    }
}
