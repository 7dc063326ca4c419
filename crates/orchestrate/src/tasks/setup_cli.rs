//! `setup-cli`: write this user's client config (`~/.config/fbs/client.toml`, mode 0600) with
//! the fleet's brokers, the monitor URL and the API token (`--token`, else `FBS_TOKEN`, else
//! the one already in the file). Unchanged when the file already says the same.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use fbs_core::config::ClientConfig;

use crate::hostconf;
use crate::inventory::Inventory;

/// The default client config path.
pub fn default_path() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from(".config"))
        .join("fbs/client.toml")
}

/// Write the client config to `path`; returns true when it changed.
pub fn run(inv: &Inventory, token: Option<String>, path: &Path) -> anyhow::Result<bool> {
    let old_text = std::fs::read_to_string(path).ok();
    let old: Option<ClientConfig> = old_text.as_deref().and_then(|t| toml::from_str(t).ok());
    let cfg = hostconf::client_config(inv, token, old.as_ref());
    let body = toml::to_string(&cfg).context("cannot write the client config")?;
    let text = format!(
        "# The fbs client config, written by `fbs deploy setup-cli` from {}.\n\n{body}",
        inv.file.display()
    );
    let mode_ok = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o777 == 0o600);
    if old_text.as_deref() == Some(text.as_str()) && mode_ok {
        return Ok(false);
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".client.toml.{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot chmod {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_brokers_monitor_and_token_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let conf = "[broker]\ndefault=redis://b1:6379/0\ni686=redis://b2:6379/0\n[releases]\nreleases=17\n\
            [master]\nhost=root@m1\n[workers-17]\nx86_64=w1\n";
        let inv = Inventory::parse(Path::new("deploy.conf"), conf).expect("valid");
        let path = dir.path().join("fbs/client.toml");
        assert!(run(&inv, Some("s3cret".into()), &path).expect("write"));
        let c: ClientConfig =
            toml::from_str(&std::fs::read_to_string(&path).expect("read")).expect("toml");
        assert_eq!(c.broker.as_deref(), Some("redis://b1:6379/0"));
        assert_eq!(c.monitor_url.as_deref(), Some("http://m1:8080/"));
        assert_eq!(c.token.as_deref(), Some("s3cret"));
        assert_eq!(
            std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
            0o600
        );
        // Again, without --token: the token is kept and nothing changes.
        assert!(!run(&inv, None, &path).expect("again"));
    }
}
