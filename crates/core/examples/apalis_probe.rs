//! Measures apalis-redis 1.0 behaviour the fleet depends on (pickup latency, crash recovery,
//! a paused worker, a Redis restart). Run by `bench/apalis-probe.sh`; not part of the service.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apalis::prelude::*;
use apalis_redis::{Config, RedisStorage};

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

async fn handler(job: String, wrk: WorkerContext) -> Result<(), BoxDynError> {
    let ms: u64 = std::env::var("PROBE_SLEEP_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    println!("start {job} {:.3} {}", now(), wrk.name());
    tokio::time::sleep(Duration::from_millis(ms)).await;
    println!("done {job} {:.3}", now());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxDynError> {
    let args: Vec<String> = std::env::args().collect();
    let url = std::env::var("PROBE_URL").unwrap_or_else(|_| "redis://127.0.0.1:6390/".into());
    let conn = apalis_redis::connect(url).await?;
    let config = Config::default()
        .queue("probe:x86_64:17")
        .batch_size(1)
        .heartbeat_interval(Duration::from_secs(1))
        .missed_heartbeats(2);
    let mut storage = RedisStorage::<String>::new(conn).with_config(config);
    match args.get(1).map(String::as_str) {
        Some("push") => {
            let job = args.get(2).cloned().unwrap_or_default();
            println!("push {job} {:.3}", now());
            storage.push(job).await?;
        }
        Some("worker") => {
            let name = args.get(2).cloned().unwrap_or_else(|| "w".into());
            let backend = storage.poll_with_interval(Duration::from_millis(200));
            let r = WorkerBuilder::new(name.as_str())
                .backend(backend)
                .concurrency(1)
                .build(handler)
                .run()
                .await;
            println!("worker {name} ended {:.3}: {r:?}", now());
        }
        _ => eprintln!("usage: apalis_probe push JOB | worker NAME"),
    }
    Ok(())
}
