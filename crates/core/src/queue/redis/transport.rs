//! Delivery of job ids through apalis-redis: one apalis worker per queue, configured as the
//! project's crate notes advise, handing each delivered id to the store's `claim` through an
//! in-process inbox and holding the apalis task open until the job is done here.
//!
//! apalis only carries ids; the job record on the default broker decides who owns a job (see
//! the parent module), so a duplicate or stale delivery is acknowledged and dropped.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apalis::prelude::*;
use apalis_redis::{Config, RedisStorage};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::config::redact_url;
use crate::job::{JobId, QueueName};

/// What travels through apalis: only the job id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct JobMsg {
    pub id: JobId,
}

/// Held while a delivered job is being worked on here; dropping it ends the apalis task.
#[derive(Debug)]
pub(super) struct Ack {
    _done: oneshot::Sender<()>,
    _permit: OwnedSemaphorePermit,
}

/// A job id handed over by a consumer.
#[derive(Debug)]
pub(super) struct Delivery {
    pub id: JobId,
    pub queue: QueueName,
    pub ack: Ack,
}

/// How consumers are set up.
#[derive(Debug, Clone)]
pub(super) struct ConsumerSettings {
    pub heartbeat: Duration,
    pub expiry: Duration,
    pub poll: Duration,
    pub slots: usize,
}

impl ConsumerSettings {
    /// The apalis config for `queue_key`: batch of one, explicit heartbeat and orphan window.
    pub fn apalis_config(&self, queue_key: &str) -> Config {
        let hb = self.heartbeat.max(Duration::from_secs(1));
        let missed = self.expiry.as_secs_f64() / hb.as_secs_f64();
        Config::default()
            .queue(queue_key)
            .batch_size(1)
            .heartbeat_interval(hb)
            .missed_heartbeats((missed.ceil() as usize).max(2))
    }
}

/// The in-process side of delivery: inbox, unclaimed deliveries, and held acks.
#[derive(Debug)]
pub(super) struct Inbox {
    tx: mpsc::Sender<Delivery>,
    rx: tokio::sync::Mutex<mpsc::Receiver<Delivery>>,
    pending: Mutex<VecDeque<Delivery>>,
    held: Mutex<HashMap<JobId, Ack>>,
    permits: Arc<Semaphore>,
    started: Mutex<bool>,
    pub stop: CancellationToken,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Inbox {
    pub fn new(slots: usize) -> Self {
        let (tx, rx) = mpsc::channel(64);
        Inbox {
            tx,
            rx: tokio::sync::Mutex::new(rx),
            pending: Mutex::new(VecDeque::new()),
            held: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(slots.max(1))),
            started: Mutex::new(false),
            stop: CancellationToken::new(),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// True the first time only: the caller starts the consumers.
    pub fn start_once(&self) -> bool {
        let mut s = self.started.lock().unwrap_or_else(|p| p.into_inner());
        !std::mem::replace(&mut *s, true)
    }

    pub fn add_task(&self, t: tokio::task::JoinHandle<()>) {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner()).push(t);
    }

    /// The next delivery, without waiting.
    pub async fn next(&self) -> Option<Delivery> {
        if let Some(d) = self.pending_lock().pop_front() {
            return Some(d);
        }
        self.rx.lock().await.try_recv().ok()
    }

    /// Put a delivery back to be claimed first next time.
    pub fn unread(&self, d: Delivery) {
        self.pending_lock().push_front(d);
    }

    /// Wait up to `timeout` for a delivery and keep it for the next `next()`.
    pub async fn wait(&self, timeout: Duration) {
        if !self.pending_lock().is_empty() {
            return;
        }
        let mut rx = self.rx.lock().await;
        if let Ok(Some(d)) = tokio::time::timeout(timeout, rx.recv()).await {
            self.pending_lock().push_back(d);
        }
    }

    fn pending_lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Delivery>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keep `ack` until the job is done here.
    pub fn hold(&self, id: JobId, ack: Ack) {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, ack);
    }

    /// The job is done here: end its apalis task.
    pub fn done(&self, id: JobId) {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    /// Deliveries nobody claimed (the worker is stopping).
    pub async fn drain(&self) -> Vec<Delivery> {
        let mut out: Vec<Delivery> = self.pending_lock().drain(..).collect();
        let mut rx = self.rx.lock().await;
        while let Ok(d) = rx.try_recv() {
            out.push(d);
        }
        out
    }

    /// Wait (bounded) for the consumers to stop after `stop` fired.
    pub async fn join(&self, timeout: Duration) {
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for t in tasks {
            let abort = t.abort_handle();
            if tokio::time::timeout(timeout, t).await.is_err() {
                abort.abort();
            }
        }
    }
}

/// What the apalis handler needs.
#[derive(Clone)]
struct Handoff {
    inbox: mpsc::Sender<Delivery>,
    permits: Arc<Semaphore>,
    queue: QueueName,
    wait: Duration,
    requeue: Arc<dyn Fn(JobId) -> futures::future::BoxFuture<'static, ()> + Send + Sync>,
}

/// The apalis handler: wait for a free slot (bounded), hand the id over, and hold the task
/// until the job is done here. Never returns an error, so apalis's own retries never run.
async fn deliver(msg: JobMsg, h: Data<Handoff>) -> Result<(), BoxDynError> {
    let permit = match tokio::time::timeout(h.wait, h.permits.clone().acquire_owned()).await {
        Ok(Ok(p)) => p,
        _ => {
            // Busy for a whole lease period: give the id back for an idle worker.
            (h.requeue)(msg.id).await;
            return Ok(());
        }
    };
    let (tx, rx) = oneshot::channel();
    let d = Delivery {
        id: msg.id,
        queue: h.queue.clone(),
        ack: Ack {
            _done: tx,
            _permit: permit,
        },
    };
    if h.inbox.send(d).await.is_err() {
        (h.requeue)(msg.id).await;
        return Ok(());
    }
    let _ = rx.await;
    Ok(())
}

/// Everything one queue's consumer needs.
pub(super) struct Consumer {
    pub queue: QueueName,
    pub queue_key: String,
    pub doorbell_key: String,
    pub url: String,
    pub name: String,
    pub settings: ConsumerSettings,
    pub requeue: Arc<dyn Fn(JobId) -> futures::future::BoxFuture<'static, ()> + Send + Sync>,
}

impl Consumer {
    /// Run apalis workers for the queue until `stop`, starting a fresh one (under a new name)
    /// whenever one ends with an error: apalis ends a worker on a lost connection or a missed
    /// registration (measured), and the fleet must ride over both.
    pub async fn run(self, inbox: &Inbox) {
        let mut generation = 0u32;
        while !inbox.stop.is_cancelled() {
            generation += 1;
            let name = format!("{}@{}#{generation}", self.name, self.queue);
            if let Err(e) = self.run_once(inbox, &name).await {
                tracing::warn!(queue = %self.queue, broker = %redact_url(&self.url), error = %e,
                    "queue consumer stopped; starting a new one");
            }
            tokio::select! {
                _ = inbox.stop.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    async fn run_once(&self, inbox: &Inbox, name: &str) -> Result<(), String> {
        let conn = apalis_redis::connect(self.url.as_str())
            .await
            .map_err(|e| e.to_string())?;
        let storage = RedisStorage::<JobMsg>::new(conn)
            .with_config(self.settings.apalis_config(&self.queue_key));
        let (bell_tx, bell_rx) = futures::channel::mpsc::unbounded();
        let bell_stop = inbox.stop.child_token();
        tokio::spawn(doorbell(
            self.url.clone(),
            self.doorbell_key.clone(),
            bell_tx,
            bell_stop.clone(),
        ));
        let strategy = Strategy::new().stream(bell_rx).interval(self.settings.poll);
        let handoff = Handoff {
            inbox: inbox.tx.clone(),
            permits: inbox.permits.clone(),
            queue: self.queue.clone(),
            wait: self.settings.expiry,
            requeue: self.requeue.clone(),
        };
        let worker = WorkerBuilder::new(name)
            .backend(storage.poll_with_strategy(strategy))
            .data(handoff)
            .concurrency(self.settings.slots.max(1))
            .build(deliver);
        let stop = inbox.stop.clone();
        let r = worker
            .run_until(async move {
                stop.cancelled().await;
                Ok::<(), std::io::Error>(())
            })
            .await;
        bell_stop.cancel();
        r.map_err(|e| e.to_string())
    }
}

/// Push one id onto a queue and ring its doorbell.
pub(super) async fn push(
    conn: redis::aio::ConnectionManager,
    queue_key: &str,
    doorbell_key: &str,
    id: JobId,
    ring: bool,
) -> Result<(), String> {
    let mut storage =
        RedisStorage::<JobMsg>::new(conn.clone()).with_config(Config::default().queue(queue_key));
    storage
        .push(JobMsg { id })
        .await
        .map_err(|e| e.to_string())?;
    if ring {
        let mut c = conn;
        redis::pipe()
            .cmd("LPUSH")
            .arg(doorbell_key)
            .arg(1)
            .ignore()
            .cmd("LTRIM")
            .arg(doorbell_key)
            .arg(0)
            .arg(63)
            .ignore()
            .query_async::<()>(&mut c)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Wake the consumer as soon as a job is pushed: `BLPOP` on the queue's doorbell list, on a
/// connection of its own (a blocking command would stall a shared one).
async fn doorbell(
    url: String,
    key: String,
    tx: futures::channel::mpsc::UnboundedSender<()>,
    stop: CancellationToken,
) {
    let cfg = redis::AsyncConnectionConfig::new()
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_connection_timeout(Some(Duration::from_secs(2)));
    while !stop.is_cancelled() {
        let conn = match redis::Client::open(url.as_str()) {
            Ok(c) => c.get_multiplexed_async_connection_with_config(&cfg).await,
            Err(e) => Err(e),
        };
        let Ok(mut conn) = conn else {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
            }
        };
        loop {
            let mut cmd = redis::cmd("BLPOP");
            cmd.arg(&key).arg(1.0);
            let blpop = cmd.query_async::<Option<(String, String)>>(&mut conn);
            tokio::select! {
                _ = stop.cancelled() => return,
                r = blpop => match r {
                    Ok(Some(_)) => if tx.unbounded_send(()).is_err() { return },
                    Ok(None) => {}
                    Err(_) => break,
                },
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
