//! fbs-client

pub mod ks;
