//! `deploy-webapp`: copy the files, install the packages, then start the master's daemon — the
//! monitor (web UI, REST API, notifier), or `fbs notify` in a build without it — restarting it
//! only when something it runs changed.

use super::{HostCtx, copy_files_webapp, install_packages_webapp, start};
use crate::services::{self, Service};

/// Run on the master.
pub(crate) async fn run(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    if !ctx.host.master {
        return Ok(());
    }
    copy_files_webapp::run(ctx).await?;
    install_packages_webapp::run(ctx).await?;
    let daemon = services::webapp();
    let has_smtp = ctx
        .art
        .configs
        .get(&ctx.host.name())
        .is_some_and(|c| c.contains("\n[smtp]"));
    if daemon == Service::Notify && !has_smtp {
        // A notifier without mail settings has nothing to do (and would exit at once).
        ctx.progress.step(
            ctx.remote.name(),
            "no [SMTP] in the deploy config: no notifier",
        );
        return Ok(());
    }
    start::services(ctx, &[daemon]).await
}
