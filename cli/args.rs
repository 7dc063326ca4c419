//! The command line: every subcommand and flag of `fbs`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// On-demand OS image builds: hand fbs a build spec, get a verified image back.
#[derive(Debug, Parser)]
#[command(name = "fbs", version, propagate_version = true, after_help = fbs_core::exit::HELP)]
pub struct Cli {
    /// More diagnostics (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Diagnostics as JSON lines (for daemons under a log collector).
    #[arg(long, global = true)]
    pub log_json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check build specs (and the kickstarts they name) without building anything.
    #[command(after_help = fbs_core::exit::HELP)]
    Validate {
        /// Spec files: FBS INI (`.conf`) or TOML (`.toml`).
        #[arg(required = true)]
        specs: Vec<PathBuf>,
        /// One JSON object per spec on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Kickstart tools.
    #[command(subcommand)]
    Ks(KsCommand),
    /// Build a spec on this machine now: embedded queue, no servers; follows the log and
    /// prints the artifact paths. Ctrl-C cancels cleanly.
    #[command(after_help = fbs_core::exit::HELP)]
    Local(LocalArgs),
    /// The worker daemon and the job commands.
    #[command(flatten)]
    Jobs(crate::jobs::JobCommand),
    /// Install or update fbs on the fleet's hosts from a deploy.conf.
    #[command(after_help = fbs_core::exit::HELP)]
    Deploy(crate::deploy::DeployArgs),
    /// The fleet's hosts: daemon status, stop, restart, logs.
    #[command(subcommand)]
    Fleet(crate::deploy::FleetCommand),
    /// Serve the monitor: REST API, live logs, web UI, metrics (and, on the master, mail).
    #[command(after_help = fbs_core::exit::HELP)]
    Monitor(crate::monitor::MonitorArgs),
    /// API tokens for the monitor: create (printed once), list, revoke.
    #[command(subcommand)]
    Token(crate::monitor::TokenCommand),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `fbs local`.
#[derive(Debug, clap::Args)]
pub struct LocalArgs {
    /// The build spec (FBS INI `.conf` or TOML `.toml`).
    pub spec: PathBuf,
    /// Daemon config (fbs.toml) or an old deploy.conf; default $FBS_CONFIG, then
    /// /etc/fbs/fbs.toml.
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Where the job database and job directories live (default ~/.local/share/fbs).
    #[arg(long, env = "FBS_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Kickstart includes must stay inside this directory (default: the spec's directory).
    #[arg(long)]
    pub ks_root: Option<PathBuf>,
    /// The builder to use, overriding the spec.
    #[arg(long, value_parser = parse_builder)]
    pub builder: Option<fbs_core::spec::BuilderChoice>,
    /// Do not print the build log while it runs.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the final job record as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// The FTP login for an ftp:// or ftps:// staging target (wins over the config's
    /// `staging.ftp_user`, FBS_FTP_USER, the URL and ~/.netrc).
    #[arg(long, value_name = "USER")]
    pub ftp_user: Option<String>,
    /// A file whose first line is the FTP password (never give it on the command line).
    #[arg(long, value_name = "FILE")]
    pub ftp_password_file: Option<PathBuf>,
}

fn parse_builder(s: &str) -> Result<fbs_core::spec::BuilderChoice, String> {
    s.parse()
}

/// `fbs ks …`.
#[derive(Debug, Subcommand)]
pub enum KsCommand {
    /// Print a kickstart with every `%include` inlined.
    #[command(after_help = fbs_core::exit::HELP)]
    Flatten {
        /// The kickstart file.
        file: PathBuf,
        /// Includes must stay inside this directory (default: the file's directory).
        #[arg(long)]
        root: Option<PathBuf>,
    },
}
