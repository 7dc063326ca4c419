//! The native builder: boot, DVD and live ISOs from tools every distribution ships —
//! `dnf --installroot`, `rpm`, `createrepo_c`, `mksquashfs`, `xorriso`, `implantisomd5`,
//! isolinux, and GRUB for UEFI when `/usr/lib/grub/x86_64-efi` is installed. It is what CI
//! and `fbs local` on a non-Fedora host use.
//!
//! - **live** (`live`): the kickstart's `%packages` installed into `work/root`, its
//!   `%post` scripts run (chrooted, in the build's own mount+pid namespace), the root
//!   squashed into `LiveOS/squashfs.img`, and an ISO booting it with
//!   `root=live:CDLABEL=<volid> rd.live.image`.
//! - **dvd** (`dvd`): the `%packages` transaction downloaded into `Packages/<letter>/`
//!   with `repodata/` from `createrepo_c`, bootable when a kernel and initramfs are among
//!   the packages.
//! - **boot** (`boot`): a kernel and an initramfs from the spec's repositories in lorax's
//!   layout (`images/pxeboot/`, `isolinux/`, `EFI/BOOT/`, `.treeinfo`, `.discinfo`).
//!
//! Every image is reproducible: built twice from the same spec and packages it is the same
//! bytes (see `install` for `SOURCE_DATE_EPOCH`, `root` for what is scrubbed, `iso` for
//! xorriso's dates, `bootloader` for the EFI parts).
//!
//! Everything is written under the job's directories; dnf is configured by files there and
//! never reads the host's repositories. Tools get an empty environment plus what they
//! need (see `session`). After a build no mount is left under the job directory: the
//! chroot mounts live only in the namespaces the scripts ran in, and this is checked.

mod boot;
mod bootloader;
mod dnf;
mod dvd;
mod install;
mod iso;
mod kernel;
mod live;
mod packages;
mod post;
mod repos;
mod root;
mod session;
mod tools;
mod treeinfo;

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use fbs_core::kickstart::Kickstart;
use fbs_core::spec::ImageOptions;

use crate::builder::{BuildContext, BuildError, BuildReport, Builder};
use session::Session;

pub use iso::ISO_MEDIA_TYPE;

/// How the native builder behaves on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeOptions {
    /// Paths hidden (covered by an empty read-only mount) from every tool that runs package
    /// scriptlets or kickstart scripts: the daemon's config and secrets. Default `/etc/fbs`.
    pub hide: Vec<PathBuf>,
    /// The longest any one tool may run. Default 4 hours.
    pub tool_timeout: Duration,
    /// The squashfs compressor (`mksquashfs -comp`). Default `xz`.
    pub squashfs_compression: String,
}

impl Default for NativeOptions {
    fn default() -> Self {
        NativeOptions {
            hide: vec![PathBuf::from("/etc/fbs")],
            tool_timeout: Duration::from_secs(4 * 3600),
            squashfs_compression: "xz".into(),
        }
    }
}

/// The native builder (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct NativeBuilder {
    opts: NativeOptions,
}

impl NativeBuilder {
    /// A native builder with `opts`.
    pub fn new(opts: NativeOptions) -> Self {
        NativeBuilder { opts }
    }

    /// Its options.
    pub fn options(&self) -> &NativeOptions {
        &self.opts
    }

    async fn build_inner(&self, s: &mut Session<'_>) -> Result<BuildReport, BuildError> {
        let job = &s.ctx.job;
        let arts = match &job.spec.image {
            ImageOptions::Live(l) => {
                let ks = parse_kickstart(job.kickstart.as_deref())?;
                live::build(s, l, &ks).await?
            }
            ImageOptions::Dvd(d) => {
                let ks = parse_kickstart(job.kickstart.as_deref())?;
                dvd::build(s, d, &ks).await?
            }
            ImageOptions::Boot(b) => boot::build(s, b).await?,
        };
        Ok(arts)
    }
}

/// The job's flattened kickstart.
fn parse_kickstart(text: Option<&str>) -> Result<Kickstart, BuildError> {
    let text = text.ok_or_else(|| {
        BuildError::Input(
            "the job carries no kickstart: the spec's kickstart was not read at submit time".into(),
        )
    })?;
    Kickstart::parse(text, "job.ks")
        .map_err(|e| BuildError::Input(format!("the kickstart cannot be read: {e}")))
}

#[async_trait]
impl Builder for NativeBuilder {
    fn name(&self) -> &'static str {
        "native"
    }

    async fn version(&self) -> Option<String> {
        Some(format!("native {}", env!("CARGO_PKG_VERSION")))
    }

    async fn build(&self, ctx: &BuildContext) -> Result<BuildReport, BuildError> {
        let mut s = Session::new(ctx, &self.opts)?;
        let result = self.build_inner(&mut s).await;
        let left = root::mounts_under(&ctx.dirs.root);
        if !left.is_empty() {
            let list: Vec<String> = left.iter().map(|p| p.display().to_string()).collect();
            return Err(BuildError::Io {
                action: "found mounts left under",
                path: ctx.dirs.root.clone(),
                source: std::io::Error::other(list.join(", ")),
            });
        }
        let mut report = result?;
        report.builder_version = Some(tools::versions(&s).await);
        report.source_date_epoch = s.sde;
        report.steps = std::mem::take(&mut s.steps);
        Ok(report)
    }
}
