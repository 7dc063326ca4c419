//! [`TokenStore`] on the default broker: `fbs:tokens` (name → JSON record), `fbs:token-hash`
//! (SHA-256 → name) and `fbs:secret:<name>`, changed together by small Lua scripts.

use async_trait::async_trait;
use redis::Script;

use super::RedisStore;
use crate::queue::QueueError;
use crate::queue::tokens::{ApiToken, TokenStore};

fn add_script() -> Script {
    Script::new(
        r#"
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 1
"#,
    )
}

fn revoke_script() -> Script {
    Script::new(
        r#"
local rec = redis.call('HGET', KEYS[1], ARGV[1])
if not rec then return 0 end
local ok, t = pcall(cjson.decode, rec)
if ok and t.hash then redis.call('HDEL', KEYS[2], t.hash) end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"#,
    )
}

impl RedisStore {
    fn tokens_key(&self) -> String {
        self.key("fbs:tokens")
    }

    fn token_hash_key(&self) -> String {
        self.key("fbs:token-hash")
    }

    fn decode_token(&self, json: &str) -> Result<ApiToken, QueueError> {
        serde_json::from_str(json).map_err(|e| QueueError::Corrupt {
            id: "token".into(),
            message: e.to_string(),
        })
    }
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn add_token(&self, token: &ApiToken) -> Result<bool, QueueError> {
        let json = serde_json::to_string(token).map_err(|e| self.err(e))?;
        let added: i64 = add_script()
            .key(self.tokens_key())
            .key(self.token_hash_key())
            .arg(&token.name)
            .arg(&token.hash)
            .arg(json)
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        Ok(added == 1)
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, QueueError> {
        let all: std::collections::BTreeMap<String, String> = redis::cmd("HGETALL")
            .arg(self.tokens_key())
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        all.values().map(|j| self.decode_token(j)).collect()
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, QueueError> {
        let name: Option<String> = redis::cmd("HGET")
            .arg(self.token_hash_key())
            .arg(hash)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        let Some(name) = name else { return Ok(None) };
        let json: Option<String> = redis::cmd("HGET")
            .arg(self.tokens_key())
            .arg(&name)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        match json {
            Some(j) => Ok(Some(self.decode_token(&j)?).filter(|t| t.hash == hash)),
            None => Ok(None),
        }
    }

    async fn revoke_token(&self, name: &str) -> Result<bool, QueueError> {
        let gone: i64 = revoke_script()
            .key(self.tokens_key())
            .key(self.token_hash_key())
            .arg(name)
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        Ok(gone == 1)
    }

    async fn secret(&self, name: &str, fresh: &str) -> Result<String, QueueError> {
        let key = self.key(&format!("fbs:secret:{name}"));
        let (value,): (String,) = redis::pipe()
            .cmd("SET")
            .arg(&key)
            .arg(fresh)
            .arg("NX")
            .ignore()
            .cmd("GET")
            .arg(&key)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        Ok(value)
    }
}
