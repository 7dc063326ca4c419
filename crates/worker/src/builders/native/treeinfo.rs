//! `.treeinfo` (productmd 1.2, as lorax and pungi write it) and `.discinfo` for installation
//! trees, so installers and tools that read lorax's layout find the kernel, initramfs,
//! EFI image and (for DVDs) the package repository.

use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::session::{io_err, write};
use crate::builder::BuildError;

/// What a tree is.
#[derive(Debug, Clone)]
pub(crate) struct TreeInfo<'a> {
    /// Product name (`Fedora`).
    pub product: &'a str,
    /// Product version (`40`).
    pub version: &'a str,
    /// Architecture (`x86_64`).
    pub arch: &'a str,
    /// The build timestamp (`SOURCE_DATE_EPOCH`).
    pub timestamp: i64,
    /// For DVDs: the variant holding `Packages/` and `repodata/`.
    pub variant: Option<&'a str>,
}

/// Write `.treeinfo` and `.discinfo` into `tree`, with checksums of the boot images found
/// there.
pub(crate) fn write_tree_files(tree: &Path, info: &TreeInfo<'_>) -> Result<(), BuildError> {
    let images = [
        ("kernel", "images/pxeboot/vmlinuz"),
        ("initrd", "images/pxeboot/initrd.img"),
        ("efiboot.img", "images/efiboot.img"),
    ];
    let present: Vec<(&str, &str)> = images
        .into_iter()
        .filter(|(_, p)| tree.join(p).is_file())
        .collect();
    let mut s = String::new();
    let _ = writeln!(s, "[header]\ntype = productmd.treeinfo\nversion = 1.2\n");
    let _ = writeln!(
        s,
        "[release]\nname = {}\nshort = {}\nversion = {}\n",
        info.product, info.product, info.version
    );
    let variants = info.variant.unwrap_or_default();
    let _ = writeln!(
        s,
        "[tree]\narch = {}\nbuild_timestamp = {}\nplatforms = {}\nvariants = {variants}\n",
        info.arch, info.timestamp, info.arch
    );
    if !present.is_empty() {
        let _ = writeln!(s, "[checksums]");
        for (_, p) in &present {
            let _ = writeln!(s, "{p} = sha256:{}", sha256(&tree.join(p))?);
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "[images-{}]", info.arch);
        for (k, p) in &present {
            let _ = writeln!(s, "{k} = {p}");
        }
        let _ = writeln!(s);
    }
    if let Some(v) = info.variant {
        let _ = writeln!(
            s,
            "[variant-{v}]\nid = {v}\nname = {v}\ntype = variant\nuid = {v}\npackages = Packages\nrepository = .\n"
        );
    }
    write(&tree.join(".treeinfo"), s.trim_end().to_owned() + "\n")?;
    write(
        &tree.join(".discinfo"),
        format!(
            "{}.000000\n{} {}\n{}\n",
            info.timestamp, info.product, info.version, info.arch
        ),
    )
}

fn sha256(p: &Path) -> Result<String, BuildError> {
    let mut f = std::fs::File::open(p).map_err(io_err("open", p))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io_err("read", p))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_boot_images_with_checksums() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(tmp.path().join("images/pxeboot")).expect("mkdir");
        std::fs::write(tmp.path().join("images/pxeboot/vmlinuz"), b"hello").expect("write");
        let info = TreeInfo {
            product: "Fedora",
            version: "40",
            arch: "x86_64",
            timestamp: 1_700_000_000,
            variant: Some("Everything"),
        };
        write_tree_files(tmp.path(), &info).expect("writes");
        let t = std::fs::read_to_string(tmp.path().join(".treeinfo")).expect("read");
        assert!(
            t.contains("[images-x86_64]\nkernel = images/pxeboot/vmlinuz\n"),
            "{t}"
        );
        assert!(t.contains(
            "images/pxeboot/vmlinuz = sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        ));
        assert!(t.contains("[variant-Everything]"), "{t}");
        assert!(!t.contains("initrd ="), "{t}");
        let d = std::fs::read_to_string(tmp.path().join(".discinfo")).expect("read");
        assert_eq!(d, "1700000000.000000\nFedora 40\nx86_64\n");
    }
}
