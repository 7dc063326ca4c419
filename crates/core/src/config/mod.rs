//! Configuration: the daemon config (`/etc/fbs/fbs.toml`), the client config
//! (`~/.config/fbs/client.toml`), and the sections of an old `deploy.conf` a daemon reads.
//!
//! Precedence everywhere: command-line flag > `FBS_*` environment variable > the file
//! (`--config`, else `FBS_CONFIG`, else the default path) > built-in default. Flags are applied
//! by the caller after [`load_daemon`] / [`load_client`] return.

mod client;
mod daemon;
mod deploy;
pub mod duration;
mod error;
mod source;
mod staging;

pub use client::ClientConfig;
pub use daemon::{
    BrokerConfig, DaemonConfig, KojiConfig, MonitorConfig, RetentionConfig, SmtpConfig, SmtpTls,
    WorkerConfig, redact_url,
};
pub use deploy::{broker_url, daemon_from_deploy_conf, unquote};
pub use error::ConfigError;
pub use source::{ConfigSource, load_client, load_daemon, resolve_path};
pub use staging::{PublicUrl, StagingConfig};
