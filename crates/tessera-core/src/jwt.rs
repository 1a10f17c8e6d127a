//! JWT claims (RFC 7519) and their validation.

use crate::error::{Error, ErrorCode, Result};
use crate::identity::{ClaimSet, Format, Identity};
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

// The typing helpers are out of line: one copy of each, called seven
// times, keeps the verification path's machine code small (it shares the
// instruction cache with the signature check; see BENCHMARKS.md).
#[inline(never)]
fn time_claim(value: Option<&Value>, name: &str) -> Result<Option<i64>> {
    value.map(|v| numeric_date(name, v)).transpose()
}

/// The registered claims, in the order of [`registered`].
const REGISTERED: [&str; 7] = ["aud", "iss", "sub", "exp", "nbf", "iat", "jti"];

/// Where `name` goes in [`REGISTERED`] order, if it is a registered claim.
fn slot(name: &[u8]) -> Option<usize> {
    REGISTERED.iter().position(|r| r.as_bytes() == name)
}

fn is_registered(name: &[u8]) -> bool {
    slot(name).is_some()
}

/// The registered claims of `all`, found in one pass over its members:
/// `[aud, iss, sub, exp, nbf, iat, jti]`.
fn registered(all: &Object) -> [Option<&Value>; 7] {
    let mut found = [None; 7];
    for (name, value) in all.iter() {
        if let Some(i) = slot(name.as_bytes()) {
            found[i] = Some(value);
        }
    }
    found
}

/// The typed registered claims.
struct Registered {
    iss: Option<String>,
    sub: Option<String>,
    aud: Vec<String>,
    times: TimeClaims,
    jti: Option<String>,
}

fn invalid_aud() -> Error {
    Error::new(
        ErrorCode::InvalidClaim,
        "`aud` must be a string or an array of strings",
    )
}

/// The string of a registered claim, taken out of its value (left empty).
#[inline(never)]
fn string_claim(value: Option<&mut Value>, name: &str) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(std::mem::take(s))),
        Some(_) => Err(Error::with_message(
            ErrorCode::InvalidClaim,
            format!("`{name}` must be a string"),
        )),
    }
}

/// `aud`: a string or an array of strings, as a list (taken out of the
/// value).
#[inline(never)]
fn audiences(aud: Option<&mut Value>) -> Result<Vec<String>> {
    match aud {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![std::mem::take(s)]),
        Some(Value::Array(items)) => items
            .iter_mut()
            .map(|v| match v {
                Value::String(s) => Ok(std::mem::take(s)),
                _ => Err(invalid_aud()),
            })
            .collect(),
        Some(_) => Err(invalid_aud()),
    }
}

/// Types the registered claims `[aud, iss, sub, exp, nbf, iat, jti]`, in
/// that fixed order (the first invalid claim is the one reported); a claim
/// of the wrong type is `invalid_claim`, never treated as absent. Strings
/// are taken out of their values, not copied.
fn typed(found: [Option<&mut Value>; 7]) -> Result<Registered> {
    let [aud, iss, sub, exp, nbf, iat, jti] = found;
    let aud = audiences(aud)?;
    let iss = string_claim(iss, "iss")?;
    let sub = string_claim(sub, "sub")?;
    let times = TimeClaims {
        exp: time_claim(exp.as_deref(), "exp")?,
        nbf: time_claim(nbf.as_deref(), "nbf")?,
        iat: time_claim(iat.as_deref(), "iat")?,
    };
    let jti = string_claim(jti, "jti")?;
    Ok(Registered {
        iss,
        sub,
        aud,
        times,
        jti,
    })
}

fn payload_error(e: Error) -> Error {
    Error::with_message(
        ErrorCode::Malformed,
        format!("JWT payload: {}", e.message()),
    )
}

/// A verified JWT's claims as [`verify_with`] keeps them: the registered
/// ones typed, the whole payload checked and kept as text.
struct CheckedClaims {
    registered: Registered,
    /// Every top-level name (for the required claims), values not kept.
    skeleton: Object,
    all: ClaimSet,
}

impl CheckedClaims {
    /// Checks `payload` with every rule [`Claims::parse`] applies (the same
    /// reader, the same typing), building only the registered claims: the
    /// others stay in the payload text until they are read.
    fn parse(payload: Vec<u8>) -> Result<CheckedClaims> {
        let mut skeleton = json::skim_object(&payload, is_registered).map_err(payload_error)?;
        let mut found: [Option<&mut Value>; 7] = Default::default();
        for (name, value) in skeleton.iter_bytes_mut() {
            if let Some(i) = slot(name) {
                found[i] = Some(value);
            }
        }
        let registered = typed(found)?;
        Ok(CheckedClaims {
            registered,
            skeleton,
            all: ClaimSet::checked_text(payload),
        })
    }
}

fn check_required(policy: &Policy, all: &Object) -> Result<()> {
    for name in &policy.required_claims {
        if !all.contains(name) {
            return Err(Error::with_message(
                ErrorCode::MissingClaim,
                format!("the required claim `{}` is absent", jws::truncate(name, 64)),
            ));
        }
    }
    Ok(())
}

impl Claims {
    /// Parses and types a claims set; a registered claim of the wrong type is
    /// `invalid_claim`, never treated as absent.
    pub fn parse(payload: &[u8]) -> Result<Claims> {
        let all = json::parse_object(payload).map_err(payload_error)?;
        // Typed from a copy of the registered claims: `all` keeps them.
        let mut copies = registered(&all).map(|v| v.cloned());
        let r = typed(copies.each_mut().map(Option::as_mut))?;
        Ok(Claims {
            iss: r.iss,
            sub: r.sub,
            aud: r.aud,
            times: r.times,
            jti: r.jti,
            all,
        })
    }

    /// Applies the policy at `now`: time, audience, issuer, required claims.
    pub fn validate(&self, policy: &Policy, now: i64) -> Result<()> {
        apply_policy(
            policy,
            now,
            &self.times,
            &self.aud,
            self.iss.as_deref(),
            &self.all,
        )
    }
}

/// The policy's claim checks, in their fixed order: time, audience,
/// issuer, required claims (`names`: the claims set's top-level members).
fn apply_policy(
    policy: &Policy,
    now: i64,
    times: &TimeClaims,
    aud: &[String],
    iss: Option<&str>,
    names: &Object,
) -> Result<()> {
    policy.check_times(times, now)?;
    policy.check_audience(aud.iter().map(String::as_str))?;
    policy.check_issuer(iss)?;
    check_required(policy, names)
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
    let mut signature = jws::Signature::new();
    let (header, signing_input, payload) =
        jws::decode_parts(token, policy.max_token_size, memo, &mut signature)?;
    check_typ(&header, policy)?;
    let key = jws::verify_signature(&header, signing_input, signature.bytes(), keys, policy)?;
    // The same checks, in the same order, as `Claims::parse` + `validate`.
    let CheckedClaims {
        registered: r,
        skeleton,
        all,
    } = CheckedClaims::parse(payload)?;
    apply_policy(policy, now, &r.times, &r.aud, r.iss.as_deref(), &skeleton)?;
    Ok(Identity {
        format: Format::Jwt,
        alg: header.alg.name(),
        subject: r.sub.unwrap_or_default(),
        issuer: r.iss,
        audience: r.aud,
        expires_at: r.times.exp,
        not_before: r.times.nbf,
        issued_at: r.times.iat,
        id: r.jti,
        kid: key.kid().map(str::to_owned),
        claims: all,
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
