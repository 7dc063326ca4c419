//! Load for `bench/monitor.sh`: N followers of one job's log through a running monitor while
//! a writer appends lines to the job's Redis stream at a fixed rate; then the job ends. Each
//! line carries its sequence number and send time, so every follower checks it got every line
//! in order and measures write → receipt latency.
//!
//! Usage: follow_bench MONITOR_URL REDIS_URL PREFIX FOLLOWERS LINES_PER_SEC SECONDS

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fbs_core::config::BrokerConfig;
use fbs_core::job::JobRecord;
use fbs_core::joblog::{LogLine, LogSink, LogStream};
use fbs_core::queue::redis::{RedisOptions, RedisStore};
use fbs_core::queue::{JobStore, StoredLog};
use futures::StreamExt;

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

struct Seen {
    lines: u64,
    in_order: bool,
    latencies_us: Vec<u64>,
}

async fn follow(url: String) -> anyhow::Result<Seen> {
    let resp = reqwest::Client::new()
        .get(&url)
        .header("accept", "text/plain")
        .send()
        .await?;
    anyhow::ensure!(resp.status().is_success(), "{}", resp.status());
    let mut body = resp.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut seen = Seen {
        lines: 0,
        in_order: true,
        latencies_us: Vec::new(),
    };
    let mut next = 1u64;
    while let Some(chunk) = body.next().await {
        buf.extend_from_slice(&chunk?);
        let now = now_ns();
        let mut start = 0;
        while let Some(pos) = buf[start..].iter().position(|b| *b == b'\n') {
            let line = &buf[start..start + pos];
            start += pos + 1;
            let Some((seq, sent)) = parse(line) else {
                continue;
            };
            seen.in_order &= seq == next;
            next = seq + 1;
            seen.lines += 1;
            seen.latencies_us
                .push(u64::try_from(now.saturating_sub(sent) / 1000).unwrap_or(u64::MAX));
        }
        buf.drain(..start);
    }
    Ok(seen)
}

/// `… out seq=N t=NANOS` → (N, NANOS), without allocating.
fn parse(line: &[u8]) -> Option<(u64, u128)> {
    let at = line.windows(9).position(|w| w == b" out seq=")? + 9;
    let digits = |s: &[u8]| -> Option<(u128, usize)> {
        let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut v: u128 = 0;
        for b in &s[..n] {
            v = v * 10 + u128::from(b - b'0');
        }
        (n > 0).then_some((v, n))
    };
    let (seq, n) = digits(&line[at..])?;
    let rest = line.get(at + n..)?.strip_prefix(b" t=")?;
    let (sent, _) = digits(rest)?;
    Some((u64::try_from(seq).ok()?, sent))
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        a.len() == 7,
        "usage: follow_bench MONITOR_URL REDIS_URL PREFIX FOLLOWERS LINES_PER_SEC SECONDS"
    );
    let (monitor, redis, prefix) = (&a[1], &a[2], &a[3]);
    let followers: usize = a[4].parse()?;
    let rate: u64 = a[5].parse()?;
    let secs: u64 = a[6].parse()?;
    let brokers = BrokerConfig {
        default: Some(redis.clone()),
        ..BrokerConfig::default()
    };
    let options = RedisOptions {
        prefix: prefix.clone(),
        ..RedisOptions::default()
    };
    let store = RedisStore::open(&brokers, Default::default(), options).await?;
    let spec = fbs_core::spec::parse_spec(
        b"type = \"boot\"\narch = \"x86_64\"\nrelease = \"bench\"\nstaging = \"file:///tmp/fbs-bench\"\nemail = \"b@example.org\"\n[boot]\nrepos = [{ name = \"f\", url = \"http://example.org/\" }]\n",
        std::path::Path::new("bench.toml"),
        fbs_core::spec::SpecFormat::Toml,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?
    .spec;
    let job = JobRecord::new(spec, None);
    store.submit(job.clone()).await?;
    let url = format!("{monitor}/api/v1/jobs/{}/log?follow=1", job.id);
    let tasks: Vec<_> = (0..followers)
        .map(|_| tokio::spawn(follow(url.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;

    let sink = store.log_sink(job.id);
    let total = rate * secs;
    let tick = Duration::from_millis(10);
    let per_tick = (rate / 100).max(1);
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut seq = 0u64;
    while seq < total {
        interval.tick().await;
        for _ in 0..per_tick.min(total - seq) {
            seq += 1;
            sink.write(&LogLine::now(
                LogStream::Stdout,
                format!("seq={seq} t={}", now_ns()),
            ));
        }
    }
    let wrote_in = started.elapsed();
    sink.flush().await;
    store.cancel(job.id).await?;
    let mut lat = Vec::new();
    let (mut complete, mut ordered) = (0, 0);
    for t in tasks {
        let s = tokio::time::timeout(Duration::from_secs(120), t).await???;
        complete += usize::from(s.lines == total);
        ordered += usize::from(s.in_order);
        lat.extend(s.latencies_us);
    }
    lat.sort_unstable();
    println!(
        "lines written:        {total} in {:.1} s ({:.0} lines/s)",
        wrote_in.as_secs_f64(),
        total as f64 / wrote_in.as_secs_f64()
    );
    println!("followers:            {followers}; got every line: {complete}; in order: {ordered}");
    println!(
        "write→receipt:        p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(&lat, 0.5) as f64 / 1000.0,
        pct(&lat, 0.99) as f64 / 1000.0,
        pct(&lat, 1.0) as f64 / 1000.0
    );
    anyhow::ensure!(
        complete == followers && ordered == followers,
        "lines lost or out of order"
    );
    Ok(())
}
