//! The fbs half of `bench/fleet.sh`: submits N jobs to a queue through the real client path
//! (`JobRecord::new` + `RedisStore::submit`, what `fbs submit` does after reading the spec),
//! waits until a running `fbs worker` has finished all of them, then reads the records back and
//! prints one line of figures:
//!
//! `system=fbs n=… ok=… failed=… submit_s=… total_s=… jobs_per_s=… submit_per_s=…
//! drain_per_s=… p50_ms=… p99_ms=… max_ms=…`
//!
//! `total_s` runs from the first submission (`created_at`) to the last completion
//! (`finished_at`); `drain_per_s` from the first start to the last completion; latencies are
//! `started_at - created_at` of each job's record. With RATE > 0 the jobs are submitted at
//! that many per second instead of as fast as possible.
//!
//! `phases` breaks a job's time in the worker into phases, as mean milliseconds over up
//! to 1,000 jobs, from the record's timestamps and the job log's own (stream) timestamps:
//! `setup` (claim → the log's first line: job directory, log file, lease heartbeat), `build`
//! (prepare and build), `stage` (the `staging` state change, manifest, `CHECKSUM`, log copy)
//! and `finish` (log flush and the final state change).
//!
//! Not part of the service.
//!
//! Usage: `fleet_bench run BROKER_URL N ARCH:RELEASE STAGING_DIR [TIMEOUT_SECS [RATE]]`, then
//! `fleet_bench phases BROKER_URL N ARCH:RELEASE` (apart, so that reading the logs back is not
//! counted in the run's CPU figures).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use fbs_core::config::BrokerConfig;
use fbs_core::job::{JobRecord, JobState, QueueName};
use fbs_core::queue::redis::{RedisOptions, RedisStore};
use fbs_core::queue::{JobFilter, JobStore, LeaseSettings};
use fbs_core::spec::{
    BuildSpec, BuilderChoice, ImageOptions, KickstartSource, KojiBuilds, LiveOptions, Staging,
};

/// A live-image spec on `queue` staging under `staging`: what a small real submission carries.
fn spec(queue: &str, staging: PathBuf) -> anyhow::Result<BuildSpec> {
    let (arch, release) = queue.split_once(':').context("the queue is ARCH:RELEASE")?;
    Ok(BuildSpec {
        arch: arch.parse().map_err(anyhow::Error::msg)?,
        release: release.into(),
        staging: Staging::File { path: staging },
        staging_layout: Default::default(),
        email: "bench@example.org".into(),
        koji: KojiBuilds::default(),
        builder: BuilderChoice::Native,
        source_date_epoch: None,
        image: ImageOptions::Live(LiveOptions {
            label: "Bench-Live".into(),
            title: "Bench Live".into(),
            product: "Fedora".into(),
            releasever: release.into(),
            kickstart: KickstartSource::Path(PathBuf::from("bench.ks")),
        }),
    })
}

/// Nearest-rank percentile of sorted `v` (the same rule as the Celery half).
fn percentile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = (q * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: fleet_bench run BROKER_URL N ARCH:RELEASE STAGING_DIR [TIMEOUT_SECS [RATE]] \
                 | fleet_bench phases BROKER_URL N ARCH:RELEASE";
    if args.len() < 4 {
        bail!(usage);
    }
    let n: usize = args[2].parse().context("N")?;
    let spec = spec(
        &args[3],
        PathBuf::from(args.get(4).map_or("", String::as_str)),
    )?;
    let brokers = BrokerConfig {
        default: Some(args[1].clone()),
        ..BrokerConfig::default()
    };
    let store = RedisStore::open(&brokers, LeaseSettings::default(), RedisOptions::default())
        .await
        .context("connecting to the broker")?;
    let filter = JobFilter {
        queue: Some(QueueName::build(spec.arch, &spec.release)),
        limit: Some(u32::try_from(n).unwrap_or(u32::MAX)),
        ..JobFilter::default()
    };
    match args[0].as_str() {
        "run" if args.len() >= 5 => {
            let timeout = Duration::from_secs(args.get(5).map_or(Ok(600), |t| t.parse())?);
            let rate: f64 = args.get(6).map_or(Ok(0.0), |r| r.parse())?;
            run(&store, &spec, &filter, n, timeout, rate).await
        }
        "phases" => {
            println!("{}", phases(&store, &store.list(&filter).await?).await?);
            Ok(())
        }
        _ => bail!(usage),
    }
}

/// Submit, wait, print the figures (see the module docs).
async fn run(
    store: &RedisStore,
    spec: &BuildSpec,
    filter: &JobFilter,
    n: usize,
    timeout: Duration,
    rate: f64,
) -> anyhow::Result<()> {
    let mut last = None;
    let t0 = Instant::now();
    for i in 0..n {
        if rate > 0.0 {
            tokio::time::sleep_until((t0 + Duration::from_secs_f64(i as f64 / rate)).into()).await;
        }
        let job = JobRecord::new(spec.clone(), None);
        last = Some(job.id);
        store.submit(job).await.context("submit")?;
    }
    let Some(last) = last else {
        bail!("N must be at least 1");
    };

    // Jobs leave the queue in order, so the last one submitted ends (nearly) last: watch it
    // cheaply, then check every record.
    let deadline = Instant::now() + timeout;
    let records = loop {
        let last_done = store.get(last).await?.is_some_and(|r| r.state.is_final());
        if last_done {
            let all = store.list(filter).await?;
            if all.iter().all(|r| r.state.is_final()) && all.len() >= n {
                break all;
            }
        }
        if Instant::now() > deadline {
            let all = store.list(filter).await?;
            let done = all.iter().filter(|r| r.state.is_final()).count();
            bail!("timed out after {timeout:?}: {done} of {n} jobs finished");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let ok = records
        .iter()
        .filter(|r| r.state == JobState::Succeeded)
        .count();
    if let Some(r) = records.iter().find(|r| r.state != JobState::Succeeded) {
        eprintln!(
            "fleet_bench: job {} ended {}: {}",
            r.id,
            r.state,
            r.error.as_deref().unwrap_or("")
        );
    }
    let first_submit = records.iter().map(|r| r.created_at).min();
    let last_submit = records.iter().map(|r| r.created_at).max();
    let first_start = records.iter().filter_map(|r| r.started_at).min();
    let last_finish = records.iter().filter_map(|r| r.finished_at).max();
    let (Some(fs), Some(ls), Some(st), Some(lf)) =
        (first_submit, last_submit, first_start, last_finish)
    else {
        bail!("no job has timestamps");
    };
    let mut lat: Vec<f64> = records
        .iter()
        .filter_map(|r| Some((r.started_at? - r.created_at).num_milliseconds() as f64))
        .collect();
    lat.sort_by(f64::total_cmp);
    let total = secs(fs, lf);
    let nf = records.len() as f64;
    println!(
        "system=fbs n={} ok={ok} failed={} submit_s={:.3} total_s={total:.3} jobs_per_s={:.1} \
         submit_per_s={:.1} drain_per_s={:.1} p50_ms={:.1} p99_ms={:.1} max_ms={:.1}",
        records.len(),
        records.len() - ok,
        secs(fs, ls),
        nf / total,
        nf / secs(fs, ls).max(0.001),
        nf / secs(st, lf).max(0.001),
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
    );
    Ok(())
}

/// The `phases` line (see the module docs).
async fn phases(store: &RedisStore, records: &[JobRecord]) -> anyhow::Result<String> {
    let step = records.len().div_ceil(1000).max(1);
    let mut sums = [0f64; 4];
    let mut k = 0u32;
    for r in records.iter().step_by(step) {
        let log = store.read_log(r.id).await?;
        let at = |prefix: &str| {
            log.iter()
                .find(|e| e.line.text.starts_with(prefix))
                .map(|e| e.line.ts)
        };
        let marks = (
            r.started_at,
            at("job "),
            at("== stage"),
            at("job succeeded"),
            r.finished_at,
        );
        let (Some(s), Some(first), Some(stage), Some(done), Some(f)) = marks else {
            continue;
        };
        for (sum, (a, b)) in
            sums.iter_mut()
                .zip([(s, first), (first, stage), (stage, done), (done, f)])
        {
            *sum += (b - a).num_milliseconds() as f64;
        }
        k += 1;
    }
    let m = |i: usize| sums[i] / f64::from(k.max(1));
    Ok(format!(
        "phases jobs={k} setup_ms={:.2} build_ms={:.2} stage_ms={:.2} finish_ms={:.2}",
        m(0),
        m(1),
        m(2),
        m(3)
    ))
}
