//! Staging and mail in the fleet, on the shared test Redis with `fbs worker` and `fbs notify`
//! processes: a job whose FTP target stays down fails keeping its artifacts on the worker, and
//! `fbs retry --stage-only` stages them there once the server is back; the notifier mails a
//! job's two events once SMTP comes back, after another notifier died holding them, and never
//! twice.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fbs_core::config::BrokerConfig;
use fbs_core::job::{EventKind, JobId, JobRecord, JobState, NotifyEvent};
use fbs_core::queue::redis::{RedisOptions, RedisStore};
use fbs_core::queue::{JobStore, LeaseSettings};

use super::{sha256sum_check, write};
use crate::helper::ftp::{FtpServer, assert_no_secret, free_port, ftp};
use crate::helper::{self, mail};

const BUILD: &str = r#"echo "building $FBS_JOB_ID"; printf 'iso\r\n\001bytes' > "$OUT/test.iso""#;

struct Fleet {
    dir: tempfile::TempDir,
    url: String,
    prefix: String,
    store: RedisStore,
    children: Vec<Child>,
}

impl Fleet {
    async fn new() -> Option<Fleet> {
        let url = match std::env::var("FBS_TEST_REDIS_URL") {
            Ok(u) if !u.is_empty() => u,
            _ if helper::opted_out() => return None,
            _ => panic!("FBS_TEST_REDIS_URL is not set: run scripts/testenv.sh up"),
        };
        let prefix = format!("st-{}:", &JobId::new().to_string()[24..]);
        let lease = LeaseSettings {
            expiry: Duration::from_secs(3),
            heartbeat: Duration::from_millis(500),
            poll: Duration::from_millis(500),
            max_attempts: 3,
        };
        let brokers = BrokerConfig {
            default: Some(url.clone()),
            arch: Default::default(),
        };
        let options = RedisOptions {
            prefix: prefix.clone(),
            ..RedisOptions::default()
        };
        let store = RedisStore::open(&brokers, lease, options)
            .await
            .expect("redis");
        Some(Fleet {
            dir: tempfile::tempdir().expect("tempdir"),
            url,
            prefix,
            store,
            children: Vec::new(),
        })
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A daemon config: the worker's directory and fast timers, then `extra`.
    fn config(&self, name: &str, extra: &str) -> PathBuf {
        let text = format!(
            "[worker]\nwork_dir = \"{}\"\nshutdown_grace = \"1s\"\n\n[lease]\nexpiry = \"3s\"\n\
             heartbeat = \"500ms\"\npoll = \"500ms\"\nmax_attempts = 3\n\n{extra}",
            self.path("jobs").display()
        );
        write(self.dir.path(), name, &text)
    }

    fn fbs(&self) -> Command {
        let client = write(self.dir.path(), "client.toml", "");
        let mut c = helper::fbs();
        c.env("FBS_BROKER", &self.url)
            .env("FBS_REDIS_PREFIX", &self.prefix)
            .env("FBS_CLIENT_CONFIG", client)
            .env_remove("FBS_CONFIG")
            .env_remove("FBS_FTP_USER")
            .env_remove("FBS_FTP_PASSWORD");
        c
    }

    /// Start `fbs ARGS` in the background, its stderr in `<name>.stderr`.
    fn spawn(&mut self, name: &str, mut cmd: Command) -> u32 {
        let log = std::fs::File::create(self.path(&format!("{name}.stderr"))).expect("log");
        let child = cmd
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn fbs");
        let pid = child.id();
        self.children.push(child);
        pid
    }

    fn worker(&mut self, config: &Path, env: &[(&str, &str)]) {
        let mut c = self.fbs();
        c.args(["-vvv", "worker", "--queue", "x86_64:40", "--config"])
            .arg(config)
            .env("FBS_TEST_BUILD_SCRIPT", BUILD)
            .env("FBS_TEST_DIR", self.dir.path());
        for (k, v) in env {
            c.env(k, v);
        }
        self.spawn("worker", c);
    }

    fn kill(&mut self, pid: u32) {
        if let Some(c) = self.children.iter_mut().find(|c| c.id() == pid) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn stderr(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{name}.stderr"))).unwrap_or_default()
    }

    /// `fbs submit` a boot spec staging to `staging`; returns the job id.
    fn submit(&self, staging: &str) -> JobId {
        let spec = write(
            self.dir.path(),
            "boot.toml",
            &format!(
                "type = \"boot\"\narch = \"x86_64\"\nrelease = \"40\"\nstaging = \"{staging}\"\n\
                 email = \"qa@example.org\"\n\n[boot]\nrepos = [{{ name = \"f\", url = \"http://example.org/\" }}]\n"
            ),
        );
        let out = self.fbs().arg("submit").arg(spec).output().expect("submit");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("fbs submit prints the job id")
    }

    async fn wait_for(&self, id: JobId, secs: u64, pred: impl Fn(&JobRecord) -> bool) -> JobRecord {
        let t = Instant::now();
        loop {
            if let Ok(Some(r)) = self.store.get(id).await
                && pred(&r)
            {
                return r;
            }
            if t.elapsed() > Duration::from_secs(secs) {
                let r = self.store.get(id).await;
                panic!("job {id} after {secs} s: {r:?}\n{}", self.stderr("worker"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname")
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_staging_keeps_the_artifacts_and_retry_stage_only_stages_them_on_that_worker() {
    let (Some(env), Some(mut fleet)) = (ftp(), Fleet::new().await) else {
        return;
    };
    let port = free_port();
    let mut server = FtpServer::new(&env, &fleet.path("servers"), port);
    let config = fleet.config(
        "worker.toml",
        "[staging]\nftp_retries = 1\nftp_retry_base = \"200ms\"\nftp_timeout = \"5s\"\n",
    );
    fleet.worker(
        &config,
        &[
            ("FBS_FTP_USER", &env.user),
            ("FBS_FTP_PASSWORD", &env.password),
        ],
    );
    let id = fleet.submit(&format!("ftp://127.0.0.1:{port}/pub/"));
    let failed = fleet.wait_for(id, 90, |r| r.state.is_final()).await;
    assert_eq!(failed.state, JobState::Failed);
    let host = hostname();
    let error = failed.error.clone().unwrap_or_default();
    assert!(error.starts_with("stage: FTP 127.0.0.1:"), "{error}");
    assert!(error.contains(&format!("kept on {host}")), "{error}");
    assert!(
        error.contains(&format!("fbs retry --stage-only {id}")),
        "{error}"
    );
    assert_eq!(failed.artifacts_host.as_deref(), Some(host.as_str()));
    let output = fleet
        .path("jobs")
        .join(id.to_string())
        .join("output/test.iso");
    assert!(output.is_file(), "the artifacts were not kept");

    // A full retry is not what `--stage-only` does for a job that did not fail in staging.
    let other = fleet.submit(&format!("file://{}", fleet.path("local").display()));
    fleet
        .wait_for(other, 60, |r| r.state == JobState::Succeeded)
        .await;
    let refused = fleet
        .fbs()
        .args(["retry", "--stage-only", &other.to_string()])
        .output()
        .expect("retry");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only a failed job"));

    server.start();
    let out = fleet
        .fbs()
        .args(["retry", "--stage-only", &id.to_string()])
        .output()
        .expect("retry --stage-only");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("fbs:host:{host}")), "{stdout}");
    let done = fleet.wait_for(id, 60, |r| r.state.is_final()).await;
    assert_eq!(done.state, JobState::Succeeded, "{:?}", done.error);
    assert_eq!(done.attempt, 2);
    assert!(!done.stage_only && done.artifacts_host.is_none());
    let staged = server.root.join("pub").join(id.to_string());
    assert_eq!(
        std::fs::read(staged.join("test.iso")).expect("staged"),
        b"iso\r\n\x01bytes"
    );
    sha256sum_check(&staged, "CHECKSUM");
    let log = std::fs::read_to_string(staged.join("build.log")).expect("build.log");
    assert!(log.contains("stage-only retry"), "{log}");
    assert_eq!(
        log.matches(&format!("building {id}")).count(),
        1,
        "built twice:\n{log}"
    );
    assert!(log.contains("as fbs-stager (environment)"), "{log}");
    assert_no_secret(&[fleet.dir.path(), &staged], &env.password);
}

/// An aiosmtpd of the test's own on `port`, storing mail in `dir/Maildir`.
fn smtpd(dir: &Path, port: u16) -> Child {
    let python = helper::venv_tool("python").expect("the test venv");
    let log = std::fs::File::create(dir.join("smtpd.log")).expect("log");
    let child = Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(dir.join("Maildir"))
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("aiosmtpd");
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "aiosmtpd did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

#[tokio::test(flavor = "multi_thread")]
async fn the_notifier_mails_each_event_once_after_an_smtp_outage_and_a_notifier_crash() {
    let Some(mut fleet) = Fleet::new().await else {
        return;
    };
    let smtp_port = free_port();
    let notify = fleet.config(
        "notify.toml",
        &format!(
            "[smtp]\nserver = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\n\
             from = \"fbs@example.org\"\nretry_base = \"300ms\"\nretries = 2\n\n\
             [monitor]\npublic_url = \"https://fbs.example.org\"\n"
        ),
    );
    let worker = fleet.config("worker.toml", "");
    fleet.worker(&worker, &[]);
    let mut cmd = fleet.fbs();
    cmd.args(["notify", "--claim-idle", "2s", "--config"])
        .arg(&notify);
    let first = fleet.spawn("notify-a", cmd);

    // SMTP is down: the build is not held up.
    let id = fleet.submit(&format!("file://{}", fleet.path("staging").display()));
    let done = fleet.wait_for(id, 60, |r| r.state.is_final()).await;
    assert_eq!(done.state, JobState::Succeeded, "{:?}", done.error);
    let t = Instant::now();
    while fleet.stderr("notify-a").matches("will retry").count() < 2 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{}",
            fleet.stderr("notify-a")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The notifier dies holding both events unacknowledged; SMTP comes back; two others run.
    fleet.kill(first);
    let servers = fleet.path("smtp");
    std::fs::create_dir_all(&servers).expect("mkdir");
    let mut sink = smtpd(&servers, smtp_port);
    for name in ["notify-b", "notify-c"] {
        let mut cmd = fleet.fbs();
        cmd.args(["notify", "--claim-idle", "2s", "--config"])
            .arg(&notify);
        fleet.spawn(name, cmd);
    }
    let maildir = servers.join("Maildir");
    let mails = mail::wait_for(&maildir, &id.to_string(), 2, Duration::from_secs(60));
    assert_eq!(mails.len(), 2, "{mails:#?}\n{}", fleet.stderr("notify-b"));
    // A repeated event (an at-least-once producer) does not mail again.
    fleet
        .store
        .push_event(&NotifyEvent {
            job_id: id,
            kind: EventKind::Finished,
            attempt: done.attempt,
            at: done.updated_at,
        })
        .await
        .expect("push");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mails = mail::mails_about(&maildir, &id.to_string());
    let mut ids: Vec<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            format!("<{id}.finished@fbs>"),
            format!("<{id}.submitted@fbs>")
        ],
        "{mails:#?}"
    );
    let finished = mails
        .iter()
        .find(|m| m.subject.starts_with("[fbs] SUCCEEDED: "))
        .expect("the finished mail");
    assert!(finished.text.contains("job succeeded"), "{}", finished.text);
    assert!(
        finished
            .text
            .contains(&format!("https://fbs.example.org/jobs/{id}"))
    );
    let _ = sink.kill();
    let _ = sink.wait();
}
