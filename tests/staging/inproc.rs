//! FTP staging through the worker loop in this process (embedded store, script builder), with
//! FTP servers of the test's own: down when staging starts and back after a few tries, killed
//! in the middle of a transfer (the retry resumes with `REST`), and explicit FTPS with a
//! certificate from a CA of the test's own.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fbs_core::config::StagingConfig;
use fbs_core::job::{JobRecord, JobState};
use fbs_core::queue::{JobStore, LeaseSettings, SqliteStore, WorkerIdentity};
use fbs_core::spec::StagingLayout;
use fbs_worker::{Pipeline, RunOptions, Worker};

use super::{sha256sum_check, write};
use crate::helper::ftp::{FtpServer, assert_no_secret, free_port, ftp};

/// One job on an embedded store, built by `script`, staged to `staging` (a TOML value).
struct Job {
    store: Arc<SqliteStore>,
    record: JobRecord,
    log: std::path::PathBuf,
    run: tokio::task::JoinHandle<()>,
}

async fn start(dir: &Path, staging: &str, extra: &str, script: &str, cfg: StagingConfig) -> Job {
    let text = format!(
        "type = \"boot\"\narch = \"x86_64\"\nrelease = \"40\"\nstaging = \"{staging}\"\n{extra}\
         email = \"qa@example.org\"\n\n[boot]\nrepos = [{{ name = \"f\", url = \"http://example.org/\" }}]\n"
    );
    let spec = fbs_core::spec::load_spec(&write(dir, "boot.toml", &text)).expect("spec");
    let lease = LeaseSettings {
        expiry: Duration::from_secs(3),
        heartbeat: Duration::from_millis(500),
        poll: Duration::from_millis(200),
        max_attempts: 2,
    };
    let store = Arc::new(
        SqliteStore::open(&dir.join("jobs.db"), lease)
            .await
            .expect("db"),
    );
    let record = JobRecord::new(spec.spec, None);
    store.submit(record.clone()).await.expect("submit");
    let queues = vec![record.queue.clone()];
    let builders: BTreeMap<&'static str, Arc<dyn fbs_worker::Builder>> =
        fbs_worker::script::ScriptBuilder::registry(script);
    let worker = Worker {
        identity: WorkerIdentity {
            name: Worker::unique_name("test", &queues),
            host: "test".into(),
        },
        queues,
        concurrency: 1,
        poll: Duration::from_millis(200),
        pipeline: Pipeline {
            store: store.clone(),
            builders,
            builder_override: None,
            work_dir: dir.join("jobs"),
            heartbeat: Duration::from_millis(500),
            job_timeout: Duration::from_secs(300),
            extra_log: None,
            notifier: None,
            side_repos: fbs_worker::siderepo::SideRepoSettings::default(),
            staging: cfg,
        },
    };
    let id = record.id;
    let run = tokio::spawn(async move {
        worker
            .run(RunOptions {
                until_job: Some(id),
                ..RunOptions::default()
            })
            .await
            .expect("worker");
    });
    Job {
        store,
        log: dir.join("jobs").join(id.to_string()).join("build.log"),
        record,
        run,
    }
}

impl Job {
    /// Wait until the job log contains `needle`.
    async fn log_shows(&self, needle: &str, secs: u64) {
        let t = Instant::now();
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains(needle) {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "the job log never showed `{needle}`:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn finish(self) -> (JobRecord, String) {
        tokio::time::timeout(Duration::from_secs(300), self.run)
            .await
            .expect("the worker ends")
            .expect("join");
        let rec = self
            .store
            .get(self.record.id)
            .await
            .expect("get")
            .expect("job");
        (rec, std::fs::read_to_string(&self.log).unwrap_or_default())
    }
}

fn fast() -> StagingConfig {
    StagingConfig {
        ftp_retries: 10,
        ftp_retry_base: Duration::from_millis(300),
        ftp_timeout: Duration::from_secs(10),
        progress_every: Duration::from_millis(200),
        ..StagingConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ftp_server_down_at_staging_time_is_retried_until_it_is_back() {
    let Some(env) = ftp() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let port = free_port();
    let mut server = FtpServer::new(&env, &dir.join("servers"), port);
    let staging = format!("ftp://{}:{}@127.0.0.1:{port}/pub/", env.user, env.password);
    let job = start(
        dir,
        &staging,
        "staging_layout = \"flat\"\n",
        "printf 'iso\\r\\n\\000bytes' > \"$OUT/test.iso\"",
        fast(),
    )
    .await;
    assert_eq!(job.record.spec.staging_layout, StagingLayout::Flat);
    assert!(!job.record.spec.summary().contains(&env.password));
    job.log_shows("try 3 of", 60).await;
    server.start();
    let id = job.record.id;
    let (rec, log) = job.finish().await;
    assert_eq!(rec.state, JobState::Succeeded, "{:?}\n{log}", rec.error);
    assert!(log.contains("as fbs-stager (URL)"), "{log}");
    let name = &rec.artifacts[0].path;
    assert!(
        name.starts_with("test-x86_64-") && name.ends_with(".iso"),
        "{name}"
    );
    let pub_dir = server.root.join("pub");
    assert_eq!(
        std::fs::read(pub_dir.join(name)).expect("staged"),
        b"iso\r\n\x00bytes"
    );
    sha256sum_check(&pub_dir, &format!("{id}.CHECKSUM"));
    let leftovers: Vec<_> = std::fs::read_dir(&pub_dir)
        .expect("ls")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(log.contains("Connection refused"), "{log}");
    assert_no_secret(&[dir, &pub_dir], &env.password);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transfer_cut_in_the_middle_resumes_where_it_stopped() {
    let Some(env) = ftp() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let port = free_port();
    let mut server = FtpServer::new(&env, &dir.join("servers"), port);
    server.args = vec!["--max-upload-rate".into(), (8 << 20).to_string()];
    server.start();
    let job = start(
        dir,
        &format!("ftp://127.0.0.1:{port}/pub/"),
        "",
        "head -c 40000000 /dev/urandom > \"$OUT/test.iso\"",
        fast(),
    )
    .await;
    // Cut the server off while the ISO is on its way, then bring it back.
    job.log_shows("ftp: test.iso ", 120).await;
    server.stop();
    job.log_shows("try 2 of", 60).await;
    server.start();
    let id = job.record.id;
    let (rec, log) = job.finish().await;
    assert_eq!(rec.state, JobState::Succeeded, "{:?}\n{log}", rec.error);
    assert!(log.contains("ftp: resuming test.iso at byte "), "{log}");
    let staged = server.root.join("pub").join(id.to_string());
    sha256sum_check(&staged, "CHECKSUM");
    let built = dir
        .join("jobs")
        .join(id.to_string())
        .join("output/test.iso");
    let same = std::fs::read(staged.join("test.iso")).expect("staged")
        == std::fs::read(built).expect("built");
    assert!(same, "the resumed upload differs from the built file");
}

#[tokio::test(flavor = "multi_thread")]
async fn explicit_ftps_stages_over_tls_verified_against_the_configured_ca() {
    let Some(env) = ftp() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // A CA of the test's own, and a server certificate for 127.0.0.1 it signed.
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("ext");
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=fbs-test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "req.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "req.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    let mut pem = std::fs::read(dir.join("cert.pem")).expect("cert");
    pem.extend(std::fs::read(dir.join("key.pem")).expect("key"));
    std::fs::write(dir.join("server.pem"), pem).expect("server.pem");
    let port = free_port();
    let mut server = FtpServer::new(&env, &dir.join("servers"), port);
    server.args = vec![
        "--tls-cert".into(),
        dir.join("server.pem").display().to_string(),
    ];
    server.start();
    let cfg = StagingConfig {
        ftps_ca_file: Some(dir.join("ca.pem")),
        ftp_user: Some(env.user.clone()),
        ftp_password: Some(env.password.clone()),
        ..fast()
    };
    let job = start(
        dir,
        &format!("ftps://127.0.0.1:{port}/pub/"),
        "",
        "printf 'tls\\r\\nbytes' > \"$OUT/test.iso\"",
        cfg,
    )
    .await;
    let id = job.record.id;
    let (rec, log) = job.finish().await;
    assert_eq!(rec.state, JobState::Succeeded, "{:?}\n{log}", rec.error);
    let staged = server.root.join("pub").join(id.to_string());
    assert_eq!(
        std::fs::read(staged.join("test.iso")).expect("staged"),
        b"tls\r\nbytes"
    );
    sha256sum_check(&staged, "CHECKSUM");
    assert_no_secret(&[dir, &staged], &env.password);
}
