//! `tessera issue`: sign a new credential.

use crate::verify::parse_alg;
use crate::{keyspec, timefmt, UsageError};
use clap::Args;
use std::io::Write;
use std::process::ExitCode;
use tessera_core::internal::ethereum::{issue_thirdweb, EthereumSecretKey, ThirdwebClaims};
use tessera_core::internal::json;
use tessera_core::internal::nostr::{
    issue_nip98, issue_nwt, issue_portal, nip98_authorization, nwt_authorization, Event,
    NostrSecretKey, NwtClaims, NIP98_KIND,
};
use tessera_core::NostrPublicKey;
use tessera_core::{jwt, Algorithm, Clock, SystemClock};
use tessera_core::{Object, Value};

/// What `tessera issue` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum IssueFormat {
    /// A standard JWT (key: private JWK or PEM).
    Jwt,
    /// A Nostr Web Token, printed as an Authorization value `Nostr <base64url>` (key: nsec or hex).
    Nwt,
    /// A NIP-98 event for --url/--method (--body-file), as `Nostr <base64>` (key: nsec or hex).
    Nip98,
    /// A Portal wallet JWT vouching for --aud (the target key) (key: nsec or hex).
    Portal,
    /// A thirdweb-format wallet JWT (key: 0x Ethereum secret); --sub is the user address, --aud the domain.
    Thirdweb,
}

#[derive(Args)]
pub struct IssueArgs {
    /// Private key file: JWK or PEM for JWTs; nsec/hex for Nostr formats; 0x hex secret for thirdweb.
    #[arg(long)]
    key: String,
    /// What to make.
    #[arg(long, value_enum, default_value_t = IssueFormat::Jwt)]
    format: IssueFormat,
    /// NWT: the human message in the event's content.
    #[arg(long)]
    message: Option<String>,
    /// NIP-98: the absolute request URL.
    #[arg(long)]
    url: Option<String>,
    /// NIP-98: the HTTP method.
    #[arg(long)]
    method: Option<String>,
    /// NIP-98: the request body (its SHA-256 goes in the payload tag).
    #[arg(long, value_name = "FILE")]
    body_file: Option<String>,
    /// Algorithm (needed for RSA keys; others are implied by the key).
    #[arg(long, value_parser = parse_alg)]
    alg: Option<Algorithm>,
    /// `sub` claim.
    #[arg(long)]
    sub: Option<String>,
    /// `aud` claim. Repeatable (an array when given more than once).
    #[arg(long = "aud")]
    auds: Vec<String>,
    /// `iss` claim.
    #[arg(long)]
    iss: Option<String>,
    /// Lifetime: `exp = now + ttl` (e.g. 90s, 15m, 1h, 7d).
    #[arg(long, default_value = "15m")]
    ttl: String,
    /// Extra claim `name=value`; the value is read as JSON when it parses (numbers, true, objects), else as a string. Repeatable.
    #[arg(long = "claim", value_name = "K=V")]
    claims: Vec<String>,
    /// `kid` header.
    #[arg(long)]
    kid: Option<String>,
    /// `typ` header.
    #[arg(long)]
    typ: Option<String>,
    /// Issue as of this Unix instant instead of the clock.
    #[arg(long, value_name = "UNIX")]
    now: Option<i64>,
    /// Add a random `jti`.
    #[arg(long)]
    jti: bool,
    /// Wallet formats: print this many credentials, one per line, each a
    /// distinct credential (NWT and NIP-98 events then carry a random
    /// `nonce` tag, so each has its own event id), e.g. for load tests.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    count: u32,
}

pub fn parse_claim(kv: &str) -> Result<(String, Value), UsageError> {
    let (k, v) = kv
        .split_once('=')
        .ok_or_else(|| UsageError(format!("--claim {kv:?} must look like name=value")))?;
    if k.is_empty() {
        return Err(UsageError(format!("--claim {kv:?} has an empty name")));
    }
    let value = json::parse(v.as_bytes()).unwrap_or_else(|_| Value::String(v.to_owned()));
    Ok((k.to_owned(), value))
}

pub fn random_id() -> String {
    let mut b = [0u8; 16];
    // aws-lc's generator; failure leaves zeros, which only weakens jti uniqueness.
    let _ = aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut b);
    tessera_core::internal::encoding::b64url_encode(&b)
}

fn key_text(path: &str) -> Result<String, UsageError> {
    let bytes = keyspec::read_file(path)?;
    String::from_utf8(bytes)
        .map(|s| s.trim().to_owned())
        .map_err(|_| UsageError(format!("{path:?} is not a text key file")))
}

fn nostr_secret(path: &str) -> Result<NostrSecretKey, UsageError> {
    NostrSecretKey::parse(&key_text(path)?).map_err(|e| {
        UsageError(format!(
            "{path:?} is not a Nostr secret key ({}); it must hold an nsec1... or 64 hex characters (tessera keygen --alg nostr --out FILE)",
            e.message()
        ))
    })
}

fn wallet_error(e: tessera_core::Error) -> UsageError {
    UsageError(format!("cannot issue: {} ({})", e.message(), e.code()))
}

/// With `--count` above 1, each Nostr event gets a `nonce` tag of 128
/// random bits: N events with one id would be one credential to a replay
/// guard and to every cache keyed on the id (NIP-98 clients use the same
/// tag for bursts of requests).
fn nonce(args: &IssueArgs) -> Option<String> {
    (args.count > 1).then(random_id)
}

fn run_wallet(args: &IssueArgs, now: i64, ttl: i64) -> Result<String, UsageError> {
    match args.format {
        IssueFormat::Jwt => Err(UsageError("internal: JWT is not a wallet format".into())),
        IssueFormat::Nwt => {
            let secret = nostr_secret(&args.key)?;
            let mut custom = Vec::new();
            for kv in &args.claims {
                let (k, v) = kv.split_once('=').ok_or_else(|| {
                    UsageError(format!("--claim {kv:?} must look like name=value"))
                })?;
                custom.push((k.to_owned(), v.to_owned()));
            }
            if let Some(n) = nonce(args) {
                custom.push(("nonce".to_owned(), n));
            }
            let claims = NwtClaims {
                aud: args.auds.clone(),
                exp: Some(now.saturating_add(ttl)),
                sub: args.sub.clone(),
                iss: args.iss.clone(),
                custom,
                ..NwtClaims::default()
            };
            let event = issue_nwt(&secret, &claims, args.message.as_deref().unwrap_or(""), now)
                .map_err(wallet_error)?;
            Ok(nwt_authorization(&event))
        }
        IssueFormat::Nip98 => {
            let secret = nostr_secret(&args.key)?;
            let (Some(url), Some(method)) = (&args.url, &args.method) else {
                return Err(UsageError(
                    "a NIP-98 event is bound to a request: pass --url and --method".into(),
                ));
            };
            let body = match &args.body_file {
                Some(p) => Some(keyspec::read_file_limited(
                    p,
                    keyspec::MAX_BODY_FILE,
                    "body file",
                )?),
                None => None,
            };
            let event = match nonce(args) {
                None => issue_nip98(&secret, url, method, body.as_deref(), now),
                Some(n) => {
                    // The core's tags, and the nonce after them.
                    let plain = issue_nip98(&secret, url, method, body.as_deref(), now)
                        .map_err(wallet_error)?;
                    let mut tags = plain.tags;
                    tags.push(vec!["nonce".to_owned(), n]);
                    Event::sign(&secret, now, NIP98_KIND, tags, "")
                }
            }
            .map_err(wallet_error)?;
            Ok(nip98_authorization(&event))
        }
        IssueFormat::Portal => {
            let secret = nostr_secret(&args.key)?;
            let [target] = args.auds.as_slice() else {
                return Err(UsageError(
                    "a Portal JWT vouches for one target key: pass exactly one --aud <hex|npub>"
                        .into(),
                ));
            };
            let target = NostrPublicKey::parse(target).map_err(|e| {
                UsageError(format!(
                    "--aud {target:?}: {}; give a 64-hex key or npub",
                    e.message()
                ))
            })?;
            issue_portal(&secret, &target, now, ttl).map_err(wallet_error)
        }
        IssueFormat::Thirdweb => {
            let secret = EthereumSecretKey::from_hex(&key_text(&args.key)?)
                .map_err(|e| UsageError(format!("{:?} is not an Ethereum secret ({}); tessera keygen --alg ethereum --out FILE makes one", args.key, e.message())))?;
            let (Some(sub), [aud]) = (&args.sub, args.auds.as_slice()) else {
                return Err(UsageError(
                    "a thirdweb JWT needs --sub <user address> and one --aud <domain>".into(),
                ));
            };
            let mut claims = ThirdwebClaims::new(sub.clone(), aud.clone());
            claims.ttl = ttl;
            for kv in &args.claims {
                let (k, v) = parse_claim(kv)?;
                claims.ctx.insert(k, v);
            }
            issue_thirdweb(&secret, &claims, now).map_err(wallet_error)
        }
    }
}

pub fn run(args: IssueArgs) -> Result<ExitCode, UsageError> {
    if args.format != IssueFormat::Jwt {
        let now = args.now.unwrap_or_else(|| SystemClock.now());
        let ttl = timefmt::parse_duration(&args.ttl).map_err(UsageError)?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for _ in 0..args.count {
            let line = run_wallet(&args, now, ttl)?;
            writeln!(out, "{line}").map_err(|e| UsageError(format!("cannot write: {e}")))?;
        }
        out.flush()
            .map_err(|e| UsageError(format!("cannot write: {e}")))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut key = keyspec::load_signing_key(&args.key, args.alg)?;
    if let Some(kid) = &args.kid {
        key = key.with_kid(kid.clone());
    }
    let now = args.now.unwrap_or_else(|| SystemClock.now());
    let ttl = timefmt::parse_duration(&args.ttl).map_err(UsageError)?;
    let mut claims = Object::new();
    if let Some(iss) = &args.iss {
        claims.insert("iss", iss.as_str().into());
    }
    if let Some(sub) = &args.sub {
        claims.insert("sub", sub.as_str().into());
    }
    match args.auds.len() {
        0 => {}
        1 => claims.insert("aud", args.auds[0].as_str().into()),
        _ => claims.insert(
            "aud",
            Value::Array(args.auds.iter().map(|a| a.as_str().into()).collect()),
        ),
    }
    claims.insert("iat", now.into());
    claims.insert("exp", now.saturating_add(ttl).into());
    if args.jti {
        claims.insert("jti", random_id().into());
    }
    for kv in &args.claims {
        let (k, v) = parse_claim(kv)?;
        claims.insert(k, v);
    }
    let mut header = Object::new();
    if let Some(typ) = &args.typ {
        header.insert("typ", typ.as_str().into());
    }
    let token = jwt::sign(&key, &header, &claims)
        .map_err(|e| UsageError(format!("signing failed: {}", e.message())))?;
    crate::print_out(&format!("{token}\n"));
    Ok(ExitCode::SUCCESS)
}
