//! fbs-orchestrate
