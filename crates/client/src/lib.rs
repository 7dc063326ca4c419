//! fbs-client

pub mod ks;
pub mod validate;
