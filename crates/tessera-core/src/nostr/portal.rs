//! Portal wallet JWTs (formats.md §2): ES256K over secp256k1 by a Nostr key.
//!
//! `b64url({"alg":"ES256K"}) . b64url({"exp","nbf","iat","target_key"}) .
//! b64url(r||s)`, verified against the signer's x-only key lifted to the
//! point with even Y (`02 || x`). The signer vouches for `target_key`;
//! tessera reports issuer = subject = signer and audience = `[target_key]`.
//!
//! The header is parsed (strict JSON, base64url canonical) and must be an
//! object with the single member `alg` equal to `ES256K`: another `alg` is
//! `algorithm_not_allowed` (the key is pinned to ES256K), any other member
//! (`typ`, `kid`, …) is `malformed`. Parsing rather than comparing bytes
//! accepts the same header written with insignificant whitespace, and
//! nothing else.

use super::keys::{NostrPublicKey, NostrSecretKey};
use super::nwt::check_required;
use crate::encoding::{b64url_decode, b64url_encode, hex_encode};
use crate::error::{Error, ErrorCode, Result};
use crate::identity::{Format, Identity};
use crate::json::{self, Object, Value};
use crate::jws::secp::{es256k_sign, es256k_verify_low_s};
use crate::jws::Algorithm;
use crate::policy::{numeric_date, Policy, TimeClaims};

/// The header every Portal JWT carries, as base64url.
pub const PORTAL_HEADER: &str = "eyJhbGciOiJFUzI1NksifQ";

/// Splits a compact token into exactly three dot-separated segments, after
/// the size check (`token_too_large`). Shared by the wallet JWT formats.
pub(crate) fn split_compact<'a>(token: &'a str, policy: &Policy) -> Result<[&'a str; 3]> {
    if token.len() > policy.max_token_size {
        return Err(Error::with_message(
            ErrorCode::TokenTooLarge,
            format!(
                "the token is {} bytes; the limit is {}",
                token.len(),
                policy.max_token_size
            ),
        ));
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok([h, p, s]),
        _ => Err(Error::malformed(
            "a compact token has exactly three dot-separated parts",
        )),
    }
}

fn check_header(segment: &str) -> Result<()> {
    let header = json::parse_object(&b64url_decode(segment.as_bytes())?).map_err(|e| {
        Error::with_message(ErrorCode::Malformed, format!("JWT header: {}", e.message()))
    })?;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == "ES256K" => {}
        Some(Value::String(_)) => {
            return Err(Error::new(
                ErrorCode::AlgorithmNotAllowed,
                "a Portal JWT is signed with ES256K",
            ))
        }
        _ => return Err(Error::malformed("the JWT header needs a string `alg`")),
    }
    if header.len() != 1 {
        return Err(Error::malformed(
            "a Portal JWT header is exactly {\"alg\":\"ES256K\"}",
        ));
    }
    Ok(())
}

/// The typed payload of a Portal JWT.
#[derive(Debug, Clone, PartialEq)]
pub struct PortalClaims {
    /// The key the signer vouches for.
    pub target_key: NostrPublicKey,
    /// `exp`, `nbf`, `iat`.
    pub times: TimeClaims,
    /// Every claim as parsed.
    pub all: Object,
}

impl PortalClaims {
    /// Parses and types a Portal payload: times are NumericDates
    /// (`invalid_claim` when not), `target_key` is required
    /// (`missing_claim`) and must be a 64-hex x-only key (`invalid_claim`).
    pub fn parse(payload: &[u8]) -> Result<PortalClaims> {
        let all = json::read_object(payload).map_err(|e| {
            Error::with_message(
                ErrorCode::Malformed,
                format!("JWT payload: {}", e.message()),
            )
        })?;
        let time = |name: &str| all.get(name).map(|v| numeric_date(name, v)).transpose();
        let times = TimeClaims {
            exp: time("exp")?,
            nbf: time("nbf")?,
            iat: time("iat")?,
        };
        let target_key = match all.get("target_key") {
            None => {
                return Err(Error::new(
                    ErrorCode::MissingClaim,
                    "a Portal JWT names its `target_key`",
                ))
            }
            Some(v) => v
                .as_str()
                .and_then(|s| NostrPublicKey::from_hex(s).ok())
                .ok_or(Error::new(
                    ErrorCode::InvalidClaim,
                    "`target_key` must be a 64-hex x-only Nostr key",
                ))?,
        };
        Ok(PortalClaims {
            target_key,
            times,
            all,
        })
    }
}

/// Verifies a Portal wallet JWT signed by `signer` at `now` (formats.md §2):
/// size, strict base64url, the header rule above, the policy's algorithm
/// list, a low-S ES256K signature against `02 || x` (`bad_signature`), then
/// the payload: `exp`/`nbf` via [`Policy::check_times`] (which Portal's own
/// verifier skips), the policy's audiences against `target_key`, its issuer
/// against the signer's hex key, and required claims.
pub fn verify_portal(
    token: &str,
    signer: &NostrPublicKey,
    policy: &Policy,
    now: i64,
) -> Result<Identity> {
    verify_portal_with_point(token, signer, &signer.even_y_point(), policy, now)
}

/// As [`verify_portal`], with `point` = `signer.even_y_point()` computed
/// once by the caller (lifting an x-only key costs a square root, about a
/// tenth of the signature check; the [`crate::Verifier`] keeps the points of
/// its trusted keys).
pub(crate) fn verify_portal_with_point(
    token: &str,
    signer: &NostrPublicKey,
    point: &secp256k1::PublicKey,
    policy: &Policy,
    now: i64,
) -> Result<Identity> {
    let [header, payload, signature] = split_compact(token, policy)?;
    check_header(header)?;
    if !policy.allows_algorithm(Algorithm::ES256K) {
        return Err(Error::new(
            ErrorCode::AlgorithmNotAllowed,
            "the policy does not allow ES256K",
        ));
    }
    let sig = b64url_decode(signature.as_bytes())?;
    let signing_input = &token[..header.len() + 1 + payload.len()];
    // Low S only, as Portal's own verifier (formats.md §2).
    es256k_verify_low_s(point, signing_input.as_bytes(), &sig)?;
    let claims = PortalClaims::parse(&b64url_decode(payload.as_bytes())?)?;
    policy.check_times(&claims.times, now)?;
    let target = claims.target_key.to_hex();
    // formats.md §2: `target_key` is checked only against an expected
    // audience (every Portal JWT names one).
    policy.check_expected_audience([target.as_str()])?;
    let signer_hex = signer.to_hex();
    policy.check_issuer(Some(&signer_hex))?;
    check_required(policy, &claims.all)?;
    Ok(Identity {
        format: Format::Portal,
        alg: crate::jws::Algorithm::ES256K,
        issuer: Some(signer_hex.clone()),
        subject: signer_hex,
        audience: vec![target],
        expires_at: claims.times.exp,
        not_before: claims.times.nbf,
        issued_at: claims.times.iat,
        id: None,
        kid: None,
        claims: claims.all.into(),
    })
}

/// Issues a Portal wallet JWT, as Portal's `issueJwt(targetKey, hours)`
/// does: `exp = now + duration_seconds`, `nbf = iat = now`, signed with the
/// secret normalised to even Y (negated for odd-Y keys) so that it verifies
/// against the x-only key. `malformed` when `now` is negative or the
/// duration is not positive.
pub fn issue_portal(
    secret: &NostrSecretKey,
    target_key: &NostrPublicKey,
    now: i64,
    duration_seconds: i64,
) -> Result<String> {
    if now < 0 || duration_seconds <= 0 {
        return Err(Error::malformed(
            "a Portal JWT needs a non-negative time and a positive duration",
        ));
    }
    let exp = now.saturating_add(duration_seconds);
    #[derive(serde::Serialize)]
    struct Payload {
        exp: i64,
        nbf: i64,
        iat: i64,
        target_key: String,
    }
    let payload = json::to_string(&Payload {
        exp,
        nbf: now,
        iat: now,
        target_key: hex_encode(target_key.as_bytes()),
    });
    let signing_input = format!("{PORTAL_HEADER}.{}", b64url_encode(payload.as_bytes()));
    let sig = es256k_sign(&secret.even_y_secret(), signing_input.as_bytes());
    Ok(format!("{signing_input}.{}", b64url_encode(&sig)))
}
