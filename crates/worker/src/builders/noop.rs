//! A builder that builds nothing, for measuring the fleet's own per-job cost (`bench/fleet.sh`):
//! the job still goes through the whole pipeline (job directory, log, lease, staging with
//! `manifest.json`, `CHECKSUM` and `build.log`), only the build step makes no files.
//!
//! Only enabled when the `FBS_BENCH_NOOP` environment variable is `1`; `fbs worker` then uses
//! it for every builder name.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::builder::{BuildContext, BuildError, BuildReport, Builder};

/// The environment variable that enables the no-op builder (value `1`).
pub const ENV: &str = "FBS_BENCH_NOOP";

/// Builds nothing and succeeds (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopBuilder;

impl NoopBuilder {
    /// The no-op builder registered under every builder name, when `FBS_BENCH_NOOP=1`.
    pub fn from_env() -> Option<BTreeMap<&'static str, Arc<dyn Builder>>> {
        (std::env::var(ENV).ok()? == "1").then(Self::registry)
    }

    /// A builder map with the no-op builder under every builder name.
    pub fn registry() -> BTreeMap<&'static str, Arc<dyn Builder>> {
        super::under_every_name(Arc::new(NoopBuilder))
    }
}

#[async_trait]
impl Builder for NoopBuilder {
    fn name(&self) -> &'static str {
        "noop"
    }

    async fn version(&self) -> Option<String> {
        Some("noop".into())
    }

    async fn build(&self, _ctx: &BuildContext) -> Result<BuildReport, BuildError> {
        Ok(BuildReport {
            builder_version: Some("noop".into()),
            ..BuildReport::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_to_every_builder_name() {
        let m = NoopBuilder::registry();
        assert_eq!(m.get("native").map(|b| b.name()), Some("noop"));
        assert_eq!(m.len(), 6);
    }
}
