//! Installing packages into an image root reproducibly.
//!
//! The transaction is resolved and downloaded first (`dnf install --downloadonly`, no
//! scriptlet runs), which fixes the package set; `SOURCE_DATE_EPOCH` is then the spec's, or
//! the newest `BUILDTIME` among those packages. Only then is the root installed (from the
//! cache, in the build's namespaces) with `SOURCE_DATE_EPOCH` set, so rpm records it as the
//! install time and transaction id (rpm ≥ 4.18) and scriptlets that honour it see it too.
//! dnf's cache, logs and history are removed from the root afterwards.

use std::path::Path;
use std::time::Instant;

use super::dnf::{self, Dnf, NEVRA_QF};
use super::packages::PackageRequest;
use super::root;
use super::session::{Session, mkdir};
use crate::builder::BuildError;

/// Add `@core` to `req` when it wants it and the repositories define it.
pub(crate) async fn add_core(
    s: &Session<'_>,
    dnf: &Dnf,
    req: &mut PackageRequest,
) -> Result<(), BuildError> {
    if !req.want_core || req.specs.iter().any(|p| p == "@core") {
        return Ok(());
    }
    let scratch = s.work("scratch-root");
    if dnf.has_group(s, &scratch, "core").await? {
        s.note("adding @core, as anaconda does without %packages --nocore");
        req.specs.insert(0, "@core".into());
    }
    Ok(())
}

/// Decide `SOURCE_DATE_EPOCH` from the packages about to be installed, unless the spec set
/// it.
pub(crate) async fn settle_sde(
    s: &mut Session<'_>,
    rpms: &[std::path::PathBuf],
) -> Result<(), BuildError> {
    if let Some(t) = s.sde {
        s.note(&format!("SOURCE_DATE_EPOCH={t} (from the spec)"));
        return Ok(());
    }
    let times = dnf::query_files(s, rpms, "%{BUILDTIME}\\n").await?;
    let Some(t) = dnf::newest(&times) else {
        return Err(BuildError::Input(
            "the package set is empty: nothing to build an image from".into(),
        ));
    };
    s.sde = Some(t);
    s.note(&format!(
        "SOURCE_DATE_EPOCH={t} (the newest package build time)"
    ));
    Ok(())
}

/// Install `req` into `root` (created); returns the installed packages' NEVRAs.
pub(crate) async fn install_root(
    s: &mut Session<'_>,
    dnf: &Dnf,
    root: &Path,
    req: &PackageRequest,
) -> Result<Vec<String>, BuildError> {
    if req.specs.is_empty() {
        return Err(BuildError::Input(
            "%packages names no package or group: nothing to install".into(),
        ));
    }
    let started = Instant::now();
    mkdir(root)?;
    let download = s.work("download");
    mkdir(&download)?;
    dnf.download(s, root, req, &download).await?;
    let rpms = dnf::rpms_in(&download)?;
    s.step_done("resolve", started);

    settle_sde(s, &rpms).await?;
    let started = Instant::now();
    dnf.install(s, root, req).await?;
    let installed = dnf.query_installed(s, root, "%{BUILDTIME}\\n").await?;
    if s.ctx.job.spec.source_date_epoch.is_none() {
        let newest = dnf::newest(&installed);
        if newest != s.sde {
            s.warn(&format!(
                "the installed packages' newest build time ({newest:?}) differs from the resolved set's ({:?})",
                s.sde
            ));
        }
    }
    let packages = dnf.query_installed(s, root, NEVRA_QF).await?;
    // After the last rpm query: opening the rpmdb recreates its scratch files.
    for w in root::scrub(root, &dnf.dbpath)? {
        s.warn(&w);
    }
    s.step_done("install", started);
    Ok(packages)
}
