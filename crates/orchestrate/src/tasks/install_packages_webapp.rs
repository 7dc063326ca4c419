//! `install-packages-webapp`: the master's packages (and the Redis server when the default
//! broker runs there), installed only when missing.

use super::{HostCtx, steps};
use crate::packages::Set;

/// Run on the master.
pub(crate) async fn run(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    if !ctx.host.master {
        return Ok(());
    }
    steps::packages(ctx, &[Set::Webapp]).await
}
