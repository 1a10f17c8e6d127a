//! thirdweb-format wallet JWTs (formats.md §6).
//!
//! `eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9 . b64url(payload JSON) .
//! b64(ASCII "0x" + hex(r||s||v))`: despite the header's `ES256`, the third
//! segment is an EIP-191 `personal_sign` by the admin address `iss` over the
//! exact payload bytes (not `header.payload`).
//!
//! Choices:
//! - the header segment must be that fixed string, byte for byte;
//! - the payload and signature segments are base64url, or standard base64
//!   as the older thirdweb package wrote them (padded by browsers' `btoa`,
//!   `=` stripped by its Node build), each canonical
//!   ([`crate::encoding::b64_any_decode`]). For the signature segment the
//!   two alphabets coincide (`0x` and 130 hex digits is 132 ASCII bytes, no
//!   padding, no 6-bit group of 62 or 63); a payload with non-ASCII text or
//!   `>`, `?`, `~` is where the older tokens differ, and the signature
//!   covers the decoded bytes, so the encoding carries no meaning. Only
//!   this format reads them so; standard JWTs stay base64url only;
//! - the signature text is `0x` and 130 hex digits of either case;
//! - a signature that does not recover `iss` is `bad_signature`; an `iss`
//!   that recovers but is not a trusted admin is `untrusted_signer`, and with
//!   no trusted admins configured every token is (fail closed);
//! - `exp` is a NumericDate (non-negative); `nbf` and `iat` may be negative
//!   integers (thirdweb writes `nbf = iat - 600`, which is negative for a
//!   clock at 0, as in its own test token) but are otherwise typed the same;
//! - the subject is `sub` in EIP-55 form when it is an address, else as
//!   written; a token without `sub` is `missing_claim`.

use super::address::Address;
use super::eip191;
use super::keys::EthereumSecretKey;
use crate::encoding::{b64_any_decode, b64url_encode, hex_encode};
use crate::error::{Error, ErrorCode, Result};
use crate::identity::{Format, Identity};
use crate::json::{self, Number, Object, Value};
use crate::nostr::nwt::check_required;
use crate::nostr::portal::split_compact;
use crate::policy::{numeric_date, Policy, TimeClaims, MAX_TIMESTAMP};

/// The fixed header segment, `{"alg":"ES256","typ":"JWT"}`.
pub const THIRDWEB_HEADER: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9";

/// The typed payload of a thirdweb-format JWT.
#[derive(Debug, Clone, PartialEq)]
pub struct ThirdwebPayload {
    /// `iss`: the admin address that signs.
    pub iss: Address,
    /// `sub`: the user (an address, as thirdweb writes it).
    pub sub: Option<String>,
    /// `aud` as a list (a string or an array of strings).
    pub aud: Vec<String>,
    /// `exp`, `nbf`, `iat`.
    pub times: TimeClaims,
    /// `jti`.
    pub jti: Option<String>,
    /// Every claim as parsed.
    pub all: Object,
}

fn signed_date(name: &str, v: &Value) -> Result<i64> {
    match v {
        Value::Number(Number::Int(t)) if (-MAX_TIMESTAMP..=MAX_TIMESTAMP).contains(t) => Ok(*t),
        _ => numeric_date(name, v),
    }
}

fn string_claim(o: &Object, name: &str) -> Result<Option<String>> {
    match o.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::with_message(
            ErrorCode::InvalidClaim,
            format!("`{name}` must be a string"),
        )),
    }
}

impl ThirdwebPayload {
    /// Parses and types the payload JSON.
    pub fn parse(payload: &[u8]) -> Result<ThirdwebPayload> {
        let all = json::read_object(payload).map_err(|e| {
            Error::with_message(
                ErrorCode::Malformed,
                format!("JWT payload: {}", e.message()),
            )
        })?;
        let iss = match all.get("iss") {
            None => {
                return Err(Error::new(
                    ErrorCode::MissingClaim,
                    "a thirdweb JWT names its issuer address",
                ))
            }
            Some(v) => v
                .as_str()
                .and_then(|s| Address::parse(s).ok())
                .ok_or(Error::new(
                    ErrorCode::InvalidClaim,
                    "`iss` must be an Ethereum address",
                ))?,
        };
        let aud_err = || {
            Error::new(
                ErrorCode::InvalidClaim,
                "`aud` must be a string or an array of strings",
            )
        };
        let aud = match all.get("aud") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(aud_err))
                .collect::<Result<_>>()?,
            Some(_) => return Err(aud_err()),
        };
        let times = TimeClaims {
            exp: all.get("exp").map(|v| numeric_date("exp", v)).transpose()?,
            nbf: all.get("nbf").map(|v| signed_date("nbf", v)).transpose()?,
            iat: all.get("iat").map(|v| signed_date("iat", v)).transpose()?,
        };
        Ok(ThirdwebPayload {
            iss,
            sub: string_claim(&all, "sub")?,
            aud,
            times,
            jti: string_claim(&all, "jti")?,
            all,
        })
    }
}

/// Verifies a thirdweb-format JWT at `now`: size, the fixed header
/// (`malformed`), EIP-191 recovery over the exact payload bytes, recovered
/// address == `iss` (`bad_signature`), `iss` among `trusted_admins`
/// (`untrusted_signer`), then time, audience (the expected domain, via the
/// policy's audiences; with none configured an `aud` is refused unless
/// [`Policy::accept_any_audience`]), the policy's issuer and required claims.
pub fn verify_thirdweb(
    token: &str,
    trusted_admins: &[Address],
    policy: &Policy,
    now: i64,
) -> Result<Identity> {
    let [header, payload_b64, signature] = split_compact(token, policy)?;
    if header != THIRDWEB_HEADER {
        return Err(Error::malformed(
            "a thirdweb JWT carries the fixed header {\"alg\":\"ES256\",\"typ\":\"JWT\"}",
        ));
    }
    let payload = b64_any_decode(payload_b64.as_bytes())?;
    let sig_text = String::from_utf8(b64_any_decode(signature.as_bytes())?)
        .map_err(|_| Error::malformed("the signature segment encodes `0x` and hex digits"))?;
    let sig = eip191::parse_signature_hex(&sig_text)?;
    let signer = eip191::recover(&payload, &sig)?;
    let claims = ThirdwebPayload::parse(&payload)?;
    if signer != claims.iss {
        return Err(Error::new(
            ErrorCode::BadSignature,
            "the signature was not made by the token's issuer",
        ));
    }
    if !trusted_admins.contains(&claims.iss) {
        return Err(Error::new(
            ErrorCode::UntrustedSigner,
            "the issuer is not a trusted admin address",
        ));
    }
    policy.check_times(&claims.times, now)?;
    policy.check_audience(claims.aud.iter().map(String::as_str))?;
    let issuer = claims.iss.to_checksum();
    match policy.issuer.as_deref().map(Address::parse) {
        Some(Ok(expected)) if expected != claims.iss => {
            return Err(Error::new(
                ErrorCode::IssuerMismatch,
                "the token's issuer is not the expected one",
            ))
        }
        Some(Ok(_)) => {}
        _ => policy.check_issuer(Some(&issuer))?,
    }
    check_required(policy, &claims.all)?;
    let subject = match &claims.sub {
        Some(s) => Address::parse(s).map_or_else(|_| s.clone(), |a| a.to_checksum()),
        None => {
            return Err(Error::new(
                ErrorCode::MissingClaim,
                "a thirdweb JWT names its subject (`sub`)",
            ))
        }
    };
    Ok(Identity {
        format: Format::Thirdweb,
        alg: crate::jws::Algorithm::Eip191,
        issuer: Some(issuer),
        subject,
        audience: claims.aud,
        expires_at: claims.times.exp,
        not_before: claims.times.nbf,
        issued_at: claims.times.iat,
        id: claims.jti,
        kid: None,
        claims: claims.all.into(),
    })
}

/// What to put in a thirdweb-format JWT made by [`issue_thirdweb`].
#[derive(Debug, Clone, PartialEq)]
pub struct ThirdwebClaims {
    /// `sub`: the user's address (or another subject string).
    pub sub: String,
    /// `aud`: the domain the token is for.
    pub aud: String,
    /// Lifetime in seconds (`exp = now + ttl`); thirdweb's default is 86400.
    pub ttl: i64,
    /// `nbf`; `None` writes `now`.
    pub nbf: Option<i64>,
    /// `jti`; `None` writes a random UUIDv4, as thirdweb does.
    pub jti: Option<String>,
    /// `ctx`: application context (thirdweb writes `{}` by default).
    pub ctx: Object,
}

impl ThirdwebClaims {
    /// Claims for `sub` and `aud` with thirdweb's defaults (one day, `ctx` `{}`).
    pub fn new(sub: impl Into<String>, aud: impl Into<String>) -> Self {
        ThirdwebClaims {
            sub: sub.into(),
            aud: aud.into(),
            ttl: 86_400,
            nbf: None,
            jti: None,
            ctx: Object::new(),
        }
    }
}

fn random_uuid_v4() -> Result<String> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b)
        .map_err(|_| Error::malformed("the system random generator failed"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex_encode(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// Issues a thirdweb-format JWT signed by `secret` (the admin) at `now`:
/// payload `{"iss","sub","aud","exp","nbf","iat","jti","ctx"}` in thirdweb's
/// order, signature segment base64url of `0x` + hex(r||s||v).
pub fn issue_thirdweb(
    secret: &EthereumSecretKey,
    claims: &ThirdwebClaims,
    now: i64,
) -> Result<String> {
    if claims.ttl <= 0 {
        return Err(Error::malformed("the token lifetime must be positive"));
    }
    let jti = match &claims.jti {
        Some(j) => j.clone(),
        None => random_uuid_v4()?,
    };
    let mut o = Object::new();
    o.insert("iss", Value::from(secret.address().to_checksum()));
    o.insert("sub", Value::from(claims.sub.as_str()));
    o.insert("aud", Value::from(claims.aud.as_str()));
    o.insert("exp", Value::from(now.saturating_add(claims.ttl)));
    o.insert("nbf", Value::from(claims.nbf.unwrap_or(now)));
    o.insert("iat", Value::from(now));
    o.insert("jti", Value::from(jti));
    o.insert("ctx", Value::Object(claims.ctx.clone()));
    let payload = Value::Object(o).to_json();
    let sig = eip191::sign(secret, payload.as_bytes());
    let sig_text = format!("0x{}", hex_encode(&sig));
    Ok(format!(
        "{THIRDWEB_HEADER}.{}.{}",
        b64url_encode(payload.as_bytes()),
        b64url_encode(sig_text.as_bytes())
    ))
}
