//! Installation DVDs: every package of the kickstart's `%packages` transaction (resolved
//! for an empty root, all dependencies included) under `Packages/<first letter>/` — the
//! layout Fedora's DVDs use, which keeps directories small — with `repodata/` made by
//! `createrepo_c`, `.treeinfo` and `.discinfo`. When a kernel and an initramfs are among
//! the packages they are extracted into `images/pxeboot/` and the DVD boots (isolinux, and
//! UEFI when GRUB for EFI is installed) with `inst.repo=hd:LABEL=<volid>`.
//!
//! Reproducible: the RPMs get `SOURCE_DATE_EPOCH` as their file time (createrepo_c records
//! it), and createrepo_c runs with `--revision SDE --set-timestamp-to-revision` and without
//! sqlite databases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use fbs_core::kickstart::Kickstart;
use fbs_core::spec::{DvdOptions, DvdStage};

use super::bootloader::{self, CONSOLE, Menu};
use super::dnf::{self, Dnf, NEVRA_QF};
use super::iso::{self, Boot};
use super::session::{Session, io_err, mkdir};
use super::treeinfo::{self, TreeInfo};
use super::{install, kernel, packages, repos, root, tools};
use crate::builder::{BuildError, BuildReport};

/// Build a DVD.
pub(crate) async fn build(
    s: &mut Session<'_>,
    d: &DvdOptions,
    ks: &Kickstart,
) -> Result<BuildReport, BuildError> {
    for t in ["createrepo_c", "rpm2cpio", "cpio"] {
        tools::require(t)?;
    }
    if d.stage != DvdStage::All || d.sourceisos {
        s.warn("the native builder always runs every DVD stage and makes no source ISOs");
    }
    let (repos, warnings) = repos::from_kickstart(ks);
    warnings.iter().for_each(|w| s.warn(w));
    let (mut req, warnings) = packages::from_kickstart(ks)?;
    warnings.iter().for_each(|w| s.warn(w));
    let spec = &s.ctx.job.spec;
    let (arch, release) = (spec.arch.as_str(), spec.release.clone());
    let dnf = Dnf::setup(s, &repos, &release, spec.arch, req.install_langs.as_deref()).await?;
    install::add_core(s, &dnf, &mut req).await?;

    if req.specs.is_empty() {
        return Err(BuildError::Input(
            "%packages names no package or group: nothing to put on the DVD".into(),
        ));
    }
    let started = Instant::now();
    let download = s.work("download");
    mkdir(&download)?;
    dnf.download(s, &s.work("resolve-root"), &req, &download)
        .await?;
    let rpms = dnf::rpms_in(&download)?;
    install::settle_sde(s, &rpms).await?;
    let sde = s.sde.unwrap_or_default();
    let mut packages = dnf::query_files(s, &rpms, NEVRA_QF).await?;
    packages.sort();
    s.step_done("download", started);

    let started = Instant::now();
    let tree = s.work("tree");
    let placed = place_packages(&tree, &rpms, sde)?;
    let placed: Vec<PathBuf> = placed.into_values().collect();
    let mut cmd = s
        .cmd("createrepo_c")
        .arg(format!("--revision={sde}"))
        .args([
            "--set-timestamp-to-revision",
            "--no-database",
            "--workers=1",
        ]);
    cmd = cmd.arg(&tree);
    s.run(&cmd).await?;
    s.step_done("createrepo", started);

    let started = Instant::now();
    let volid = iso::volume_id(&format!("{}-{}-{arch}", d.name, d.version));
    let boot = boot_files(
        s,
        &placed,
        &tree,
        &volid,
        &format!("{} {}", d.name, d.version),
    )
    .await?;
    treeinfo::write_tree_files(
        &tree,
        &TreeInfo {
            product: &d.name,
            version: &d.version,
            arch,
            timestamp: sde,
            variant: Some("Everything"),
        },
    )?;
    let name = format!("{}-{}-{arch}-DVD.iso", d.name, d.version);
    let out = iso::output_path(s, &iso::file_stem(&name));
    let artifact = iso::finish(s, &tree, out, volid, &boot, sde, started).await?;
    Ok(BuildReport {
        artifacts: vec![artifact],
        packages,
        ..BuildReport::default()
    })
}

/// Move `rpms` into `tree/Packages/<first letter>/` with their times set to `sde`; returns
/// their new paths by file name.
fn place_packages(
    tree: &Path,
    rpms: &[PathBuf],
    sde: i64,
) -> Result<BTreeMap<String, PathBuf>, BuildError> {
    let mut placed = BTreeMap::new();
    for rpm in rpms {
        let Some(name) = rpm.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let letter: String = name
            .chars()
            .next()
            .map(|c| c.to_ascii_lowercase().to_string())
            .unwrap_or_else(|| "_".into());
        let dir = tree.join("Packages").join(letter);
        mkdir(&dir)?;
        let to = dir.join(&name);
        std::fs::rename(rpm, &to).map_err(io_err("move", rpm))?;
        placed.insert(name, to);
    }
    root::clamp_mtimes(&tree.join("Packages"), sde)?;
    Ok(placed)
}

/// Extract a kernel and initramfs from the packages (`images/pxeboot/`) and install the
/// boot loaders, when the packages have both.
async fn boot_files(
    s: &Session<'_>,
    rpms: &[PathBuf],
    tree: &Path,
    volid: &str,
    title: &str,
) -> Result<Boot, BuildError> {
    // One line per package, in argument order: its files separated by tabs.
    let lines = dnf::query_files(s, rpms, "[%{FILENAMES}\\t]\\n").await?;
    let wanted: Vec<&PathBuf> = rpms
        .iter()
        .zip(&lines)
        .filter(|(_, l)| l.split('\t').any(is_boot_file))
        .map(|(p, _)| p)
        .collect();
    if wanted.is_empty() {
        s.warn("no kernel among the DVD's packages: the DVD will not boot");
        return Ok(Boot::default());
    }
    let extract = s.work("boot-extract");
    mkdir(&extract)?;
    for rpm in wanted {
        let cmd = s
            .cmd("sh")
            .args([
                "-c",
                "rpm2cpio \"$1\" | cpio -idmu --quiet --no-absolute-filenames",
                "extract",
            ])
            .arg(rpm)
            .cwd(&extract)
            .name("rpm2cpio | cpio");
        s.run(&cmd).await?;
    }
    let found = kernel::find_kernel(&extract);
    match found {
        Some(files) => match files.initrd.clone() {
            Some(initrd) => {
                let menu = Menu {
                    title: title.to_owned(),
                    append: format!("inst.repo=hd:LABEL={volid} {CONSOLE}"),
                    media_check: false,
                };
                bootloader::install(s, tree, &files, &initrd, volid, &menu).await
            }
            None => {
                s.warn(&format!(
                    "kernel {} has no initramfs among the DVD's packages: the DVD will not boot",
                    files.kver
                ));
                Ok(Boot::default())
            }
        },
        None => {
            s.warn("no kernel image found in the kernel packages: the DVD will not boot");
            Ok(Boot::default())
        }
    }
}

/// A path of a kernel image or initramfs in a package's file list.
fn is_boot_file(path: &str) -> bool {
    path.starts_with("/boot/vmlinuz-")
        || path.starts_with("/boot/initramfs-")
        || ((path.starts_with("/lib/modules/") || path.starts_with("/usr/lib/modules/"))
            && (path.ends_with("/vmlinuz") || path.ends_with("/initramfs.img")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_files_are_recognised() {
        assert!(is_boot_file("/boot/vmlinuz-6.1.0-1.x86_64"));
        assert!(is_boot_file("/lib/modules/6.1.0-1.x86_64/vmlinuz"));
        assert!(is_boot_file("/boot/initramfs-6.1.0-1.x86_64.img"));
        assert!(!is_boot_file("/lib/modules/6.1.0-1.x86_64/modules.dep"));
    }

    #[test]
    fn packages_go_under_their_first_letter() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let a = tmp.path().join("Bash-5.rpm");
        std::fs::write(&a, b"x").expect("write");
        let tree = tmp.path().join("tree");
        let placed = place_packages(&tree, &[a], 1000).expect("placed");
        assert_eq!(placed["Bash-5.rpm"], tree.join("Packages/b/Bash-5.rpm"));
        assert!(tree.join("Packages/b/Bash-5.rpm").is_file());
    }
}
