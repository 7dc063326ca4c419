//! Live ISOs: the kickstart's packages installed into `work/root`, its `%post` scripts run,
//! the root squashed into `LiveOS/squashfs.img` (the root file system directly, which
//! dracut's dmsquash-live module boots), and an ISO named `<label>.iso` booting it with
//! `root=live:CDLABEL=<volid> rd.live.image` and a serial console.
//!
//! A root without a kernel and initramfs still gives an ISO, marked not bootable, with a
//! warning in the job log.

use std::path::Path;
use std::time::Instant;

use fbs_core::kickstart::Kickstart;
use fbs_core::spec::LiveOptions;

use super::bootloader::{self, CONSOLE, Menu};
use super::dnf::{Dnf, NEVRA_QF};
use super::iso::{self, Boot};
use super::session::{Session, mkdir};
use super::{install, kernel, packages, post, repos, root, tools};
use crate::builder::{BuildError, BuildReport};

/// Build a live ISO.
pub(crate) async fn build(
    s: &mut Session<'_>,
    live: &LiveOptions,
    ks: &Kickstart,
) -> Result<BuildReport, BuildError> {
    tools::require("mksquashfs")?;
    let (repos, warnings) = repos::from_kickstart(ks);
    warnings.iter().for_each(|w| s.warn(w));
    let (mut req, warnings) = packages::from_kickstart(ks)?;
    warnings.iter().for_each(|w| s.warn(w));
    let dnf = Dnf::setup(
        s,
        &repos,
        &live.releasever,
        s.ctx.job.spec.arch,
        req.install_langs.as_deref(),
    )
    .await?;
    install::add_core(s, &dnf, &mut req).await?;

    let rootdir = s.work("root");
    let tree = s.work("tree");
    mkdir(&tree.join("LiveOS"))?;
    install::install_root(s, &dnf, &rootdir, &req).await?;

    let started = Instant::now();
    post::run_post_scripts(s, ks, &rootdir, Some(&tree)).await?;
    // Listed after %post, which may add or remove packages; then scrubbed, as querying the
    // rpmdb recreates its scratch files.
    let packages = dnf.query_installed(s, &rootdir, NEVRA_QF).await?;
    for w in root::scrub(&rootdir, &dnf.dbpath)? {
        s.warn(&w);
    }
    s.step_done("post", started);

    let sde = s.sde.unwrap_or_default();
    let started = Instant::now();
    root::clamp_mtimes(&rootdir, sde)?;
    squash(s, &rootdir, &tree.join("LiveOS/squashfs.img"), sde).await?;
    s.step_done("squashfs", started);

    let started = Instant::now();
    let volid = iso::volume_id(&live.label);
    let boot = match kernel::find_kernel(&rootdir) {
        Some(files) => match files.initrd.clone() {
            Some(initrd) => {
                let menu = Menu {
                    title: live.title.clone(),
                    append: format!("root=live:CDLABEL={volid} rd.live.image {CONSOLE}"),
                    media_check: true,
                };
                s.note(&format!("booting kernel {} from the image", files.kver));
                bootloader::install(s, &tree, &files, &initrd, &volid, &menu).await?
            }
            None => {
                s.warn(&format!(
                    "kernel {} has no initramfs in the image (install dracut or an initramfs package): the ISO will not boot",
                    files.kver
                ));
                Boot::default()
            }
        },
        None => {
            s.warn("the image has no kernel (add `kernel` to %packages): the ISO will not boot");
            Boot::default()
        }
    };
    let out = iso::output_path(s, &format!("{}.iso", iso::file_stem(&live.label)));
    let artifact = iso::finish(s, &tree, out, volid, &boot, sde, started).await?;
    Ok(BuildReport {
        artifacts: vec![artifact],
        packages,
        ..BuildReport::default()
    })
}

/// `mksquashfs` with fixed times (squashfs-tools 4.4 and later: `-mkfs-time`, `-all-time`,
/// `-reproducible`).
async fn squash(s: &Session<'_>, rootdir: &Path, out: &Path, sde: i64) -> Result<(), BuildError> {
    let version = s.stdout(s.cmd("mksquashfs").arg("-version")).await?;
    let modern = version
        .split_whitespace()
        .nth(2)
        .and_then(tools::major_minor)
        .is_some_and(|v| v >= (4, 4));
    let mut cmd = s
        .cmd("mksquashfs")
        .arg(rootdir)
        .arg(out)
        .args(["-noappend", "-no-progress", "-comp"])
        .arg(&s.opts.squashfs_compression);
    if modern {
        // mksquashfs refuses SOURCE_DATE_EPOCH together with the explicit time options.
        cmd = cmd
            .env_remove("SOURCE_DATE_EPOCH")
            .args(["-reproducible", "-mkfs-time"])
            .arg(sde.to_string())
            .arg("-all-time")
            .arg(sde.to_string());
    } else {
        s.warn(&format!(
            "{} lacks -reproducible/-all-time (squashfs-tools < 4.4): the squashfs may differ between builds",
            version.trim()
        ));
    }
    s.run(&cmd).await.map(|_| ())
}
