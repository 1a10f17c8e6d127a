//! What a verifier accepts: algorithms, audiences, issuer, time rules.
//!
//! The time and audience rules here are shared by every format
//! (`formats.md`, "Common rules").

use crate::error::{Error, ErrorCode, Result};
use crate::json::Value;
use crate::jws::Algorithm;

/// The latest instant a timestamp may name: 9999-12-31T23:59:59Z.
pub const MAX_TIMESTAMP: i64 = 253_402_300_799;

/// Default clock-skew allowance, seconds.
pub const DEFAULT_LEEWAY: i64 = 60;

/// Default largest credential accepted, bytes.
pub const DEFAULT_MAX_TOKEN_SIZE: usize = 8 * 1024;

/// The acceptance rules of a verifier.
///
/// Start from [`Policy::default`] and set what the API expects:
///
/// ```
/// use tessera_core::{jwt, Algorithm, ErrorCode, KeySet, Object, Policy, SigningKey};
///
/// let key = SigningKey::generate(Algorithm::HS256)?;
/// let mut claims = Object::new();
/// claims.insert("sub", "alice".into());
/// claims.insert("iss", "https://issuer.example".into());
/// claims.insert("aud", "https://api.example".into());
/// claims.insert("exp", 1_000i64.into());
/// let token = jwt::sign(&key, &Object::new(), &claims)?;
/// let keys = KeySet::single(key.verifying_key()?);
///
/// let policy = Policy {
///     issuer: Some("https://issuer.example".into()),
///     audiences: vec!["https://api.example".into()],
///     algorithms: Some(vec![Algorithm::HS256]),
///     leeway: 0,
///     ..Policy::default()
/// };
/// assert_eq!(jwt::verify(&token, &keys, &policy, 999)?.subject, "alice");
/// // `exp` is exclusive: at 1000 the token has expired.
/// let late = jwt::verify(&token, &keys, &policy, 1_000).unwrap_err();
/// assert_eq!(late.code(), ErrorCode::Expired);
/// // Another expected issuer refuses it.
/// let elsewhere = Policy {
///     issuer: Some("https://other.example".into()),
///     ..policy
/// };
/// let wrong = jwt::verify(&token, &keys, &elsewhere, 999).unwrap_err();
/// assert_eq!(wrong.code(), ErrorCode::IssuerMismatch);
/// # Ok::<(), tessera_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// When set, only these algorithms are accepted (each key is still
    /// pinned to its own algorithm).
    pub algorithms: Option<Vec<Algorithm>>,
    /// Expected audiences: when non-empty, the credential must carry one.
    /// When empty, a credential that names an audience is refused
    /// (`audience_mismatch`, RFC 7519 §4.1.3) unless
    /// [`Policy::accept_any_audience`] is set.
    pub audiences: Vec<String>,
    /// Opt-out, for verifiers that expect no audience: accept a credential
    /// that names any audience (default: false, such credentials are
    /// refused). Ignored when [`Policy::audiences`] is non-empty. The CLI's
    /// `--any-aud`.
    pub accept_any_audience: bool,
    /// Expected issuer.
    pub issuer: Option<String>,
    /// Clock-skew allowance in seconds, applied to `exp` and `nbf`.
    pub leeway: i64,
    /// Refuse credentials without `exp` (default: true).
    pub require_exp: bool,
    /// Largest allowed `exp - iat` (or `exp - now` when `iat` is absent).
    pub max_lifetime: Option<i64>,
    /// Claims that must be present.
    pub required_claims: Vec<String>,
    /// Required JOSE `typ` header (compared case-insensitively, with or
    /// without the `application/` prefix, RFC 7515 §4.1.9).
    pub required_typ: Option<String>,
    /// Largest credential accepted, in bytes, checked before any parsing.
    pub max_token_size: usize,
    /// NIP-98: how far in the past `created_at` may be, seconds.
    pub nip98_max_age: i64,
    /// NIP-98: how far in the future `created_at` may be, seconds.
    pub nip98_max_future: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            algorithms: None,
            audiences: Vec::new(),
            accept_any_audience: false,
            issuer: None,
            leeway: DEFAULT_LEEWAY,
            require_exp: true,
            max_lifetime: None,
            required_claims: Vec::new(),
            required_typ: None,
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            nip98_max_age: 60,
            nip98_max_future: 30,
        }
    }
}

#[cold]
fn unexpected_audience() -> Error {
    Error::new(
        ErrorCode::AudienceMismatch,
        "the credential names an audience, but this verifier expects none (RFC 7519 section 4.1.3): configure the expected audience (--aud), or accept any audience explicitly (--any-aud, Policy::accept_any_audience)",
    )
}

/// The time claims of a credential, already typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeClaims {
    /// `exp`
    pub exp: Option<i64>,
    /// `nbf`
    pub nbf: Option<i64>,
    /// `iat`
    pub iat: Option<i64>,
}

/// Reads a NumericDate: a non-negative integer up to year 9999.
///
/// A string, a number with a fraction, a negative value or one past 9999 is
/// `invalid_claim`, never "absent" (CVE-2026-25537 in jsonwebtoken).
pub fn numeric_date(name: &str, value: &Value) -> Result<i64> {
    let n = match value {
        Value::Number(n) => n.as_exact_i64(),
        _ => None,
    };
    match n {
        Some(t) if (0..=MAX_TIMESTAMP).contains(&t) => Ok(t),
        _ => Err(Error::with_message(
            ErrorCode::InvalidClaim,
            format!("`{name}` must be an integer number of seconds between 0 and year 9999"),
        )),
    }
}

/// Reads a timestamp written as a decimal string (NWT tags): `^[0-9]+$`.
pub fn numeric_date_str(name: &str, text: &str) -> Result<i64> {
    let ok = !text.is_empty() && text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<i64>() {
        Ok(t) if ok && t <= MAX_TIMESTAMP => Ok(t),
        _ => Err(Error::with_message(
            ErrorCode::InvalidClaim,
            format!("`{name}` must be decimal digits naming a time before year 10000"),
        )),
    }
}

impl Policy {
    /// Applies `exp`, `nbf`, required-`exp` and lifetime rules at `now`.
    pub fn check_times(&self, t: &TimeClaims, now: i64) -> Result<()> {
        let leeway = self.leeway.max(0);
        match t.exp {
            Some(exp) if now >= exp.saturating_add(leeway) => {
                return Err(Error::new(ErrorCode::Expired, "the credential has expired"));
            }
            Some(_) => {}
            None if self.require_exp => {
                return Err(Error::new(
                    ErrorCode::MissingClaim,
                    "the credential has no `exp`; bearer credentials must expire",
                ));
            }
            None => {}
        }
        if let Some(nbf) = t.nbf {
            if now < nbf.saturating_sub(leeway) {
                return Err(Error::new(
                    ErrorCode::NotYetValid,
                    "the credential is not valid yet (`nbf` is in the future)",
                ));
            }
        }
        if let (Some(max), Some(exp)) = (self.max_lifetime, t.exp) {
            let start = t.iat.unwrap_or(now);
            if exp.saturating_sub(start) > max {
                return Err(Error::with_message(
                    ErrorCode::InvalidClaim,
                    format!("the credential lives longer than the allowed {max} s"),
                ));
            }
        }
        Ok(())
    }

    /// The audience rule (formats.md, common rules): with audiences
    /// configured, one of `carried` must equal one of them; with none
    /// configured, a credential that carries an audience is refused (RFC
    /// 7519 §4.1.3: the verifier cannot tell it is the one addressed)
    /// unless [`Policy::accept_any_audience`] opts out.
    pub fn check_audience<'a>(&self, carried: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let mut carried = carried.into_iter();
        if self.audiences.is_empty() {
            if self.accept_any_audience || carried.next().is_none() {
                return Ok(());
            }
            return Err(unexpected_audience());
        }
        self.check_expected_audience(carried)
    }

    /// With audiences configured, one of `carried` must equal one of them;
    /// with none configured, anything passes. Portal's `target_key` follows
    /// this rule (formats.md §2): every Portal JWT names one, and it is
    /// only checked when the verifier expects an audience.
    pub(crate) fn check_expected_audience<'a>(
        &self,
        carried: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        if self.audiences.is_empty() {
            return Ok(());
        }
        for a in carried {
            if self.audiences.iter().any(|e| e == a) {
                return Ok(());
            }
        }
        Err(Error::new(
            ErrorCode::AudienceMismatch,
            "the credential is not addressed to this audience",
        ))
    }

    /// When an issuer is configured, `iss` must equal it.
    pub fn check_issuer(&self, iss: Option<&str>) -> Result<()> {
        match (&self.issuer, iss) {
            (None, _) => Ok(()),
            (Some(expected), Some(got)) if expected == got => Ok(()),
            (Some(_), None) => Err(Error::new(
                ErrorCode::IssuerMismatch,
                "the credential names no issuer but one is expected",
            )),
            (Some(_), Some(_)) => Err(Error::new(
                ErrorCode::IssuerMismatch,
                "the credential's issuer is not the expected one",
            )),
        }
    }

    /// Whether `alg` passes the policy's algorithm list.
    pub fn allows_algorithm(&self, alg: Algorithm) -> bool {
        self.algorithms
            .as_ref()
            .is_none_or(|list| list.contains(&alg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Number;

    fn times(exp: Option<i64>, nbf: Option<i64>) -> TimeClaims {
        TimeClaims {
            exp,
            nbf,
            iat: None,
        }
    }

    #[test]
    fn dead_at_exp_plus_leeway() {
        let p = Policy {
            leeway: 0,
            ..Policy::default()
        };
        assert!(p.check_times(&times(Some(100), None), 99).is_ok());
        assert_eq!(
            p.check_times(&times(Some(100), None), 100)
                .unwrap_err()
                .code(),
            ErrorCode::Expired
        );
        let p = Policy::default();
        assert!(p.check_times(&times(Some(100), None), 159).is_ok());
        assert_eq!(
            p.check_times(&times(Some(100), None), 160)
                .unwrap_err()
                .code(),
            ErrorCode::Expired
        );
    }

    #[test]
    fn nbf_with_leeway() {
        let p = Policy {
            leeway: 10,
            ..Policy::default()
        };
        assert!(p.check_times(&times(Some(1000), Some(100)), 90).is_ok());
        assert_eq!(
            p.check_times(&times(Some(1000), Some(100)), 89)
                .unwrap_err()
                .code(),
            ErrorCode::NotYetValid
        );
    }

    #[test]
    fn exp_required_by_default() {
        let p = Policy::default();
        assert_eq!(
            p.check_times(&times(None, None), 0).unwrap_err().code(),
            ErrorCode::MissingClaim
        );
        let p = Policy {
            require_exp: false,
            ..Policy::default()
        };
        assert!(p.check_times(&times(None, None), 0).is_ok());
    }

    #[test]
    fn lifetime_cap() {
        let p = Policy {
            max_lifetime: Some(60),
            ..Policy::default()
        };
        let t = TimeClaims {
            exp: Some(161),
            nbf: None,
            iat: Some(100),
        };
        assert_eq!(
            p.check_times(&t, 100).unwrap_err().code(),
            ErrorCode::InvalidClaim
        );
        let t = TimeClaims {
            exp: Some(160),
            nbf: None,
            iat: Some(100),
        };
        assert!(p.check_times(&t, 100).is_ok());
    }

    #[test]
    fn numeric_dates_are_typed() {
        assert_eq!(
            numeric_date("exp", &Value::Number(Number::Int(5))).unwrap(),
            5
        );
        for bad in [
            Value::String("5".into()),
            Value::Number(Number::Float(5.5)),
            Value::Number(Number::Int(-1)),
            Value::Number(Number::Int(MAX_TIMESTAMP + 1)),
            Value::Null,
            Value::Bool(true),
        ] {
            assert_eq!(
                numeric_date("exp", &bad).unwrap_err().code(),
                ErrorCode::InvalidClaim,
                "{bad:?}"
            );
        }
        assert_eq!(numeric_date_str("exp", "123").unwrap(), 123);
        for bad in [
            "",
            "-1",
            "1.5",
            " 1",
            "+1",
            "1e3",
            "99999999999999999999",
            "0x10",
        ] {
            assert_eq!(
                numeric_date_str("exp", bad).unwrap_err().code(),
                ErrorCode::InvalidClaim,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn audience_rule() {
        // No audience expected: a credential naming none passes; one naming
        // any is refused (RFC 7519 §4.1.3), and the message says how to opt out.
        let p = Policy::default();
        assert!(!p.accept_any_audience);
        assert!(p.check_audience([]).is_ok());
        let e = p.check_audience(["https://api.example"]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::AudienceMismatch);
        assert!(e.message().contains("--any-aud"), "{}", e.message());
        assert!(e.message().contains("Policy::accept_any_audience"));
        assert!(!e.message().contains("api.example"), "{}", e.message());
        let any = Policy {
            accept_any_audience: true,
            ..Policy::default()
        };
        assert!(any.check_audience(["https://api.example"]).is_ok());
        // Portal's rule: only an expected audience is checked.
        assert!(p.check_expected_audience(["k"]).is_ok());
        let p = Policy {
            audiences: vec!["a".into(), "b".into()],
            ..Policy::default()
        };
        assert!(p.check_audience(["x", "b"]).is_ok());
        assert_eq!(
            p.check_audience([]).unwrap_err().code(),
            ErrorCode::AudienceMismatch
        );
        assert_eq!(
            p.check_audience(["A"]).unwrap_err().code(),
            ErrorCode::AudienceMismatch
        );
        // The opt-out never loosens a configured audience.
        let p = Policy {
            accept_any_audience: true,
            ..p
        };
        assert_eq!(
            p.check_audience(["x"]).unwrap_err().code(),
            ErrorCode::AudienceMismatch
        );
        assert_eq!(
            p.check_expected_audience(["x"]).unwrap_err().code(),
            ErrorCode::AudienceMismatch
        );
        assert!(p.check_expected_audience(["b"]).is_ok());
    }
}
