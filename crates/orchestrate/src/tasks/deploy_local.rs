//! `deploy-local`: everything `deploy-workers` and `deploy-webapp` do, for the hosts of the
//! deploy config that are this machine (`localhost`, `127.0.0.1`, its host name), run here
//! without ssh (the engine gives these hosts a [`crate::remote::Local`]).

use super::{HostCtx, deploy_webapp, deploy_workers};

/// Run on this machine.
pub(crate) async fn run(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    deploy_workers::run(ctx).await?;
    deploy_webapp::run(ctx).await
}
