//! Starting the daemons: each service is (re)started only when the hash of what it runs
//! (binary, config, unit, command line) differs from its stamp or it is not running, then
//! checked to have stayed up; workers of queues the host no longer serves are stopped.

use anyhow::bail;

use super::HostCtx;
use super::steps::probe;
use crate::remote::files;
use crate::remote::{Input, check, qpath, quote};
use crate::services::{self, Service, State};

/// The hash a service is started with: binary, config, unit and command line.
fn stamp(ctx: &HostCtx<'_>, s: &Service) -> String {
    let cfg = ctx
        .art
        .configs
        .get(&ctx.host.name())
        .map(String::as_str)
        .unwrap_or("");
    let unit = s.unit_file(ctx.layout).1;
    let all = format!(
        "{}\n{}\n{}\n{}",
        ctx.art.binary_sha,
        files::sha256(cfg.as_bytes()),
        files::sha256(unit.as_bytes()),
        s.start_command(ctx.layout)
    );
    files::sha256(all.as_bytes())
}

/// (Re)start the services of `svcs` whose stamp changed or that are not running; then check
/// they stayed up.
pub async fn services(ctx: &mut HostCtx<'_>, svcs: &[Service]) -> anyhow::Result<()> {
    let svcs: Vec<Service> = svcs
        .iter()
        .filter(|s| ctx.first(&format!("service {}", s.name())))
        .cloned()
        .collect();
    if svcs.is_empty() {
        return Ok(());
    }
    let p = probe(ctx).await?;
    let states = p.states.clone();
    let mut started = Vec::new();
    for s in &svcs {
        let want = stamp(ctx, s);
        let (state, have) = states
            .get(&s.name())
            .cloned()
            .unwrap_or((State::Stopped, None));
        let running = matches!(state, State::Running(_));
        if running && have.as_deref() == Some(want.as_str()) {
            continue;
        }
        ctx.step(&format!(
            "{} {}",
            if running { "restarting" } else { "starting" },
            s.name()
        ));
        check(
            ctx.remote,
            &format!("starting {}", s.name()),
            &s.start_script(ctx.layout, p.systemd, Some(&want)),
            Input::None,
        )
        .await?;
        ctx.changes.push(format!(
            "{} {}",
            if running { "restarted" } else { "started" },
            s.name()
        ));
        started.push(s.clone());
    }
    if started.is_empty() {
        return Ok(());
    }
    // A daemon that cannot reach its broker exits soon after starting: look again.
    let query: String = started
        .iter()
        .map(|s| s.query_script(ctx.layout, p.systemd))
        .collect();
    let out = check(
        ctx.remote,
        "querying services",
        &format!("sleep 1\n{query}"),
        Input::None,
    )
    .await?;
    let states = services::parse_states(&out.stdout);
    for s in &started {
        if let Some((st, _)) = states.get(&s.name())
            && !matches!(st, State::Running(_))
        {
            let log = qpath(&s.log_file(ctx.layout));
            let tail = ctx
                .remote
                .exec(&format!("tail -n 5 {log} 2>/dev/null"), Input::None)
                .await
                .map(|o| o.stdout)
                .unwrap_or_default();
            bail!(
                "{} did not stay up ({st}); its log ends:\n{}",
                s.name(),
                tail.trim_end()
            );
        }
    }
    Ok(())
}

/// Stop worker daemons this host no longer runs (a queue removed from deploy.conf): their
/// pid files, or their systemd units (stopped and disabled).
pub async fn stop_stale_workers(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    let p = probe(ctx).await?;
    let keep = services::of(ctx.host);
    for d in &p.daemons {
        let stale = if d.ends_with(".service") {
            !keep.iter().any(|s| &s.unit() == d)
        } else {
            !keep.iter().any(|s| &s.name() == d)
        };
        if !stale {
            continue;
        }
        ctx.step(&format!("stopping {d} (no longer in the deploy config)"));
        let script = if d.ends_with(".service") {
            format!("systemctl disable --now {} 2>&1 || true\n", quote(d))
        } else {
            let pid = ctx.layout.state_dir().join(format!("{d}.pid"));
            let stamp = ctx.layout.state_dir().join(format!("{d}.deployed"));
            format!(
                "p={}\npid=$(cat \"$p\")\nkill -TERM \"$pid\" 2>/dev/null || true\nrm -f \"$p\" {}\n",
                qpath(&pid),
                qpath(&stamp)
            )
        };
        check(ctx.remote, "stopping a stale worker", &script, Input::None).await?;
        ctx.changes.push(format!("stopped {d}"));
    }
    Ok(())
}
