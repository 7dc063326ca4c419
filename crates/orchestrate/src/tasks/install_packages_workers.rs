//! `install-packages-workers`: the builder's tools (and the Redis server on the default
//! broker's host), installed only when `dpkg-query` / `rpm -q` says they are missing.

use super::{HostCtx, steps};
use crate::packages::Set;

/// Run on one worker host.
pub(crate) async fn run(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    if ctx.host.queues.is_empty() {
        return Ok(());
    }
    steps::packages(ctx, &[Set::Builder]).await
}
