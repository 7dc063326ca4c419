//! Finding and reading config files, and applying `FBS_*` environment overrides.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::{ClientConfig, ConfigError, DaemonConfig};

/// Where a config came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A file named by `--config`.
    Flag(PathBuf),
    /// A file named by `FBS_CONFIG` (or `FBS_CLIENT_CONFIG`).
    Env(PathBuf),
    /// The default path, which exists.
    Default(PathBuf),
    /// No file: built-in defaults.
    Builtin,
}

impl ConfigSource {
    /// The file, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            ConfigSource::Flag(p) | ConfigSource::Env(p) | ConfigSource::Default(p) => Some(p),
            ConfigSource::Builtin => None,
        }
    }
}

/// Pick the config file: the flag, else the environment variable `env_var`, else `default` if
/// it exists, else none.
pub fn resolve_path(flag: Option<&Path>, env_var: &str, default: &Path) -> ConfigSource {
    if let Some(p) = flag {
        return ConfigSource::Flag(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(env_var).filter(|v| !v.is_empty()) {
        return ConfigSource::Env(PathBuf::from(p));
    }
    if default.exists() {
        return ConfigSource::Default(default.to_path_buf());
    }
    ConfigSource::Builtin
}

fn read(path: &Path) -> Result<String, ConfigError> {
    let bytes =
        std::fs::read(path).map_err(|e| ConfigError::file(path, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ConfigError {
            file: path.to_path_buf(),
            line: Some(line),
            key: None,
            message: "not valid UTF-8".into(),
        }
    })
}

fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::from_toml(path, text, &e))
}

/// Load the daemon config (`--config` > `FBS_CONFIG` > `/etc/fbs/fbs.toml` > defaults), then
/// apply `FBS_*` overrides. A file not ending in `.toml` is read as a `deploy.conf`, whose
/// `[broker]`, `[SMTP]` and `[koji]` sections are used.
pub fn load_daemon(flag: Option<&Path>) -> Result<(DaemonConfig, ConfigSource), ConfigError> {
    let source = resolve_path(flag, "FBS_CONFIG", Path::new("/etc/fbs/fbs.toml"));
    let mut cfg = match source.path() {
        None => DaemonConfig::default(),
        Some(p) => {
            let text = read(p)?;
            if p.extension().is_some_and(|e| e == "toml") {
                parse_toml(p, &text)?
            } else {
                super::deploy::daemon_from_deploy_conf(p, &text)?
            }
        }
    };
    apply_daemon_env(
        &mut cfg,
        source.path().unwrap_or(Path::new("(environment)")),
    )?;
    Ok((cfg, source))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn apply_daemon_env(cfg: &mut DaemonConfig, file: &Path) -> Result<(), ConfigError> {
    if let Some(v) = env("FBS_BROKER") {
        cfg.broker.default = Some(v);
    }
    if let Some(v) = env("FBS_WORK_DIR") {
        cfg.worker.work_dir = PathBuf::from(v);
    }
    if let Some(v) = env("FBS_CACHE_DIR") {
        cfg.worker.cache_dir = PathBuf::from(v);
    }
    if let Some(v) = env("FBS_BUILDER") {
        cfg.worker.builder = Some(
            v.parse()
                .map_err(|e: String| ConfigError::key(file, None, "FBS_BUILDER", e))?,
        );
    }
    if let Some(v) = env("FBS_KOJI_HUB") {
        cfg.koji.hub = v;
    }
    if let Some(v) = env("FBS_KOJI_TOPURL") {
        cfg.koji.topurl = v;
    }
    if let Some(v) = env("FBS_MONITOR_URL") {
        cfg.monitor.public_url = Some(v);
    }
    if let (Some(v), Some(smtp)) = (env("FBS_SMTP_PASSWORD"), cfg.smtp.as_mut()) {
        smtp.password = Some(v);
    }
    Ok(())
}

/// Load the client config (`--config` > `FBS_CLIENT_CONFIG` > `~/.config/fbs/client.toml` >
/// defaults), then apply `FBS_BROKER`, `FBS_MONITOR_URL` and `FBS_TOKEN`.
pub fn load_client(flag: Option<&Path>) -> Result<(ClientConfig, ConfigSource), ConfigError> {
    let default = dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("/nonexistent"))
        .join("fbs/client.toml");
    let source = resolve_path(flag, "FBS_CLIENT_CONFIG", &default);
    let mut cfg: ClientConfig = match source.path() {
        None => ClientConfig::default(),
        Some(p) => parse_toml(p, &read(p)?)?,
    };
    if let Some(v) = env("FBS_BROKER") {
        cfg.broker = Some(v);
    }
    if let Some(v) = env("FBS_MONITOR_URL") {
        cfg.monitor_url = Some(v);
    }
    if let Some(v) = env("FBS_TOKEN") {
        cfg.token = Some(v);
    }
    Ok((cfg, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_name_file_line_and_key() {
        let text = "[worker]\nconcurrency = 1\njob_timeout = \"soon\"\n";
        let e = parse_toml::<DaemonConfig>(Path::new("fbs.toml"), text).expect_err("bad");
        let shown = e.to_string();
        assert!(shown.starts_with("fbs.toml:3: "), "{shown}");
        assert!(shown.contains("duration"), "{shown}");
        let e = parse_toml::<DaemonConfig>(Path::new("fbs.toml"), "[worker]\nqueue = []\n")
            .expect_err("unknown key");
        assert!(e.to_string().contains("fbs.toml:2:"), "{e}");
        assert!(e.to_string().contains("queue"), "{e}");
    }

    #[test]
    fn a_full_daemon_config_reads_back() {
        let text = r#"
[broker]
default = "redis://:brokerpw@127.0.0.1:6379/0"
arch = { i686 = "redis://10.0.0.30:6379/0" }

[worker]
queues = ["x86_64:17", "i686:rawhide"]
concurrency = 2
builder = "native"
job_timeout = "2h"

[lease]
expiry = "2s"
heartbeat = "1s"
poll = "1s"
max_attempts = 3

[smtp]
server = "smtp.example.org"
password = "hunter2"
tls = "tls"
"#;
        let cfg: DaemonConfig = parse_toml(Path::new("fbs.toml"), text).expect("valid");
        assert_eq!(cfg.worker.concurrency, 2);
        assert_eq!(
            cfg.broker.for_arch(crate::spec::Arch::I686),
            Some("redis://10.0.0.30:6379/0")
        );
        assert_eq!(
            cfg.broker.for_arch(crate::spec::Arch::X86_64),
            Some("redis://:brokerpw@127.0.0.1:6379/0")
        );
        assert_eq!(cfg.lease.expiry, std::time::Duration::from_secs(2));
        let debug = format!("{cfg:?}");
        assert!(!debug.contains("hunter2"), "password leaked: {debug}");
        assert!(!debug.contains("brokerpw"), "password leaked: {debug}");
    }

    #[test]
    fn resolution_prefers_flag_then_env_then_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let def = dir.path().join("default.toml");
        assert_eq!(
            resolve_path(None, "FBS_TEST_UNSET_VAR", &def),
            ConfigSource::Builtin
        );
        std::fs::write(&def, "").expect("write");
        assert_eq!(
            resolve_path(None, "FBS_TEST_UNSET_VAR", &def),
            ConfigSource::Default(def.clone())
        );
        let flag = dir.path().join("flag.toml");
        assert_eq!(
            resolve_path(Some(&flag), "FBS_TEST_UNSET_VAR", &def),
            ConfigSource::Flag(flag.clone())
        );
    }
}
