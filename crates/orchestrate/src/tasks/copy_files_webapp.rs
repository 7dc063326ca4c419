//! `copy-files-webapp`: the directories, the `fbs` binary, the master's config (the only one
//! with the SMTP settings) and the monitor and notifier units — each only when it differs.

use super::{HostCtx, steps};
use crate::services::Service;

/// Run on the master.
pub(crate) async fn run(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    if !ctx.host.master {
        return Ok(());
    }
    steps::dirs(ctx).await?;
    steps::binary(ctx).await?;
    steps::config(ctx).await?;
    steps::units(ctx, &[Service::Monitor, Service::Notify]).await
}
