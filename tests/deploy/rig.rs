//! The deploy test rig: the hosts of the test environment (locked for one test at a time and
//! reset), a deploy.conf for them, and `fbs deploy` / `fbs fleet` runs.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use fbs_core::config::BrokerConfig;
use fbs_core::queue::LeaseSettings;
use fbs_core::queue::redis::{RedisOptions, RedisStore};

use crate::helper;

/// The script build every worker runs (writes the artifact).
pub const BUILD: &str =
    "echo \"building $FBS_JOB_ID on $(hostname)\"; echo iso > \"$OUT/test.iso\"";

/// The test hosts, locked for this test.
pub struct Hosts {
    pub ssh_config: PathBuf,
    pub dir: PathBuf,
    pub redis_url: String,
    pub script: PathBuf,
    pub tmp: tempfile::TempDir,
    pub prefix: String,
    _lock: nix::fcntl::Flock<std::fs::File>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Hosts {
    /// Lock and reset the hosts; `None` only when the developer opted out.
    pub fn get() -> Option<Hosts> {
        let Some(ssh_config) = env("FBS_TEST_SSH_CONFIG") else {
            if helper::opted_out() {
                eprintln!("skipped: FBS_TEST_SSH_CONFIG is not set and FBS_TEST_OPTOUT=1");
                return None;
            }
            panic!(
                "FBS_TEST_SSH_CONFIG is not set: run the tests through scripts/test.sh (or set FBS_TEST_OPTOUT=1)"
            );
        };
        let dir = PathBuf::from(env("FBS_TEST_HOSTS_DIR").expect("FBS_TEST_HOSTS_DIR"));
        let lock_file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("deploy-tests.lock"))
            .expect("lock file");
        let lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .expect("lock the test hosts");
        let hosts = Hosts {
            ssh_config: PathBuf::from(ssh_config),
            dir,
            redis_url: env("FBS_TEST_HOSTS_REDIS_URL").expect("FBS_TEST_HOSTS_REDIS_URL"),
            script: PathBuf::from(env("FBS_TEST_HOSTS_SCRIPT").expect("FBS_TEST_HOSTS_SCRIPT")),
            tmp: tempfile::tempdir().expect("tempdir"),
            prefix: format!("dt-{}-{}:", std::process::id(), fbs_core::job::JobId::new()),
            _lock: lock,
        };
        hosts.script_ok(&["reset"]);
        for h in ["h1", "h2", "h3", "h4"] {
            hosts.write_env_file(h);
        }
        Some(hosts)
    }

    /// Run hosts.sh with `args`.
    pub fn script(&self, args: &[&str]) -> Output {
        Command::new("bash")
            .arg(&self.script)
            .args(args)
            .output()
            .expect("hosts.sh")
    }

    pub fn script_ok(&self, args: &[&str]) -> String {
        let o = self.script(args);
        assert!(
            o.status.success(),
            "hosts.sh {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// The daemons' environment on `host` (/etc/fbs/environment, which deploy never writes):
    /// the script builder and this test's Redis key prefix.
    fn write_env_file(&self, host: &str) {
        let text = format!(
            "FBS_TEST_BUILD_SCRIPT='{BUILD}'\nFBS_REDIS_PREFIX={}\n",
            self.prefix
        );
        let o = Command::new("ssh")
            .arg("-F")
            .arg(&self.ssh_config)
            .arg(host)
            .arg("mkdir -p /etc/fbs && cat > /etc/fbs/environment")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().expect("stdin").write_all(text.as_bytes())?;
                c.wait_with_output()
            })
            .expect("ssh");
        assert!(o.status.success(), "writing the environment on {host}");
    }

    /// A path inside `host`'s overlay upper dir: `upper("h1", "opt/fbs/bin/fbs")`.
    pub fn upper(&self, host: &str, rel: &str) -> PathBuf {
        let (top, rest) = rel.split_once('/').expect("top/rest");
        self.dir.join(host).join(top).join("up").join(rest)
    }

    /// A deploy.conf for the four hosts: 2 releases × 2 arches, broker on the bridge.
    pub fn conf(&self, extra: &str) -> PathBuf {
        let p = self.tmp.path().join("deploy.conf");
        let text = format!(
            "[broker]\ndefault=\"{}\"\n\n[releases]\nreleases=17,rawhide\n\n\
             [workers-17]\nx86_64=root@h1\ni686=root@h2\n\n\
             [workers-rawhide]\nx86_64=root@h3\ni686=root@h4\n{extra}",
            self.redis_url
        );
        std::fs::write(&p, text).expect("deploy.conf");
        p
    }

    /// `fbs` with the test's ssh config and a private client config.
    pub fn fbs(&self, args: &[&str]) -> (i32, String, String, Duration) {
        let t = Instant::now();
        let o = helper::fbs()
            .args(args)
            .arg("--ssh-config")
            .arg(&self.ssh_config)
            .env("FBS_CLIENT_CONFIG", self.tmp.path().join("client.toml"))
            .env_remove("FBS_TOKEN")
            .output()
            .expect("run fbs");
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            t.elapsed(),
        )
    }

    /// `fbs deploy ARGS -c CONF --plain`, which must exit `want`.
    pub fn deploy(&self, conf: &Path, args: &[&str], want: i32) -> (String, Duration) {
        let mut all = vec!["deploy", "--plain", "-c", conf.to_str().expect("utf-8")];
        all.extend_from_slice(args);
        let (code, out, err, took) = self.fbs(&all);
        assert_eq!(code, want, "fbs {all:?}\nstdout:\n{out}\nstderr:\n{err}");
        (out, took)
    }

    /// The store the hosts' workers use.
    pub async fn store(&self) -> RedisStore {
        let brokers = BrokerConfig {
            default: Some(self.redis_url.clone()),
            arch: Default::default(),
        };
        let options = RedisOptions {
            prefix: self.prefix.clone(),
            ..RedisOptions::default()
        };
        RedisStore::open(&brokers, LeaseSettings::default(), options)
            .await
            .expect("the hosts' redis")
    }

    /// The pid in `host`'s pid file of daemon `name`.
    pub fn pid(&self, host: &str, name: &str) -> i32 {
        std::fs::read_to_string(self.upper(host, &format!("var/lib/fbs/{name}.pid")))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("no pid file for {name} on {host}"))
    }
}

/// The row of `host` in a summary table.
pub fn row<'a>(table: &'a str, host: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.starts_with(&format!("{host} ")))
        .unwrap_or_else(|| panic!("no row for {host} in:\n{table}"))
}

/// The permission bits of a file.
pub fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}
