//! Image roots on the host: removing what makes two builds differ (dnf's cache, logs and
//! history, rpmdb scratch files, machine-id), clamping file times to `SOURCE_DATE_EPOCH`,
//! finding the kernel and initramfs, and checking that no mount is left under the job.
//!
//! A root is written by package scriptlets, so nothing here follows a symlink out of it:
//! paths inside the root are resolved against the root ([`resolve_in_root`]), times are
//! set without following links, and walks never leave the root's filesystem.

use std::cmp::Ordering;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use nix::sys::stat::{UtimensatFlags, utimensat};
use nix::sys::time::TimeSpec;

use super::session::io_err;
use crate::builder::BuildError;
use crate::dirs::remove_tree;

/// Files and directories (relative to the root) dnf and other tools leave that differ
/// between two otherwise equal builds, removed before an image is made.
const SCRUB: [&str; 11] = [
    "var/cache/dnf",
    "var/lib/dnf",
    "var/log/dnf.log",
    "var/log/dnf.librepo.log",
    "var/log/dnf.rpm.log",
    "var/log/hawkey.log",
    "var/cache/ldconfig/aux-cache",
    "var/lib/systemd/random-seed",
    "etc/dnf/modules.d",
    "tmp/fbs-ks-script",
    "root/.rpmdb",
];

/// Remove what [`SCRUB`] names, rpmdb scratch files (`*-shm`, an empty `*-wal`, Berkeley DB
/// `__db.*`), and empty `/etc/machine-id` (systemd makes one at first boot). Returns
/// warnings (e.g. a mount found and left alone).
pub(crate) fn scrub(root: &Path, dbpath: &str) -> Result<Vec<String>, BuildError> {
    let mut warnings = Vec::new();
    for rel in SCRUB {
        let p = root.join(rel);
        if fs::symlink_metadata(&p).is_ok() {
            let left = remove_tree(&p).map_err(io_err("remove", &p))?;
            for m in left {
                warnings.push(format!("left {} in place: another filesystem", m.display()));
            }
        }
    }
    let db = root.join(dbpath.trim_start_matches('/'));
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
    if fs::symlink_metadata(&mid).is_ok_and(|m| m.is_file() && m.len() > 0) {
        fs::write(&mid, b"").map_err(io_err("empty", &mid))?;
    }
    Ok(warnings)
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

/// A kernel and its initramfs found in a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BootFiles {
    /// The kernel version (`6.8.5-301.fc40.x86_64`).
    pub kver: String,
    /// The kernel image (resolved inside the root).
    pub kernel: PathBuf,
    /// Its initramfs, when there is one.
    pub initrd: Option<PathBuf>,
}

/// The newest kernel in `root` (`/boot/vmlinuz-KVER`, or `/lib/modules/KVER/vmlinuz` and
/// `/usr/lib/modules/KVER/vmlinuz`), with `/boot/initramfs-KVER.img` (or
/// `/lib/modules/KVER/initramfs.img`) when present. Rescue kernels are skipped.
pub(crate) fn find_kernel(root: &Path) -> Option<BootFiles> {
    let mut kvers: Vec<String> = Vec::new();
    if let Ok(rd) = fs::read_dir(root.join("boot")) {
        for e in rd.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(k) = name.strip_prefix("vmlinuz-") {
                kvers.push(k.to_owned());
            }
        }
    }
    for dir in ["lib/modules", "usr/lib/modules"] {
        if let Some(d) = resolve_in_root(root, Path::new(dir))
            && let Ok(rd) = fs::read_dir(d)
        {
            for e in rd.filter_map(Result::ok) {
                if e.path().join("vmlinuz").exists() {
                    kvers.push(e.file_name().to_string_lossy().into_owned());
                }
            }
        }
    }
    kvers.retain(|k| !k.contains("rescue") && !k.is_empty() && !k.contains('/'));
    kvers.sort_by(|a, b| vercmp(a, b));
    kvers.dedup();
    while let Some(kver) = kvers.pop() {
        let kernel = [
            format!("boot/vmlinuz-{kver}"),
            format!("lib/modules/{kver}/vmlinuz"),
            format!("usr/lib/modules/{kver}/vmlinuz"),
        ]
        .iter()
        .filter_map(|r| resolve_in_root(root, Path::new(r)))
        .find(|p| p.is_file());
        let Some(kernel) = kernel else { continue };
        let initrd = [
            format!("boot/initramfs-{kver}.img"),
            format!("boot/initrd.img-{kver}"),
            format!("lib/modules/{kver}/initramfs.img"),
            format!("usr/lib/modules/{kver}/initramfs.img"),
        ]
        .iter()
        .filter_map(|r| resolve_in_root(root, Path::new(r)))
        .find(|p| p.is_file());
        return Some(BootFiles {
            kver,
            kernel,
            initrd,
        });
    }
    None
}

/// Compare version strings the way rpm does, roughly: runs of digits numerically, runs of
/// letters alphabetically, separators ignored.
pub(crate) fn vercmp(a: &str, b: &str) -> Ordering {
    fn segs(s: &str) -> Vec<(bool, &str)> {
        let mut v = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            rest = rest.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
            let Some(first) = rest.chars().next() else {
                break;
            };
            let digit = first.is_ascii_digit();
            let end = rest
                .find(|c: char| c.is_ascii_digit() != digit || !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            v.push((digit, &rest[..end]));
            rest = &rest[end..];
        }
        v
    }
    let (sa, sb) = (segs(a), segs(b));
    for (x, y) in sa.iter().zip(&sb) {
        let o = match (x.0, y.0) {
            (true, true) => {
                let (tx, ty) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
                tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty))
            }
            (false, false) => x.1.cmp(y.1),
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    sa.len().cmp(&sb.len())
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
    fn versions_compare_like_rpm() {
        assert_eq!(vercmp("6.10.1", "6.9.12"), Ordering::Greater);
        assert_eq!(vercmp("6.1.0-1.fc40", "6.1.0-1.fc40"), Ordering::Equal);
        assert_eq!(vercmp("6.1.0-10", "6.1.0-9"), Ordering::Greater);
        assert_eq!(vercmp("1.0a", "1.0"), Ordering::Greater);
    }

    #[test]
    fn symlinks_resolve_inside_the_root_and_kernels_are_found() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        fs::create_dir_all(root.join("usr/lib/modules/6.1.0-1.x86_64")).expect("mkdir");
        fs::create_dir_all(root.join("boot")).expect("mkdir");
        std::os::unix::fs::symlink("usr/lib", root.join("lib")).expect("symlink");
        fs::write(root.join("usr/lib/modules/6.1.0-1.x86_64/vmlinuz"), b"k").expect("write");
        fs::write(root.join("boot/initramfs-6.1.0-1.x86_64.img"), b"i").expect("write");
        // An absolute link must not reach the host's /etc.
        std::os::unix::fs::symlink("/etc/hostname", root.join("boot/vmlinuz-9.9")).expect("ln");
        let b = find_kernel(root).expect("kernel");
        assert_eq!(b.kver, "6.1.0-1.x86_64");
        assert_eq!(
            b.kernel,
            root.join("usr/lib/modules/6.1.0-1.x86_64/vmlinuz")
        );
        assert_eq!(
            b.initrd,
            Some(root.join("boot/initramfs-6.1.0-1.x86_64.img"))
        );
        assert_eq!(resolve_in_root(root, Path::new("boot/vmlinuz-9.9")), None);
        fs::create_dir_all(root.join("etc")).expect("mkdir");
        fs::write(root.join("etc/hostname"), b"image").expect("write");
        assert_eq!(
            resolve_in_root(root, Path::new("boot/vmlinuz-9.9")),
            Some(root.join("etc/hostname"))
        );
        assert_eq!(
            resolve_in_root(root, Path::new("/boot/../../../etc/hostname")),
            Some(root.join("etc/hostname"))
        );
    }

    #[test]
    fn scrub_and_clamp() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        for d in ["var/cache/dnf/x", "var/lib/rpm", "etc"] {
            fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        fs::write(root.join("var/lib/rpm/rpmdb.sqlite-shm"), b"x").expect("write");
        fs::write(root.join("var/lib/rpm/rpmdb.sqlite"), b"db").expect("write");
        fs::write(root.join("etc/machine-id"), b"abc\n").expect("write");
        let w = scrub(root, "/var/lib/rpm").expect("scrub");
        assert!(w.is_empty(), "{w:?}");
        assert!(!root.join("var/cache/dnf").exists());
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
