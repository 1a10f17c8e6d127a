//! Errors with stable codes (`contracts.md`, "Error codes").
//!
//! The code is the contract: the CLI JSON, HTTP bodies and metric labels all
//! use [`ErrorCode::as_str`]. The message is for humans and may change.

use std::borrow::Cow;
use std::fmt;

/// One stable reason for refusing a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The credential does not follow its wire format.
    Malformed,
    /// The credential is larger than the configured limit.
    TokenTooLarge,
    /// The algorithm is not one tessera implements (or is `none`).
    UnsupportedAlgorithm,
    /// The algorithm is implemented but not allowed by the key or the policy.
    AlgorithmNotAllowed,
    /// No configured key matches the credential.
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
    /// A Nostr event's stated id differs from its recomputed id.
    IdMismatch,
    /// A Nostr event has the wrong `kind` for its use.
    WrongKind,
    /// `now >= exp + leeway`.
    Expired,
    /// `now < nbf - leeway`.
    NotYetValid,
    /// None of the expected audiences is carried by the credential.
    AudienceMismatch,
    /// The issuer is not the expected one.
    IssuerMismatch,
    /// A signer claims a subject or issuer other than itself without being trusted.
    UntrustedSigner,
    /// A required claim is absent.
    MissingClaim,
    /// A claim is present but has the wrong type or an impossible value.
    InvalidClaim,
    /// A `crit` header names an extension tessera does not implement.
    CritUnsupported,
    /// A NIP-98 event is bound to another URL.
    UrlMismatch,
    /// A NIP-98 event is bound to another HTTP method.
    MethodMismatch,
    /// A NIP-98 payload hash does not match the request body.
    PayloadMismatch,
    /// A NIP-98 event is outside its freshness window.
    Stale,
    /// A one-time credential was presented again.
    Replayed,
    /// The credential, its session or its subject's tokens were revoked.
    Revoked,
    /// A SIWE nonce is not the expected one.
    NonceMismatch,
    /// A SIWE domain is not the expected one.
    DomainMismatch,
}

impl ErrorCode {
    /// Every code, in the order of `contracts.md`.
    pub const ALL: [ErrorCode; 24] = [
        ErrorCode::Malformed,
        ErrorCode::TokenTooLarge,
        ErrorCode::UnsupportedAlgorithm,
        ErrorCode::AlgorithmNotAllowed,
        ErrorCode::UnknownKey,
        ErrorCode::BadSignature,
        ErrorCode::IdMismatch,
        ErrorCode::WrongKind,
        ErrorCode::Expired,
        ErrorCode::NotYetValid,
        ErrorCode::AudienceMismatch,
        ErrorCode::IssuerMismatch,
        ErrorCode::UntrustedSigner,
        ErrorCode::MissingClaim,
        ErrorCode::InvalidClaim,
        ErrorCode::CritUnsupported,
        ErrorCode::UrlMismatch,
        ErrorCode::MethodMismatch,
        ErrorCode::PayloadMismatch,
        ErrorCode::Stale,
        ErrorCode::Replayed,
        ErrorCode::Revoked,
        ErrorCode::NonceMismatch,
        ErrorCode::DomainMismatch,
    ];

    /// The stable snake_case name of the code.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::TokenTooLarge => "token_too_large",
            ErrorCode::UnsupportedAlgorithm => "unsupported_algorithm",
            ErrorCode::AlgorithmNotAllowed => "algorithm_not_allowed",
            ErrorCode::UnknownKey => "unknown_key",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::IdMismatch => "id_mismatch",
            ErrorCode::WrongKind => "wrong_kind",
            ErrorCode::Expired => "expired",
            ErrorCode::NotYetValid => "not_yet_valid",
            ErrorCode::AudienceMismatch => "audience_mismatch",
            ErrorCode::IssuerMismatch => "issuer_mismatch",
            ErrorCode::UntrustedSigner => "untrusted_signer",
            ErrorCode::MissingClaim => "missing_claim",
            ErrorCode::InvalidClaim => "invalid_claim",
            ErrorCode::CritUnsupported => "crit_unsupported",
            ErrorCode::UrlMismatch => "url_mismatch",
            ErrorCode::MethodMismatch => "method_mismatch",
            ErrorCode::PayloadMismatch => "payload_mismatch",
            ErrorCode::Stale => "stale",
            ErrorCode::Replayed => "replayed",
            ErrorCode::Revoked => "revoked",
            ErrorCode::NonceMismatch => "nonce_mismatch",
            ErrorCode::DomainMismatch => "domain_mismatch",
        }
    }

    /// Parses a stable name back into its code.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: a stable [`ErrorCode`] and a human message.
///
/// Messages never contain the credential or key material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Error {
    code: ErrorCode,
    message: Cow<'static, str>,
}

impl Error {
    /// An error with a fixed message.
    pub const fn new(code: ErrorCode, message: &'static str) -> Self {
        Error {
            code,
            message: Cow::Borrowed(message),
        }
    }

    /// An error with a computed message.
    // Cold: a verification that succeeds never builds one, and keeping the
    // message formatting out of line keeps the hot paths' code small.
    #[cold]
    #[inline(never)]
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: Cow::Owned(message.into()),
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn malformed(message: &'static str) -> Self {
        Error::new(ErrorCode::Malformed, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// Result with a tessera [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::from_name("nope"), None);
    }
}
