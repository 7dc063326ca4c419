//! The sections of an old `deploy.conf` a daemon (or `fbs local`) reads — `[broker]`, `[SMTP]`
//! and `[koji]` — so an old user's fleet file is enough for mail from `fbs local`.
//! The fleet inventory itself belongs to `fbs deploy`.

use std::collections::BTreeMap;
use std::path::Path;

use super::{BrokerConfig, ConfigError, DaemonConfig, KojiConfig, SmtpConfig, SmtpTls};
use crate::ini::{Entry, Ini};
use crate::spec::Arch;

/// Strip the quotes the old tool's values carried (it pasted them into Python).
pub fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

fn key_err(path: &Path, section: &str, e: &Entry, msg: impl Into<String>) -> ConfigError {
    ConfigError::key(path, Some(e.line), format!("[{section}] {}", e.key), msg)
}

/// Check a broker URL: `redis://` or `rediss://`; the old `amqp://` gets a pointer.
pub fn broker_url(path: &Path, section: &str, e: &Entry) -> Result<String, ConfigError> {
    let v = unquote(&e.value);
    let scheme = v.split_once("://").map(|(s, _)| s).unwrap_or("");
    match scheme {
        "redis" | "rediss" => Ok(v.to_owned()),
        "amqp" | "amqps" => Err(key_err(
            path,
            section,
            e,
            "AMQP brokers are not supported: fbs queues live in Redis; write redis://HOST:6379/0",
        )),
        _ => Err(key_err(
            path,
            section,
            e,
            format!("`{v}` is not a broker URL (expected redis://HOST:PORT/DB or rediss://…)"),
        )),
    }
}

/// Read `[broker]`, `[SMTP]` and `[koji]` of a deploy.conf into a daemon config.
pub fn daemon_from_deploy_conf(path: &Path, text: &str) -> Result<DaemonConfig, ConfigError> {
    let ini = Ini::parse(text.as_bytes()).map_err(|errs| {
        let first = errs.errors().first();
        ConfigError {
            file: path.to_path_buf(),
            line: first.map(|e| e.line),
            key: first.and_then(|e| e.key.clone()),
            message: first.map_or_else(|| errs.to_string(), |e| e.kind.to_string()),
        }
    })?;
    let mut cfg = DaemonConfig::default();
    if let Some(sec) = ini.section("broker") {
        let mut broker = BrokerConfig {
            default: None,
            arch: BTreeMap::new(),
        };
        let mut first = None;
        for e in sec.entries() {
            let url = broker_url(path, "broker", e)?;
            if e.key == "default" {
                broker.default = Some(url);
                continue;
            }
            let arch: Arch = e
                .key
                .parse()
                .map_err(|m: String| key_err(path, "broker", e, m))?;
            first.get_or_insert_with(|| url.clone());
            broker.arch.insert(arch, url);
        }
        if broker.default.is_none() {
            broker.default = first;
        }
        cfg.broker = broker;
    }
    if let Some(sec) = ini.section("SMTP") {
        let get = |k: &str| sec.get(k).map(|e| unquote(&e.value).to_owned());
        let server = sec
            .get("server")
            .map(|e| unquote(&e.value).to_owned())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ConfigError::key(path, sec.line(), "[SMTP] server", "missing"))?;
        let port = match sec.get("port") {
            None => 587,
            Some(e) => unquote(&e.value)
                .parse()
                .map_err(|_| key_err(path, "SMTP", e, "not a port number"))?,
        };
        let tls = match sec.get("tls") {
            None => SmtpTls::default(),
            Some(e) => match unquote(&e.value) {
                "none" => SmtpTls::None,
                "starttls" => SmtpTls::Starttls,
                "tls" => SmtpTls::Tls,
                other => {
                    return Err(key_err(
                        path,
                        "SMTP",
                        e,
                        format!("`{other}` is not one of none, starttls, tls"),
                    ));
                }
            },
        };
        cfg.smtp = Some(SmtpConfig {
            server,
            port,
            login: get("login").filter(|s| !s.is_empty()),
            password: get("password").filter(|s| !s.is_empty()),
            password_file: get("password_file").map(Into::into),
            tls,
            from: get("from").filter(|s| !s.is_empty()),
            retry_base: std::time::Duration::from_secs(1),
            retries: 4,
        });
    }
    if let Some(sec) = ini.section("koji") {
        let defaults = KojiConfig::default();
        let get = |k: &str| sec.get(k).map(|e| unquote(&e.value).to_owned());
        cfg.koji = KojiConfig {
            hub: get("hub").unwrap_or(defaults.hub),
            topurl: get("topurl").unwrap_or(defaults.topurl),
            signing_key: get("signing_key").filter(|s| !s.is_empty()),
            offline: false,
        };
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = r#"[broker]
i686="redis://10.0.0.30:6379/0"
x86_64="redis://10.0.0.27:6379/0"

[releases]
releases=17,rawhide

[SMTP]
server='smtp.example.org'
port='587'
login='bot@example.org'
password='secret'

[koji]
hub=https://koji.example.org/kojihub
topurl=https://kojipkgs.example.org
"#;

    #[test]
    fn reads_the_old_files_sections() {
        let cfg = daemon_from_deploy_conf(Path::new("deploy.conf"), OLD).expect("valid");
        assert_eq!(
            cfg.broker.default.as_deref(),
            Some("redis://10.0.0.30:6379/0")
        );
        assert_eq!(
            cfg.broker.for_arch(Arch::X86_64),
            Some("redis://10.0.0.27:6379/0")
        );
        let smtp = cfg.smtp.expect("smtp");
        assert_eq!(smtp.server, "smtp.example.org");
        assert_eq!(smtp.port, 587);
        assert_eq!(smtp.password.as_deref(), Some("secret"));
        assert_eq!(cfg.koji.hub, "https://koji.example.org/kojihub");
    }

    #[test]
    fn amqp_is_refused_with_a_pointer_to_redis() {
        let text = "[broker]\ndefault=\"amqp://guest@10.0.0.27//\"\n";
        let e = daemon_from_deploy_conf(Path::new("deploy.conf"), text).expect_err("amqp");
        let shown = e.to_string();
        assert!(
            shown.starts_with("deploy.conf:2: [broker] default:"),
            "{shown}"
        );
        assert!(shown.contains("redis://"), "{shown}");
    }
}
