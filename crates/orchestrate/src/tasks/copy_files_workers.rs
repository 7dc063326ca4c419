//! `copy-files-workers`: the directories, the `fbs` binary, each worker host's config and the
//! worker unit template — each only when it differs from what the host has.

use super::{HostCtx, steps};
use crate::services::{self, Service};

/// Run on one worker host.
pub(crate) async fn run(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    if ctx.host.queues.is_empty() {
        return Ok(());
    }
    steps::dirs(ctx).await?;
    steps::binary(ctx).await?;
    steps::config(ctx).await?;
    let workers: Vec<Service> = services::of(ctx.host)
        .into_iter()
        .filter(|s| matches!(s, Service::Worker(_)))
        .collect();
    steps::units(ctx, &workers).await
}
