//! What upstreams receive: `claim_headers = ["scope", "role"]` becomes
//! `X-Auth-Claim-Scope: upload delete`, `X-Auth-Claim-Role: admin`.
//!
//! Header names: a claim name must be 1 to 64 bytes of `A-Z a-z 0-9 -`,
//! not starting or ending with `-`, checked at start-up; the header is
//! `X-Auth-Claim-` + the name (header names are case-insensitive). No
//! `_`: nginx drops such headers by default (`underscores_in_headers`),
//! and mapping `_` to `-` would let two claims share a header.
//!
//! Values (nothing a caller puts in a claim can end the header or start
//! another one):
//! - a string is sent as it is; a number or boolean as its JSON text; an
//!   array of those as its elements joined by one space;
//! - in a value, `%`, control characters (CR, LF, NUL, tab, DEL, ...) and
//!   every non-ASCII byte are percent-encoded (UTF-8, RFC 3986 §2.1), and
//!   so is a space inside an array element and a space at either end of a
//!   string (a parser would trim it); an upstream percent-decodes each
//!   space-separated element to get the exact value back;
//! - a value longer than [`MAX_VALUE_BYTES`] once encoded, an object,
//!   null, or an array holding one of those or another array is not sent
//!   (the header is left out and reported in [`ClaimHeaderValues::skipped`]);
//!   the gateway must strip client copies of every `X-Auth-*` header.
//!
//! The signed assertion (`[forward_auth] assertion_audience`, sent as
//! `X-Auth-Assertion`) is built by the wiring step, not here. Its shape: a
//! compact JWS signed with the server's current access-token key (header
//! `typ: "auth-assertion+jwt"`, `alg` and `kid` of that key, verifiable at
//! `/.well-known/jwks.json`), claims `iss` (the server's `public_url`),
//! `aud` (the configured `assertion_audience`), `sub` (the caller's
//! subject), `iat`, `exp` (`iat` + 60 s, never after the credential's own
//! `exp`), `jti` (random), `tessera_issuer` (the configured issuer name),
//! `tessera_format` (`jwt`, `nwt`, `nip98`, ...), `tessera_rule` (the
//! deciding rule's 1-based index, absent without rules), `htm` and `htu`
//! (the normalised method and URL it was issued for, as in RFC 9449
//! §4.2), and each `claim_headers` claim under its own name with its JSON
//! value.

use super::claims;
use crate::config::ConfigError;
use axum::http::{HeaderName, HeaderValue};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::Value;
use tessera_core::Identity;

/// Longest header value sent, bytes after encoding.
pub const MAX_VALUE_BYTES: usize = 4096;

/// Most `claim_headers` entries.
const MAX_CLAIM_HEADERS: usize = 32;

/// Longest claim name in `claim_headers`.
const MAX_HEADER_CLAIM_NAME: usize = 64;

/// Encoded inside a string value: `%` (so encoding is reversible) and
/// controls; non-ASCII is always encoded by `utf8_percent_encode`.
const IN_STRING: &AsciiSet = &CONTROLS.add(b'%');
/// Encoded inside an array element: also the space that separates them.
const IN_ELEMENT: &AsciiSet = &IN_STRING.add(b' ');

/// The configured claim headers.
#[derive(Debug, Clone, Default)]
pub struct ClaimHeaders {
    entries: Vec<(String, HeaderName)>,
}

/// The headers for one identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimHeaderValues {
    /// Headers to send upstream.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Claims present but not sent, with the reason (for a log line; it
    /// names the claim, never its value).
    pub skipped: Vec<(String, &'static str)>,
}

impl ClaimHeaders {
    /// Checks `[forward_auth] claim_headers`.
    pub fn new(claims: &[String]) -> Result<ClaimHeaders, ConfigError> {
        if claims.len() > MAX_CLAIM_HEADERS {
            return Err(ConfigError(format!(
                "[forward_auth] claim_headers: {} entries, at most {MAX_CLAIM_HEADERS}",
                claims.len()
            )));
        }
        let mut entries: Vec<(String, HeaderName)> = Vec::with_capacity(claims.len());
        for claim in claims {
            let ok = !claim.is_empty()
                && claim.len() <= MAX_HEADER_CLAIM_NAME
                && !claim.starts_with('-')
                && !claim.ends_with('-')
                && claim
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !ok {
                return Err(ConfigError(format!(
                    "[forward_auth] claim_headers: {claim:?} cannot be a header name: use claims named with letters, digits and inner '-' only (1 to {MAX_HEADER_CLAIM_NAME} bytes)"
                )));
            }
            let name = HeaderName::try_from(format!("x-auth-claim-{}", claim.to_ascii_lowercase()))
                .map_err(|e| {
                    ConfigError(format!("[forward_auth] claim_headers: {claim:?}: {e}"))
                })?;
            if let Some((other, _)) = entries.iter().find(|(_, n)| *n == name) {
                return Err(ConfigError(format!(
                    "[forward_auth] claim_headers: {claim:?} and {other:?} would both be sent as {name}: list it once"
                )));
            }
            entries.push((claim.clone(), name));
        }
        Ok(ClaimHeaders { entries })
    }

    /// The header names, for stripping client copies.
    pub fn names(&self) -> impl Iterator<Item = &HeaderName> {
        self.entries.iter().map(|(_, n)| n)
    }

    /// The headers for `identity`: one per configured claim it has.
    pub fn values(&self, identity: &Identity) -> ClaimHeaderValues {
        let mut out = ClaimHeaderValues::default();
        for (claim, name) in &self.entries {
            let Some(value) = claims::claim(identity, claim) else {
                continue;
            };
            match header_value(&value) {
                Ok(v) => out.headers.push((name.clone(), v)),
                Err(why) => out.skipped.push((claim.clone(), why)),
            }
        }
        out
    }
}

/// One claim value as a header value, or why it cannot be one.
fn header_value(value: &Value) -> Result<HeaderValue, &'static str> {
    let mut text = String::new();
    match value {
        Value::String(s) => {
            let encoded = utf8_percent_encode(s, IN_STRING).to_string();
            // A space at either end would be trimmed by the receiver.
            let start = encoded.len() - encoded.trim_start_matches(' ').len();
            let end = encoded.trim_end_matches(' ').len().max(start);
            text.push_str(&"%20".repeat(start));
            text.push_str(&encoded[start..end]);
            text.push_str(&"%20".repeat(encoded.len() - end));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    text.push(' ');
                }
                match item {
                    Value::String(s) => text.extend(utf8_percent_encode(s, IN_ELEMENT)),
                    Value::Number(_) | Value::Bool(_) => text.push_str(&item.to_string()),
                    _ => return Err("an array element is not a string, number or boolean"),
                }
                if text.len() > MAX_VALUE_BYTES {
                    return Err("longer than the header value limit");
                }
            }
        }
        Value::Number(_) | Value::Bool(_) => text = value.to_string(),
        Value::Null | Value::Object(_) => return Err("not a string, number, boolean or array"),
    }
    if text.len() > MAX_VALUE_BYTES {
        return Err("longer than the header value limit");
    }
    HeaderValue::from_str(&text).map_err(|_| "not representable in a header")
}
