//! [`TokenStore`] for the embedded SQLite store: tables `api_tokens` and `secrets`.

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use sqlx::Row;

use super::SqliteStore;
use crate::queue::QueueError;
use crate::queue::tokens::{ApiToken, TokenStore};

fn decode(r: &sqlx::sqlite::SqliteRow) -> ApiToken {
    ApiToken {
        name: r.get("name"),
        hash: r.get("hash"),
        created_at: Utc
            .timestamp_millis_opt(r.get("created_at"))
            .single()
            .unwrap_or_default(),
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn add_token(&self, token: &ApiToken) -> Result<bool, QueueError> {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO api_tokens (name, hash, created_at) VALUES (?, ?, ?)",
        )
        .bind(&token.name)
        .bind(&token.hash)
        .bind(token.created_at.timestamp_millis())
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, QueueError> {
        let rows = sqlx::query("SELECT name, hash, created_at FROM api_tokens ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(rows.iter().map(decode).collect())
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, QueueError> {
        let row = sqlx::query("SELECT name, hash, created_at FROM api_tokens WHERE hash = ?")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(row.as_ref().map(decode))
    }

    async fn revoke_token(&self, name: &str) -> Result<bool, QueueError> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn secret(&self, name: &str, fresh: &str) -> Result<String, QueueError> {
        sqlx::query("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)")
            .bind(name)
            .bind(fresh)
            .execute(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        let row = sqlx::query("SELECT value FROM secrets WHERE name = ?")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(row.get(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::tokens::token_hash;

    #[tokio::test]
    async fn tokens_are_unique_by_name_found_by_hash_and_revoked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = SqliteStore::open(&dir.path().join("jobs.db"), Default::default())
            .await
            .expect("open");
        let t = ApiToken {
            name: "ci".into(),
            hash: token_hash("secret-token"),
            created_at: Utc::now(),
        };
        assert!(st.add_token(&t).await.expect("add"));
        assert!(!st.add_token(&t).await.expect("add again"));
        let found = st.token_by_hash(&token_hash("secret-token")).await;
        assert_eq!(found.expect("find").map(|t| t.name), Some("ci".into()));
        assert_eq!(st.tokens().await.expect("list").len(), 1);
        assert!(st.revoke_token("ci").await.expect("revoke"));
        assert!(!st.revoke_token("ci").await.expect("revoke again"));
        assert!(st.token_by_hash(&t.hash).await.expect("find").is_none());
        let a = st.secret("hmac", "one").await.expect("secret");
        let b = st.secret("hmac", "two").await.expect("secret");
        assert_eq!((a.as_str(), b.as_str()), ("one", "one"));
    }
}
