//! Integration tests: the pipeline and worker loop on the embedded store, with a builder that
//! runs real processes through the runner.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fbs_core::job::{JobRecord, JobState};
use fbs_core::queue::{JobStore, LeaseSettings, SqliteStore, WorkerIdentity};
use fbs_core::runner::{self, Cmd};
use fbs_core::spec::{
    Arch, BuildSpec, BuilderChoice, ImageOptions, KickstartSource, KojiBuilds, LiveOptions, Staging,
};
use fbs_worker::{
    BuildContext, BuildError, BuildReport, Builder, BuiltArtifact, Pipeline, RunOptions, Worker,
};

/// A builder whose "tool" is a shell script: real processes, real log streaming.
#[derive(Debug)]
struct ScriptBuilder(&'static str);

#[async_trait]
impl Builder for ScriptBuilder {
    fn name(&self) -> &'static str {
        "native"
    }
    async fn version(&self) -> Option<String> {
        Some("script".into())
    }
    async fn build(&self, ctx: &BuildContext) -> Result<BuildReport, BuildError> {
        let cmd = Cmd::new("sh")
            .arg("-c")
            .arg(self.0)
            .env("OUT", &ctx.dirs.output)
            .env("KS", ctx.dirs.input.join("job.ks"));
        runner::run(&cmd, ctx.log.as_ref(), &ctx.cancel).await?;
        Ok(vec![BuiltArtifact {
            path: ctx.dirs.output.join("test.iso"),
            media_type: "application/vnd.efi.iso".into(),
            volume_id: Some("TEST".into()),
            bootable: Some(false),
        }]
        .into())
    }
}

fn spec(staging: PathBuf) -> BuildSpec {
    BuildSpec {
        arch: Arch::X86_64,
        release: "40".into(),
        staging: Staging::File { path: staging },
        staging_layout: Default::default(),
        email: "qa@example.org".into(),
        koji: KojiBuilds::default(),
        builder: BuilderChoice::Native,
        source_date_epoch: None,
        image: ImageOptions::Live(LiveOptions {
            label: "Test".into(),
            title: "Test".into(),
            product: "Fedora".into(),
            releasever: "40".into(),
            kickstart: KickstartSource::Path(PathBuf::from("test.ks")),
        }),
    }
}

struct Rig {
    dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
}

impl Rig {
    async fn new() -> Rig {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = LeaseSettings {
            expiry: Duration::from_secs(2),
            heartbeat: Duration::from_millis(500),
            poll: Duration::from_millis(200),
            max_attempts: 2,
        };
        let store = SqliteStore::open(&dir.path().join("jobs.db"), settings)
            .await
            .expect("store");
        Rig {
            dir,
            store: Arc::new(store),
        }
    }

    fn worker(&self, script: &'static str) -> Worker {
        let mut builders: BTreeMap<&'static str, Arc<dyn Builder>> = BTreeMap::new();
        builders.insert("native", Arc::new(ScriptBuilder(script)));
        let queues = vec![fbs_core::job::QueueName::build(Arch::X86_64, "40")];
        Worker {
            identity: WorkerIdentity {
                name: Worker::unique_name("test", &queues),
                host: "test".into(),
            },
            queues,
            concurrency: 1,
            poll: Duration::from_millis(200),
            pipeline: Pipeline {
                store: self.store.clone(),
                builders,
                builder_override: None,
                work_dir: self.dir.path().join("jobs"),
                heartbeat: Duration::from_millis(500),
                job_timeout: Duration::from_secs(60),
                extra_log: None,
                notifier: None,
                side_repos: fbs_worker::siderepo::SideRepoSettings::default(),
                staging: Default::default(),
            },
        }
    }

    async fn submit(&self) -> JobRecord {
        let job = JobRecord::new(
            spec(self.dir.path().join("staging")),
            Some("%packages\nbash\n%end\n".into()),
        );
        self.store.submit(job.clone()).await.expect("submit");
        job
    }

    async fn get(&self, job: &JobRecord) -> JobRecord {
        self.store.get(job.id).await.expect("get").expect("exists")
    }
}

#[tokio::test]
async fn a_job_runs_through_every_stage_and_is_staged_with_checksums() {
    let rig = Rig::new().await;
    let job = rig.submit().await;
    let w =
        rig.worker("echo building; grep -q bash \"$KS\"; printf 'iso bytes' > \"$OUT/test.iso\"");
    let opts = RunOptions {
        stop_when_idle: true,
        ..RunOptions::default()
    };
    tokio::time::timeout(Duration::from_secs(60), w.run(opts))
        .await
        .expect("worker finished")
        .expect("worker ok");
    let rec = rig.get(&job).await;
    assert_eq!(rec.state, JobState::Succeeded, "error: {:?}", rec.error);
    assert_eq!(rec.artifacts.len(), 1);
    let staged = rig.dir.path().join("staging").join(job.id.to_string());
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "CHECKSUM"])
        .current_dir(&staged)
        .output()
        .expect("sha256sum");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let log = std::fs::read_to_string(staged.join("build.log")).expect("build.log");
    for needle in [
        "== prepare",
        "== build with native",
        "out building",
        "== stage",
    ] {
        assert!(log.contains(needle), "log lacks {needle:?}:\n{log}");
    }
    let work = rig
        .dir
        .path()
        .join("jobs")
        .join(job.id.to_string())
        .join("work");
    assert!(
        !work.exists(),
        "the work directory is cleaned after the job"
    );
}

#[tokio::test]
async fn a_failing_build_ends_failed_saying_which_stage_and_why() {
    let rig = Rig::new().await;
    let job = rig.submit().await;
    let w = rig.worker("echo 'error: nothing provides kernel' >&2; exit 3");
    let opts = RunOptions {
        stop_when_idle: true,
        ..RunOptions::default()
    };
    w.run(opts).await.expect("worker ok");
    let rec = rig.get(&job).await;
    assert_eq!(rec.state, JobState::Failed);
    let error = rec.error.unwrap_or_default();
    assert!(error.starts_with("build: "), "{error}");
    assert!(error.contains("nothing provides kernel"), "{error}");
    assert!(
        !rig.dir
            .path()
            .join("staging")
            .join(job.id.to_string())
            .exists()
    );
}

#[tokio::test]
async fn cancel_stops_a_running_build_and_leaves_no_process() {
    let rig = Rig::new().await;
    let job = rig.submit().await;
    let pidfile = rig.dir.path().join("pid");
    let script: &'static str =
        Box::leak(format!("sleep 1000 & echo $! > {}; wait", pidfile.display()).into_boxed_str());
    let w = rig.worker(script);
    let store = rig.store.clone();
    let id = job.id;
    let canceller = tokio::spawn(async move {
        for _ in 0..200 {
            if let Ok(Some(r)) = store.get(id).await
                && r.state == JobState::Running
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        store.cancel(id).await.expect("cancel");
    });
    let opts = RunOptions {
        until_job: Some(job.id),
        ..RunOptions::default()
    };
    tokio::time::timeout(Duration::from_secs(60), w.run(opts))
        .await
        .expect("worker finished")
        .expect("worker ok");
    canceller.await.expect("canceller");
    let rec = rig.get(&job).await;
    assert_eq!(rec.state, JobState::Canceled);
    let pid = std::fs::read_to_string(&pidfile).expect("pid file");
    let proc_dir = PathBuf::from(format!("/proc/{}", pid.trim()));
    let alive = std::fs::read_to_string(proc_dir.join("stat"))
        .map(|s| s.split_whitespace().nth(2).is_none_or(|st| st != "Z"))
        .unwrap_or(false);
    assert!(
        !alive,
        "the builder's child {} survived the cancel",
        pid.trim()
    );
}
