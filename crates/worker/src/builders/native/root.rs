//! Image roots on the host: removing what makes two builds differ (dnf's cache, logs and
//! history, rpmdb scratch files, machine-id), clamping file times to `SOURCE_DATE_EPOCH`,
//! resolving paths inside a root, and checking that no mount is left under the job.
//!
//! A root is written by package scriptlets, so nothing here follows a symlink out of it:
//! paths inside the root are resolved against the root ([`resolve_in_root`]), times are
//! set without following links, and walks never leave the root's filesystem.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use nix::sys::stat::{UtimensatFlags, utimensat};
use nix::sys::time::TimeSpec;

use super::session::io_err;
use crate::builder::BuildError;
use crate::dirs::remove_tree;

/// Files (relative to the root) that differ between two otherwise equal builds and that
/// nothing in the image needs, removed before an image is made.
const SCRUB: [&str; 4] = [
    "var/cache/ldconfig/aux-cache",
    "var/lib/systemd/random-seed",
    "root/.rpmdb",
    "tmp/fbs-ks-script",
];

/// Directories whose entries starting with a prefix are removed: dnf's logs and its
/// transaction history (install times, command lines).
const SCRUB_PREFIXED: [(&str, &str); 3] = [
    ("var/log", "dnf."),
    ("var/log", "hawkey.log"),
    ("var/lib/dnf", "history"),
];

/// Directories emptied but kept (packages own them): dnf's cache.
const SCRUB_EMPTIED: [&str; 1] = ["var/cache/dnf"];

/// Remove what [`SCRUB`], [`SCRUB_PREFIXED`] and [`SCRUB_EMPTIED`] name, rpmdb scratch
/// files (`*-shm`, an empty `*-wal`, Berkeley DB `__db.*`), and empty `/etc/machine-id`
/// (systemd makes one at first boot). Returns warnings (e.g. a mount found and left alone).
pub(crate) fn scrub(root: &Path, dbpath: &str) -> Result<Vec<String>, BuildError> {
    let mut doomed: Vec<PathBuf> = SCRUB.iter().map(|r| root.join(r)).collect();
    for (dir, prefix) in SCRUB_PREFIXED {
        doomed.extend(entries(&root.join(dir)).filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        }));
    }
    for dir in SCRUB_EMPTIED {
        doomed.extend(entries(&root.join(dir)));
    }
    let mut warnings = Vec::new();
    for p in doomed {
        if !parent_inside(root, &p) || fs::symlink_metadata(&p).is_err() {
            continue;
        }
        for m in remove_tree(&p).map_err(io_err("remove", &p))? {
            warnings.push(format!("left {} in place: another filesystem", m.display()));
        }
    }
    let db = resolve_in_root(root, Path::new(dbpath)).unwrap_or_else(|| root.join("nonexistent"));
    if let Ok(rd) = fs::read_dir(&db) {
        for e in rd.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(meta) = fs::symlink_metadata(e.path()) else {
                continue;
            };
            let scratch = name.ends_with("-shm")
                || name.starts_with("__db.")
                || (name.ends_with("-wal") && meta.len() == 0);
            if scratch && meta.is_file() {
                fs::remove_file(e.path()).map_err(io_err("remove", &e.path()))?;
            } else if name.ends_with("-wal") {
                warnings.push(format!(
                    "{} is not empty: the rpmdb was not closed cleanly",
                    e.path().display()
                ));
            }
        }
    }
    let mid = root.join("etc/machine-id");
    if parent_inside(root, &mid)
        && fs::symlink_metadata(&mid).is_ok_and(|m| m.is_file() && m.len() > 0)
    {
        fs::write(&mid, b"").map_err(io_err("empty", &mid))?;
    }
    Ok(warnings)
}

/// True when `p`'s parent directory is really inside `root`, reached through no symlink
/// (so changing `p` cannot touch anything outside the root).
fn parent_inside(root: &Path, p: &Path) -> bool {
    p.parent()
        .and_then(|d| d.strip_prefix(root).ok())
        .and_then(|rel| resolve_in_root(root, rel))
        .is_some_and(|d| Some(d.as_path()) == p.parent())
}

/// The entries of `dir`, when it is a directory.
fn entries(dir: &Path) -> impl Iterator<Item = PathBuf> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
}

/// Set every file time in `top` that is newer than `sde` to `sde` (symlinks themselves,
/// never their targets; other filesystems are not entered).
pub(crate) fn clamp_mtimes(top: &Path, sde: i64) -> Result<(), BuildError> {
    let meta = fs::symlink_metadata(top).map_err(io_err("stat", top))?;
    clamp_one(top, &meta, sde)?;
    if meta.is_dir() {
        clamp_dir(top, meta.dev(), sde)?;
        // Clamping the children changed nothing of the directory's own times, but be safe.
        clamp_one(top, &meta, sde)?;
    }
    Ok(())
}

fn clamp_dir(dir: &Path, dev: u64, sde: i64) -> Result<(), BuildError> {
    for e in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let e = e.map_err(io_err("list", dir))?;
        let p = e.path();
        let meta = fs::symlink_metadata(&p).map_err(io_err("stat", &p))?;
        if meta.is_dir() && meta.dev() == dev {
            clamp_dir(&p, dev, sde)?;
        }
        clamp_one(&p, &meta, sde)?;
    }
    Ok(())
}

fn clamp_one(p: &Path, meta: &fs::Metadata, sde: i64) -> Result<(), BuildError> {
    if meta.mtime() <= sde && meta.atime() <= sde {
        return Ok(());
    }
    let m = TimeSpec::new(meta.mtime().min(sde), 0);
    let a = TimeSpec::new(meta.atime().min(sde), 0);
    utimensat(
        nix::fcntl::AT_FDCWD,
        p,
        &a,
        &m,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(|e| BuildError::Io {
        action: "set the times of",
        path: p.to_path_buf(),
        source: std::io::Error::from(e),
    })
}

/// `rel` inside `root`, with symlinks resolved as they would be in a chroot at `root`
/// (an absolute link target starts again at `root`; `..` never goes above it).
pub(crate) fn resolve_in_root(root: &Path, rel: &Path) -> Option<PathBuf> {
    let mut todo: Vec<PathBuf> = vec![rel.to_path_buf()];
    let mut cur = PathBuf::new(); // relative to root
    let mut hops = 0;
    while let Some(next) = todo.pop() {
        let mut comps: Vec<Component> = next.components().collect();
        comps.reverse();
        while let Some(c) = comps.pop() {
            match c {
                Component::RootDir => cur = PathBuf::new(),
                Component::CurDir | Component::Prefix(_) => {}
                Component::ParentDir => {
                    cur.pop();
                }
                Component::Normal(n) => {
                    let cand = cur.join(n);
                    let meta = fs::symlink_metadata(root.join(&cand)).ok()?;
                    if meta.file_type().is_symlink() {
                        hops += 1;
                        if hops > 40 {
                            return None;
                        }
                        let target = fs::read_link(root.join(&cand)).ok()?;
                        let rest: PathBuf = comps.iter().rev().collect();
                        todo.push(rest);
                        todo.push(target);
                        comps.clear();
                    } else {
                        cur = cand;
                    }
                }
            }
        }
    }
    Some(root.join(cur))
}

/// Mount points at or below `dir`, from `/proc/self/mountinfo`.
pub(crate) fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape_mountinfo(m)))
        .filter(|m| m.starts_with(dir))
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            let oct = std::str::from_utf8(&b[i + 1..i + 4]).ok();
            if let Some(v) = oct.and_then(|o| u8::from_str_radix(o, 8).ok()) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_and_clamp() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        for d in [
            "var/cache/dnf/x",
            "var/lib/rpm",
            "var/lib/dnf",
            "var/log",
            "etc",
        ] {
            fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        for f in [
            "var/log/dnf.log",
            "var/log/boot.log",
            "var/lib/dnf/history.sqlite",
        ] {
            fs::write(root.join(f), b"x").expect("write");
        }
        fs::write(root.join("var/lib/rpm/rpmdb.sqlite-shm"), b"x").expect("write");
        fs::write(root.join("var/lib/rpm/rpmdb.sqlite"), b"db").expect("write");
        fs::write(root.join("etc/machine-id"), b"abc\n").expect("write");
        let w = scrub(root, "/var/lib/rpm").expect("scrub");
        assert!(w.is_empty(), "{w:?}");
        assert!(root.join("var/cache/dnf").is_dir());
        assert!(!root.join("var/cache/dnf/x").exists());
        assert!(!root.join("var/log/dnf.log").exists());
        assert!(root.join("var/log/boot.log").exists());
        assert!(!root.join("var/lib/dnf/history.sqlite").exists());
        assert!(!root.join("var/lib/rpm/rpmdb.sqlite-shm").exists());
        assert!(root.join("var/lib/rpm/rpmdb.sqlite").exists());
        assert_eq!(fs::read(root.join("etc/machine-id")).expect("read"), b"");
        clamp_mtimes(root, 1_000_000).expect("clamp");
        let m = fs::metadata(root.join("var/lib/rpm/rpmdb.sqlite")).expect("stat");
        assert_eq!(m.mtime(), 1_000_000);
        assert!(mounts_under(root).is_empty());
        assert_eq!(unescape_mountinfo("/a\\040b"), "/a b");
    }
}
