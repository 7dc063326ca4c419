//! `livecd-creator` → live ISO (type = live, old hosts; what the 2012 service used):
//! `livecd-creator -c KS -f LABEL --title T --product P --releasever N -t TMP
//! --cache CACHE --logfile F`. It writes `LABEL.iso` into its current directory, so it runs
//! with cwd = `output/livecd` (created fresh). Output found by listing.

use std::path::Path;

use async_trait::async_trait;
use fbs_core::spec::{ImageOptions, LiveOptions};

use super::livemedia::write_kickstart;
use super::tool;
use crate::builder::{BuildContext, BuildError, BuildReport, Builder};

const INSTALL: &str = "livecd-tools (dnf install livecd-tools)";

/// The livecd-creator adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct LivecdBuilder;

/// livecd-creator's arguments (without the program); the label is the volume-id form of
/// the spec's label (≤ 32 characters, no spaces), which is also the ISO's file stem.
pub fn argv(live: &LiveOptions, ks: &Path, work: &Path) -> Vec<String> {
    vec![
        "-c".into(),
        ks.display().to_string(),
        "-f".into(),
        tool::volume_id(&live.label),
        "--title".into(),
        live.title.clone(),
        "--product".into(),
        live.product.clone(),
        "--releasever".into(),
        live.releasever.clone(),
        "-t".into(),
        work.join("tmp").display().to_string(),
        "--cache".into(),
        work.join("cache").display().to_string(),
        "--logfile".into(),
        work.join("livecd.log").display().to_string(),
    ]
}

#[async_trait]
impl Builder for LivecdBuilder {
    fn name(&self) -> &'static str {
        "livecd-creator"
    }

    fn available(&self) -> bool {
        tool::find("livecd-creator").is_some()
    }

    async fn version(&self) -> Option<String> {
        tool::find("livecd-creator").map(|_| "livecd-creator".to_owned())
    }

    async fn build(&self, ctx: &BuildContext) -> Result<BuildReport, BuildError> {
        let ImageOptions::Live(live) = &ctx.job.spec.image else {
            return Err(BuildError::Input(
                "livecd-creator makes live ISOs only; choose another builder for this image type"
                    .into(),
            ));
        };
        let program = tool::require("livecd-creator", INSTALL)?;
        tool::require_root("livecd-creator")?;
        let work = ctx.dirs.work.join("livecd");
        let ks = write_kickstart(ctx, &work)?;
        let out = tool::fresh_dir(&ctx.dirs.output.join("livecd"))?;
        std::fs::create_dir_all(&out).map_err(tool::io_err("create", &out))?;
        let cmd = tool::command(ctx, &program, &tool::os(argv(live, &ks, &work)), &out);
        tool::run(ctx, &cmd, INSTALL).await?;
        Ok(tool::iso_artifacts(&out, "livecd-creator")?.into())
    }
}
