//! `fbs monitor` and `fbs token …`: arguments and the hand-off to `fbs_monitor`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use fbs_core::exit;

/// `fbs monitor`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// Listen address (default: monitor.listen, 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The daemon config (TOML, or a deploy.conf); default FBS_CONFIG, else /etc/fbs/fbs.toml.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// webapp (the master: UI, API, notifier) or worker (a worker host's metrics and logs).
    #[arg(long, default_value = "webapp", value_parser = parse_role)]
    pub role: fbs_monitor::Role,
    /// The default broker; overrides FBS_BROKER and the config.
    #[arg(long, value_name = "URL")]
    pub broker: Option<String>,
    /// Without a broker: where the SQLite job store lives (default ~/.local/share/fbs).
    #[arg(long, env = "FBS_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Run in the background (hosts without systemd).
    #[command(flatten)]
    pub daemon: crate::daemon::DaemonArgs,
}

fn parse_role(s: &str) -> Result<fbs_monitor::Role, String> {
    s.parse()
}

/// `fbs token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once and only its hash is stored.
    Create {
        /// Who or what uses it.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tokens (names and creation times).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by name.
    Revoke {
        /// The token's name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Where tokens are stored.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The daemon config; default FBS_CONFIG, else /etc/fbs/fbs.toml.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The default broker; overrides FBS_BROKER and the config.
    #[arg(long, value_name = "URL")]
    pub broker: Option<String>,
    /// Without a broker: the SQLite store's directory (default ~/.local/share/fbs).
    #[arg(long, env = "FBS_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

fn config(
    file: Option<&std::path::Path>,
    broker: Option<String>,
) -> Result<fbs_core::config::DaemonConfig, u8> {
    let (mut cfg, _) = fbs_core::config::load_daemon(file).map_err(|e| {
        eprintln!("fbs: {e}");
        exit::INVALID_INPUT
    })?;
    if let Some(b) = broker {
        cfg.broker.default = Some(b);
    }
    Ok(cfg)
}

fn prefix() -> String {
    std::env::var(fbs_client::fleet::PREFIX_ENV).unwrap_or_default()
}

/// Run `fbs monitor`.
pub async fn serve(args: MonitorArgs) -> u8 {
    let guard = match args.daemon.detach("monitor") {
        crate::daemon::Detach::Exit(code) => return code,
        crate::daemon::Detach::Run(guard) => guard,
    };
    let code = serve_here(args).await;
    drop(guard);
    code
}

async fn serve_here(args: MonitorArgs) -> u8 {
    let cfg = match config(args.config.as_deref(), args.broker) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let options = fbs_monitor::MonitorOptions {
        listen: args.listen,
        role: args.role,
        key_prefix: prefix(),
        state_dir: args.state_dir,
        handle_signals: true,
        notifier: true,
        ..Default::default()
    };
    match fbs_monitor::run(cfg, options).await {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            eprintln!("fbs monitor: {e}");
            e.exit_code()
        }
    }
}

/// Run `fbs token …`.
pub async fn token(cmd: TokenCommand) -> u8 {
    let store = match &cmd {
        TokenCommand::Create { store, .. }
        | TokenCommand::List { store }
        | TokenCommand::Revoke { store, .. } => store,
    };
    let cfg = match config(store.config.as_deref(), store.broker.clone()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let backend =
        match fbs_monitor::token::open_backend(&cfg, &prefix(), store.state_dir.as_deref()).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("fbs: {e}");
                return e.exit_code();
            }
        };
    use fbs_monitor::token as t;
    match cmd {
        TokenCommand::Create { name, .. } => match t::create(&backend, &name).await {
            Ok(token) => {
                println!("{token}");
                eprintln!("token `{name}` created; it is shown only now");
                exit::SUCCESS
            }
            Err(e) => {
                eprintln!("fbs: {e}");
                e.exit_code()
            }
        },
        TokenCommand::List { .. } => match t::list(&backend).await {
            Ok(tokens) => {
                println!("{:<32}  CREATED", "NAME");
                for tk in tokens {
                    println!(
                        "{:<32}  {}",
                        tk.name,
                        tk.created_at.format("%Y-%m-%d %H:%M:%S")
                    );
                }
                exit::SUCCESS
            }
            Err(e) => fbs_client::fleet::fail(&e),
        },
        TokenCommand::Revoke { name, .. } => match t::revoke(&backend, &name).await {
            Ok(true) => {
                println!("token `{name}` revoked");
                exit::SUCCESS
            }
            Ok(false) => {
                eprintln!("fbs: no token named `{name}`");
                exit::INVALID_INPUT
            }
            Err(e) => fbs_client::fleet::fail(&e),
        },
    }
}
