//! `deploy-workers`: copy the files, install the packages, then start each queue's worker —
//! restarting it only when what it runs (binary, config, unit) changed or it is not running —
//! and stop workers of queues the host no longer serves.

use super::{HostCtx, copy_files_workers, install_packages_workers, start};
use crate::services::{self, Service};

/// Run on one worker host.
pub(crate) async fn run(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    if ctx.host.queues.is_empty() {
        return Ok(());
    }
    copy_files_workers::run(ctx).await?;
    install_packages_workers::run(ctx).await?;
    let workers: Vec<Service> = services::of(ctx.host)
        .into_iter()
        .filter(|s| matches!(s, Service::Worker(_)))
        .collect();
    start::services(ctx, &workers).await?;
    start::stop_stale_workers(ctx).await
}
