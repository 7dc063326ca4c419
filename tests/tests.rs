//! The one integration test binary: drives the `fbs` binary and the libraries against real
//! tools and servers started by `scripts/testenv.sh`.

mod helper;

mod cli;
mod deploy;
mod fixtures;
mod fleet;
mod kickstart;
mod koji;
mod local;
mod monitor;
mod native;
mod pipeline;
mod runner;
mod spec;
mod staging;
