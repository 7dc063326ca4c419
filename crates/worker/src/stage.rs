//! The stage step: put a job's artifacts where its spec says, each file under a temporary name
//! renamed when complete, with `manifest.json` (see [`crate::manifest`]) when the pipeline
//! asks for one, a `CHECKSUM` file (the `sha256sum -c` format) and the job log last.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use fbs_core::job::{Artifact, JobId};
use fbs_core::spec::Staging;
use sha2::{Digest, Sha256};

use crate::builder::{BuildReport, BuiltArtifact};
use crate::manifest::{self, Manifest, ManifestInput};

/// Why staging failed.
#[derive(Debug, thiserror::Error)]
pub enum StageFailure {
    /// Reading an artifact or writing to the target failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The target kind is one this build of fbs cannot write to.
    #[error("cannot stage to {0}: only file:// staging is available in this version of fbs")]
    Unsupported(String),
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StageFailure + 'a {
    move |source| StageFailure::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Stage `artifacts` and the job log to `target`; returns what was staged, log excluded.
pub fn stage(
    target: &Staging,
    id: JobId,
    artifacts: &[BuiltArtifact],
    log: &Path,
) -> Result<Vec<Artifact>, StageFailure> {
    let dest = dest_dir(target, id)?;
    let staged = copy_artifacts(&dest, artifacts)?;
    finish(&dest, &staged, log)?;
    Ok(staged)
}

/// Stage a build's artifacts like [`stage`], and write `manifest.json` beside them (after
/// the artifacts, before `CHECKSUM` and the log), made from `input` and `report`.
/// Returns what was staged, log and manifest excluded, and the manifest.
pub fn stage_with_manifest(
    target: &Staging,
    input: &ManifestInput,
    report: &BuildReport,
    log: &Path,
) -> Result<(Vec<Artifact>, Manifest), StageFailure> {
    let started = std::time::Instant::now();
    let dest = dest_dir(target, input.job_id)?;
    let staged = copy_artifacts(&dest, &report.artifacts)?;
    let m = Manifest::new(input, report, &staged, started.elapsed());
    write_atomic(&dest.join(manifest::FILE_NAME), m.to_json().as_bytes())?;
    finish(&dest, &staged, log)?;
    Ok((staged, m))
}

/// The job's staging directory, created.
fn dest_dir(target: &Staging, id: JobId) -> Result<PathBuf, StageFailure> {
    let base = match target {
        Staging::File { path } => path,
        Staging::Ftp { .. } => return Err(StageFailure::Unsupported(target.redacted())),
    };
    let dest = base.join(id.to_string());
    fs::create_dir_all(&dest).map_err(io_err("create", &dest))?;
    Ok(dest)
}

/// Copy each artifact into `dest` under its file name.
fn copy_artifacts(dest: &Path, artifacts: &[BuiltArtifact]) -> Result<Vec<Artifact>, StageFailure> {
    let mut staged = Vec::new();
    for a in artifacts {
        let name = a
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "artifact".into());
        let (size, sha256) = copy_atomic(&a.path, &dest.join(&name))?;
        staged.push(Artifact {
            path: name,
            media_type: a.media_type.clone(),
            size,
            sha256,
            url: None,
        });
    }
    Ok(staged)
}

/// Write `CHECKSUM` for `staged`, then copy the job log.
fn finish(dest: &Path, staged: &[Artifact], log: &Path) -> Result<(), StageFailure> {
    let mut sums = String::new();
    for a in staged {
        sums.push_str(&format!("{}  {}\n", a.sha256, a.path));
    }
    write_atomic(&dest.join("CHECKSUM"), sums.as_bytes())?;
    if log.exists() {
        copy_atomic(log, &dest.join("build.log"))?;
    }
    Ok(())
}

/// Copy `from` to `to` through a hidden temporary name in the same directory; returns the size
/// and hex SHA-256 of what was written.
pub fn copy_atomic(from: &Path, to: &Path) -> Result<(u64, String), StageFailure> {
    let tmp = temp_name(to);
    let mut src = fs::File::open(from).map_err(io_err("open", from))?;
    let mut dst = fs::File::create(&tmp).map_err(io_err("create", &tmp))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf).map_err(io_err("read", from))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        dst.write_all(&buf[..n]).map_err(io_err("write", &tmp))?;
        size += n as u64;
    }
    dst.sync_all().map_err(io_err("sync", &tmp))?;
    fs::rename(&tmp, to).map_err(io_err("rename", to))?;
    Ok((size, hex::encode(hash.finalize())))
}

fn write_atomic(to: &Path, data: &[u8]) -> Result<(), StageFailure> {
    let tmp = temp_name(to);
    fs::write(&tmp, data).map_err(io_err("write", &tmp))?;
    fs::rename(&tmp, to).map_err(io_err("rename", to))
}

fn temp_name(to: &Path) -> PathBuf {
    let name = to
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    to.with_file_name(format!(".{name}.part"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_files_checksums_and_log() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        fs::create_dir(&out).expect("mkdir");
        fs::write(out.join("a.iso"), b"hello").expect("write");
        fs::write(tmp.path().join("build.log"), b"log\n").expect("write");
        let id = JobId::new();
        let target = Staging::File {
            path: tmp.path().join("staging"),
        };
        let arts = [BuiltArtifact {
            path: out.join("a.iso"),
            media_type: "application/vnd.efi.iso".into(),
            volume_id: None,
            bootable: None,
        }];
        let staged = stage(&target, id, &arts, &tmp.path().join("build.log")).expect("stage");
        let dest = tmp.path().join("staging").join(id.to_string());
        assert_eq!(staged[0].size, 5);
        assert_eq!(
            staged[0].sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let sums = fs::read_to_string(dest.join("CHECKSUM")).expect("read");
        assert_eq!(sums, format!("{}  a.iso\n", staged[0].sha256));
        assert!(dest.join("build.log").exists());
        let leftovers: Vec<_> = fs::read_dir(&dest)
            .expect("ls")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .collect();
        assert!(leftovers.is_empty());
    }
    #[test]
    fn writes_a_manifest_matching_the_staged_files() {
        use crate::builder::BuildReport;
        use crate::manifest::{Manifest, ManifestInput, Timing};
        use fbs_core::spec::{
            Arch, BuildSpec, BuilderChoice, ImageOptions, KickstartSource, KojiBuilds, LiveOptions,
        };

        let tmp = tempfile::tempdir().expect("tempdir");
        fs::write(tmp.path().join("live.iso"), b"iso bytes").expect("write");
        let target = Staging::File {
            path: tmp.path().join("staging"),
        };
        let input = ManifestInput {
            job_id: JobId::new(),
            spec: BuildSpec {
                arch: Arch::X86_64,
                release: "40".into(),
                staging: target.clone(),
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
        };
        let report = BuildReport::from(vec![BuiltArtifact {
            path: tmp.path().join("live.iso"),
            media_type: "application/vnd.efi.iso".into(),
            volume_id: Some("L".into()),
            bootable: Some(false),
        }]);
        let (staged, m) =
            stage_with_manifest(&target, &input, &report, &tmp.path().join("none.log"))
                .expect("stage");
        let dest = tmp.path().join("staging").join(input.job_id.to_string());
        let text = fs::read_to_string(dest.join("manifest.json")).expect("manifest");
        let back: Manifest = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, m);
        assert_eq!(m.artifacts[0].sha256, staged[0].sha256);
        assert_eq!(m.artifacts[0].size, 9);
        assert_eq!(m.timings.last().map(|t| t.stage.as_str()), Some("stage"));
        assert!(dest.join("CHECKSUM").is_file());
    }
}
