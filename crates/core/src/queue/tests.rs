//! The lease and fencing rules, checked on the embedded SQLite store.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::spec::{Arch, BuildSpec, BuilderChoice, ImageOptions, KickstartSource, KojiBuilds};
use crate::spec::{LiveOptions, Staging};

pub(crate) fn live_spec(arch: Arch, release: &str) -> BuildSpec {
    BuildSpec {
        arch,
        release: release.into(),
        staging: Staging::File {
            path: PathBuf::from("/tmp/fbs-staging"),
        },
        staging_layout: Default::default(),
        email: "qa@example.org".into(),
        koji: KojiBuilds::default(),
        builder: BuilderChoice::Native,
        source_date_epoch: None,
        image: ImageOptions::Live(LiveOptions {
            label: "Test-Live".into(),
            title: "Test Live".into(),
            product: "Fedora".into(),
            releasever: release.into(),
            kickstart: KickstartSource::Path(PathBuf::from("live.ks")),
        }),
    }
}

fn settings(expiry_ms: u64, max_attempts: u32) -> LeaseSettings {
    LeaseSettings {
        expiry: Duration::from_millis(expiry_ms),
        heartbeat: Duration::from_millis(expiry_ms / 3),
        poll: Duration::from_millis(50),
        max_attempts,
    }
}

fn worker(name: &str) -> WorkerIdentity {
    WorkerIdentity {
        name: name.into(),
        host: "localhost".into(),
    }
}

async fn store(dir: &tempfile::TempDir, s: LeaseSettings) -> SqliteStore {
    SqliteStore::open(&dir.path().join("jobs.db"), s)
        .await
        .expect("open store")
}

#[tokio::test]
async fn claims_only_from_the_workers_queues_oldest_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = store(&dir, settings(30_000, 3)).await;
    let a = JobRecord::new(live_spec(Arch::I686, "rawhide"), None);
    let b = JobRecord::new(live_spec(Arch::X86_64, "17"), None);
    let c = JobRecord::new(live_spec(Arch::X86_64, "17"), None);
    for r in [&a, &b, &c] {
        st.submit(r.clone()).await.expect("submit");
    }
    let q17 = [QueueName::build(Arch::X86_64, "17")];
    let l1 = st.claim(&q17, &worker("w1")).await.expect("claim");
    let l2 = st.claim(&q17, &worker("w2")).await.expect("claim");
    let l3 = st.claim(&q17, &worker("w3")).await.expect("claim");
    assert_eq!(l1.map(|l| l.id()), Some(b.id));
    assert_eq!(l2.map(|l| l.id()), Some(c.id));
    assert!(l3.is_none(), "the i686/rawhide job must not be taken");
    let rec = st.get(a.id).await.expect("get").expect("exists");
    assert_eq!(rec.state, JobState::Queued);
}

#[tokio::test]
async fn an_expired_lease_requeues_and_fences_the_stale_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = store(&dir, settings(200, 3)).await;
    let job = JobRecord::new(live_spec(Arch::X86_64, "17"), None);
    st.submit(job.clone()).await.expect("submit");
    let q = [job.queue.clone()];
    let stale = st
        .claim(&q, &worker("w1"))
        .await
        .expect("claim")
        .expect("job");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let fresh = st
        .claim(&q, &worker("w2"))
        .await
        .expect("claim")
        .expect("requeued");
    assert_eq!(fresh.record.attempt, 2);
    assert_eq!(st.heartbeat(&stale).await.expect("hb"), LeaseStatus::Lost);
    let err = st
        .finish(
            &stale,
            Outcome::Failed {
                error: "late".into(),
            },
        )
        .await
        .expect_err("stale write must be refused");
    assert!(matches!(err, QueueError::LeaseLost(_)));
    assert!(matches!(
        st.heartbeat(&fresh).await.expect("hb"),
        LeaseStatus::Held { .. }
    ));
    let done = st
        .finish(&fresh, Outcome::Succeeded { artifacts: vec![] })
        .await
        .expect("finish");
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.attempt, 2);
}

#[tokio::test]
async fn lost_leases_count_as_attempts_and_end_failed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = store(&dir, settings(100, 2)).await;
    let job = JobRecord::new(live_spec(Arch::X86_64, "17"), None);
    st.submit(job.clone()).await.expect("submit");
    let q = [job.queue.clone()];
    for _ in 0..2 {
        assert!(st.claim(&q, &worker("w")).await.expect("claim").is_some());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(st.claim(&q, &worker("w")).await.expect("claim").is_none());
    let rec = st.get(job.id).await.expect("get").expect("exists");
    assert_eq!(rec.state, JobState::Failed);
    let error = rec.error.unwrap_or_default();
    assert!(error.contains("lease expired"), "{error}");
}

#[tokio::test]
async fn cancel_retry_release_and_purge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = store(&dir, settings(30_000, 3)).await;
    let queued = JobRecord::new(live_spec(Arch::X86_64, "17"), None);
    st.submit(queued.clone()).await.expect("submit");
    assert_eq!(
        st.cancel(queued.id).await.expect("cancel"),
        CancelResult::Canceled
    );
    assert_eq!(
        st.cancel(queued.id).await.expect("cancel"),
        CancelResult::AlreadyFinal(JobState::Canceled)
    );
    let again = st.retry(queued.id).await.expect("retry");
    assert_eq!((again.state, again.attempt), (JobState::Queued, 2));

    let q = [queued.queue.clone()];
    let lease = st
        .claim(&q, &worker("w"))
        .await
        .expect("claim")
        .expect("job");
    assert!(
        st.retry(queued.id).await.is_err(),
        "a running job cannot be retried"
    );
    assert_eq!(
        st.cancel(queued.id).await.expect("cancel"),
        CancelResult::Requested
    );
    assert_eq!(
        st.heartbeat(&lease).await.expect("hb"),
        LeaseStatus::Held {
            cancel_requested: true
        }
    );
    st.set_staging(&lease).await.expect("staging");
    st.release(&lease).await.expect("release");
    let rec = st.get(queued.id).await.expect("get").expect("exists");
    assert_eq!((rec.state, rec.attempt), (JobState::Queued, 2));
    let lease = st
        .claim(&q, &worker("w"))
        .await
        .expect("claim")
        .expect("job");
    st.finish(&lease, Outcome::Canceled).await.expect("finish");
    let gone = st
        .purge_finished(chrono::Utc::now() + chrono::Duration::seconds(1))
        .await
        .expect("purge");
    assert_eq!(gone, 1);
    assert!(st.get(queued.id).await.expect("get").is_none());
}

#[tokio::test]
async fn a_second_process_sees_the_same_jobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = store(&dir, settings(30_000, 3)).await;
    let two = store(&dir, settings(30_000, 3)).await;
    let job = JobRecord::new(
        live_spec(Arch::X86_64, "17"),
        Some("%packages\n%end\n".into()),
    );
    one.submit(job.clone()).await.expect("submit");
    let seen = two.get(job.id).await.expect("get").expect("exists");
    assert_eq!(seen.spec, job.spec);
    assert_eq!(seen.kickstart, job.kickstart);
    let all = two
        .list(&JobFilter {
            state: Some(JobState::Queued),
            ..JobFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(all.len(), 1);
}

#[tokio::test]
async fn a_stage_only_retry_goes_to_the_host_that_kept_the_artifacts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = store(&dir, settings(30_000, 3)).await;
    let job = JobRecord::new(live_spec(Arch::X86_64, "17"), None);
    st.submit(job.clone()).await.expect("submit");
    let builds = [QueueName::build(Arch::X86_64, "17")];
    let w1 = WorkerIdentity {
        name: "w1".into(),
        host: "builder-1".into(),
    };
    let lease = st.claim(&builds, &w1).await.expect("claim").expect("a job");
    // Only a job whose staging failed can be staged again.
    let failed = st
        .finish(
            &lease,
            Outcome::StagingFailed {
                error: "stage: FTP down".into(),
            },
        )
        .await
        .expect("finish");
    assert_eq!(failed.artifacts_host.as_deref(), Some("builder-1"));
    let rec = st.retry_stage(job.id).await.expect("retry --stage-only");
    assert_eq!(
        (rec.state, rec.attempt, rec.stage_only),
        (JobState::Staging, 2, true)
    );
    // Neither the build queue nor another host's queue takes it.
    let w2 = WorkerIdentity {
        name: "w2".into(),
        host: "builder-2".into(),
    };
    let mut other = builds.to_vec();
    other.push(QueueName::host("builder-2"));
    assert!(st.claim(&other, &w2).await.expect("claim").is_none());
    let mine = [builds[0].clone(), QueueName::host("builder-1")];
    let again = st.claim(&mine, &w1).await.expect("claim").expect("the job");
    assert_eq!(again.record.state, JobState::Staging);
    assert!(again.record.stage_only);
    let done = st
        .finish(&again, Outcome::Succeeded { artifacts: vec![] })
        .await
        .expect("finish");
    assert!(!done.stage_only && done.artifacts_host.is_none());
    // A job that failed elsewhere than in staging has nothing kept to stage.
    let other_job = JobRecord::new(live_spec(Arch::X86_64, "17"), None);
    st.submit(other_job.clone()).await.expect("submit");
    let l = st.claim(&builds, &w1).await.expect("claim").expect("a job");
    st.finish(
        &l,
        Outcome::Failed {
            error: "build".into(),
        },
    )
    .await
    .expect("finish");
    assert!(matches!(
        st.retry_stage(other_job.id).await,
        Err(QueueError::WrongState { .. })
    ));
}
