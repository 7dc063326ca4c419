//! `fbs token create|list|revoke`: API tokens in the installation's store (the default
//! broker, or without one the SQLite store of the state directory). A token is printed once;
//! only its SHA-256 is stored.

use std::path::Path;

use chrono::Utc;
use fbs_core::config::DaemonConfig;
use fbs_core::queue::redis::{RedisOptions, RedisStore};
use fbs_core::queue::tokens::{ApiToken, token_hash};
use fbs_core::queue::{QueueError, SqliteStore};

use crate::MonitorError;
use crate::state::Backend;

/// Open the store the config names: Redis when `broker.default` is set, else the SQLite store
/// in `state_dir` (default: the `fbs local` state directory).
pub async fn open_backend(
    config: &DaemonConfig,
    prefix: &str,
    state_dir: Option<&Path>,
) -> Result<Backend, MonitorError> {
    if config.broker.default.is_some() {
        let options = RedisOptions {
            prefix: prefix.to_owned(),
            log_retention: config.retention.logs,
            ..RedisOptions::default()
        };
        let store = RedisStore::open(&config.broker, config.lease, options).await?;
        return Ok(Backend::redis(store));
    }
    let dir = match state_dir {
        Some(d) => d.to_path_buf(),
        None => default_state_dir(),
    };
    let path = dir.join("jobs.db");
    let store = SqliteStore::open(&path, config.lease).await?;
    Ok(Backend::sqlite(store, format!("sqlite:{}", path.display())))
}

fn default_state_dir() -> std::path::PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")))
        .unwrap_or_else(|| std::path::PathBuf::from("/var/lib"))
        .join("fbs")
}

/// Check a token name: 1–64 of `A-Z a-z 0-9 . _ @ -`.
pub fn check_name(name: &str) -> Result<(), MonitorError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(MonitorError::Config(format!(
            "`{name}` is not a token name (1–64 of letters, digits, `.`, `_`, `@`, `-`)"
        )))
    }
}

/// Create a token named `name`; returns the token (shown once).
pub async fn create(backend: &Backend, name: &str) -> Result<String, MonitorError> {
    check_name(name)?;
    let token = crate::auth::new_token();
    let rec = ApiToken {
        name: name.to_owned(),
        hash: token_hash(&token),
        created_at: Utc::now(),
    };
    if !backend.tokens.add_token(&rec).await? {
        return Err(MonitorError::Config(format!(
            "a token named `{name}` exists: revoke it first (fbs token revoke {name})"
        )));
    }
    Ok(token)
}

/// Every token (names and creation times; never the tokens).
pub async fn list(backend: &Backend) -> Result<Vec<ApiToken>, QueueError> {
    backend.tokens.tokens().await
}

/// Revoke the token named `name`; false when there was none.
pub async fn revoke(backend: &Backend, name: &str) -> Result<bool, QueueError> {
    backend.tokens.revoke_token(name).await
}
