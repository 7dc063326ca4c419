//! The fleet test rig: the shared test Redis (with a per-test key prefix), private
//! redis-servers for tests that restart one or need a second broker, worker processes
//! (`fbs worker` with the script builder), and waiting on job records.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fbs_core::config::BrokerConfig;
use fbs_core::job::{JobId, JobRecord};
use fbs_core::queue::redis::{RedisOptions, RedisStore};
use fbs_core::queue::{JobStore, LeaseSettings};

use crate::helper;

/// Lease timers for the fleet tests: 2 s expiry, 500 ms heartbeat and poll, 3 attempts.
pub fn lease() -> LeaseSettings {
    LeaseSettings {
        expiry: Duration::from_secs(2),
        heartbeat: Duration::from_millis(500),
        poll: Duration::from_millis(500),
        max_attempts: 3,
    }
}

/// The shared test Redis, or `None` when the developer opted out.
pub fn shared_redis() -> Option<String> {
    match std::env::var("FBS_TEST_REDIS_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if helper::opted_out() => {
            eprintln!("skipped: FBS_TEST_REDIS_URL is not set and FBS_TEST_OPTOUT=1");
            None
        }
        _ => panic!(
            "FBS_TEST_REDIS_URL is not set: run the tests through scripts/test.sh (or set FBS_TEST_OPTOUT=1)"
        ),
    }
}

/// A redis-server of the test's own (append-only), stopped on drop.
pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    pub fn start(dir: &Path) -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut s = RedisServer {
            port,
            dir: dir.to_path_buf(),
            child: None,
        };
        std::fs::create_dir_all(dir).expect("redis dir");
        s.up();
        s
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn up(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "yes", "--dir"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (installed by scripts/testenv.sh)");
        self.child = Some(child);
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop (SIGTERM: the append-only file is flushed) and start again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.up();
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One test's corner of the fleet.
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub prefix: String,
    pub store: RedisStore,
    workers: Vec<Child>,
}

impl Rig {
    pub async fn new(url: &str) -> Rig {
        let dir = tempfile::tempdir().expect("tempdir");
        let prefix = format!("t-{}:", &uuid_like()[..12]);
        let store = store(url, None, &prefix).await;
        Rig {
            dir,
            url: url.to_owned(),
            prefix,
            store,
            workers: Vec::new(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A boot spec for `arch`/`release` staging into the rig's directory.
    pub fn spec_file(&self, arch: &str, release: &str) -> PathBuf {
        let p = self.path(&format!("{arch}-{release}.toml"));
        let text = format!(
            "type = \"boot\"\narch = \"{arch}\"\nrelease = \"{release}\"\nstaging = \"file://{}\"\nemail = \"qa@example.org\"\n\n[boot]\nrepos = [{{ name = \"fedora\", url = \"http://example.org/os/\" }}]\n",
            self.path("staging").display()
        );
        std::fs::write(&p, text).expect("spec");
        p
    }

    pub async fn submit(&self, arch: &str, release: &str) -> JobRecord {
        let loaded = fbs_core::spec::load_spec(&self.spec_file(arch, release)).expect("spec");
        let job = JobRecord::new(loaded.spec, None);
        self.store.submit(job.clone()).await.expect("submit");
        job
    }

    /// The worker config file.
    pub fn config(&self) -> PathBuf {
        let p = self.path("worker.toml");
        let l = lease();
        let text = format!(
            "[worker]\nwork_dir = \"{}\"\nshutdown_grace = \"1s\"\n\n[lease]\nexpiry = \"{}ms\"\nheartbeat = \"{}ms\"\npoll = \"{}ms\"\nmax_attempts = {}\n",
            self.path("jobs").display(),
            l.expiry.as_millis(),
            l.heartbeat.as_millis(),
            l.poll.as_millis(),
            l.max_attempts
        );
        std::fs::write(&p, text).expect("config");
        p
    }

    /// An empty client config (the user's own must not leak into tests).
    pub fn client_config(&self) -> PathBuf {
        let p = self.path("client.toml");
        if !p.exists() {
            std::fs::write(&p, "").expect("client config");
        }
        p
    }

    /// The `fbs` binary with the rig's broker and prefix.
    pub fn fbs(&self) -> Command {
        let mut c = helper::fbs();
        c.env("FBS_BROKER", &self.url)
            .env("FBS_REDIS_PREFIX", &self.prefix)
            .env("FBS_CLIENT_CONFIG", self.client_config())
            .env_remove("FBS_CONFIG");
        c
    }

    /// Start `fbs worker` serving `queue` with `script` as the build; returns its pid.
    pub fn spawn_worker(&mut self, queue: &str, script: &str) -> u32 {
        let n = self.workers.len();
        let log = std::fs::File::create(self.path(&format!("worker-{n}.log"))).expect("log");
        let child = self
            .fbs()
            .args(["-v", "worker", "--queue", queue, "--config"])
            .arg(self.config())
            .env("FBS_TEST_BUILD_SCRIPT", script)
            .env("FBS_TEST_DIR", self.dir.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("fbs worker");
        let pid = child.id();
        self.workers.push(child);
        pid
    }

    /// True while worker `pid` runs.
    pub fn alive(&mut self, pid: u32) -> bool {
        self.workers
            .iter_mut()
            .find(|c| c.id() == pid)
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    pub fn signal(&mut self, pid: u32, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).expect("kill");
        if sig == nix::sys::signal::Signal::SIGKILL
            && let Some(c) = self.workers.iter_mut().find(|c| c.id() == pid)
        {
            let _ = c.wait();
        }
    }

    pub async fn get(&self, id: JobId) -> JobRecord {
        self.store.get(id).await.expect("get").expect("job exists")
    }

    /// Wait until `pred` holds for the job, or panic after `secs`.
    pub async fn wait_for(
        &self,
        id: JobId,
        secs: u64,
        what: &str,
        pred: impl Fn(&JobRecord) -> bool,
    ) -> JobRecord {
        let t = Instant::now();
        loop {
            // The broker may be restarting: a failed read is retried until the deadline.
            let r = match self.store.get(id).await {
                Ok(Some(r)) => r,
                other => {
                    assert!(
                        t.elapsed() < Duration::from_secs(secs),
                        "job {id}: {other:?}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            if pred(&r) {
                return r;
            }
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "job {id} not {what} after {secs} s: {:?} attempt {} error {:?}\n{}",
                r.state,
                r.attempt,
                r.error,
                self.worker_logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn worker_logs(&self) -> String {
        let mut out = String::new();
        for n in 0..self.workers.len() {
            let p = self.path(&format!("worker-{n}.log"));
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            out.push_str(&format!("--- worker-{n}.log (last lines)\n"));
            for l in tail.into_iter().rev() {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// The job's stored log as text.
    pub async fn log_text(&self, id: JobId) -> String {
        let entries = self.store.read_log(id).await.expect("read log");
        entries
            .iter()
            .map(|e| e.line.text.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        for c in &mut self.workers {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Builds orphaned by a killed worker record their pids here.
        if let Ok(text) = std::fs::read_to_string(self.path("build-pids")) {
            for pid in text
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

/// A store on `url` (and `arch_brokers`) under `prefix`.
pub async fn store(
    url: &str,
    arch: Option<(fbs_core::spec::Arch, String)>,
    prefix: &str,
) -> RedisStore {
    let brokers = BrokerConfig {
        default: Some(url.to_owned()),
        arch: arch.into_iter().collect(),
    };
    let options = RedisOptions {
        prefix: prefix.to_owned(),
        ..RedisOptions::default()
    };
    RedisStore::open(&brokers, lease(), options)
        .await
        .expect("open redis store")
}

fn uuid_like() -> String {
    format!("{}", JobId::new()).replace('-', "")[20..].to_owned()
        + &format!("{:x}", std::process::id())
}
