//! JWT claims (RFC 7519) and their validation.

use crate::error::{Error, ErrorCode, Result};
use crate::identity::{ClaimSet, Format, Identity};
use crate::json::{self, FlatValue, Number, Object, Value};
use crate::jws::{self, Header};
use crate::keys::{KeySet, SigningKey};
use crate::policy::{numeric_date, Policy, TimeClaims};

/// The registered claims of a JWT, typed, plus every claim as parsed.
///
/// Not part of the public API (benchmarks read it through
/// `tessera_core::internal::jwt`).
#[doc(hidden)]
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

/// Where `name` goes in the order `[aud, iss, sub, exp, nbf, iat, jti]`
/// (the order of [`registered`] and [`typed`]), if it is a registered
/// claim. Written out as a `match`: it runs for every member of every
/// claims set.
fn slot(name: &[u8]) -> Option<usize> {
    match name {
        b"aud" => Some(0),
        b"iss" => Some(1),
        b"sub" => Some(2),
        b"exp" => Some(3),
        b"nbf" => Some(4),
        b"iat" => Some(5),
        b"jti" => Some(6),
        _ => None,
    }
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

/// A registered claim's value as read: built by the full reader (`&mut
/// Value`, whose strings are taken, not copied) or seen by the flat one
/// ([`FlatValue`]). [`typed`] types both the same way.
trait ClaimValue: Sized {
    /// The string, when the value is one.
    fn string(self) -> Option<String>;
    /// The strings, when the value is a string or an array of strings.
    fn strings(self) -> Option<Vec<String>>;
    /// The value as a NumericDate ([`numeric_date`]).
    fn date(self, name: &str) -> Result<i64>;
}

impl ClaimValue for &mut Value {
    fn string(self) -> Option<String> {
        match self {
            Value::String(s) => Some(std::mem::take(s)),
            _ => None,
        }
    }

    fn strings(self) -> Option<Vec<String>> {
        match self {
            Value::String(s) => Some(vec![std::mem::take(s)]),
            Value::Array(items) => items.iter_mut().map(ClaimValue::string).collect(),
            _ => None,
        }
    }

    fn date(self, name: &str) -> Result<i64> {
        numeric_date(name, self)
    }
}

impl ClaimValue for FlatValue<'_> {
    fn string(self) -> Option<String> {
        match self {
            FlatValue::Str(s) => Some(s.to_owned()),
            _ => None,
        }
    }

    fn strings(self) -> Option<Vec<String>> {
        match self {
            FlatValue::Str(s) => Some(vec![s.to_owned()]),
            FlatValue::Strings(_) => Some(FlatValue::strings(self).map(str::to_owned).collect()),
            _ => None,
        }
    }

    fn date(self, name: &str) -> Result<i64> {
        // `numeric_date` refuses every value that is not a number alike.
        let number = match self {
            FlatValue::Int(i) => Value::Number(Number::Int(i)),
            _ => Value::Null,
        };
        numeric_date(name, &number)
    }
}

// The typing helpers are out of line: one copy of each, called seven
// times, keeps the verification path's machine code small (it shares the
// instruction cache with the signature check; see BENCHMARKS.md).

/// The string of a registered claim.
#[inline(never)]
fn string_claim(value: Option<impl ClaimValue>, name: &str) -> Result<Option<String>> {
    value
        .map(|v| {
            v.string().ok_or_else(|| {
                Error::with_message(
                    ErrorCode::InvalidClaim,
                    format!("`{name}` must be a string"),
                )
            })
        })
        .transpose()
}

/// `aud`: a string or an array of strings, as a list.
#[inline(never)]
fn audiences(aud: Option<impl ClaimValue>) -> Result<Vec<String>> {
    match aud {
        None => Ok(Vec::new()),
        Some(v) => v.strings().ok_or_else(invalid_aud),
    }
}

#[inline(never)]
fn time_claim(value: Option<impl ClaimValue>, name: &str) -> Result<Option<i64>> {
    value.map(|v| v.date(name)).transpose()
}

/// Types the registered claims `[aud, iss, sub, exp, nbf, iat, jti]`, in
/// that fixed order (the first invalid claim is the one reported); a claim
/// of the wrong type is `invalid_claim`, never treated as absent.
fn typed<V: ClaimValue>(found: [Option<V>; 7]) -> Result<Registered> {
    let [aud, iss, sub, exp, nbf, iat, jti] = found;
    let aud = audiences(aud)?;
    let iss = string_claim(iss, "iss")?;
    let sub = string_claim(sub, "sub")?;
    let times = TimeClaims {
        exp: time_claim(exp, "exp")?,
        nbf: time_claim(nbf, "nbf")?,
        iat: time_claim(iat, "iat")?,
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
    /// The policy's required-claims check, made while the names were at
    /// hand; [`apply_policy`] reports it after its other checks.
    required: Result<()>,
    all: ClaimSet,
}

impl CheckedClaims {
    /// Checks `payload` with every rule [`Claims::parse`] applies (the same
    /// reading, the same typing), building only the registered claims: the
    /// others stay in the payload text until they are read.
    ///
    /// A flat claims set (strings, integers, literals, arrays of strings:
    /// nearly every JWT) is read by [`json::flat_object`], which builds
    /// nothing; anything else, and every error, by the full reader.
    ///
    /// Kept by measurement (issue 18's rule: keep the flat and skim paths
    /// and the lazily built claims only if removing them makes an algorithm
    /// slower than a peer or the RSA overhead over the primitive exceed
    /// 6 %). Removed (the payload read by `read_object`, claims built
    /// eagerly), a verification cost about 5.3k instructions more
    /// (callgrind: hs256 22,223 -> 27,541, rs256 294,911 -> 300,197,
    /// ps256 317,953 -> 322,772, es256k 426,463 -> 431,774), and the
    /// paired RSA overhead over the bare signature check rose from +5.1 to
    /// +6.6 % to +9.9 to +12.3 % (RS256 and PS256, `instructions paired`,
    /// 2026-12-06, load average about 10).
    fn parse(payload: Vec<u8>, policy: &Policy) -> Result<CheckedClaims> {
        let mut found: [Option<FlatValue>; 7] = [None; 7];
        let mut names = json::FlatNames::new();
        let flat = json::flat_object(&payload, &mut names, |name, value| {
            if let Some(i) = slot(name.as_bytes()) {
                found[i] = Some(value);
            }
        });
        let (registered, required) = if flat {
            (typed(found)?, check_required(policy, |n| names.contains(n)))
        } else {
            let mut skeleton = json::skim_object(&payload, is_registered).map_err(payload_error)?;
            let mut found: [Option<&mut Value>; 7] = Default::default();
            for (name, value) in skeleton.iter_bytes_mut() {
                if let Some(i) = slot(name) {
                    found[i] = Some(value);
                }
            }
            let registered = typed(found)?;
            (registered, check_required(policy, |n| skeleton.contains(n)))
        };
        Ok(CheckedClaims {
            registered,
            required,
            all: ClaimSet::checked_text(payload),
        })
    }
}

/// The first of the policy's required claims that `has` says is absent.
fn check_required(policy: &Policy, has: impl Fn(&str) -> bool) -> Result<()> {
    for name in &policy.required_claims {
        if !has(name) {
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
        let all = json::read_object(payload).map_err(payload_error)?;
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
            check_required(policy, |n| self.all.contains(n)),
        )
    }
}

/// The policy's claim checks, in their fixed order: time, audience,
/// issuer, required claims (`required`: the outcome of [`check_required`]).
fn apply_policy(
    policy: &Policy,
    now: i64,
    times: &TimeClaims,
    aud: &[String],
    iss: Option<&str>,
    required: Result<()>,
) -> Result<()> {
    policy.check_times(times, now)?;
    policy.check_audience(aud.iter().map(String::as_str))?;
    policy.check_issuer(iss)?;
    required
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
pub(crate) fn check_typ(header: &Header, policy: &Policy) -> Result<()> {
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
        required,
        all,
    } = CheckedClaims::parse(payload, policy)?;
    apply_policy(policy, now, &r.times, &r.aud, r.iss.as_deref(), required)?;
    Ok(Identity {
        format: Format::Jwt,
        alg: header.alg,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The registered claims typed from the flat reader's values and from
    /// the full reader's, for a payload both read: the same claims, or the
    /// same error.
    #[test]
    fn flat_and_full_values_are_typed_alike() {
        let payloads = [
            r#"{"sub":"u","iss":"i","aud":"a","exp":10,"nbf":5,"iat":4,"jti":"j","x":1}"#,
            r#"{"aud":["a","b"],"exp":0}"#,
            r#"{"aud":[]}"#,
            r#"{"aud":1}"#,
            r#"{"aud":null}"#,
            r#"{"aud":true,"sub":1}"#,
            r#"{"sub":1}"#,
            r#"{"iss":false}"#,
            r#"{"jti":null}"#,
            r#"{"jti":["x"]}"#,
            r#"{"exp":"10"}"#,
            r#"{"exp":-1}"#,
            r#"{"exp":253402300799,"nbf":253402300800}"#,
            r#"{"iat":true}"#,
            r#"{"nbf":null}"#,
            r#"{"exp":["1"]}"#,
            r#"{"sub":"x","exp":"1","aud":2}"#,
            r#"{}"#,
        ];
        let show = |r: Result<Registered>| match r {
            Ok(r) => format!("{:?}", (r.aud, r.iss, r.sub, r.times, r.jti)),
            Err(e) => format!("{:?} {}", e.code(), e.message()),
        };
        for payload in payloads {
            let mut flat: [Option<FlatValue>; 7] = [None; 7];
            let read =
                json::flat_object(payload.as_bytes(), &mut json::FlatNames::new(), |n, v| {
                    if let Some(i) = slot(n.as_bytes()) {
                        flat[i] = Some(v);
                    }
                });
            assert!(read, "{payload}");
            let mut full = json::parse_object(payload.as_bytes()).unwrap();
            let mut found: [Option<&mut Value>; 7] = Default::default();
            for (name, value) in full.iter_bytes_mut() {
                if let Some(i) = slot(name) {
                    found[i] = Some(value);
                }
            }
            assert_eq!(show(typed(flat)), show(typed(found)), "{payload}");
        }
    }

    #[test]
    fn slots_follow_the_registered_order() {
        let order = ["aud", "iss", "sub", "exp", "nbf", "iat", "jti"];
        for (i, name) in order.iter().enumerate() {
            assert_eq!(slot(name.as_bytes()), Some(i), "{name}");
        }
        for other in ["", "au", "audx", "Aud", "AUD", "sub ", "scope", "jtis"] {
            assert_eq!(slot(other.as_bytes()), None, "{other:?}");
        }
    }
}
