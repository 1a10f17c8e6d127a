//! `tessera siwe message|sign|verify`: the EIP-4361 login message.

use crate::verify::{error_json, identity_json};
use crate::{keyspec, print_json, read_credential, timefmt, UsageError};
use clap::{Args, Subcommand};
use std::process::ExitCode;
use tessera_core::internal::encoding::hex_encode;
use tessera_core::internal::ethereum::siwe::{self, SiweExpectations, SiweMessage};
use tessera_core::internal::ethereum::{EthereumSecretKey, Rfc3339Time};
use tessera_core::Address;
use tessera_core::{Clock, SystemClock};

#[derive(Args)]
pub struct SiweArgs {
    #[command(subcommand)]
    command: SiweCommand,
}

#[derive(Subcommand)]
enum SiweCommand {
    /// Print an EIP-4361 message for a wallet to sign.
    Message {
        /// The domain (host[:port]) asking for the sign-in.
        #[arg(long)]
        domain: String,
        /// The signer's address (EIP-55 or lowercase; printed as EIP-55).
        #[arg(long)]
        address: String,
        /// The URI of the resource, e.g. https://example.com/login.
        #[arg(long)]
        uri: String,
        /// The server-issued nonce (at least 8 alphanumerics).
        #[arg(long)]
        nonce: String,
        /// Chain ID.
        #[arg(long, default_value_t = 1)]
        chain_id: u64,
        /// A one-line statement shown to the user.
        #[arg(long)]
        statement: Option<String>,
        /// Expiration Time = now + ttl (e.g. 5m).
        #[arg(long)]
        ttl: Option<String>,
        /// Issued At as this Unix instant instead of the clock.
        #[arg(long, value_name = "UNIX")]
        now: Option<i64>,
    },
    /// Sign a message file with an Ethereum secret (personal_sign), printing 0x… hex.
    Sign {
        /// File with the message text, or - for stdin.
        #[arg(long)]
        message: String,
        /// File holding a 0x hex secret (tessera keygen --alg ethereum --out FILE).
        #[arg(long)]
        key: String,
    },
    /// Verify a signed message; JSON out, exit 0 valid, 1 invalid, 2 usage error.
    Verify {
        /// File with the message text, or - for stdin.
        #[arg(long)]
        message: String,
        /// The 0x-prefixed 65-byte signature.
        #[arg(long)]
        signature: String,
        /// The domain the message must name.
        #[arg(long)]
        domain: String,
        /// The nonce the server issued.
        #[arg(long)]
        nonce: String,
        /// Evaluate time at this Unix instant instead of the clock.
        #[arg(long, value_name = "UNIX")]
        now: Option<i64>,
    },
}

fn read_message(arg: &str) -> Result<String, UsageError> {
    if arg == "-" {
        return read_credential("-");
    }
    let bytes = keyspec::read_file_limited(arg, keyspec::MAX_KEY_FILE, "message file")?;
    String::from_utf8(bytes).map_err(|_| UsageError(format!("{arg:?} is not UTF-8 text")))
}

pub fn run(args: SiweArgs) -> Result<ExitCode, UsageError> {
    match args.command {
        SiweCommand::Message {
            domain,
            address,
            uri,
            nonce,
            chain_id,
            statement,
            ttl,
            now,
        } => {
            let now = now.unwrap_or_else(|| SystemClock.now());
            let address = Address::parse(&address).map_err(|e| {
                UsageError(format!(
                    "--address: {}; give a 0x-prefixed 20-byte address",
                    e.message()
                ))
            })?;
            let issued = Rfc3339Time::from_unix(now)
                .map_err(|e| UsageError(format!("--now: {}", e.message())))?;
            let mut b = SiweMessage::builder(domain, address, uri, chain_id, nonce, issued);
            if let Some(s) = statement {
                b = b.statement(s);
            }
            if let Some(ttl) = ttl {
                let secs = timefmt::parse_duration(&ttl).map_err(UsageError)?;
                let exp = Rfc3339Time::from_unix(now.saturating_add(secs))
                    .map_err(|e| UsageError(format!("--ttl: {}", e.message())))?;
                b = b.expiration_time(exp);
            }
            let msg = b
                .build()
                .map_err(|e| UsageError(format!("cannot build the message: {}", e.message())))?;
            crate::print_out(&msg.to_string());
            Ok(ExitCode::SUCCESS)
        }
        SiweCommand::Sign { message, key } => {
            let text = read_message(&message)?;
            let msg = SiweMessage::parse(&text)
                .map_err(|e| UsageError(format!("not an EIP-4361 message: {}", e.message())))?;
            let bytes = keyspec::read_file(&key)?;
            let secret = EthereumSecretKey::from_hex(String::from_utf8_lossy(&bytes).trim())
                .map_err(|e| UsageError(format!("{key:?}: {}", e.message())))?;
            crate::print_out(&format!("0x{}\n", hex_encode(&siwe::sign(&msg, &secret))));
            Ok(ExitCode::SUCCESS)
        }
        SiweCommand::Verify {
            message,
            signature,
            domain,
            nonce,
            now,
        } => {
            let text = read_message(&message)?;
            let now = now.unwrap_or_else(|| SystemClock.now());
            let expect = SiweExpectations::new(&domain, &nonce, now);
            match siwe::verify_siwe_message(&text, signature.trim(), &expect) {
                Ok(id) => {
                    print_json(&identity_json(&id));
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    print_json(&error_json(&e));
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
