//! `tessera inspect`: decode without verifying.

use crate::verify::split_scheme;
use crate::{print_json, read_credential, timefmt, UsageError};
use clap::Args;
use serde_json::{json, Map, Value};
use std::process::ExitCode;
use tessera_core::encoding::b64url_decode;
use tessera_core::json;
use tessera_core::{Clock, SystemClock};

#[derive(Args)]
pub struct InspectArgs {
    /// A compact JWT, an Authorization value, or `-` for stdin.
    credential: String,
    /// Show relative times against this Unix instant instead of the clock.
    #[arg(long, value_name = "UNIX")]
    now: Option<i64>,
}

const WARNING: &str = "UNVERIFIED: decoded only. Nothing here is proven: do not trust any of it until `tessera verify` accepts the credential.";

fn decode_segment(seg: &str, what: &str) -> Result<Value, UsageError> {
    let bytes = b64url_decode(seg.as_bytes()).map_err(|e| {
        UsageError(format!(
            "the {what} is not canonical base64url ({}); was the token copied whole?",
            e.message()
        ))
    })?;
    match json::parse(&bytes) {
        Ok(v) => Ok(v.to_serde()),
        Err(_) => Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned())),
    }
}

/// Adds a human-readable `times` map for numeric time claims.
fn human_times(claims: &Value, now: i64) -> Value {
    let mut out = Map::new();
    if let Some(obj) = claims.as_object() {
        for name in ["iat", "nbf", "exp", "auth_time", "created_at"] {
            if let Some(t) = obj.get(name).and_then(Value::as_i64) {
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

pub fn run(args: InspectArgs) -> Result<ExitCode, UsageError> {
    let credential = read_credential(&args.credential)?;
    let now = args.now.unwrap_or_else(|| SystemClock.now());
    let (_, token) = split_scheme(&credential);
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(UsageError(
            "not a compact JWT (three base64url parts separated by '.'); check the value".into(),
        ));
    }
    let header = decode_segment(parts[0], "header")?;
    let claims = decode_segment(parts[1], "payload")?;
    eprintln!("{WARNING}");
    print_json(&json!({
        "verified": false,
        "warning": WARNING,
        "format": "jwt",
        "header": header,
        "claims": claims,
        "times": human_times(&claims, now),
        "signature_bytes": b64url_decode(parts[2].as_bytes()).map(|s| s.len()).ok(),
    }));
    Ok(ExitCode::SUCCESS)
}
