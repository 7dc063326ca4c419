//! fbs-client: the user's commands — validate specs, flatten kickstarts, prepare jobs for submission, and the fleet commands
//! (submit, jobs, status, cancel, retry, workers, logs) over the Redis broker, one file each.

pub mod cancel;
pub mod fleet;
pub mod jobs;
pub mod ks;
pub mod logs;
pub mod prepare;
pub mod retry;
pub mod status;
pub mod submit;
pub mod validate;
pub mod workers;
