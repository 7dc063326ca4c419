//! One reader per followed job: however many clients follow a job's log, the monitor reads the
//! job's Redis stream once and renders each line once; batches of numbered lines go to every
//! follower through a broadcast channel. A follower subscribes first and reads the stored
//! history second, so every line reaches it through one or the other (lines are numbered from
//! the stream's start, and a follower skips numbers it has seen). A follower that falls behind
//! the channel reads the lines it missed from the stream, after the last one it got. The hub ends when the job ends (after the last line)
//! or when nobody listens any more.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fbs_core::job::{JobId, JobState};
use fbs_core::queue::JobStore;
use fbs_core::queue::redis::RedisStore;
use futures::StreamExt;
use tokio::sync::broadcast;

/// Lines numbered from 1, ascending, and the stream id of the last (`None` from a file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// `(number, text)`.
    pub lines: Vec<(u64, String)>,
    /// The stream entry id of the last line.
    pub last_id: Option<String>,
}

/// A shared batch.
pub type Lines = Arc<Batch>;

/// What a hub sends.
#[derive(Debug, Clone)]
pub enum Msg {
    /// New lines.
    Lines(Lines),
    /// The job ended in this state; nothing follows.
    End(JobState),
    /// Reading failed; nothing follows.
    Error(String),
}

/// Batches a hub may hold for a slow follower before it must catch up from the history.
const CAPACITY: usize = 1024;
/// The most lines in one batch.
const BATCH: usize = 2048;

/// The live hubs, by job.
#[derive(Debug, Default)]
pub struct Hubs {
    map: Mutex<HashMap<JobId, broadcast::Sender<Msg>>>,
}

impl Hubs {
    /// A receiver of job `id`'s lines from now on, starting its hub when there is none.
    pub fn subscribe(self: &Arc<Self>, store: &RedisStore, id: JobId) -> broadcast::Receiver<Msg> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = map.get(&id) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(CAPACITY);
        map.insert(id, tx.clone());
        tokio::spawn(run(self.clone(), store.clone(), id, tx));
        rx
    }

    /// Forget `tx` as job `id`'s hub (only if it still is).
    fn remove(&self, id: JobId, tx: &broadcast::Sender<Msg>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(&id).is_some_and(|t| t.same_channel(tx)) {
            map.remove(&id);
        }
    }

    /// Forget `tx` as job `id`'s hub if nobody listens; checked under the lock that
    /// subscribing takes, so no follower can join a hub that is going away.
    fn remove_if_unheard(&self, id: JobId, tx: &broadcast::Sender<Msg>) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if tx.receiver_count() > 0 {
            return false;
        }
        if map.get(&id).is_some_and(|t| t.same_channel(tx)) {
            map.remove(&id);
        }
        true
    }

    /// How many jobs have a hub now.
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True when no job has a hub.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

async fn run(hubs: Arc<Hubs>, store: RedisStore, id: JobId, tx: broadcast::Sender<Msg>) {
    let end = |msg: Msg| {
        // Removed first: a follower arriving later starts a fresh hub instead of waiting on
        // this one, which sends nothing more.
        hubs.remove(id, &tx);
        let _ = tx.send(msg);
    };
    let stream = match store.follow(id, None).await {
        Ok(s) => s,
        Err(e) => return end(Msg::Error(e.to_string())),
    };
    let mut batches = std::pin::pin!(stream.ready_chunks(BATCH));
    let mut n = 0u64;
    while let Some(batch) = batches.next().await {
        let mut b = Batch {
            lines: Vec::with_capacity(batch.len()),
            last_id: None,
        };
        for item in batch {
            match item {
                Ok(e) => {
                    n += 1;
                    b.lines.push((n, e.line.to_string()));
                    b.last_id = Some(e.id);
                }
                Err(e) => {
                    if !b.lines.is_empty() {
                        let _ = tx.send(Msg::Lines(Arc::new(b)));
                    }
                    return end(Msg::Error(e.to_string()));
                }
            }
        }
        // A send fails only when nobody listens; a follower that joins meanwhile reads these
        // lines from the stored history.
        if tx.send(Msg::Lines(Arc::new(b))).is_err() && hubs.remove_if_unheard(id, &tx) {
            return;
        }
    }
    match store.get(id).await {
        Ok(Some(r)) => end(Msg::End(r.state)),
        Ok(None) => end(Msg::Error(format!("job {id} is gone"))),
        Err(e) => end(Msg::Error(e.to_string())),
    }
}
