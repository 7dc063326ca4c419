//! A builder whose tool is a shell script, for the test suite and for trying a fleet on a host
//! without image tools: it runs `sh -c SCRIPT` through the runner (own process group, streamed
//! log, kill on cancel) with `OUT` (the output directory), `KS` (the flattened kickstart),
//! `FBS_JOB_ID` and `FBS_ATTEMPT` set, and reports `$OUT/test.iso` as the artifact.
//!
//! Only enabled when the `FBS_TEST_BUILD_SCRIPT` environment variable holds the script.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use fbs_core::runner::{self, Cmd};

use crate::builder::{BuildContext, BuildError, BuildReport, Builder, BuiltArtifact};

/// The environment variable that enables the script builder and holds its script.
pub const ENV: &str = "FBS_TEST_BUILD_SCRIPT";

/// Runs a shell script as the build (see the module docs).
#[derive(Debug, Clone)]
pub struct ScriptBuilder {
    script: String,
}

impl ScriptBuilder {
    /// A builder running `script`.
    pub fn new(script: impl Into<String>) -> Self {
        ScriptBuilder {
            script: script.into(),
        }
    }

    /// The script builder registered under every builder name, when `FBS_TEST_BUILD_SCRIPT`
    /// is set.
    pub fn from_env() -> Option<BTreeMap<&'static str, Arc<dyn Builder>>> {
        let script = std::env::var(ENV).ok().filter(|s| !s.is_empty())?;
        Some(Self::registry(script))
    }

    /// A builder map with a script builder running `script` under every builder name.
    pub fn registry(script: impl Into<String>) -> BTreeMap<&'static str, Arc<dyn Builder>> {
        crate::builders::under_every_name(Arc::new(ScriptBuilder::new(script)))
    }
}

#[async_trait]
impl Builder for ScriptBuilder {
    fn name(&self) -> &'static str {
        "script"
    }

    async fn version(&self) -> Option<String> {
        Some("script".into())
    }

    async fn build(&self, ctx: &BuildContext) -> Result<BuildReport, BuildError> {
        let cmd = Cmd::new("sh")
            .arg("-c")
            .arg(&self.script)
            .env("OUT", &ctx.dirs.output)
            .env("KS", ctx.dirs.input.join("job.ks"))
            .env("FBS_JOB_ID", ctx.job.id.to_string())
            .env("FBS_ATTEMPT", ctx.job.attempt.to_string());
        runner::run(&cmd, ctx.log.as_ref(), &ctx.cancel).await?;
        Ok(vec![BuiltArtifact {
            path: ctx.dirs.output.join("test.iso"),
            media_type: "application/vnd.efi.iso".into(),
            volume_id: None,
            bootable: Some(false),
        }]
        .into())
    }
}
