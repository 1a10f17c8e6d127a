//! `Authorization` value -> which kind of credential this is.

use crate::error::{Error, ErrorCode, Result};

/// A credential taken from an `Authorization` value (or given bare).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// `Bearer <token>`, or a bare compact token: a JWT of some kind.
    Bearer(&'a str),
    /// `Nostr <base64 event>`: an NWT or a NIP-98 event.
    Nostr(&'a str),
}

impl<'a> Credential<'a> {
    /// The credential text without its scheme.
    pub fn value(&self) -> &'a str {
        match self {
            Credential::Bearer(v) | Credential::Nostr(v) => v,
        }
    }
}

/// Splits an `Authorization` value. The scheme is case-insensitive (RFC
/// 7235 §2.1) and followed by exactly one space; with `allow_bare`, a value
/// without a scheme is read as a bearer token (the CLI accepts bare JWTs).
pub fn parse_authorization(
    value: &str,
    max_size: usize,
    allow_bare: bool,
) -> Result<Credential<'_>> {
    if value.len() > max_size.saturating_add(16) {
        return Err(Error::with_message(
            ErrorCode::TokenTooLarge,
            format!(
                "the credential is {} bytes; the limit is {max_size}",
                value.len()
            ),
        ));
    }
    let (scheme, rest) = match value.split_once(' ') {
        Some((s, r)) => (Some(s), r),
        None => (None, value),
    };
    let cred = match scheme {
        Some(s) if s.eq_ignore_ascii_case("bearer") => Credential::Bearer(rest),
        Some(s) if s.eq_ignore_ascii_case("nostr") => Credential::Nostr(rest),
        Some(_) => {
            return Err(Error::malformed(
                "unsupported Authorization scheme: use `Bearer <token>` or `Nostr <event>`",
            ))
        }
        None if allow_bare => Credential::Bearer(value),
        None => {
            return Err(Error::malformed(
                "the Authorization value needs a scheme: `Bearer <token>` or `Nostr <event>`",
            ))
        }
    };
    let v = cred.value();
    if v.is_empty() || v.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(Error::malformed(
            "exactly one space separates the scheme from the credential, which has no whitespace",
        ));
    }
    if v.len() > max_size {
        return Err(Error::with_message(
            ErrorCode::TokenTooLarge,
            format!(
                "the credential is {} bytes; the limit is {max_size}",
                v.len()
            ),
        ));
    }
    Ok(cred)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(
            parse_authorization("Bearer a.b.c", 100, false).unwrap(),
            Credential::Bearer("a.b.c")
        );
        assert_eq!(
            parse_authorization("bEaReR a.b.c", 100, false).unwrap(),
            Credential::Bearer("a.b.c")
        );
        assert_eq!(
            parse_authorization("Nostr eyJ", 100, false).unwrap(),
            Credential::Nostr("eyJ")
        );
        assert_eq!(
            parse_authorization("NOSTR eyJ", 100, false).unwrap(),
            Credential::Nostr("eyJ")
        );
        assert_eq!(
            parse_authorization("a.b.c", 100, true).unwrap(),
            Credential::Bearer("a.b.c")
        );
    }

    #[test]
    fn rejections() {
        for bad in [
            "a.b.c",
            "Basic dXNlcjpwdw==",
            "Bearer  a.b.c",
            "Bearer ",
            "Bearer a b",
            "Nostr\teyJ",
        ] {
            assert_eq!(
                parse_authorization(bad, 100, false).unwrap_err().code(),
                ErrorCode::Malformed,
                "{bad:?}"
            );
        }
        let big = format!("Bearer {}", "a".repeat(101));
        assert_eq!(
            parse_authorization(&big, 100, false).unwrap_err().code(),
            ErrorCode::TokenTooLarge
        );
    }
}
