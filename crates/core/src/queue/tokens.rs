//! API tokens and the server secret, kept in the job store (the default broker, or the SQLite
//! file in local mode) so every monitor of an installation accepts the same tokens and signs
//! the same per-job read links.
//!
//! A token is shown to its creator once; the store keeps only its SHA-256 (hex), so a leaked
//! store gives nobody a usable token. Names are unique and are what `fbs token revoke` takes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::QueueError;

/// What is stored about one API token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Its unique name (who or what uses it).
    pub name: String,
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// The hex SHA-256 of `token`, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Storage for API tokens and the installation's server secret.
#[async_trait]
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// Store a new token; `Ok(false)` when the name is taken.
    async fn add_token(&self, token: &ApiToken) -> Result<bool, QueueError>;

    /// Every token, by name.
    async fn tokens(&self) -> Result<Vec<ApiToken>, QueueError>;

    /// The token whose hash is `hash`, if any.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, QueueError>;

    /// Remove the token named `name`; `Ok(false)` when there was none.
    async fn revoke_token(&self, name: &str) -> Result<bool, QueueError>;

    /// The secret named `name`, created from `fresh` on first use (the first writer wins, so
    /// concurrent monitors agree).
    async fn secret(&self, name: &str, fresh: &str) -> Result<String, QueueError>;
}
