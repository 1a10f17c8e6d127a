//! `tessera keygen`

use crate::verify::parse_alg;
use crate::{print_json, UsageError};
use clap::Args;
use serde_json::json;
use std::process::ExitCode;
use tessera_core::internal::ethereum::EthereumSecretKey;
use tessera_core::internal::nostr::NostrSecretKey;
use tessera_core::Value;
use tessera_core::{Algorithm, SigningKey};

#[derive(Args)]
pub struct KeygenArgs {
    /// Algorithm the key is pinned to (HS256 … EdDSA), or `nostr` / `ethereum` for wallet keys.
    #[arg(long, value_parser = parse_kind)]
    alg: KeyKind,
    /// Key id to embed; defaults to the RFC 7638 thumbprint for public keys.
    #[arg(long)]
    kid: Option<String>,
    /// Print PKCS#8 and SPKI PEM instead of JWKs.
    #[arg(long)]
    pem: bool,
    /// Write the private key to this file (mode 0600) and the public one to FILE.pub;
    /// stdout then shows only the public part and the file names, never the private key.
    #[arg(long, value_name = "FILE")]
    out: Option<String>,
}

#[derive(Clone, Copy, Debug)]
pub enum KeyKind {
    Jose(Algorithm),
    Nostr,
    Ethereum,
}

fn parse_kind(s: &str) -> Result<KeyKind, String> {
    match s {
        "nostr" => Ok(KeyKind::Nostr),
        "ethereum" | "eth" => Ok(KeyKind::Ethereum),
        other => parse_alg(other)
            .map(KeyKind::Jose)
            .map_err(|e| format!("{e}, nostr or ethereum")),
    }
}

fn write_private(path: &str, contents: &str) -> Result<(), UsageError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| {
        UsageError(format!(
            "cannot create {path:?}: {e} (existing files are never overwritten)"
        ))
    })?;
    f.write_all(contents.as_bytes())
        .map_err(|e| UsageError(format!("cannot write {path:?}: {e}")))
}

fn wallet(args: &KeygenArgs) -> Result<ExitCode, UsageError> {
    let (private, public, out) = match args.alg {
        KeyKind::Nostr => {
            let sk = NostrSecretKey::generate();
            let pk = sk.public_key();
            (
                sk.to_nsec(),
                pk.to_hex(),
                json!({"kind": "nostr", "secret_hex": sk.to_hex(), "nsec": sk.to_nsec(), "public_hex": pk.to_hex(), "npub": pk.to_npub()}),
            )
        }
        _ => {
            let sk = EthereumSecretKey::generate();
            let addr = sk.address().to_checksum();
            (
                format!("0x{}", sk.to_hex().trim_start_matches("0x")),
                addr.clone(),
                json!({"kind": "ethereum", "secret_hex": format!("0x{}", sk.to_hex().trim_start_matches("0x")), "address": addr}),
            )
        }
    };
    match &args.out {
        Some(path) => {
            write_private(path, &format!("{private}\n"))?;
            std::fs::write(format!("{path}.pub"), format!("{public}\n"))
                .map_err(|e| UsageError(format!("cannot write {path}.pub: {e}")))?;
            let mut shown = out;
            if let Some(o) = shown.as_object_mut() {
                o.retain(|k, _| !matches!(k.as_str(), "secret_hex" | "nsec"));
                o.insert("private_key_file".into(), json!(path));
                o.insert("public_key_file".into(), json!(format!("{path}.pub")));
            }
            print_json(&shown);
        }
        None => print_json(&out),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: KeygenArgs) -> Result<ExitCode, UsageError> {
    let alg = match args.alg {
        KeyKind::Jose(alg) => alg,
        _ => return wallet(&args),
    };
    let mut key = SigningKey::generate(alg).map_err(|e| UsageError(e.message().to_owned()))?;
    let kid = match &args.kid {
        Some(k) => Some(k.clone()),
        None => key.verifying_key().ok().and_then(|k| k.thumbprint()),
    };
    if let Some(kid) = kid {
        key = key.with_kid(kid);
    }
    let fail = |e: tessera_core::Error| UsageError(e.message().to_owned());
    let (private, public) = if args.pem {
        (
            key.to_pkcs8_pem().map_err(fail)?,
            key.to_public_pem().map_err(fail)?,
        )
    } else {
        let private = Value::Object(key.to_private_jwk().map_err(fail)?).to_json();
        let public = key
            .verifying_key()
            .map_err(fail)?
            .to_public_jwk()
            .map(|o| Value::Object(o).to_json())
            .unwrap_or_default();
        (private, public)
    };
    if let Some(path) = &args.out {
        write_private(path, &private)?;
        let public_file = if public.is_empty() {
            None
        } else {
            let name = format!("{path}.pub");
            std::fs::write(&name, &public)
                .map_err(|e| UsageError(format!("cannot write {name}: {e}")))?;
            Some(name)
        };
        // The private key went to its file (0600) only: stdout may be a
        // terminal, a log or a CI transcript.
        if args.pem {
            crate::print_out(&public);
        } else {
            let public_jwk = serde_json::from_str::<serde_json::Value>(&public)
                .unwrap_or(serde_json::Value::Null);
            print_json(&json!({
                "alg": alg.name(),
                "kid": key.kid(),
                "public_jwk": public_jwk,
                "private_key_file": path,
                "public_key_file": public_file,
            }));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.pem {
        crate::print_out(&format!("{private}{public}"));
    } else {
        let parse = |s: &str| {
            serde_json::from_str::<serde_json::Value>(s).unwrap_or(serde_json::Value::Null)
        };
        print_json(&json!({
            "alg": alg.name(),
            "kid": key.kid(),
            "private_jwk": parse(&private),
            "public_jwk": if public.is_empty() { serde_json::Value::Null } else { parse(&public) },
        }));
    }
    Ok(ExitCode::SUCCESS)
}
