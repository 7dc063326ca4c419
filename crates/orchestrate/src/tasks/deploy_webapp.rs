//! `deploy-webapp`: copy the files, install the packages, then start the monitor (web UI,
//! REST API, notifier) on the master — restarting it only when something it runs changed.

use super::{HostCtx, copy_files_webapp, install_packages_webapp, start};
use crate::services::Service;

/// Run on the master.
pub(crate) async fn run(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    if !ctx.host.master {
        return Ok(());
    }
    copy_files_webapp::run(ctx).await?;
    install_packages_webapp::run(ctx).await?;
    start::services(ctx, &[Service::Monitor]).await
}
