//! `livemedia-creator` → live ISO (type = live, modern hosts):
//! `livemedia-creator --make-iso --no-virt --ks KS --resultdir DIR --project PRODUCT
//! --releasever N --volid ID --iso-only --iso-name STEM.iso --title TITLE --logfile F
//! --tmp T --nomacboot`, run in `work/livemedia`, with `--resultdir` = `output/livemedia`,
//! which must not exist. The kickstart is the job's flattened one, side repo included
//! (it needs `part / --size=N` and dracut-live; anaconda checks that). Output: the ISO in
//! the result dir, found by listing.

use std::path::Path;

use async_trait::async_trait;
use fbs_core::spec::{ImageOptions, LiveOptions};

use super::tool;
use crate::builder::{BuildContext, BuildError, BuildReport, Builder};

const INSTALL: &str =
    "lorax (livemedia-creator; Fedora/RHEL: dnf install lorax anaconda-install-env-deps)";

/// The livemedia-creator adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct LivemediaBuilder;

/// The ISO file name for a live label: its volume id form plus `.iso`.
pub fn iso_name(label: &str) -> String {
    format!("{}.iso", tool::volume_id(label))
}

/// livemedia-creator's arguments (without the program).
pub fn argv(live: &LiveOptions, ks: &Path, resultdir: &Path, work: &Path) -> Vec<String> {
    vec![
        "--make-iso".into(),
        "--no-virt".into(),
        format!("--ks={}", ks.display()),
        format!("--resultdir={}", resultdir.display()),
        format!("--project={}", live.product),
        format!("--releasever={}", live.releasever),
        format!("--volid={}", tool::volume_id(&live.label)),
        "--iso-only".into(),
        format!("--iso-name={}", iso_name(&live.label)),
        format!("--title={}", live.title),
        format!("--logfile={}", work.join("livemedia.log").display()),
        format!("--tmp={}", work.join("tmp").display()),
        "--nomacboot".into(),
    ]
}

/// Write the job's kickstart to `work/job.ks`.
pub(crate) fn write_kickstart(
    ctx: &BuildContext,
    work: &Path,
) -> Result<std::path::PathBuf, BuildError> {
    let text = ctx.job.kickstart.as_deref().ok_or_else(|| {
        BuildError::Input(
            "the job carries no kickstart: the spec's kickstart was not read at submit time".into(),
        )
    })?;
    std::fs::create_dir_all(work.join("tmp")).map_err(tool::io_err("create", work))?;
    let p = work.join("job.ks");
    std::fs::write(&p, text).map_err(tool::io_err("write", &p))?;
    Ok(p)
}

#[async_trait]
impl Builder for LivemediaBuilder {
    fn name(&self) -> &'static str {
        "livemedia-creator"
    }

    fn available(&self) -> bool {
        tool::find("livemedia-creator").is_some()
    }

    async fn version(&self) -> Option<String> {
        tool::find("livemedia-creator").map(|_| "livemedia-creator".to_owned())
    }

    async fn build(&self, ctx: &BuildContext) -> Result<BuildReport, BuildError> {
        let ImageOptions::Live(live) = &ctx.job.spec.image else {
            return Err(BuildError::Input(
                "livemedia-creator makes live ISOs only; choose another builder for this image type".into(),
            ));
        };
        let program = tool::require("livemedia-creator", INSTALL)?;
        tool::require_root("livemedia-creator")?;
        let work = ctx.dirs.work.join("livemedia");
        let ks = write_kickstart(ctx, &work)?;
        let out = tool::fresh_dir(&ctx.dirs.output.join("livemedia"))?;
        let cmd = tool::command(
            ctx,
            &program,
            &tool::os(argv(live, &ks, &out, &work)),
            &work,
        );
        tool::run(ctx, &cmd, INSTALL).await?;
        Ok(tool::iso_artifacts(&out, "livemedia-creator")?.into())
    }
}
