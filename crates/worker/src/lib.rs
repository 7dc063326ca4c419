//! fbs-worker
