//! fbs-orchestrate: `fbs deploy` and `fbs fleet`. A deploy config (the old `deploy.conf` or
//! `deploy.toml`) becomes an [`inventory::Inventory`]; each host is reached through the
//! [`remote::Remote`] trait (ssh, or this machine); the [`tasks`] — one file each, with the old
//! tool's names — push the `fbs` binary, each host's daemon config and the systemd units,
//! install missing packages and (re)start the daemons, all idempotent. Hosts run in parallel,
//! bounded by a semaphore, with per-host progress events drawn by one renderer, and the
//! [`report::Report`] lists every host's outcome.

pub mod fleet;
pub mod hostconf;
pub mod inventory;
pub mod layout;
pub mod packages;
pub mod pattern;
pub mod plan;
pub mod progress;
pub mod remote;
pub mod report;
pub mod run;
pub mod services;
pub mod tasks;

pub use run::{DeployError, DeployOptions, deploy};
pub use tasks::Task;
