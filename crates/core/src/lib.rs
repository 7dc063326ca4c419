//! fbs-core: the shared vocabulary of fbs — build specs, kickstarts, configuration, jobs and
//! queues, and the process runner every external tool goes through.
#![deny(missing_docs)]

pub mod config;
pub mod daemonize;
pub mod exit;
pub mod ini;
pub mod job;
pub mod joblog;
pub mod kickstart;
#[cfg(feature = "notify")]
pub mod notify;
pub mod queue;
pub mod runner;
pub mod spec;
