//! The steps tasks are made of. Each is idempotent: it looks first (the probe, one round trip
//! per host) and acts only on a difference, so a second deploy changes nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};

use super::HostCtx;
use crate::packages::{self, Family, Set};
use crate::remote::files::{self, FileState};
use crate::remote::{Input, check, qpath};
use crate::services::{self, Service, State};

/// What one round trip learns about a host.
#[derive(Debug, Clone)]
pub struct Probe {
    /// systemd runs (`/run/systemd/system` exists) and the layout is the real one.
    pub systemd: bool,
    /// The distribution family, or the os-release ID when unknown.
    pub family: Result<Family, String>,
    /// Managed files.
    pub files: BTreeMap<PathBuf, FileState>,
    /// Managed directories and their modes.
    pub dirs: BTreeMap<PathBuf, Option<u32>>,
    /// Packages of the host's package sets that are not installed.
    pub missing: Vec<String>,
    /// The services' states and stamps.
    pub states: BTreeMap<String, (State, Option<String>)>,
    /// Worker daemons present: pid file names (`worker-x86_64-17`) and systemd units.
    pub daemons: Vec<String>,
}

/// Probe the host (once).
pub async fn probe(ctx: &mut HostCtx<'_>) -> anyhow::Result<Probe> {
    if let Some(p) = &ctx.probe {
        return Ok(p.clone());
    }
    ctx.step("probing");
    let l = ctx.layout;
    let mut wanted = vec![l.binary(), l.config()];
    for s in services::of(ctx.host) {
        wanted.push(s.unit_file(l).0);
    }
    let svcs = services::of(ctx.host);
    let plain: String = svcs.iter().map(|s| s.query_script(l, false)).collect();
    let query = if l.is_rooted() {
        plain
    } else {
        let sd: String = svcs.iter().map(|s| s.query_script(l, true)).collect();
        format!("if [ -d /run/systemd/system ]; then\n{sd}else\n{plain}fi\n")
    };
    let sets = ctx.package_sets.clone();
    let mut pk = String::new();
    if !sets.is_empty() && !l.is_rooted() {
        let deb =
            packages::missing_script(Family::Debian, &packages::packages(Family::Debian, &sets));
        let rpm =
            packages::missing_script(Family::Fedora, &packages::packages(Family::Fedora, &sets));
        pk = format!(
            "case \" $ID $ID_LIKE \" in *\\ debian\\ *|*\\ ubuntu\\ *) ({deb}) | sed 's/^/missing /';; \
             *\\ fedora\\ *|*\\ rhel\\ *|*\\ centos\\ *|*\\ rocky\\ *|*\\ almalinux\\ *) ({rpm}) | sed 's/^/missing /';; esac\n"
        );
    }
    // What worker daemons exist, to stop those of queues the host no longer serves.
    let listing = format!(
        "for f in {}/worker-*.pid; do [ -e \"$f\" ] && echo \"daemon $(basename \"$f\" .pid)\"; done\n{}",
        qpath(&l.state_dir()),
        if l.is_rooted() {
            String::new()
        } else {
            "if [ -d /run/systemd/system ]; then systemctl list-units --all --plain --no-legend 'fbs-worker@*' 2>/dev/null | awk '{print \"unit \" $1}'; fi\n".to_owned()
        }
    );
    let script = format!(
        "{listing}if [ -d /run/systemd/system ]; then echo systemd 1; else echo systemd 0; fi\n\
         ID=; ID_LIKE=; if [ -r /etc/os-release ]; then . /etc/os-release; fi; echo \"os ${{ID:-unknown}} ${{ID_LIKE:-}}\"\n{}{pk}{query}",
        files::state_script(&wanted, &l.dirs())
    );
    let out = check(ctx.remote, "probing the host", &script, Input::None).await?;
    let (files, dirs) = files::parse_state(&out.stdout);
    let missing: Vec<String> = out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("missing "))
        .map(str::to_owned)
        .collect();
    let states = services::parse_states(&out.stdout);
    let daemons = out
        .stdout
        .lines()
        .filter_map(|l| {
            l.strip_prefix("daemon ")
                .or_else(|| l.strip_prefix("unit "))
        })
        .map(str::to_owned)
        .collect();
    let mut systemd = false;
    let mut family = Err("unknown".to_owned());
    for line in out.stdout.lines() {
        if let Some(v) = line.strip_prefix("systemd ") {
            systemd = v.trim() == "1" && !l.is_rooted();
        } else if let Some(v) = line.strip_prefix("os ") {
            let (id, like) = v.split_once(' ').unwrap_or((v, ""));
            family = Family::detect(id, like).ok_or_else(|| id.to_owned());
        }
    }
    let p = Probe {
        systemd,
        family,
        files,
        dirs,
        missing,
        states,
        daemons,
    };
    ctx.probe = Some(p.clone());
    Ok(p)
}

/// /opt/fbs/bin, /etc/fbs (0700), /var/lib/fbs, /var/log/fbs.
pub async fn dirs(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    if !ctx.first("dirs") {
        return Ok(());
    }
    let p = probe(ctx).await?;
    let etc = ctx.layout.etc_dir();
    let missing: Vec<PathBuf> = ctx
        .layout
        .dirs()
        .into_iter()
        .filter(|d| p.dirs.get(d).is_none_or(Option::is_none))
        .collect();
    let etc_mode_ok = p.dirs.get(&etc).copied().flatten() == Some(0o700);
    if missing.is_empty() && etc_mode_ok {
        return Ok(());
    }
    ctx.step("creating directories");
    let list: Vec<String> = ctx.layout.dirs().iter().map(|d| qpath(d)).collect();
    let script = format!(
        "set -e\nmkdir -p {}\nchmod 0700 {}\n",
        list.join(" "),
        qpath(&etc)
    );
    check(ctx.remote, "creating directories", &script, Input::None).await?;
    if !missing.is_empty() {
        ctx.changes.push("directories".into());
    }
    Ok(())
}

/// The `fbs` binary, when its sha256 differs.
pub async fn binary(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    if !ctx.first("binary") {
        return Ok(());
    }
    let dest = ctx.layout.binary();
    let have = ctx.file(&dest);
    if have.sha256.as_deref() == Some(&ctx.art.binary_sha) && have.mode == Some(0o755) {
        return Ok(());
    }
    ctx.step(&format!(
        "pushing the binary ({} MB)",
        ctx.art.binary_len / 1_000_000
    ));
    files::put(
        ctx.remote,
        Input::File(&ctx.art.binary),
        &ctx.art.binary_sha,
        &dest,
        0o755,
        true,
    )
    .await?;
    ctx.changes.push("binary".into());
    Ok(())
}

/// `/etc/fbs/fbs.toml` (0600; its contents are never shown).
pub async fn config(ctx: &mut HostCtx<'_>) -> anyhow::Result<()> {
    if !ctx.first("config") {
        return Ok(());
    }
    let name = ctx.host.name();
    let text = ctx
        .art
        .configs
        .get(&name)
        .with_context(|| format!("no config was derived for {name}"))?;
    let sha = files::sha256(text.as_bytes());
    let dest = ctx.layout.config();
    let have = ctx.file(&dest);
    if have.sha256.as_deref() == Some(sha.as_str()) && have.mode == Some(0o600) {
        return Ok(());
    }
    ctx.step("writing the config");
    files::put(
        ctx.remote,
        Input::Bytes(text.as_bytes()),
        &sha,
        &dest,
        0o600,
        false,
    )
    .await?;
    ctx.changes.push("config".into());
    Ok(())
}

/// The unit files of `svcs` (written everywhere, so a host that gains systemd has them).
pub async fn units(ctx: &mut HostCtx<'_>, svcs: &[Service]) -> anyhow::Result<()> {
    probe(ctx).await?;
    for s in svcs {
        let (path, text) = s.unit_file(ctx.layout);
        if !ctx.first(&format!("unit {}", path.display())) {
            continue;
        }
        let sha = files::sha256(text.as_bytes());
        let have = ctx.file(&path);
        if have.sha256.as_deref() == Some(sha.as_str()) && have.mode == Some(0o644) {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        ctx.step(&format!("writing {name}"));
        files::put(
            ctx.remote,
            Input::Bytes(text.as_bytes()),
            &sha,
            &path,
            0o644,
            false,
        )
        .await?;
        ctx.changes.push(format!("unit {name}"));
    }
    Ok(())
}

/// Install the missing packages of `sets` (plus Redis on the broker's host).
pub async fn packages(ctx: &mut HostCtx<'_>, sets: &[Set]) -> anyhow::Result<()> {
    let mut sets = sets.to_vec();
    if ctx.broker_host {
        sets.push(Set::Broker);
    }
    sets.retain(|s| !ctx.done.contains(&format!("packages {s:?}")));
    if sets.is_empty() {
        return Ok(());
    }
    for s in &sets {
        ctx.first(&format!("packages {s:?}"));
    }
    if ctx.layout.is_rooted() {
        return Ok(());
    }
    let p = probe(ctx).await?;
    let family = match p.family {
        Ok(f) => f,
        Err(id) => bail!(
            "cannot install packages on `{id}`: fbs knows apt (Debian, Ubuntu) and dnf (Fedora, RHEL); install {:?} by hand",
            packages::packages(Family::Debian, &sets)
        ),
    };
    let want = packages::packages(family, &sets);
    let missing: Vec<String> = if sets.iter().all(|s| ctx.package_sets.contains(s)) {
        p.missing
            .iter()
            .filter(|m| want.contains(m))
            .cloned()
            .collect()
    } else {
        ctx.step("checking packages");
        let out = check(
            ctx.remote,
            "checking packages",
            &packages::missing_script(family, &want),
            Input::None,
        )
        .await?;
        out.stdout.split_whitespace().map(str::to_owned).collect()
    };
    if missing.is_empty() {
        return Ok(());
    }
    ctx.step(&format!("installing {}", missing.join(" ")));
    check(
        ctx.remote,
        "installing packages",
        &packages::install_command(family, &missing),
        Input::None,
    )
    .await?;
    ctx.changes.push(format!("installed {}", missing.join(" ")));
    Ok(())
}
