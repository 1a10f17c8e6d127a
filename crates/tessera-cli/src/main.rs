//! `tessera`: verify, inspect and issue credentials, and generate keys.
#![forbid(unsafe_code)]
// Library and binary code never unwraps; tests may (clippy.toml).
#![warn(clippy::unwrap_used)]

mod hints;
mod inspect;
mod issue;
mod keygen;
mod keyspec;
mod rules;
mod serve;
mod siwe;
mod timefmt;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc. A request to `tessera serve` makes
/// many small short-lived allocations (hyper, h2, tonic, prost), and glibc's
/// malloc and free were 12 % of the server's CPU on the gRPC `Check` path
/// (perf, 2026-12-06). With mimalloc, per request on a quiet machine
/// (`scripts/loadtest-gateway`, release): Envoy HTTP 11.6 -> 10.8 us of
/// server CPU, gRPC `Check` 13.9 -> 12.7 us (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Token authentication for APIs whose users log in with a wallet.
#[derive(Parser)]
#[command(name = "tessera", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify a credential; prints one JSON object, exit 0 valid, 1 invalid, 2 usage error.
    Verify(verify::VerifyArgs),
    /// Decode a credential WITHOUT verifying it, to look inside.
    Inspect(inspect::InspectArgs),
    /// Sign a new credential with a private key.
    Issue(issue::IssueArgs),
    /// Generate a key pair (private and public JWK, or PEM).
    Keygen(keygen::KeygenArgs),
    /// Build or verify a Sign-In with Ethereum (EIP-4361) message.
    Siwe(siwe::SiweArgs),
    /// Run the HTTP server (sessions, forward-auth, JWKS, metrics).
    Serve(serve::ServeArgs),
    /// Manage the server's signing keys in its data directory.
    Keys(serve::KeysArgs),
    /// Check forward-auth [[rule]] tables against a request (`tessera rules test`).
    Rules(rules::RulesArgs),
}

/// A usage or configuration problem: exit 2, message on stderr.
#[derive(Debug)]
pub struct UsageError(pub String);

impl<E: std::fmt::Display> From<E> for UsageError {
    fn from(e: E) -> Self {
        UsageError(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify(args) => verify::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Issue(args) => issue::run(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Siwe(args) => siwe::run(args),
        Command::Keys(args) => serve::keys(args),
        Command::Rules(args) => rules::run(args),
    };
    match result {
        Ok(code) => code,
        Err(UsageError(msg)) => {
            eprintln!("tessera: {msg}");
            ExitCode::from(2)
        }
    }
}

/// Reads a credential argument: the value itself, or `-` for stdin.
pub fn read_credential(arg: &str) -> Result<String, UsageError> {
    if arg == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock().take(1 << 20), &mut s)
            .map_err(|e| UsageError(format!("cannot read the credential from stdin: {e}")))?;
        Ok(s.trim().to_owned())
    } else {
        Ok(arg.trim().to_owned())
    }
}

use std::io::Read as _;

/// Writes `text` to stdout. A reader that stops early (`| head -c1`,
/// `| grep -q`) closes the pipe: that is no error of ours and must not
/// change the exit status (0/1/2, contracts.md), so a broken pipe is
/// ignored. `print!` would panic (exit 101) instead: Rust ignores SIGPIPE,
/// so the write fails with EPIPE. Any other write error is reported on
/// stderr; the exit status still says what the command found.
pub fn print_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            let _ = writeln!(std::io::stderr(), "tessera: cannot write to stdout: {e}");
        }
        _ => {}
    }
}

/// Prints one JSON value (and a newline) on stdout ([`print_out`]).
pub fn print_json(v: &serde_json::Value) {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    print_out(&text);
}
