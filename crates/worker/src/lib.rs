//! fbs-worker: the worker loop that leases jobs, the build pipeline (prepare → build → stage →
//! notify) run in one directory per job, the `Builder` trait, and `fbs local`.
//! Also `fbs notify`, the fleet's notifier run alone (`notifier`).

pub mod builder;
pub mod builders;
pub mod daemon;
pub mod dirs;
pub mod koji;
pub mod local;
pub mod mail;
pub mod manifest;
pub mod notifier;
pub mod pipeline;
pub mod script;
pub mod siderepo;
pub mod stage;
pub mod worker;

pub use builder::{BuildContext, BuildError, BuildReport, Builder, BuiltArtifact, StepTiming};
pub use pipeline::{Pipeline, StageError};
pub use worker::{ActiveJobs, RunOptions, Worker};
