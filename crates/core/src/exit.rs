//! Process exit codes shared by every `fbs` subcommand, so scripts can tell failures apart.

/// Everything asked for was done (a build succeeded, a spec is valid).
pub const SUCCESS: u8 = 0;
/// The work ran and failed: a build failed, or a job ended `failed`.
pub const FAILED: u8 = 1;
/// The input was rejected: a malformed spec, kickstart, config file or command line.
pub const INVALID_INPUT: u8 = 2;
/// Something fbs needs was unreachable or broken: a queue, a server, a tool, the disk.
pub const UNAVAILABLE: u8 = 3;
/// The job was canceled (by `fbs cancel`, or Ctrl-C in `fbs local`).
pub const CANCELED: u8 = 4;

/// The text `--help` shows under "Exit codes".
pub const HELP: &str = "Exit codes:
  0  success
  1  the build or job failed
  2  invalid input (spec, kickstart, config or arguments)
  3  a server, tool or file fbs needs is unavailable
  4  the job was canceled";
