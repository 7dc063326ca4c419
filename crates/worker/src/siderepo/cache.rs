//! The download cache shared by every job on a worker: `<cache_dir>/koji/`.
//!
//! - `rpms/sigmd5/<payloadhash>-<size>.rpm` — an unsigned (or any) copy, addressed by what
//!   Koji says identifies it; `rpms/sha256/<sha256>.rpm` — a signed copy, by its SHA-256.
//! - `meta/<hub>/<build>.json` — the hub's answers for one build (build record and its RPM
//!   list), so offline mode can rebuild a side repo without the hub.
//! - `tmp/` — downloads in progress. A file is written there, verified, and only then
//!   renamed into `rpms/` (same filesystem, so the rename is atomic): nothing half-written
//!   or unverified is ever found under `rpms/`. A failed or interrupted download removes its
//!   temporary file ([`TempFile`]); leftovers of a killed worker are removed after a day.
//!
//! Jobs share entries without locks: two jobs fetching the same file each write their own
//! temporary file and the second rename replaces an identical, verified file.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::koji::{BuildInfo, RpmInfo};

/// How old a temporary file must be before it is taken for a dead worker's leftover.
const STALE_TMP: Duration = Duration::from_secs(24 * 3600);

/// What identifies a verified file in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheKey {
    /// Koji's `payloadhash` (SIGMD5) and `size` of the unsigned copy.
    SigMd5 {
        /// Lower-case hex MD5.
        sigmd5: String,
        /// Bytes.
        size: u64,
    },
    /// The SHA-256 of a signed copy (from `getRPMChecksums`).
    Sha256(String),
}

/// The cache under one directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// A hub's answers about one build, as stored for offline mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildRecord {
    /// The build.
    pub build: BuildInfo,
    /// Its RPMs for the arches asked for.
    pub rpms: Vec<RpmInfo>,
    /// With a signing key configured: the SHA-256 of each RPM's signed copy, by RPM id.
    #[serde(default)]
    pub sha256: std::collections::BTreeMap<i64, String>,
}

impl Cache {
    /// The cache under `<cache_dir>/koji`.
    pub fn new(cache_dir: &Path) -> Self {
        Cache {
            root: cache_dir.join("koji"),
        }
    }

    /// Its top directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The temporary directory (created on demand).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Where the file for `key` lives once verified.
    pub fn path(&self, key: &CacheKey) -> PathBuf {
        match key {
            CacheKey::SigMd5 { sigmd5, size } => self
                .root
                .join("rpms/sigmd5")
                .join(format!("{}-{size}.rpm", safe(sigmd5))),
            CacheKey::Sha256(sum) => self
                .root
                .join("rpms/sha256")
                .join(format!("{}.rpm", safe(sum))),
        }
    }

    /// Create the directories.
    pub fn create(&self) -> io::Result<()> {
        for d in ["rpms/sigmd5", "rpms/sha256", "meta", "tmp"] {
            std::fs::create_dir_all(self.root.join(d))?;
        }
        Ok(())
    }

    /// Remove temporary files older than a day (a killed worker's leftovers).
    pub fn sweep_tmp(&self) {
        let Ok(rd) = std::fs::read_dir(self.tmp_dir()) else {
            return;
        };
        let now = SystemTime::now();
        for e in rd.filter_map(Result::ok) {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_TMP);
            if old {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// A new temporary file name for a download of `file_name`.
    pub fn temp_file(&self, file_name: &str) -> TempFile {
        let id = uuid::Uuid::new_v4().simple().to_string();
        TempFile {
            path: self
                .tmp_dir()
                .join(format!("{}.{id}.part", safe(file_name))),
        }
    }

    fn meta_path(&self, hub: &str, build: &str) -> PathBuf {
        let hub_key = hex::encode(&sha2::Sha256::digest(hub.as_bytes())[..8]);
        self.root
            .join("meta")
            .join(hub_key)
            .join(format!("{}.json", safe(build)))
    }

    /// The stored answers about `build` (an NVR or `id-N`) from `hub`.
    pub fn load_build(&self, hub: &str, build: &str) -> Option<BuildRecord> {
        let text = std::fs::read(self.meta_path(hub, build)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Store the answers about `build` (written to a temporary name, then renamed).
    pub fn store_build(&self, hub: &str, build: &str, rec: &BuildRecord) -> io::Result<()> {
        let path = self.meta_path(hub, build);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.temp_file("meta.json");
        let text = serde_json::to_vec_pretty(rec).map_err(io::Error::other)?;
        std::fs::write(&tmp.path, text)?;
        tmp.persist(&path)
    }
}

/// A file name with anything but `[A-Za-z0-9._+-]` replaced, so a name from Koji can never
/// leave its directory.
pub fn safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._+-,".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.trim_start_matches('.') {
        "" => "_".into(),
        t => t.to_owned(),
    }
}

/// A temporary file that is removed when dropped unless [`TempFile::persist`]ed.
#[derive(Debug)]
pub struct TempFile {
    /// Its path.
    pub path: PathBuf,
}

impl TempFile {
    /// Rename it to `to` (atomically, on the same filesystem).
    pub fn persist(self, to: &Path) -> io::Result<()> {
        std::fs::rename(&self.path, to)?;
        std::mem::forget(self);
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_safe_paths_and_temp_files_vanish_unless_kept() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = Cache::new(tmp.path());
        c.create().expect("create");
        let p = c.path(&CacheKey::SigMd5 {
            sigmd5: "ab/../cd".into(),
            size: 12,
        });
        assert!(p.starts_with(c.root()));
        assert!(
            p.ends_with("rpms/sigmd5/ab_.._cd-12.rpm"),
            "{}",
            p.display()
        );
        assert_eq!(safe("../../etc/passwd"), "_.._etc_passwd");
        let t = c.temp_file("a.rpm");
        std::fs::write(&t.path, b"x").expect("write");
        let gone = t.path.clone();
        drop(t);
        assert!(!gone.exists());
        let t = c.temp_file("b.rpm");
        std::fs::write(&t.path, b"y").expect("write");
        let dest = c.path(&CacheKey::Sha256("00ff".into()));
        t.persist(&dest).expect("persist");
        assert_eq!(std::fs::read(&dest).expect("read"), b"y");
        assert_eq!(
            std::fs::read_dir(c.tmp_dir()).expect("tmp").count(),
            0,
            "tmp is empty"
        );
    }
}
