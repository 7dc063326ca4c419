//! Staged file names for both layouts, and the checksums that go into `CHECKSUM` and the
//! manifest.
//!
//! - `job` (default): `<target>/<job-id>/<artifact>`, `manifest.json`, `CHECKSUM`, `build.log`.
//! - `flat` (the 2012 service's names): `<target>/<stem>-<arch>-<YYYYmmddHHMMSS>.<ext>` with
//!   the build's UTC end time, beside `<job-id>.manifest.json`, `<job-id>.CHECKSUM` and
//!   `<job-id>.build.log`. The time comes from the build, so staging again gives the same names.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use fbs_core::job::JobId;
use fbs_core::spec::{Arch, StagingLayout};
use sha2::{Digest, Sha256};

use super::StageFailure;

/// Where a job's files go under the target and what they are called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The directory under the target (`<job-id>`, or empty for the flat layout).
    pub dir: String,
    /// The manifest's file name.
    pub manifest: String,
    /// The checksum file's name.
    pub checksum: String,
    /// The staged log's name.
    pub log: String,
    layout: StagingLayout,
    arch: Arch,
    built_at: DateTime<Utc>,
}

impl Names {
    /// The names for job `id` built for `arch` and finished at `built_at`.
    pub fn new(layout: StagingLayout, id: JobId, arch: Arch, built_at: DateTime<Utc>) -> Self {
        let (dir, prefix) = match layout {
            StagingLayout::Job => (id.to_string(), String::new()),
            StagingLayout::Flat => (String::new(), format!("{id}.")),
        };
        Names {
            dir,
            manifest: format!("{prefix}manifest.json"),
            checksum: format!("{prefix}CHECKSUM"),
            log: format!("{prefix}build.log"),
            layout,
            arch,
            built_at,
        }
    }

    /// The staged name of the artifact whose file is `built` (its own name in the job
    /// layout).
    pub fn artifact(&self, built: &Path) -> String {
        let name = built
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "artifact".into());
        if self.layout == StagingLayout::Job {
            return name;
        }
        let stamp = self.built_at.format("%Y%m%d%H%M%S");
        match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => {
                format!("{stem}-{}-{stamp}.{ext}", self.arch)
            }
            _ => format!("{name}-{}-{stamp}", self.arch),
        }
    }

    /// `name`'s path relative to the target (`<job-id>/name` or `name`).
    pub fn rel(&self, name: &str) -> String {
        if self.dir.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.dir)
        }
    }
}

/// Size and hex SHA-256 of the file at `path`.
pub fn sha256_file(path: &Path) -> Result<(u64, String), StageFailure> {
    let io = |action| {
        move |source| StageFailure::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    };
    let mut f = File::open(path).map_err(io("open"))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io("read"))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hash.finalize())))
}

/// The `CHECKSUM` file: `sha256sum -c` format, one `HASH  NAME` line per artifact.
pub fn checksum_text<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    items
        .into_iter()
        .map(|(name, sha)| format!("{sha}  {name}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn job_and_flat_layouts_name_files_as_documented() {
        let id = JobId::new();
        let at = Utc
            .with_ymd_and_hms(2026, 11, 23, 15, 4, 5)
            .single()
            .expect("time");
        let job = Names::new(StagingLayout::Job, id, Arch::X86_64, at);
        assert_eq!(job.artifact(Path::new("/o/Live.iso")), "Live.iso");
        assert_eq!(job.rel("CHECKSUM"), format!("{id}/CHECKSUM"));
        let flat = Names::new(StagingLayout::Flat, id, Arch::I686, at);
        assert_eq!(
            flat.artifact(Path::new("/o/Fedora-17-Live.iso")),
            "Fedora-17-Live-i686-20261123150405.iso"
        );
        assert_eq!(
            flat.artifact(Path::new("/o/raw")),
            "raw-i686-20261123150405"
        );
        assert_eq!(flat.rel(&flat.manifest), format!("{id}.manifest.json"));
        assert_eq!(
            checksum_text([("a.iso", "ab")]),
            "ab  a.iso\n",
            "sha256sum -c format"
        );
    }
}
