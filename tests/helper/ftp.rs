//! The test FTP server (pyftpdlib through `scripts/testenv/ftpd.py`, started by
//! scripts/testenv.sh), servers of a test's own that it stops and starts, and the check that no
//! log a test wrote holds a password.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The shared test FTP server.
#[derive(Debug, Clone)]
pub struct FtpEnv {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The directory it serves (user and anonymous alike).
    pub root: PathBuf,
    /// The account's name.
    pub user: String,
    /// The account's password.
    pub password: String,
    /// The server script, for servers of a test's own.
    pub ftpd: PathBuf,
}

/// The shared FTP server, or `None` when the developer opted out.
pub fn ftp() -> Option<FtpEnv> {
    let port = match std::env::var("FBS_TEST_FTP_PORT") {
        Ok(p) => p.parse().expect("FBS_TEST_FTP_PORT is a port"),
        Err(_) if super::opted_out() => return None,
        Err(_) => panic!("FBS_TEST_FTP_PORT is not set: run scripts/testenv.sh up"),
    };
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set"));
    Some(FtpEnv {
        port,
        root: PathBuf::from(var("FBS_TEST_FTP_ROOT")),
        user: var("FBS_TEST_FTP_USER"),
        password: var("FBS_TEST_FTP_PASSWORD"),
        ftpd: PathBuf::from(var("FBS_TEST_FTPD")),
    })
}

/// A free loopback port (nothing listens on it when this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// An FTP server of the test's own on a port it chose, stopped on drop.
pub struct FtpServer {
    /// Its port.
    pub port: u16,
    /// The directory it serves.
    pub root: PathBuf,
    log: PathBuf,
    ftpd: PathBuf,
    user: String,
    password: String,
    child: Option<Child>,
    /// More `ftpd.py` arguments (`--tls-cert PEM`, `--max-upload-rate N`).
    pub args: Vec<String>,
}

impl FtpServer {
    /// A server (not yet running) serving `dir/root`, logging to `dir/ftpd.log`, with the
    /// shared server's account.
    pub fn new(env: &FtpEnv, dir: &Path, port: u16) -> FtpServer {
        std::fs::create_dir_all(dir.join("root")).expect("ftp root");
        FtpServer {
            port,
            root: dir.join("root"),
            log: dir.join("ftpd.log"),
            ftpd: env.ftpd.clone(),
            user: env.user.clone(),
            password: env.password.clone(),
            child: None,
            args: Vec::new(),
        }
    }

    /// Start it and wait until it accepts connections.
    pub fn start(&mut self) {
        let python = super::venv_tool("python").expect("the test venv");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("ftpd log");
        let child = Command::new(python)
            .arg(&self.ftpd)
            .args(["--port", &self.port.to_string(), "--user", &self.user])
            .arg("--root")
            .arg(&self.root)
            .args(&self.args)
            .env("FBS_FTPD_PASSWORD", &self.password)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start ftpd.py");
        self.child = Some(child);
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(20), "ftpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Panic when any file under `dirs` (recursively, skipping `ftpd.log` and `smtpd.log`: the
/// servers see passwords by necessity) contains `secret`.
pub fn assert_no_secret(dirs: &[&Path], secret: &str) {
    assert!(!secret.is_empty());
    let mut checked = 0;
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.filter_map(Result::ok).map(|e| e.path()));
            }
            continue;
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let is_log = name.ends_with(".log") || name.ends_with(".stderr");
        if !meta.is_file() || !is_log || name == "ftpd.log" || name == "smtpd.log" {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap_or_default();
        checked += 1;
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(secret),
            "{} contains a password",
            p.display()
        );
    }
    assert!(checked > 0, "no log files found under {dirs:?}");
}
