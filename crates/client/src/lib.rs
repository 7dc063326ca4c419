//! fbs-client: the user's commands — validate specs, flatten kickstarts, prepare jobs for
//! submission — and their output.

pub mod ks;
pub mod prepare;
pub mod validate;
