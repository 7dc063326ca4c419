//! What every fleet command shares: finding the broker (`--broker` > `FBS_BROKER` > the
//! client config), connecting, and turning store errors into messages and exit codes.

use std::path::Path;

use fbs_core::config::{BrokerConfig, ClientConfig, load_client, redact_url};
use fbs_core::exit;
use fbs_core::queue::redis::{RedisOptions, RedisStore};
use fbs_core::queue::{LeaseSettings, QueueError};

/// The environment variable naming a prefix for every Redis key (several installations, or
/// tests, sharing one server).
pub const PREFIX_ENV: &str = "FBS_REDIS_PREFIX";

/// A connected client.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// The job store on the default broker.
    pub store: RedisStore,
    /// The client config in force.
    pub config: ClientConfig,
}

/// Connect as the flags, environment and client config say; on failure the message is
/// printed and the exit code returned.
pub async fn connect(broker: Option<&str>, config: Option<&Path>) -> Result<Fleet, u8> {
    let (mut cfg, _) = load_client(config).map_err(|e| {
        eprintln!("fbs: {e}");
        exit::INVALID_INPUT
    })?;
    if let Some(b) = broker {
        cfg.broker = Some(b.to_owned());
    }
    let Some(url) = cfg.broker.clone() else {
        eprintln!(
            "fbs: no broker: pass --broker redis://HOST:6379/0, set FBS_BROKER, or write `broker` in the client config"
        );
        return Err(exit::INVALID_INPUT);
    };
    let brokers = BrokerConfig {
        default: Some(url.clone()),
        arch: cfg.brokers.clone(),
    };
    let options = RedisOptions {
        prefix: std::env::var(PREFIX_ENV).unwrap_or_default(),
        ..RedisOptions::default()
    };
    match RedisStore::open(&brokers, LeaseSettings::default(), options).await {
        Ok(store) => Ok(Fleet { store, config: cfg }),
        Err(e) => {
            eprintln!("fbs: cannot reach the broker {}: {e}", redact_url(&url));
            Err(exit::UNAVAILABLE)
        }
    }
}

/// Print a store error and return its exit code.
pub fn fail(e: &QueueError) -> u8 {
    eprintln!("fbs: {e}");
    match e {
        QueueError::Backend { .. } => exit::UNAVAILABLE,
        QueueError::NotFound(_) | QueueError::WrongState { .. } => exit::INVALID_INPUT,
        QueueError::LeaseLost(_) | QueueError::Corrupt { .. } => exit::FAILED,
    }
}

/// Parse a job id argument, printing the problem.
pub fn job_id(raw: &str) -> Result<fbs_core::job::JobId, u8> {
    raw.parse().map_err(|e: String| {
        eprintln!("fbs: {e}");
        exit::INVALID_INPUT
    })
}

/// The exit code for a job that ended in `state`.
pub fn state_code(state: fbs_core::job::JobState) -> u8 {
    use fbs_core::job::JobState;
    match state {
        JobState::Succeeded => exit::SUCCESS,
        JobState::Canceled => exit::CANCELED,
        _ => exit::FAILED,
    }
}
