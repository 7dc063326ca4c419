//! One directory per job, and its removal: never following symlinks, never crossing into
//! another filesystem (a mount left inside a build root is skipped and reported, not emptied).

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use fbs_core::job::JobId;

/// The directories of one job, all under `<work_dir>/<job-id>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDirs {
    /// `<work_dir>/<job-id>`.
    pub root: PathBuf,
    /// Scratch space for the builder (install roots, trees).
    pub work: PathBuf,
    /// Where a builder puts the files to stage.
    pub output: PathBuf,
    /// The job's inputs as written by the prepare stage (kickstart, repo files).
    pub input: PathBuf,
    /// The job log file.
    pub log: PathBuf,
}

impl JobDirs {
    /// The paths for job `id` under `work_dir` (nothing is created).
    pub fn new(work_dir: &Path, id: JobId) -> Self {
        let root = work_dir.join(id.to_string());
        JobDirs {
            work: root.join("work"),
            output: root.join("output"),
            input: root.join("input"),
            log: root.join("build.log"),
            root,
        }
    }

    /// Create the directories (mode 0700). `work` and `output` are emptied first when a
    /// previous attempt left them, so an attempt never sees another's half-built files.
    pub fn create(&self) -> io::Result<Vec<PathBuf>> {
        let mut b = fs::DirBuilder::new();
        b.recursive(true).mode(0o700);
        b.create(&self.root)?;
        let mut skipped = Vec::new();
        for d in [&self.work, &self.output, &self.input] {
            if d.exists() {
                skipped.extend(remove_tree(d)?);
            }
            b.create(d)?;
        }
        Ok(skipped)
    }

    /// Remove the whole job directory. Returns the mount points found and left alone.
    pub fn remove(&self) -> io::Result<Vec<PathBuf>> {
        if !self.root.exists() {
            return Ok(Vec::new());
        }
        remove_tree(&self.root)
    }
}

/// Remove `top` and everything below it that lives on the same filesystem as `top`.
/// Symlinks are removed, never followed. A directory on another filesystem (a mount point)
/// is left in place with its contents, and returned, so the caller can say so; its parents
/// then stay too.
pub fn remove_tree(top: &Path) -> io::Result<Vec<PathBuf>> {
    let meta = fs::symlink_metadata(top)?;
    if !meta.is_dir() {
        fs::remove_file(top)?;
        return Ok(Vec::new());
    }
    let mut skipped = Vec::new();
    remove_dir_on_dev(top, meta.dev(), &mut skipped)?;
    Ok(skipped)
}

fn remove_dir_on_dev(dir: &Path, dev: u64, skipped: &mut Vec<PathBuf>) -> io::Result<()> {
    let before = skipped.len();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let meta = fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            if meta.dev() != dev {
                skipped.push(path);
                continue;
            }
            remove_dir_on_dev(&path, dev, skipped)?;
        } else {
            fs::remove_file(&path)?;
        }
    }
    if skipped.len() == before {
        fs::remove_dir(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_and_removes_a_job_tree_without_following_links() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let outside = tmp.path().join("precious");
        fs::create_dir(&outside).expect("mkdir");
        fs::write(outside.join("keep"), b"x").expect("write");
        let dirs = JobDirs::new(&tmp.path().join("jobs"), JobId::new());
        dirs.create().expect("create");
        fs::write(dirs.output.join("a.iso"), b"iso").expect("write");
        std::os::unix::fs::symlink(&outside, dirs.work.join("link")).expect("symlink");
        let skipped = dirs.remove().expect("remove");
        assert!(skipped.is_empty());
        assert!(!dirs.root.exists());
        assert!(outside.join("keep").exists(), "removal followed a symlink");
    }

    #[test]
    fn a_new_attempt_starts_with_empty_work_and_output() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dirs = JobDirs::new(tmp.path(), JobId::new());
        dirs.create().expect("create");
        fs::write(dirs.output.join("stale.iso"), b"old").expect("write");
        dirs.create().expect("create again");
        assert!(!dirs.output.join("stale.iso").exists());
    }
}
