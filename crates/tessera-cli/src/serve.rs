//! `tessera serve` and `tessera keys`.

use crate::UsageError;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tessera_core::{Clock, SystemClock};
use tessera_server::config::Config;

#[derive(Args, Clone)]
pub struct ServerOptions {
    /// TOML configuration file; every key can be overridden by TESSERA_<KEY> and by these flags.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to bind (default 127.0.0.1:8787).
    #[arg(long)]
    listen: Option<String>,
    /// Data directory: SQLite database and generated keys (default ./tessera-data).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Store URL: sqlite://PATH, postgres://..., redis://... (env TESSERA_STORE).
    #[arg(long)]
    store: Option<String>,
    /// The server's public URL (access-token iss/aud, SIWE domain, NIP-98 URLs).
    #[arg(long)]
    public_url: Option<String>,
}

impl ServerOptions {
    /// Defaults, then the file, then TESSERA_* variables, then flags.
    pub fn effective(&self) -> Result<Config, UsageError> {
        let mut config = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        config.apply_env(std::env::vars())?;
        if let Some(v) = &self.listen {
            config.listen = v.clone();
        }
        if let Some(v) = &self.data_dir {
            config.data_dir = v.clone();
        }
        if let Some(v) = &self.store {
            config.store = Some(v.clone());
        }
        if let Some(v) = &self.public_url {
            config.public_url = Some(v.clone());
        }
        config.validate()?;
        Ok(config)
    }
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    options: ServerOptions,
    /// Print the effective configuration (secrets masked) and exit.
    #[arg(long)]
    print_config: bool,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn run(args: ServeArgs) -> Result<ExitCode, UsageError> {
    let config = args.options.effective()?;
    if args.print_config {
        crate::print_out(&config.to_masked_toml());
        return Ok(ExitCode::SUCCESS);
    }
    init_logging(args.log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| UsageError(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(tessera_server::serve::serve(config))?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new access-token signer; the previous one stays published until its tokens expire.
    /// Running servers on this data directory publish the new key within
    /// key_reload_interval_seconds (at once on SIGHUP) and sign with it
    /// key_publish_delay_seconds after this command (docs/key-rotation.md).
    Rotate {
        #[command(flatten)]
        options: ServerOptions,
    },
    /// List the signers in the data directory.
    List {
        #[command(flatten)]
        options: ServerOptions,
    },
}

pub fn keys(args: KeysArgs) -> Result<ExitCode, UsageError> {
    let now = SystemClock.now();
    match args.command {
        KeysCommand::Rotate { options } => {
            let config = options.effective()?;
            let alg = config.signing_alg.algorithm();
            let mut keys =
                tessera_server::keys::ServerKeys::load_or_create(&config.data_dir, alg, now)?;
            let kid = keys.rotate(&config.data_dir, alg, now)?;
            crate::print_json(&serde_json::json!({"rotated": true, "kid": kid, "alg": alg.name()}));
        }
        KeysCommand::List { options } => {
            let config = options.effective()?;
            let keys = tessera_server::keys::ServerKeys::load_or_create(
                &config.data_dir,
                config.signing_alg.algorithm(),
                now,
            )?;
            let list: Vec<_> = keys
                .signers()
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "kid": s.key.kid(),
                        "alg": s.key.algorithm().name(),
                        "created_at": s.created_at,
                        "retired_at": s.retired_at,
                    })
                })
                .collect();
            crate::print_json(
                &serde_json::json!({"signers": list, "nostr_pubkey": keys.nostr_pubkey_hex()}),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
