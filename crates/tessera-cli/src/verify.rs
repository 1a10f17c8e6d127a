//! `tessera verify`

use crate::{hints, keyspec, print_json, read_credential, UsageError};
use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::Arc;
use tessera_core::Address;
use tessera_core::{
    Algorithm, Error, FixedClock, FormatHint, Identity, Policy, SystemClock, Verifier,
};
use tessera_core::{HttpRequest, NostrPublicKey};

/// Which credential format to expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Choose by scheme, header and key kind.
    Auto,
    /// A standard JWT.
    Jwt,
    /// A Portal wallet JWT.
    Portal,
    /// A thirdweb-format wallet JWT.
    Thirdweb,
    /// A Nostr Web Token (kind 27519).
    Nwt,
    /// A NIP-98 HTTP Auth event (kind 27235).
    Nip98,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// A compact JWT, a whole Authorization value (`Bearer <jwt>`, `Nostr <event>`), or `-` for stdin.
    credential: String,
    /// A trusted key: key file (JWK, JWK Set, PEM), secret:<file>, nostr:<hex|npub>, eth:<0x address>. Repeatable.
    #[arg(long = "key", value_name = "KEYSPEC")]
    keys: Vec<String>,
    /// Narrow the accepted algorithms. Repeatable.
    #[arg(long = "alg", value_name = "ALG", value_parser = parse_alg)]
    algs: Vec<Algorithm>,
    /// Expected audience; any one must match. Repeatable. Without it, a credential that names an audience is refused (audience_mismatch) unless --any-aud is given.
    #[arg(long = "aud", value_name = "AUD")]
    auds: Vec<String>,
    /// Accept a credential that names an audience when no --aud is given (otherwise audience_mismatch, RFC 7519 §4.1.3).
    #[arg(long, conflicts_with = "auds")]
    any_aud: bool,
    /// Expected issuer.
    #[arg(long)]
    iss: Option<String>,
    /// Evaluate time at this Unix instant instead of the clock.
    #[arg(long, value_name = "UNIX")]
    now: Option<i64>,
    /// Clock skew allowance in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    leeway: i64,
    /// The request URL a NIP-98 event must match.
    #[arg(long)]
    url: Option<String>,
    /// The request method a NIP-98 event must match.
    #[arg(long)]
    method: Option<String>,
    /// The request body a NIP-98 payload hash must match.
    #[arg(long, value_name = "FILE")]
    body_file: Option<String>,
    /// Credential format.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// Accept bearer credentials without `exp`.
    #[arg(long)]
    allow_no_exp: bool,
}

pub fn parse_alg(s: &str) -> Result<Algorithm, String> {
    Algorithm::from_name(s).ok_or_else(|| {
        format!(
            "unknown algorithm {s:?}; use one of {}",
            Algorithm::ALL.map(|a| a.name()).join(", ")
        )
    })
}

/// The JSON for a verified identity (contracts.md).
pub fn identity_json(id: &Identity) -> Value {
    json!({
        "valid": true,
        "format": id.format.as_str(),
        "alg": id.alg.name(),
        "issuer": id.issuer,
        "subject": id.subject,
        "audience": id.audience,
        "expires_at": id.expires_at,
        "claims": tessera_core::Value::Object(id.claims.object().clone()).to_serde(),
    })
}

/// The JSON for a refusal.
pub fn error_json(e: &Error) -> Value {
    json!({
        "valid": false,
        "error": {
            "code": e.code().as_str(),
            "message": format!("{}; {}", e.message(), hints::next_step(e.code())),
        }
    })
}

/// Splits an Authorization value into (scheme, credential); a bare token has no scheme.
pub fn split_scheme(value: &str) -> (Option<&str>, &str) {
    match value.split_once(' ') {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("nostr") =>
        {
            (Some(scheme), rest)
        }
        _ => (None, value),
    }
}

pub fn run(args: VerifyArgs) -> Result<ExitCode, UsageError> {
    let credential = read_credential(&args.credential)?;
    if credential.is_empty() {
        return Err(UsageError(
            "the credential is empty; pass a token, an Authorization value, or - for stdin".into(),
        ));
    }
    let mut trusted = keyspec::TrustedKeys::default();
    for spec in &args.keys {
        keyspec::add(&mut trusted, spec, &args.algs)?;
    }
    if args.leeway < 0 {
        return Err(UsageError("--leeway cannot be negative".into()));
    }
    let policy = Policy {
        algorithms: if args.algs.is_empty() {
            None
        } else {
            Some(args.algs.clone())
        },
        audiences: args.auds.clone(),
        accept_any_audience: args.any_aud,
        issuer: args.iss.clone(),
        leeway: args.leeway,
        require_exp: !args.allow_no_exp,
        ..Policy::default()
    };
    let clock: Arc<dyn tessera_core::Clock> = match args.now {
        Some(t) => Arc::new(FixedClock(t)),
        None => Arc::new(SystemClock),
    };
    let (scheme, token) = split_scheme(&credential);
    let is_nostr = scheme.is_some_and(|s| s.eq_ignore_ascii_case("nostr"));
    let hint = match args.format {
        FormatArg::Auto => FormatHint::Auto,
        FormatArg::Jwt => FormatHint::Jwt,
        FormatArg::Portal => FormatHint::Portal,
        FormatArg::Thirdweb => FormatHint::Thirdweb,
        FormatArg::Nwt => FormatHint::Nwt,
        FormatArg::Nip98 => FormatHint::Nip98,
    };
    let nostr_keys = trusted
        .nostr
        .iter()
        .map(|k| {
            NostrPublicKey::parse(k).map_err(|e| {
                UsageError(format!(
                    "--key nostr:{k:?}: {}; give a 64-hex x-only key or an npub",
                    e.message()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let eth_admins = trusted
        .eth
        .iter()
        .map(|a| {
            Address::parse(a).map_err(|e| {
                UsageError(format!(
                    "--key eth:{a:?}: {}; give a 0x-prefixed 20-byte address",
                    e.message()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let body = match &args.body_file {
        Some(path) => Some(keyspec::read_file_limited(
            path,
            keyspec::MAX_BODY_FILE,
            "body file",
        )?),
        None => None,
    };
    let request = match (&args.url, &args.method) {
        (Some(url), Some(method)) => Some((url.clone(), method.clone())),
        (None, None) => None,
        _ => {
            return Err(UsageError(
                "--url and --method go together (the request a NIP-98 event must match)".into(),
            ))
        }
    };
    let jwt_keys_needed =
        !is_nostr && matches!(hint, FormatHint::Auto | FormatHint::Jwt) && trusted.jwt.is_empty();
    let verifier = Verifier::new(policy, trusted.jwt)
        .with_clock(clock)
        .with_nostr_keys(nostr_keys)
        .with_eth_admins(eth_admins);
    if jwt_keys_needed
        && (hint == FormatHint::Jwt || verifier.detect_bearer(token) == tessera_core::Format::Jwt)
    {
        return Err(UsageError(
            "a JWT needs a key to verify against: pass --key <jwk|jwks|pem file> or --key secret:<file> (nostr:<key> for Portal, eth:<address> for thirdweb)".into(),
        ));
    }
    let http = request.as_ref().map(|(url, method)| HttpRequest {
        url,
        method,
        body: body.as_deref(),
    });
    match verifier.verify_authorization(&credential, http.as_ref(), hint, true) {
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
