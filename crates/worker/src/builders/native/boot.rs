//! Boot ISOs (`boot.iso`) in lorax's layout: `images/pxeboot/vmlinuz`,
//! `images/pxeboot/initrd.img`, `isolinux/`, `EFI/BOOT/` and `images/efiboot.img` when
//! GRUB for EFI is installed, `.treeinfo` and `.discinfo`; volume id from
//! product-version-arch.
//!
//! The kernel and initramfs come from a minimal root installed from the spec's repositories:
//! `kernel`, plus a package that ships `/boot/initramfs-*` (other than the kernel's own
//! `%ghost` entry) when the repositories have one, else `dracut` (whose kernel-install hook
//! makes the initramfs) when they have that. Repositories without a kernel fail the job
//! with an input error; so does a kernel left without an initramfs.

use std::time::Instant;

use fbs_core::spec::BootOptions;

use super::bootloader::{self, CONSOLE, Menu};
use super::dnf::Dnf;
use super::iso;
use super::packages::PackageRequest;
use super::session::{Session, mkdir};
use super::treeinfo::{self, TreeInfo};
use super::{install, kernel, repos};
use crate::builder::{BuildError, BuildReport};

/// The error for repositories without a kernel.
pub(crate) const NO_KERNEL: &str =
    "the repositories provide no kernel package: a boot ISO needs one";

/// Build `boot.iso`.
pub(crate) async fn build(s: &mut Session<'_>, b: &BootOptions) -> Result<BuildReport, BuildError> {
    let repos = repos::with_side_repo(repos::from_boot(b), s.ctx.side_repo.as_ref());
    let dnf = Dnf::setup(s, &repos, &b.version, s.ctx.job.spec.arch, None).await?;
    let scratch = s.work("scratch-root");
    let started = Instant::now();
    let kernels = dnf
        .repoquery(
            s,
            &scratch,
            &["--qf", "%{name}", "--whatprovides", "kernel"],
        )
        .await?;
    if kernels.is_empty() {
        return Err(BuildError::Input(NO_KERNEL.into()));
    }
    let mut specs = vec!["kernel".to_owned()];
    let providers = dnf
        .repoquery(
            s,
            &scratch,
            &["--qf", "%{name}", "--whatprovides", "/boot/initramfs-*"],
        )
        .await?;
    match providers.iter().find(|p| !p.starts_with("kernel")) {
        Some(p) => specs.push(p.clone()),
        None => {
            let dracut = dnf
                .repoquery(s, &scratch, &["--qf", "%{name}", "dracut"])
                .await?;
            if dracut.is_empty() {
                s.warn("no package in the repositories ships an initramfs, and there is no dracut");
            } else {
                specs.push("dracut".into());
            }
        }
    }
    s.note(&format!("boot image packages: {}", specs.join(" ")));
    s.step_done("query", started);
    let req = PackageRequest {
        specs,
        ..PackageRequest::default()
    };
    let rootdir = s.work("root");
    let packages = install::install_root(s, &dnf, &rootdir, &req).await?;

    let started = Instant::now();
    let files = kernel::find_kernel(&rootdir).ok_or_else(|| {
        BuildError::Input(
            "the kernel package put no kernel in /boot or /lib/modules of the image root".into(),
        )
    })?;
    let initrd = files.initrd.clone().ok_or_else(|| {
        BuildError::Input(format!(
            "kernel {} has no initramfs (/boot/initramfs-{}.img): the repositories need dracut or an initramfs package",
            files.kver, files.kver
        ))
    })?;
    let arch = s.ctx.job.spec.arch.as_str();
    let volid = iso::volume_id(&format!("{}-{}-{arch}", b.product, b.version));
    let tree = s.work("tree");
    mkdir(&tree)?;
    let menu = Menu {
        title: format!("{} {}", b.product, b.version),
        append: format!("inst.stage2=hd:LABEL={volid} {CONSOLE}"),
        media_check: false,
    };
    let boot = bootloader::install(s, &tree, &files, &initrd, &volid, &menu).await?;
    let sde = s.sde.unwrap_or_default();
    treeinfo::write_tree_files(
        &tree,
        &TreeInfo {
            product: &b.product,
            version: &b.version,
            arch,
            timestamp: sde,
            variant: None,
        },
    )?;
    let out = iso::output_path(s, "boot.iso");
    let artifact = iso::finish(s, &tree, out, volid, &boot, sde, started).await?;
    Ok(BuildReport {
        artifacts: vec![artifact],
        packages,
        ..BuildReport::default()
    })
}
