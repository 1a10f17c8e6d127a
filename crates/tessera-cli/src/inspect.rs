//! `tessera inspect`: decode without verifying, naming the format found.
//!
//! Formats (formats.md): a compact JWT is a Portal wallet JWT when its
//! header is exactly Portal's `{"alg":"ES256K"}` and its payload has a
//! `target_key`; a thirdweb-format wallet JWT when its header is thirdweb's
//! fixed one and its signature segment is `0x` hex text (the older package's
//! standard base64 segments decode too); else a JWT. `Nostr <base64 event>`
//! values, bare base64 events and bare event JSON are NWTs (kind 27519),
//! NIP-98 events (kind 27235) or other Nostr events. A SIWE (EIP-4361)
//! message is recognised by its first line.

use crate::verify::split_scheme;
use crate::{print_json, read_credential, timefmt, UsageError};
use clap::Args;
use serde_json::{json, Map, Value};
use std::process::ExitCode;
use tessera_core::internal::encoding::{b64_any_decode, b64url_decode};
use tessera_core::internal::ethereum::siwe::SiweMessage;
use tessera_core::internal::ethereum::thirdweb::THIRDWEB_HEADER;
use tessera_core::internal::json;
use tessera_core::internal::nostr::nip98::NIP98_KIND;
use tessera_core::internal::nostr::nwt::NWT_KIND;
use tessera_core::internal::nostr::portal::PORTAL_HEADER;
use tessera_core::{Clock, SystemClock};

#[derive(Args)]
pub struct InspectArgs {
    /// A compact JWT, an Authorization value (`Bearer <jwt>`, `Nostr <base64 event>`),
    /// a bare event (base64 or JSON), a SIWE message, or `-` for stdin.
    credential: String,
    /// Show relative times against this Unix instant instead of the clock.
    #[arg(long, value_name = "UNIX")]
    now: Option<i64>,
}

const WARNING: &str = "UNVERIFIED: decoded only. Nothing here is proven: do not trust any of it until `tessera verify` accepts the credential.";

const NOT_A_CREDENTIAL: &str = "not a compact JWT (three base64 parts separated by '.'), a Nostr event (base64 or JSON) or a SIWE message; check the value";

/// The first line of an EIP-4361 message ends with this.
const SIWE_FIRST_LINE: &str = " wants you to sign in with your Ethereum account:";

/// Bytes decoded from one base64 segment, and which encoding it was.
struct Decoded {
    bytes: Vec<u8>,
    encoding: &'static str,
}

/// base64url (what the formats use), else standard base64 with or without
/// padding (the older thirdweb package's segments, nostr-tools' NIP-98).
fn decode_b64(seg: &str, what: &str) -> Result<Decoded, UsageError> {
    if let Ok(bytes) = b64url_decode(seg.as_bytes()) {
        return Ok(Decoded {
            bytes,
            encoding: "base64url",
        });
    }
    match b64_any_decode(seg.as_bytes()) {
        Ok(bytes) => Ok(Decoded {
            bytes,
            encoding: "base64 (standard alphabet)",
        }),
        Err(e) => Err(UsageError(format!(
            "the {what} is neither base64url nor standard base64 ({}); was it copied whole?",
            e.message()
        ))),
    }
}

/// JSON when the bytes are JSON, else the text.
fn json_or_text(bytes: &[u8]) -> Value {
    match json::parse(bytes) {
        Ok(v) => v.to_serde(),
        Err(_) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// A human-readable `times` map for numeric (or NWT's decimal-string) time claims.
fn human_times(claims: &Value, now: i64) -> Value {
    let mut out = Map::new();
    if let Some(obj) = claims.as_object() {
        for name in ["iat", "nbf", "exp", "auth_time", "created_at"] {
            let t = match obj.get(name) {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            };
            if let Some(t) = t {
                out.insert(
                    name.into(),
                    Value::String(format!(
                        "{} ({})",
                        timefmt::rfc3339(t),
                        timefmt::relative(t, now)
                    )),
                );
            }
        }
    }
    Value::Object(out)
}

/// A compact token: Portal, thirdweb or JWT.
fn compact(token: &str, now: i64) -> Result<Value, UsageError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(UsageError(NOT_A_CREDENTIAL.into()));
    }
    let header = decode_b64(parts[0], "header")?;
    let payload = decode_b64(parts[1], "payload")?;
    let signature = decode_b64(parts[2], "signature").ok();
    let header_json = json_or_text(&header.bytes);
    let claims = json_or_text(&payload.bytes);
    let sig_is_hex_text = signature
        .as_ref()
        .is_some_and(|s| s.bytes.starts_with(b"0x"));
    let (format, note) = if parts[0] == PORTAL_HEADER && claims.get("target_key").is_some() {
        (
            "portal",
            "Portal wallet JWT (ES256K by a Nostr key): the token does not name its signer; verify with `tessera verify --format portal --key nostr:<signer>`",
        )
    } else if parts[0] == THIRDWEB_HEADER && sig_is_hex_text {
        (
            "thirdweb",
            "thirdweb-format wallet JWT: despite the ES256 header, the signature is an EIP-191 personal_sign by `iss` over the payload; verify with `tessera verify --format thirdweb --key eth:<iss>`",
        )
    } else {
        ("jwt", "JSON Web Token (RFC 7519)")
    };
    let mut out = json!({
        "format": format,
        "description": note,
        "header": header_json,
        "claims": claims,
        "times": human_times(&claims, now),
    });
    if format == "thirdweb" {
        let text = signature
            .as_ref()
            .map(|s| String::from_utf8_lossy(&s.bytes).into_owned());
        out["signature_text"] = json!(text);
    } else {
        out["signature_bytes"] = json!(signature.as_ref().map(|s| s.bytes.len()));
    }
    let encodings: Vec<&str> = [Some(&header), Some(&payload), signature.as_ref()]
        .into_iter()
        .flatten()
        .map(|d| d.encoding)
        .collect();
    if encodings.iter().any(|e| *e != "base64url") {
        out["segment_encodings"] = json!(encodings);
    }
    Ok(out)
}

/// An NWT's tags as claims: each tag name once, its value (or, repeated or
/// with several values, the list of values), as formats.md §4 reads them.
fn nwt_claims(tags: &[Value]) -> Value {
    let mut claims = Map::new();
    for tag in tags {
        let Some(items) = tag.as_array() else {
            continue;
        };
        let Some(name) = items.first().and_then(Value::as_str) else {
            continue;
        };
        let values: Vec<Value> = items[1..].to_vec();
        let single = ["iss", "sub", "iat", "exp", "nbf"].contains(&name) && values.len() == 1;
        match claims.get_mut(name) {
            Some(Value::Array(list)) => list.extend(values),
            Some(prev) => {
                let mut list = vec![prev.take()];
                list.extend(values);
                *prev = Value::Array(list);
            }
            None if single => {
                claims.insert(name.into(), values[0].clone());
            }
            None => {
                claims.insert(name.into(), Value::Array(values));
            }
        }
    }
    Value::Object(claims)
}

/// The first value of tag `name`.
fn tag_value<'a>(tags: &'a [Value], name: &str) -> Option<&'a str> {
    tags.iter().filter_map(Value::as_array).find_map(|t| {
        (t.first().and_then(Value::as_str) == Some(name))
            .then(|| t.get(1).and_then(Value::as_str))
            .flatten()
    })
}

/// A Nostr event (JSON object with a `kind`): NWT, NIP-98 or another kind.
fn nostr_event(event: Value, encoding: &str, now: i64) -> Result<Value, UsageError> {
    let kind = event.get("kind").and_then(Value::as_u64).ok_or_else(|| {
        UsageError("the Nostr event has no numeric `kind`; was it copied whole?".into())
    })?;
    let tags = event
        .get("tags")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = json!({"encoding": encoding, "kind": kind, "event": event});
    if kind == u64::from(NWT_KIND) {
        out["format"] = json!("nwt");
        out["description"] = json!("Nostr Web Token (kind 27519): its tags are its claims");
        let claims = nwt_claims(&tags);
        let mut timed = claims.clone();
        if let (Some(obj), Some(t)) = (timed.as_object_mut(), event.get("created_at")) {
            obj.insert("created_at".into(), t.clone());
        }
        out["times"] = human_times(&timed, now);
        out["claims"] = claims;
    } else if kind == u64::from(NIP98_KIND) {
        out["format"] = json!("nip98");
        out["description"] =
            json!("NIP-98 HTTP Auth event (kind 27235): bound to one request URL and method");
        out["request"] = json!({
            "url": tag_value(&tags, "u"),
            "method": tag_value(&tags, "method"),
            "payload_sha256": tag_value(&tags, "payload"),
        });
        out["times"] = human_times(&event, now);
    } else {
        out["format"] = json!("nostr");
        out["description"] = json!(format!(
            "a Nostr event of kind {kind}: not a credential kind (NWT is 27519, NIP-98 27235)"
        ));
        out["times"] = human_times(&event, now);
    }
    Ok(out)
}

/// A SIWE message's fields.
fn siwe(text: &str) -> Result<Value, UsageError> {
    let message = SiweMessage::parse(text).map_err(|e| {
        UsageError(format!(
            "this looks like a Sign-In with Ethereum message but does not parse: {}",
            e.message()
        ))
    })?;
    Ok(json!({
        "format": "siwe",
        "description": "Sign-In with Ethereum (EIP-4361) message: the text a wallet signs; the signature travels beside it",
        "claims": json::Value::Object(message.to_claims()).to_serde(),
    }))
}

/// What the value is, decoded.
fn decode(credential: &str, now: i64) -> Result<Value, UsageError> {
    if credential
        .lines()
        .next()
        .is_some_and(|l| l.ends_with(SIWE_FIRST_LINE))
    {
        return siwe(credential);
    }
    let (scheme, token) = split_scheme(credential);
    let token = token.trim();
    if token.starts_with('{') {
        return nostr_event(json_or_text(token.as_bytes()), "JSON", now);
    }
    let nostr_scheme = scheme.is_some_and(|s| s.eq_ignore_ascii_case("nostr"));
    if nostr_scheme || !token.contains('.') {
        let decoded = match decode_b64(token, "Nostr event") {
            Ok(d) => d,
            Err(e) if nostr_scheme => return Err(e),
            Err(_) => return Err(UsageError(NOT_A_CREDENTIAL.into())),
        };
        let event = json_or_text(&decoded.bytes);
        if !event.is_object() {
            return Err(UsageError(
                "the value decodes, but not to a JSON Nostr event; check the value".into(),
            ));
        }
        return nostr_event(event, decoded.encoding, now);
    }
    compact(token, now)
}

pub fn run(args: InspectArgs) -> Result<ExitCode, UsageError> {
    let credential = read_credential(&args.credential)?;
    if credential.is_empty() {
        return Err(UsageError(
            "the credential is empty; pass a token, an Authorization value, or - for stdin".into(),
        ));
    }
    let now = args.now.unwrap_or_else(|| SystemClock.now());
    let decoded = decode(&credential, now)?;
    eprintln!("{WARNING}");
    let mut out = json!({"verified": false, "warning": WARNING});
    if let (Some(o), Value::Object(mut fields)) = (out.as_object_mut(), decoded) {
        // What it is first, then what is inside.
        for name in ["format", "description"] {
            if let Some(v) = fields.remove(name) {
                o.insert(name.into(), v);
            }
        }
        o.extend(fields);
    }
    print_json(&out);
    Ok(ExitCode::SUCCESS)
}
