//! Recovery and delivery for the store: expired leases sent back to their queues (or failed
//! past the attempt limit) on every claim, and the supervised apalis consumers of a worker's
//! queues.

use std::sync::Arc;

use super::store::now_ms;
use super::transport::{Consumer, ConsumerSettings};
use super::{RedisStore, scripts};
use crate::job::{JobId, QueueName};
use crate::queue::{QueueError, WorkerIdentity};

impl RedisStore {
    /// Recover every expired lease: back to `queued` (and onto its queue again) or `failed`.
    pub(super) async fn reap(&self) -> Result<(), QueueError> {
        let now = now_ms();
        let expired: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(self.leases_key())
            .arg("-inf")
            .arg(now)
            .arg("LIMIT")
            .arg(0)
            .arg(100)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.err(e))?;
        for raw in expired {
            let Ok(id) = raw.parse::<JobId>() else {
                continue;
            };
            let r: String = scripts::recover()
                .key(self.job_key(id))
                .key(self.leases_key())
                .key(self.notify_key())
                .arg(now)
                .arg(self.inner.settings.max_attempts)
                .arg(&raw)
                .invoke_async(&mut self.conn())
                .await
                .map_err(|e| self.err(e))?;
            match r.as_str() {
                "requeued" => {
                    tracing::info!(job = %id, "lease expired; job queued again");
                    if let Some(rec) = self.fetch(id).await? {
                        self.push_job(&rec.queue, id).await?;
                    }
                }
                "failed" => tracing::warn!(job = %id, "lease expired on the last attempt; failed"),
                _ => {}
            }
        }
        Ok(())
    }

    /// Start one supervised apalis consumer per queue (once per process).
    pub(super) fn ensure_consumers(&self, queues: &[QueueName], worker: &WorkerIdentity) {
        let inbox = self.inner.inbox.clone();
        if !inbox.start_once() {
            return;
        }
        let s = &self.inner.settings;
        let settings = ConsumerSettings {
            heartbeat: s.heartbeat,
            expiry: s.expiry,
            poll: s.poll,
            slots: self.inner.options.slots,
        };
        for q in queues {
            let this = self.clone();
            let requeue_q = q.clone();
            let requeue = Arc::new(move |id: JobId| {
                let this = this.clone();
                let q = requeue_q.clone();
                let f: futures::future::BoxFuture<'static, ()> = Box::pin(async move {
                    let conn = match this.queue_conn(&q).await {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(job = %id, error = %e, "cannot requeue");
                            return;
                        }
                    };
                    let (qk, dk) = (this.queue_key(&q), this.doorbell_key(&q));
                    if let Err(e) = super::transport::push(conn, &qk, &dk, id, false).await {
                        tracing::warn!(job = %id, error = %e, "cannot requeue");
                    }
                });
                f
            });
            let consumer = Consumer {
                queue: q.clone(),
                queue_key: self.queue_key(q),
                doorbell_key: self.doorbell_key(q),
                url: self.broker_url(q),
                name: worker.name.clone(),
                settings: settings.clone(),
                requeue,
            };
            let inbox2 = inbox.clone();
            inbox.add_task(tokio::spawn(async move { consumer.run(&inbox2).await }));
        }
    }
}
