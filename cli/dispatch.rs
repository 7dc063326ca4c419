//! One `match` from subcommand to the library function that does it.

use clap::CommandFactory;
use fbs_core::exit;

use crate::args::{Cli, Command, KsCommand, LocalArgs};

/// Run `command`; returns the exit code.
pub fn run(command: Command) -> u8 {
    match command {
        Command::Validate { specs, json } => fbs_client::validate::run(&specs, json),
        Command::Ks(KsCommand::Flatten { file, root }) => {
            fbs_client::ks::flatten_cmd(&file, root.as_deref())
        }
        Command::Local(args) => block_on(local(args)),
        Command::Jobs(cmd) => crate::jobs::run(cmd),
        Command::Deploy(args) => block_on(crate::deploy::deploy(args)),
        Command::Fleet(cmd) => block_on(crate::deploy::fleet(cmd)),
        Command::Monitor(args) => block_on(crate::monitor::serve(args)),
        Command::Token(cmd) => block_on(crate::monitor::token(cmd)),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "fbs", &mut std::io::stdout());
            exit::SUCCESS
        }
    }
}

fn block_on(f: impl Future<Output = u8>) -> u8 {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("fbs: cannot start the async runtime: {e}");
            exit::UNAVAILABLE
        }
    }
}

async fn local(args: LocalArgs) -> u8 {
    let (mut config, source) = match fbs_core::config::load_daemon(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return exit::INVALID_INPUT;
        }
    };
    if let Some(b) = args.builder {
        config.worker.builder = Some(b);
    }
    if let Some(u) = args.ftp_user.clone() {
        config.staging.ftp_user = Some(u);
        config.staging.ftp_password = None;
    }
    if let Some(f) = args.ftp_password_file.clone() {
        config.staging.ftp_password_file = Some(f);
        config.staging.ftp_password = None;
    }
    let job = match fbs_client::prepare::load_job(&args.spec, args.ks_root.as_deref()).await {
        Ok(j) => j,
        Err(e) => {
            eprintln!("{e}");
            return e.exit_code();
        }
    };
    for w in &job.warnings {
        eprintln!("{}: warning: {w}", args.spec.display());
    }
    let opts = fbs_worker::local::LocalOptions {
        config,
        source,
        state_dir: args.state_dir,
        follow: !args.quiet,
        json: args.json,
    };
    let builders = fbs_worker::builders::default_builders();
    fbs_worker::local::run(opts, job.spec, job.kickstart, builders).await
}
