//! Finding the kernel and initramfs an image root (or a tree of extracted packages) boots
//! with: the newest kernel version, its image under `/boot` or `/lib/modules`, and its
//! initramfs. Paths are resolved inside the root, so a symlink cannot reach the host.

use std::cmp::Ordering;
use std::fs;
use std::path::{Path, PathBuf};

use super::root::resolve_in_root;

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
}
