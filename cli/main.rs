//! The `fbs` binary: parse the command line, set up diagnostics, hand off to a library.

mod args;
mod daemon;
mod deploy;
mod dispatch;
mod jobs;
mod monitor;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    init_tracing(cli.verbose, cli.log_json);
    ExitCode::from(dispatch::run(cli.command))
}

fn init_tracing(verbose: u8, json: bool) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // suppaftp traces every FTP command, `PASS` included: never below debug.
    let filter = match "suppaftp=debug".parse() {
        Ok(d) => filter.add_directive(d),
        Err(_) => filter,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        <super::args::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
