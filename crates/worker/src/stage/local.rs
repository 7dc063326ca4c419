//! Staging to a local directory (`file:///path`).
//!
//! Files are copied with `std::fs::copy`, which on Linux uses `copy_file_range`: the kernel
//! copies without a round trip through user space, and filesystems that share extents
//! (Btrfs, XFS with reflink, NFS 4.2 server-side copy) clone instead of copying. Measured in
//! `bench/staging.sh` against `cp --reflink=auto`.
//!
//! Job layout: everything is first written into a hidden `.<job-id>.part-<random>` directory
//! beside the final one, which then takes the final name in one step: an existing
//! `<job-id>` directory (an earlier attempt) is exchanged atomically (`renameat2` with
//! `RENAME_EXCHANGE`) and removed afterwards, so readers see either the old set of files or
//! the new one, never a mix or a partial file. Flat layout: each file is written under a
//! hidden temporary name and renamed over its final name.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Source, StageFailure, Upload};

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StageFailure {
    let path = path.to_path_buf();
    move |source| StageFailure::Io {
        action,
        path,
        source,
    }
}

/// A local staging in progress: files go into a hidden directory beside the final one (job
/// layout) or under hidden names (flat layout) until [`LocalStage::commit`].
#[derive(Debug)]
pub struct LocalStage {
    base: PathBuf,
    /// The job directory's final path, and the hidden one being filled (job layout).
    dirs: Option<(PathBuf, PathBuf)>,
}

impl LocalStage {
    /// Start staging into `base/dir` (job layout) or `base` (flat layout, `dir` empty).
    pub fn begin(base: &Path, dir: &str) -> Result<Self, StageFailure> {
        fs::create_dir_all(base).map_err(io_err("create", base))?;
        let dirs = if dir.is_empty() {
            None
        } else {
            let tmp = base.join(format!(
                ".{dir}.part-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ));
            fs::create_dir(&tmp).map_err(io_err("create", &tmp))?;
            Some((base.join(dir), tmp))
        };
        Ok(LocalStage {
            base: base.to_path_buf(),
            dirs,
        })
    }

    /// A stage standing in for one being used elsewhere (owns nothing, removes nothing).
    pub fn detached() -> Self {
        LocalStage {
            base: PathBuf::new(),
            dirs: None,
        }
    }

    /// Write `uploads`, in order.
    pub fn put(&self, uploads: &[Upload]) -> Result<(), StageFailure> {
        for u in uploads {
            match &self.dirs {
                Some((_, tmp)) => write_one(u, &tmp.join(&u.name))?,
                None => {
                    let tmp = self.base.join(format!(".{}.part", u.name));
                    write_one(u, &tmp)?;
                    let dest = self.base.join(&u.name);
                    fs::rename(&tmp, &dest).map_err(io_err("rename", &dest))?;
                }
            }
        }
        Ok(())
    }

    /// Give the job directory its final name.
    pub fn commit(mut self) -> Result<(), StageFailure> {
        match self.dirs.take() {
            Some((dest, tmp)) => {
                let r = swap_in(&tmp, &dest);
                if r.is_err() && tmp.exists() {
                    let _ = crate::dirs::remove_tree(&tmp);
                }
                r
            }
            None => Ok(()),
        }
    }
}

impl Drop for LocalStage {
    fn drop(&mut self) {
        // Not committed (staging failed): leave nothing half-written behind.
        if let Some((_, tmp)) = self.dirs.take()
            && tmp.exists()
        {
            let _ = crate::dirs::remove_tree(&tmp);
        }
    }
}

/// Put `uploads` into `base/dir` (job layout) or `base` (flat layout, `dir` empty), in order.
#[cfg(test)]
pub fn put_all(base: &Path, dir: &str, uploads: &[Upload]) -> Result<(), StageFailure> {
    let stage = LocalStage::begin(base, dir)?;
    stage.put(uploads)?;
    stage.commit()
}

/// Write one file at `to` and flush it to disk.
fn write_one(u: &Upload, to: &Path) -> Result<(), StageFailure> {
    match &u.snapshot().source {
        Source::File(from) | Source::Snapshot(from) => {
            fs::copy(from, to).map_err(io_err("copy to", to))?;
        }
        Source::Bytes(data) => {
            let mut f = fs::File::create(to).map_err(io_err("create", to))?;
            f.write_all(data).map_err(io_err("write", to))?;
        }
    }
    let f = fs::File::open(to).map_err(io_err("open", to))?;
    f.sync_all().map_err(io_err("sync", to))
}

/// Give the complete directory `tmp` the name `dest`, replacing an existing `dest` atomically
/// where the filesystem can exchange names.
fn swap_in(tmp: &Path, dest: &Path) -> Result<(), StageFailure> {
    if !dest.exists() {
        return fs::rename(tmp, dest).map_err(io_err("rename", dest));
    }
    let exchanged = nix::fcntl::renameat2(
        nix::fcntl::AT_FDCWD,
        tmp,
        nix::fcntl::AT_FDCWD,
        dest,
        nix::fcntl::RenameFlags::RENAME_EXCHANGE,
    );
    let old: PathBuf = match exchanged {
        // `tmp` now holds the earlier attempt's files.
        Ok(()) => tmp.to_path_buf(),
        Err(_) => {
            // No exchange here (an old kernel or an unusual filesystem): move the old
            // directory aside first; readers miss the directory for a moment, never see a mix.
            let aside = tmp.with_extension("old");
            fs::rename(dest, &aside).map_err(io_err("rename", dest))?;
            fs::rename(tmp, dest).map_err(io_err("rename", dest))?;
            aside
        }
    };
    if let Err(e) = crate::dirs::remove_tree(&old) {
        tracing::warn!(path = %old.display(), error = %e, "cannot remove the replaced staging directory");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uploads(text: &str) -> Vec<Upload> {
        vec![
            Upload {
                name: "a.iso".into(),
                source: Source::Bytes(text.as_bytes().to_vec()),
                size: text.len() as u64,
            },
            Upload {
                name: "CHECKSUM".into(),
                source: Source::Bytes(b"sums".to_vec()),
                size: 4,
            },
        ]
    }

    #[test]
    fn a_second_attempt_replaces_the_first_whole() {
        let tmp = tempfile::tempdir().expect("tempdir");
        put_all(tmp.path(), "J", &uploads("first")).expect("stage");
        fs::write(tmp.path().join("J/stale.iso"), b"old").expect("write");
        put_all(tmp.path(), "J", &uploads("second")).expect("stage again");
        let dir = tmp.path().join("J");
        assert_eq!(
            fs::read_to_string(dir.join("a.iso")).expect("read"),
            "second"
        );
        assert!(
            !dir.join("stale.iso").exists(),
            "files of the old attempt stayed"
        );
        let names: Vec<String> = fs::read_dir(tmp.path())
            .expect("ls")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["J"], "leftovers: {names:?}");
    }

    #[test]
    fn the_flat_layout_renames_over_existing_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        put_all(tmp.path(), "", &uploads("one")).expect("stage");
        put_all(tmp.path(), "", &uploads("two")).expect("stage again");
        assert_eq!(
            fs::read_to_string(tmp.path().join("a.iso")).expect("read"),
            "two"
        );
        assert_eq!(fs::read_dir(tmp.path()).expect("ls").count(), 2);
    }
}
