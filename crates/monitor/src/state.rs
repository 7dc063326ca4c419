//! What every handler shares: the role, the job and token stores, the Redis store for log
//! streams when the installation has one, the monitor's config, and the server secret that
//! signs sessions and per-job read tokens.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use fbs_core::config::MonitorConfig;
use fbs_core::queue::redis::RedisStore;
use fbs_core::queue::{JobStore, TokenStore};

/// Which monitor this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// The master: UI, REST API, live logs from the broker, metrics, the notifier.
    #[default]
    Webapp,
    /// A worker host: its `/metrics`, `/healthz` and its local job logs by job id.
    Worker,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "webapp" => Ok(Role::Webapp),
            "worker" => Ok(Role::Worker),
            other => Err(format!("`{other}` is not a role (webapp or worker)")),
        }
    }
}

/// The stores a monitor reads and writes.
#[derive(Debug, Clone)]
pub struct Backend {
    /// Job records and queues.
    pub jobs: Arc<dyn JobStore>,
    /// API tokens and the server secret.
    pub tokens: Arc<dyn TokenStore>,
    /// The Redis store, for log streams and notification events (`None` with SQLite).
    pub redis: Option<RedisStore>,
    /// What the store is, for messages (`redis://host/0`, `sqlite:/path`).
    pub label: String,
}

impl Backend {
    /// A Redis backend.
    pub fn redis(store: RedisStore) -> Self {
        Backend {
            label: store.label().to_owned(),
            jobs: Arc::new(store.clone()),
            tokens: Arc::new(store.clone()),
            redis: Some(store),
        }
    }

    /// An SQLite backend (local mode, tests).
    pub fn sqlite(store: fbs_core::queue::SqliteStore, label: impl Into<String>) -> Self {
        Backend {
            jobs: Arc::new(store.clone()),
            tokens: Arc::new(store),
            redis: None,
            label: label.into(),
        }
    }
}

/// The shared state (cheap to clone).
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    role: Role,
    backend: Backend,
    config: MonitorConfig,
    work_dir: PathBuf,
    secret: Vec<u8>,
    started: Instant,
    hubs: Arc<crate::hub::Hubs>,
}

impl AppState {
    /// State for `role` over `backend`; `work_dir` holds this host's job directories (their
    /// `build.log`s are the local log files); `secret` signs sessions and read tokens.
    pub fn new(
        role: Role,
        backend: Backend,
        config: MonitorConfig,
        work_dir: PathBuf,
        secret: Vec<u8>,
    ) -> Self {
        AppState {
            inner: Arc::new(Inner {
                role,
                backend,
                config,
                work_dir,
                secret,
                started: Instant::now(),
                hubs: Arc::default(),
            }),
        }
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.inner.role
    }

    /// The job store.
    pub fn jobs(&self) -> &dyn JobStore {
        self.inner.backend.jobs.as_ref()
    }

    /// The token store.
    pub fn tokens(&self) -> &dyn TokenStore {
        self.inner.backend.tokens.as_ref()
    }

    /// The Redis store, when the installation has one.
    pub fn redis(&self) -> Option<&RedisStore> {
        self.inner.backend.redis.as_ref()
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.inner.backend
    }

    /// The monitor's config.
    pub fn config(&self) -> &MonitorConfig {
        &self.inner.config
    }

    /// This host's job directories.
    pub fn work_dir(&self) -> &std::path::Path {
        &self.inner.work_dir
    }

    /// The server secret.
    pub fn secret(&self) -> &[u8] {
        &self.inner.secret
    }

    /// The log hubs (one Redis reader per followed job).
    pub fn hubs(&self) -> &Arc<crate::hub::Hubs> {
        &self.inner.hubs
    }

    /// Seconds since start.
    pub fn uptime(&self) -> f64 {
        self.inner.started.elapsed().as_secs_f64()
    }

    /// True when cookies should carry `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.inner
            .config
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}
