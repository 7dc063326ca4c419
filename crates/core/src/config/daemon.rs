//! The daemon config (`/etc/fbs/fbs.toml`): what one host runs and how — brokers, the worker,
//! Koji, retention, the monitor, and SMTP (the notifier's host only).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::queue::LeaseSettings;
use crate::spec::{Arch, BuilderChoice};

/// Everything a daemon or `fbs local` reads from its config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaemonConfig {
    /// Where job records, queues and logs live.
    pub broker: BrokerConfig,
    /// The worker's settings.
    pub worker: WorkerConfig,
    /// Leases, heartbeats, polling and attempts.
    pub lease: LeaseSettings,
    /// How long finished things are kept.
    pub retention: RetentionConfig,
    /// The Koji hub side repos come from.
    pub koji: KojiConfig,
    /// The monitor's address and public URL.
    pub monitor: MonitorConfig,
    /// Mail settings; present only on the host that sends mail.
    pub smtp: Option<SmtpConfig>,
    /// Staging credentials, transfer settings and public URLs.
    pub staging: super::StagingConfig,
}

/// Brokers: the default one holds job records, logs and notifications; an arch may keep its
/// queues on another. `Debug` hides passwords in the URLs.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerConfig {
    /// The default broker URL (`redis://…`); unset means the embedded store.
    pub default: Option<String>,
    /// Per-arch broker URLs for that arch's queues.
    pub arch: BTreeMap<Arch, String>,
}

impl std::fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let arch: BTreeMap<_, _> = self.arch.iter().map(|(a, u)| (a, redact_url(u))).collect();
        f.debug_struct("BrokerConfig")
            .field("default", &self.default.as_deref().map(redact_url))
            .field("arch", &arch)
            .finish()
    }
}

/// A URL with its password (if any) replaced by `***`, for logs and messages.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => raw.to_owned(),
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

impl BrokerConfig {
    /// The broker that holds `arch`'s queues.
    pub fn for_arch(&self, arch: Arch) -> Option<&str> {
        self.arch
            .get(&arch)
            .or(self.default.as_ref())
            .map(String::as_str)
    }
}

/// The worker: which queues it serves, what it builds with, where it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Queues as `ARCH:RELEASE`.
    pub queues: Vec<String>,
    /// Arches this host builds (default: the host's own).
    pub arches: Vec<Arch>,
    /// Jobs built at once.
    pub concurrency: usize,
    /// The builder; overrides the spec's choice, since the worker knows what is installed.
    pub builder: Option<BuilderChoice>,
    /// Per-job directories go here.
    pub work_dir: PathBuf,
    /// The download cache shared by jobs on this host.
    pub cache_dir: PathBuf,
    /// The longest one job may run.
    #[serde(with = "super::duration")]
    pub job_timeout: Duration,
    /// How long a stopping worker lets a running build finish before handing it back.
    #[serde(with = "super::duration")]
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            queues: Vec::new(),
            arches: Arch::host().into_iter().collect(),
            concurrency: 1,
            builder: None,
            work_dir: PathBuf::from("/var/lib/fbs/jobs"),
            cache_dir: PathBuf::from("/var/cache/fbs"),
            job_timeout: Duration::from_secs(6 * 3600),
            shutdown_grace: Duration::from_secs(600),
        }
    }
}

/// Retention periods for finished jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Finished job records.
    #[serde(with = "super::duration")]
    pub jobs: Duration,
    /// Job directories on workers (artifacts kept for a stage-only retry).
    #[serde(with = "super::duration")]
    pub job_dirs: Duration,
    /// Log streams of finished jobs.
    #[serde(with = "super::duration")]
    pub logs: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            jobs: Duration::from_secs(90 * 86400),
            job_dirs: Duration::from_secs(7 * 86400),
            logs: Duration::from_secs(30 * 86400),
        }
    }
}

/// The Koji hub and its download root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KojiConfig {
    /// XML-RPC hub URL.
    pub hub: String,
    /// Download root (`topurl`).
    pub topurl: String,
    /// Fetch signed copies for this key and check them against `getRPMChecksums`.
    pub signing_key: Option<String>,
    /// Use only the download cache, never the network.
    pub offline: bool,
}

impl Default for KojiConfig {
    fn default() -> Self {
        KojiConfig {
            hub: "https://koji.fedoraproject.org/kojihub".into(),
            topurl: "https://kojipkgs.fedoraproject.org".into(),
            signing_key: None,
            offline: false,
        }
    }
}

/// The monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// Listen address.
    pub listen: String,
    /// The URL users reach it at (used in mails and `fbs submit` output).
    pub public_url: Option<String>,
    /// Reads (jobs, logs, workers) need a token too; mailed links then carry a per-job read
    /// token. Off by default: the mailed log link works for anyone who has it.
    pub read_token_required: bool,
    /// URL prefixes the web form may fetch a kickstart from (`https://ks.example.org/`).
    /// Empty: the form takes uploads only.
    pub kickstart_url_allow: Vec<String>,
    /// Origins allowed to call the API from a browser (CORS); empty: CORS off.
    pub cors_origins: Vec<String>,
    /// The longest a request may take (log streams excepted).
    #[serde(with = "super::duration")]
    pub request_timeout: Duration,
    /// The largest request body accepted, in bytes (a spec plus its kickstart).
    pub max_body_bytes: usize,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            read_token_required: false,
            kickstart_url_allow: Vec::new(),
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 5 << 20,
        }
    }
}

/// How mail is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (only for a relay on a trusted network).
    None,
    /// STARTTLS, required (no silent downgrade).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// SMTP settings. The password is never printed: `Debug` redacts it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name.
    pub server: String,
    /// Port (default 587).
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// Login name.
    #[serde(default)]
    pub login: Option<String>,
    /// Password (prefer `password_file` or `FBS_SMTP_PASSWORD`).
    #[serde(default)]
    pub password: Option<String>,
    /// A file holding the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// TLS mode.
    #[serde(default)]
    pub tls: SmtpTls,
    /// The From address (default: the login).
    #[serde(default)]
    pub from: Option<String>,
    /// Wait before the first retry of a mail that could not be sent; doubles each time.
    #[serde(default = "default_retry_base", with = "super::duration")]
    pub retry_base: Duration,
    /// Retries of a mail before it is given up (reported, never failing a build).
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_retry_base() -> Duration {
    Duration::from_secs(1)
}

fn default_retries() -> u32 {
    4
}

fn default_smtp_port() -> u16 {
    587
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("login", &self.login)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("password_file", &self.password_file)
            .field("tls", &self.tls)
            .field("from", &self.from)
            .field("retry_base", &self.retry_base)
            .field("retries", &self.retries)
            .finish()
    }
}
