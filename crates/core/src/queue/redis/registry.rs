//! The worker registry on the default broker: each live worker's info as a key that expires
//! unless its heartbeat renews it, plus a sorted set of names for listing.

use std::time::Duration;

use super::RedisStore;
use crate::queue::{QueueError, WorkerInfo};

impl RedisStore {
    fn workers_key(&self) -> String {
        self.key("fbs:workers")
    }

    fn worker_key(&self, name: &str) -> String {
        self.key(&format!("fbs:worker:{name}"))
    }

    pub(super) async fn announce_worker(
        &self,
        info: &WorkerInfo,
        ttl: Duration,
    ) -> Result<(), QueueError> {
        let json = serde_json::to_string(info).map_err(|e| self.err(e))?;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        redis::pipe()
            .cmd("SET")
            .arg(self.worker_key(&info.name))
            .arg(json)
            .arg("PX")
            .arg(ttl_ms)
            .ignore()
            .cmd("ZADD")
            .arg(self.workers_key())
            .arg(info.heartbeat_at.timestamp_millis())
            .arg(&info.name)
            .ignore()
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(|e| self.err(e))
    }

    pub(super) async fn withdraw_worker(&self, name: &str) -> Result<(), QueueError> {
        redis::pipe()
            .cmd("DEL")
            .arg(self.worker_key(name))
            .ignore()
            .cmd("ZREM")
            .arg(self.workers_key())
            .arg(name)
            .ignore()
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(|e| self.err(e))
    }

    pub(super) async fn live_workers(&self) -> Result<Vec<WorkerInfo>, QueueError> {
        let names: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.workers_key())
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut get = redis::cmd("MGET");
        for n in &names {
            get.arg(self.worker_key(n));
        }
        let infos: Vec<Option<String>> = get
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        let mut live = Vec::new();
        let mut dead = Vec::new();
        for (name, info) in names.iter().zip(infos) {
            match info.and_then(|j| serde_json::from_str::<WorkerInfo>(&j).ok()) {
                Some(i) => live.push(i),
                None => dead.push(name.clone()),
            }
        }
        if !dead.is_empty() {
            let mut rem = redis::cmd("ZREM");
            rem.arg(self.workers_key()).arg(&dead);
            rem.query_async::<()>(&mut self.conn())
                .await
                .map_err(|e| self.err(e))?;
        }
        live.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(live)
    }
}
