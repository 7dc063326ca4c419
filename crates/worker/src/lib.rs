//! fbs-worker: the worker loop that leases jobs, the build pipeline (prepare → build → stage →
//! notify) run in one directory per job, the `Builder` trait, and `fbs local`.

pub mod builder;
pub mod dirs;
pub mod pipeline;
pub mod stage;
pub mod worker;

pub use builder::{BuildContext, BuildError, Builder, BuiltArtifact};
pub use pipeline::{Pipeline, StageError};
pub use worker::{RunOptions, Worker};
