//! JWT claims (RFC 7519) and their validation.

use crate::error::{Error, ErrorCode, Result};
use crate::identity::{Format, Identity};
use crate::json::{self, Object, Value};
use crate::jws::{self, Header};
use crate::keys::{KeySet, SigningKey};
use crate::policy::{numeric_date, Policy, TimeClaims};

/// The registered claims of a JWT, typed, plus every claim as parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// `iss`
    pub iss: Option<String>,
    /// `sub`
    pub sub: Option<String>,
    /// `aud`, a string or an array of strings, as a list.
    pub aud: Vec<String>,
    /// `exp`, `nbf`, `iat`
    pub times: TimeClaims,
    /// `jti`
    pub jti: Option<String>,
    /// Every claim.
    pub all: Object,
}

fn string_claim(value: Option<&Value>, name: &str) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::with_message(
            ErrorCode::InvalidClaim,
            format!("`{name}` must be a string"),
        )),
    }
}

fn time_claim(value: Option<&Value>, name: &str) -> Result<Option<i64>> {
    value.map(|v| numeric_date(name, v)).transpose()
}

/// The registered claims of `all`, found in one pass over its members:
/// `[aud, iss, sub, exp, nbf, iat, jti]`.
fn registered(all: &Object) -> [Option<&Value>; 7] {
    let mut found = [None; 7];
    for (name, value) in all.iter() {
        let slot = match name {
            "aud" => 0,
            "iss" => 1,
            "sub" => 2,
            "exp" => 3,
            "nbf" => 4,
            "iat" => 5,
            "jti" => 6,
            _ => continue,
        };
        found[slot] = Some(value);
    }
    found
}

impl Claims {
    /// Parses and types a claims set; a registered claim of the wrong type is
    /// `invalid_claim`, never treated as absent.
    pub fn parse(payload: &[u8]) -> Result<Claims> {
        let all = json::parse_object(payload).map_err(|e| {
            Error::with_message(
                ErrorCode::Malformed,
                format!("JWT payload: {}", e.message()),
            )
        })?;
        // Typed in a fixed order (the first invalid claim is the one reported).
        let [aud, iss, sub, exp, nbf, iat, jti] = registered(&all);
        let aud = match aud {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_owned).ok_or(Error::new(
                        ErrorCode::InvalidClaim,
                        "`aud` must be a string or an array of strings",
                    ))
                })
                .collect::<Result<_>>()?,
            Some(_) => {
                return Err(Error::new(
                    ErrorCode::InvalidClaim,
                    "`aud` must be a string or an array of strings",
                ))
            }
        };
        let iss = string_claim(iss, "iss")?;
        let sub = string_claim(sub, "sub")?;
        let times = TimeClaims {
            exp: time_claim(exp, "exp")?,
            nbf: time_claim(nbf, "nbf")?,
            iat: time_claim(iat, "iat")?,
        };
        let jti = string_claim(jti, "jti")?;
        Ok(Claims {
            iss,
            sub,
            aud,
            times,
            jti,
            all,
        })
    }

    /// Applies the policy at `now`: time, audience, issuer, required claims.
    pub fn validate(&self, policy: &Policy, now: i64) -> Result<()> {
        policy.check_times(&self.times, now)?;
        policy.check_audience(self.aud.iter().map(String::as_str))?;
        policy.check_issuer(self.iss.as_deref())?;
        for name in &policy.required_claims {
            if !self.all.contains(name) {
                return Err(Error::with_message(
                    ErrorCode::MissingClaim,
                    format!("the required claim `{}` is absent", jws::truncate(name, 64)),
                ));
            }
        }
        Ok(())
    }
}

fn normalize_typ(t: &str) -> &str {
    // RFC 7515 §4.1.9: "application/" may be omitted; compare case-insensitively.
    // `get` rather than `t[..12]`: byte 12 may fall inside a multi-byte
    // character of an unverified header (`"applicationΞ"` panicked).
    match t.get(..12) {
        Some(prefix) if t.len() > 12 && prefix.eq_ignore_ascii_case("application/") => &t[12..],
        _ => t,
    }
}

/// Checks a required `typ` (RFC 8725 §3.11).
pub fn check_typ(header: &Header, policy: &Policy) -> Result<()> {
    let Some(required) = &policy.required_typ else {
        return Ok(());
    };
    match &header.typ {
        Some(t) if normalize_typ(t).eq_ignore_ascii_case(normalize_typ(required)) => Ok(()),
        _ => Err(Error::with_message(
            ErrorCode::InvalidClaim,
            format!("the token's `typ` header must be {required:?}"),
        )),
    }
}

/// Verifies a compact JWT completely: size, strict decoding, header rules,
/// key selection and signature, then claims, at `now`.
pub fn verify(token: &str, keys: &KeySet, policy: &Policy, now: i64) -> Result<Identity> {
    verify_with(token, keys, policy, now, None)
}

/// As [`verify`], with the verifier's header memo.
pub(crate) fn verify_with(
    token: &str,
    keys: &KeySet,
    policy: &Policy,
    now: i64,
    memo: Option<&jws::HeaderMemo>,
) -> Result<Identity> {
    let jws = jws::decode_with(token, policy.max_token_size, memo)?;
    check_typ(&jws.header, policy)?;
    let key = jws.verify(keys, policy)?;
    let claims = Claims::parse(&jws.payload)?;
    claims.validate(policy, now)?;
    Ok(Identity {
        format: Format::Jwt,
        alg: jws.header.alg.name(),
        subject: claims.sub.unwrap_or_default(),
        issuer: claims.iss,
        audience: claims.aud,
        expires_at: claims.times.exp,
        not_before: claims.times.nbf,
        issued_at: claims.times.iat,
        id: claims.jti,
        kid: key.kid().map(str::to_owned),
        claims: claims.all,
    })
}

/// Signs a claims set as a compact JWT (`typ` from `extra_header`, if any).
pub fn sign(key: &SigningKey, extra_header: &Object, claims: &Object) -> Result<String> {
    jws::sign(
        key,
        extra_header,
        Value::Object(claims.clone()).to_json().as_bytes(),
    )
}
