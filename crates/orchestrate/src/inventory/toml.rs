//! `deploy.toml`: the same fleet with typed values and lists instead of `;` strings, plus a
//! `[daemon]` table merged into every host's daemon config (lease timers, builder, retention).
//!
//! ```toml
//! releases = ["17", "rawhide"]
//! [broker]
//! default = "redis://10.0.0.27:6379/0"
//! [master]
//! host = "gene@localhost"
//! [workers.17]
//! x86_64 = ["root@10.0.0.27", "root@10.0.0.28"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fbs_core::config::{ConfigError, KojiConfig, SmtpConfig, broker_url};
use fbs_core::ini::Entry;
use fbs_core::spec::Arch;
use serde::Deserialize;
use toml::Spanned;

use super::{Inventory, Login, Queue};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    releases: Spanned<Vec<String>>,
    broker: BTreeMap<String, Spanned<String>>,
    master: Option<RawMaster>,
    workers: BTreeMap<String, BTreeMap<String, Spanned<toml::Value>>>,
    smtp: Option<SmtpConfig>,
    #[serde(default)]
    koji: KojiConfig,
    #[serde(default)]
    ssh: RawSsh,
    #[serde(default)]
    daemon: toml::Table,
    #[serde(default)]
    monitor_port: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaster {
    host: Spanned<String>,
    workdir: Option<PathBuf>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSsh {
    config: Option<PathBuf>,
    identity: Option<PathBuf>,
    host_key_check: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
}

fn line(text: &str, span: std::ops::Range<usize>) -> usize {
    text.get(..span.start)
        .map_or(1, |t| t.bytes().filter(|&b| b == b'\n').count() + 1)
}

/// Parse a deploy.toml.
pub fn parse(path: &Path, text: &str) -> Result<Inventory, ConfigError> {
    let raw: Raw = toml::from_str(text).map_err(|e| ConfigError::from_toml(path, text, &e))?;
    let key = |span: std::ops::Range<usize>, k: &str, m: String| {
        ConfigError::key(path, Some(line(text, span)), k.to_owned(), m)
    };
    let mut inv = Inventory::empty(path);

    for (k, v) in &raw.broker {
        let entry = Entry {
            key: k.clone(),
            value: v.get_ref().clone(),
            line: line(text, v.span()),
        };
        let url = broker_url(path, "broker", &entry)?;
        if k == "default" {
            inv.brokers.default = Some(url);
        } else {
            let arch: Arch = k
                .parse()
                .map_err(|m: String| key(v.span(), &format!("broker.{k}"), m))?;
            inv.brokers.arch.insert(arch, url);
        }
    }
    if inv.brokers.default.is_none() {
        inv.brokers.default = inv.brokers.arch.values().next().cloned();
    }
    if inv.brokers.default.is_none() {
        return Err(ConfigError::key(
            path,
            None,
            "broker",
            "no broker: write default = \"redis://HOST:6379/0\" in [broker]",
        ));
    }

    inv.releases = raw.releases.get_ref().clone();
    if inv.releases.is_empty() {
        return Err(key(
            raw.releases.span(),
            "releases",
            "lists no release".into(),
        ));
    }
    if let Some(m) = &raw.master {
        let login =
            Login::parse(m.host.get_ref()).map_err(|e| key(m.host.span(), "master.host", e))?;
        let h = inv.host_mut(login);
        h.master = true;
        h.workdir = m.workdir.clone();
    }
    for release in inv.releases.clone() {
        let Some(group) = raw.workers.get(&release) else {
            return Err(key(
                raw.releases.span(),
                "releases",
                format!("release {release} has no [workers.{release}] table"),
            ));
        };
        workers(&mut inv, path, text, &release, group)?;
    }
    if let Some(r) = raw.workers.keys().find(|r| !inv.releases.contains(r)) {
        return Err(ConfigError::key(
            path,
            None,
            format!("workers.{r}"),
            format!("release {r} is not listed in `releases`"),
        ));
    }

    inv.smtp = raw.smtp;
    inv.koji = raw.koji;
    inv.ssh.config = raw.ssh.config;
    inv.ssh.identity = raw.ssh.identity;
    if let Some(p) = raw.ssh.host_key_check {
        inv.ssh.host_keys =
            super::ini::policy(p.get_ref()).map_err(|m| key(p.span(), "ssh.host_key_check", m))?;
    }
    if let Some(t) = raw.ssh.connect_timeout {
        inv.ssh.connect_timeout = fbs_core::config::duration::parse(t.get_ref())
            .map_err(|m| key(t.span(), "ssh.connect_timeout", m))?;
    }
    inv.daemon = raw.daemon;
    if let Some(p) = raw.monitor_port {
        inv.monitor_port = p;
    }
    Ok(inv)
}

fn workers(
    inv: &mut Inventory,
    path: &Path,
    text: &str,
    release: &str,
    group: &BTreeMap<String, Spanned<toml::Value>>,
) -> Result<(), ConfigError> {
    let key = |v: &Spanned<toml::Value>, k: &str, m: String| {
        ConfigError::key(
            path,
            Some(line(text, v.span())),
            format!("workers.{release}.{k}"),
            m,
        )
    };
    let workdir = match group.get("workdir") {
        None => None,
        Some(v) => match v.get_ref() {
            toml::Value::String(s) => Some(PathBuf::from(s)),
            _ => return Err(key(v, "workdir", "must be a path (a string)".into())),
        },
    };
    let mut any = false;
    for (k, v) in group {
        if k == "workdir" {
            continue;
        }
        let arch: Arch = k
            .parse()
            .map_err(|m: String| key(v, k, format!("{m} (keys are arches and workdir)")))?;
        let items: Vec<&str> = match v.get_ref() {
            toml::Value::String(s) => vec![s.as_str()],
            toml::Value::Array(a) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .ok_or_else(|| key(v, k, "hosts must be strings (user@host[:port])".into()))
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(key(v, k, "must be a list of user@host[:port]".into())),
        };
        for item in items {
            let login = Login::parse(item).map_err(|m| key(v, k, m))?;
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
            None,
            format!("workers.{release}"),
            "names no worker host",
        ));
    }
    Ok(())
}
