//! fbs-client
