//! The old `deploy.conf` (Python configparser INI): `[broker]`, `[releases]`, `[master]`,
//! `[workers-<release>]` (or `[worker-<release>]`), `[SMTP]`, `[koji]`, and fbs's optional
//! `[ssh]`. Values may carry the quotes the old tool needed; host lists are `;`-separated
//! `user@host[:port]`.

use std::path::{Path, PathBuf};

use fbs_core::config::{ConfigError, daemon_from_deploy_conf, unquote};
use fbs_core::ini::{Entry, Ini, Section};
use fbs_core::spec::Arch;

use super::{HostKeyPolicy, Inventory, Login, Queue};

fn err(path: &Path, section: &str, e: &Entry, msg: impl Into<String>) -> ConfigError {
    ConfigError::key(path, Some(e.line), format!("[{section}] {}", e.key), msg)
}

/// Parse a deploy.conf.
pub fn parse(path: &Path, text: &str) -> Result<Inventory, ConfigError> {
    // [broker], [SMTP] and [koji] are read as a daemon reads them.
    let daemon = daemon_from_deploy_conf(path, text)?;
    let ini = Ini::parse(text.as_bytes()).map_err(|errs| {
        let first = errs.errors().first();
        ConfigError {
            file: path.to_path_buf(),
            line: first.map(|e| e.line),
            key: first.and_then(|e| e.key.clone()),
            message: first.map_or_else(|| errs.to_string(), |e| e.kind.to_string()),
        }
    })?;
    let mut inv = Inventory::empty(path);
    inv.brokers = daemon.broker;
    inv.smtp = daemon.smtp;
    inv.koji = daemon.koji;
    if inv.brokers.default.is_none() {
        return Err(ConfigError::key(
            path,
            ini.section("broker").and_then(Section::line),
            "[broker]",
            "no broker: write default=\"redis://HOST:6379/0\" in [broker]",
        ));
    }

    let rel = ini.section("releases").ok_or_else(|| {
        ConfigError::key(
            path,
            None,
            "[releases]",
            "missing (e.g. releases=17,rawhide)",
        )
    })?;
    let rel_entry = rel
        .get("releases")
        .ok_or_else(|| ConfigError::key(path, rel.line(), "[releases] releases", "missing"))?;
    inv.releases = unquote(&rel_entry.value)
        .split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    if inv.releases.is_empty() {
        return Err(err(path, "releases", rel_entry, "lists no release"));
    }

    if let Some(m) = ini.section("master") {
        let host = m
            .get("host")
            .ok_or_else(|| ConfigError::key(path, m.line(), "[master] host", "missing"))?;
        let login =
            Login::parse(unquote(&host.value)).map_err(|msg| err(path, "master", host, msg))?;
        let workdir = m.get("workdir").map(|e| PathBuf::from(unquote(&e.value)));
        let h = inv.host_mut(login);
        h.master = true;
        h.workdir = workdir;
        for e in m.entries() {
            if e.key != "host" && e.key != "workdir" {
                return Err(err(
                    path,
                    "master",
                    e,
                    "unknown key (expected host, workdir)",
                ));
            }
        }
    }

    for release in inv.releases.clone() {
        let names = [format!("workers-{release}"), format!("worker-{release}")];
        let Some((name, sec)) = names
            .iter()
            .find_map(|n| ini.section(n).map(|s| (n.clone(), s)))
        else {
            return Err(ConfigError::key(
                path,
                Some(rel_entry.line),
                "[releases] releases",
                format!("release {release} has no [workers-{release}] section"),
            ));
        };
        workers(&mut inv, path, &name, sec, &release)?;
    }
    for sec in ini.sections() {
        let name = sec.name();
        let release = name
            .strip_prefix("workers-")
            .or_else(|| name.strip_prefix("worker-"));
        if let Some(r) = release
            && !inv.releases.iter().any(|x| x == r)
        {
            return Err(ConfigError::key(
                path,
                sec.line(),
                format!("[{name}]"),
                format!("release {r} is not listed in [releases]"),
            ));
        }
        if release.is_none()
            && !["broker", "releases", "master", "SMTP", "koji", "ssh"].contains(&name)
        {
            inv.warnings.push(format!(
                "{}:{}: section [{name}] is not used",
                path.display(),
                sec.line().unwrap_or(0)
            ));
        }
    }
    if let Some(sec) = ini.section("ssh") {
        ssh(&mut inv, path, sec)?;
    }
    Ok(inv)
}

fn workers(
    inv: &mut Inventory,
    path: &Path,
    name: &str,
    sec: &Section,
    release: &str,
) -> Result<(), ConfigError> {
    let workdir = sec.get("workdir").map(|e| PathBuf::from(unquote(&e.value)));
    let mut any = false;
    for e in sec.entries() {
        if e.key == "workdir" {
            continue;
        }
        let arch: Arch = e.key.parse().map_err(|m: String| {
            err(path, name, e, format!("{m} (keys are arches and workdir)"))
        })?;
        for item in unquote(&e.value).split(';').map(str::trim) {
            if item.is_empty() {
                continue;
            }
            let login = Login::parse(item).map_err(|m| err(path, name, e, m))?;
            let queue = Queue {
                arch,
                release: release.to_owned(),
            };
            inv.add_worker(login, queue, workdir.as_ref());
            any = true;
        }
    }
    if !any {
        return Err(ConfigError::key(
            path,
            sec.line(),
            format!("[{name}]"),
            "names no worker host (e.g. x86_64=root@10.0.0.27)",
        ));
    }
    Ok(())
}

fn ssh(inv: &mut Inventory, path: &Path, sec: &Section) -> Result<(), ConfigError> {
    for e in sec.entries() {
        let v = unquote(&e.value);
        match e.key.as_str() {
            "config" => inv.ssh.config = Some(PathBuf::from(v)),
            "identity" => inv.ssh.identity = Some(PathBuf::from(v)),
            "host_key_check" => {
                inv.ssh.host_keys = policy(v).map_err(|m| err(path, "ssh", e, m))?;
            }
            "connect_timeout" => {
                inv.ssh.connect_timeout =
                    fbs_core::config::duration::parse(v).map_err(|m| err(path, "ssh", e, m))?;
            }
            _ => {
                return Err(err(
                    path,
                    "ssh",
                    e,
                    "unknown key (expected config, identity, host_key_check, connect_timeout)",
                ));
            }
        }
    }
    Ok(())
}

/// `strict` (the default) or `accept-new`.
pub fn policy(v: &str) -> Result<HostKeyPolicy, String> {
    match v {
        "strict" | "yes" => Ok(HostKeyPolicy::Strict),
        "accept-new" => Ok(HostKeyPolicy::AcceptNew),
        other => Err(format!(
            "`{other}` is not a host key policy (strict or accept-new; fbs never disables the check)"
        )),
    }
}
