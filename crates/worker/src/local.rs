//! `fbs local`: the whole pipeline on this machine through the embedded SQLite queue — submit,
//! build with a worker in this process, follow the log on the terminal, print the artifacts.
//! Ctrl-C cancels the job: the builder's process group is killed and its mounts vanish with
//! its namespace.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fbs_core::config::{ConfigSource, DaemonConfig};
use fbs_core::exit;
use fbs_core::job::{JobRecord, JobState, QueueName};
use fbs_core::joblog::{LogLine, LogSink, LogStream};
use fbs_core::queue::{JobStore, SqliteStore, WorkerIdentity};
use fbs_core::spec::{BuildSpec, Staging, StagingLayout};
use tokio_util::sync::CancellationToken;

use crate::mail::DirectMail;
use crate::pipeline::Pipeline;
use crate::worker::{RunOptions, Worker};

/// What `fbs local` needs beyond the spec.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// The daemon config (SMTP, Koji, builder, timers) and where it came from.
    pub config: DaemonConfig,
    /// Where the config came from; with no file, work goes under the user's data dir.
    pub source: ConfigSource,
    /// Overrides the state directory (job database, job directories).
    pub state_dir: Option<PathBuf>,
    /// Print the job log on stderr as it is written.
    pub follow: bool,
    /// Print a JSON summary of the final job record on stdout instead of text.
    pub json: bool,
}

/// Prints job log lines on the terminal.
#[derive(Debug)]
struct TerminalSink;

impl LogSink for TerminalSink {
    fn write(&self, line: &LogLine) {
        let mut err = std::io::stderr().lock();
        let _ = match line.stream {
            LogStream::Fbs => writeln!(err, "[fbs] {}", line.text),
            _ => writeln!(err, "  {}", line.text),
        };
    }
}

/// The default state directory: `$XDG_DATA_HOME/fbs` (`~/.local/share/fbs`).
pub fn default_state_dir() -> PathBuf {
    dirs_data().join("fbs")
}

fn dirs_data() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"))
}

/// Build `spec` here and now; returns the process exit code.
pub async fn run(
    opts: LocalOptions,
    spec: BuildSpec,
    kickstart: Option<String>,
    builders: std::collections::BTreeMap<&'static str, Arc<dyn crate::Builder>>,
) -> u8 {
    let state_dir = opts.state_dir.clone().unwrap_or_else(default_state_dir);
    // An explicit state dir, or no config file, keeps everything under the state dir.
    let work_dir = if opts.state_dir.is_some() || opts.source == ConfigSource::Builtin {
        state_dir.join("jobs")
    } else {
        opts.config.worker.work_dir.clone()
    };
    let cache_dir = if opts.state_dir.is_some() || opts.source == ConfigSource::Builtin {
        state_dir.join("cache")
    } else {
        opts.config.worker.cache_dir.clone()
    };
    let mut lease = opts.config.lease;
    // One process: a short heartbeat makes Ctrl-C and cancel prompt.
    lease.heartbeat = lease.heartbeat.min(Duration::from_secs(1));
    let store = match SqliteStore::open(&state_dir.join("jobs.db"), lease).await {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("fbs local: {e}");
            return exit::UNAVAILABLE;
        }
    };
    let job = JobRecord::new(spec, kickstart);
    let id = job.id;
    if let Err(e) = store.submit(job.clone()).await {
        eprintln!("fbs local: {e}");
        return exit::UNAVAILABLE;
    }
    eprintln!("job {id} queued on {} ({})", job.queue, job.spec.summary());
    let mail = match &opts.config.smtp {
        None => None,
        Some(smtp) => match DirectMail::new(smtp, opts.config.monitor.public_url.clone()) {
            Ok(m) => Some(Arc::new(m)),
            Err(e) => {
                eprintln!("fbs local: no mail will be sent: {e}");
                None
            }
        },
    };
    if let Some(m) = &mail {
        m.submitted(&job).await;
    }

    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let queues = vec![job.queue.clone(), QueueName::host(&host)];
    let worker = Worker {
        identity: WorkerIdentity {
            name: Worker::unique_name(&host, &queues),
            host: host.clone(),
        },
        queues,
        concurrency: 1,
        poll: lease.poll,
        pipeline: Pipeline {
            store: store.clone(),
            builders,
            builder_override: opts.config.worker.builder,
            work_dir,
            heartbeat: lease.heartbeat,
            job_timeout: opts.config.worker.job_timeout,
            extra_log: opts
                .follow
                .then(|| Arc::new(TerminalSink) as fbs_core::joblog::SharedSink),
            notifier: mail.map(|m| m as Arc<dyn crate::pipeline::Notifier>),
            side_repos: crate::siderepo::SideRepoSettings {
                cache_dir,
                ..crate::siderepo::SideRepoSettings::from_config(&opts.config)
            },
            staging: opts.config.staging.clone(),
        },
    };

    let interrupted = CancellationToken::new();
    let ctrl_c = {
        let store = store.clone();
        let interrupted = interrupted.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\ninterrupted: canceling job {id}");
                interrupted.cancel();
                if let Err(e) = store.cancel(id).await {
                    eprintln!("fbs local: cannot cancel: {e}");
                }
            }
        })
    };
    let result = worker
        .run(RunOptions {
            until_job: Some(id),
            ..RunOptions::default()
        })
        .await;
    ctrl_c.abort();
    if let Err(e) = result {
        eprintln!("fbs local: {e}");
        return exit::UNAVAILABLE;
    }
    let rec = match store.get(id).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            eprintln!("fbs local: job {id} vanished from the store");
            return exit::UNAVAILABLE;
        }
        Err(e) => {
            eprintln!("fbs local: {e}");
            return exit::UNAVAILABLE;
        }
    };
    report(&rec, opts.json);
    match rec.state {
        JobState::Succeeded => exit::SUCCESS,
        JobState::Canceled => exit::CANCELED,
        _ => exit::FAILED,
    }
}

fn report(rec: &JobRecord, json: bool) {
    if json {
        match serde_json::to_string_pretty(rec) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("fbs local: cannot encode the job record: {e}"),
        }
        return;
    }
    match rec.state {
        JobState::Succeeded => {
            eprintln!("job {} succeeded", rec.id);
            let base = match (&rec.spec.staging, rec.spec.staging_layout) {
                (Staging::File { path }, StagingLayout::Job) => Some(path.join(rec.id.to_string())),
                (Staging::File { path }, StagingLayout::Flat) => Some(path.clone()),
                (Staging::Ftp { .. }, _) => None,
            };
            for a in &rec.artifacts {
                match &base {
                    Some(b) => println!("{}", b.join(&a.path).display()),
                    None => println!("{}", rec.staged_location(&a.path)),
                }
            }
        }
        state => eprintln!(
            "job {} {state}: {}",
            rec.id,
            rec.error.as_deref().unwrap_or("no reason recorded")
        ),
    }
}
