//! Each host's daemon config (`/etc/fbs/fbs.toml`), derived from the inventory: its queues and
//! arches, the brokers, Koji, the monitor's public URL — and the SMTP settings only on the
//! master (workers never hold the mail password). deploy.toml's `[daemon]` table is merged in
//! last. The text is deterministic, so an unchanged fleet gives byte-identical files.

use fbs_core::config::{ClientConfig, ConfigError, DaemonConfig};

use crate::inventory::{Host, Inventory};

/// The environment variable that may hold the SMTP password instead of deploy.conf.
pub const SMTP_PASSWORD_ENV: &str = "FBS_SMTP_PASSWORD";

/// The monitor's public URL (on the master), if the fleet has a master.
pub fn monitor_url(inv: &Inventory) -> Option<String> {
    let m = inv.master()?;
    let host = if m.login.host.contains(':') {
        format!("[{}]", m.login.host)
    } else {
        m.login.host.clone()
    };
    Some(format!("http://{host}:{}/", inv.monitor_port))
}

/// The daemon config of `host`, as TOML text.
pub fn daemon_config(inv: &Inventory, host: &Host) -> Result<String, ConfigError> {
    let mut cfg = DaemonConfig {
        broker: inv.brokers.clone(),
        koji: inv.koji.clone(),
        ..DaemonConfig::default()
    };
    cfg.worker.queues = host.queues.iter().map(|q| q.spec()).collect();
    if !host.queues.is_empty() {
        let mut arches: Vec<_> = host.queues.iter().map(|q| q.arch).collect();
        arches.sort();
        arches.dedup();
        cfg.worker.arches = arches;
    } else {
        cfg.worker.arches = Vec::new();
    }
    if let Some(w) = &host.workdir {
        cfg.worker.work_dir = w.clone();
    }
    cfg.monitor.public_url = monitor_url(inv);
    if host.master {
        cfg.monitor.listen = format!("0.0.0.0:{}", inv.monitor_port);
        cfg.smtp = smtp(inv)?;
    }
    let mut value = toml::Table::try_from(&cfg)
        .map_err(|e| ConfigError::file(&inv.file, format!("cannot write a daemon config: {e}")))?;
    merge(&mut value, &inv.daemon);
    let merged: DaemonConfig =
        toml::Value::Table(value.clone())
            .try_into()
            .map_err(|e: toml::de::Error| {
                ConfigError::key(&inv.file, None, "daemon", e.message().to_owned())
            })?;
    if host.master {
        // The notifier's host only: never let [daemon] put mail settings on a worker.
    } else if merged.smtp.is_some() {
        return Err(ConfigError::key(
            &inv.file,
            None,
            "daemon.smtp",
            "SMTP settings belong in [smtp]: they go to the master only",
        ));
    }
    let body = toml::to_string(&merged)
        .map_err(|e| ConfigError::file(&inv.file, format!("cannot write a daemon config: {e}")))?;
    Ok(format!(
        "# /etc/fbs/fbs.toml for {} ({}), written by `fbs deploy` from {}.\n\
         # Edit the deploy config instead: the next deploy replaces this file.\n\n{body}",
        host.name(),
        host.roles(),
        inv.file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
    ))
}

fn smtp(inv: &Inventory) -> Result<Option<fbs_core::config::SmtpConfig>, ConfigError> {
    let Some(mut s) = inv.smtp.clone() else {
        return Ok(None);
    };
    if let Some(pf) = s.password_file.take() {
        let pw = std::fs::read_to_string(&pf).map_err(|e| {
            ConfigError::key(
                &inv.file,
                None,
                "SMTP password_file",
                format!("cannot read {}: {e}", pf.display()),
            )
        })?;
        s.password = Some(pw.trim_end_matches(['\n', '\r']).to_owned());
    }
    if let Some(pw) = std::env::var(SMTP_PASSWORD_ENV)
        .ok()
        .filter(|v| !v.is_empty())
    {
        s.password = Some(pw);
    }
    Ok(Some(s))
}

fn merge(into: &mut toml::Table, from: &toml::Table) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The client config `setup-cli` writes: brokers, the monitor URL, the API token (kept from
/// the existing file when none is given).
pub fn client_config(
    inv: &Inventory,
    token: Option<String>,
    old: Option<&ClientConfig>,
) -> ClientConfig {
    ClientConfig {
        broker: inv.brokers.default.clone(),
        brokers: inv.brokers.arch.clone(),
        monitor_url: monitor_url(inv),
        token: token.or_else(|| old.and_then(|o| o.token.clone())),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const CONF: &str = "[broker]\ndefault=\"redis://:brokerpw@10.0.0.1:6379/0\"\ni686=redis://10.0.0.2:6379/0\n\
        [releases]\nreleases=17\n[master]\nhost=root@m1\n\
        [workers-17]\nx86_64=root@w1;root@m1\ni686=root@w2\nworkdir=/srv/fbs-work\n\
        [SMTP]\nserver=smtp.example.org\nlogin=bot\npassword='hunter2'\n";

    #[test]
    fn only_the_master_gets_smtp_and_each_host_its_queues() {
        let inv = Inventory::parse(Path::new("deploy.conf"), CONF).expect("valid");
        let by = |n: &str| inv.hosts.iter().find(|h| h.name() == n).expect(n);
        let m = daemon_config(&inv, by("root@m1")).expect("master");
        let w1 = daemon_config(&inv, by("root@w1")).expect("w1");
        let w2 = daemon_config(&inv, by("root@w2")).expect("w2");
        assert!(m.contains("hunter2"), "{m}");
        assert!(!w1.contains("hunter2") && !w1.contains("smtp"), "{w1}");
        let w2c: DaemonConfig = toml::from_str(&w2).expect("w2 parses back");
        assert_eq!(w2c.worker.queues, ["i686:17"]);
        assert_eq!(w2c.worker.work_dir, Path::new("/srv/fbs-work"));
        assert_eq!(
            w2c.broker.for_arch(fbs_core::spec::Arch::I686),
            Some("redis://10.0.0.2:6379/0")
        );
        assert_eq!(w2c.monitor.public_url.as_deref(), Some("http://m1:8080/"));
        let mc: DaemonConfig = toml::from_str(&m).expect("master parses back");
        assert_eq!(mc.worker.queues, ["x86_64:17"]);
        assert_eq!(mc.monitor.listen, "0.0.0.0:8080");
        assert_eq!(
            daemon_config(&inv, by("root@w1")).expect("again"),
            w1,
            "deterministic"
        );
    }

    #[test]
    fn the_daemon_table_is_merged_into_every_host() {
        let text = "releases = [\"17\"]\n[broker]\ndefault = \"redis://b:6379/0\"\n\
            [workers.17]\nx86_64 = [\"w1\"]\n[daemon.lease]\nexpiry = \"2s\"\nheartbeat = \"1s\"\npoll = \"500ms\"\nmax_attempts = 2\n\
            [daemon.worker]\nbuilder = \"native\"\n";
        let inv = Inventory::parse(Path::new("deploy.toml"), text).expect("valid");
        let c: DaemonConfig =
            toml::from_str(&daemon_config(&inv, &inv.hosts[0]).expect("cfg")).expect("parses");
        assert_eq!(c.lease.expiry, std::time::Duration::from_secs(2));
        assert_eq!(c.worker.queues, ["x86_64:17"]);
        assert!(c.worker.builder.is_some());
        let bad = text.replace("builder = \"native\"", "builder = \"native\"\nbogus = 1");
        let inv = Inventory::parse(Path::new("deploy.toml"), &bad).expect("valid inventory");
        let e = daemon_config(&inv, &inv.hosts[0])
            .expect_err("unknown key")
            .to_string();
        assert!(e.contains("daemon") && e.contains("bogus"), "{e}");
    }
}
