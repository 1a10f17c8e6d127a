//! Errors of the session layer, each with an HTTP-friendly kind and a stable
//! code (an `ErrorCode` of contracts.md, or an OAuth error name).

use std::fmt;

use tessera_core::{Error, ErrorCode};
use tessera_store::StoreError;

/// The stable code of a [`SessionError`], to match on. [`as_str`] gives the
/// wire name that HTTP bodies, logs and metric labels carry.
///
/// [`as_str`]: SessionErrorCode::as_str
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionErrorCode {
    /// A credential (or request) refused by one of tessera-core's rules:
    /// `expired`, `revoked`, `malformed`, ... (contracts.md).
    Credential(ErrorCode),
    /// `invalid_grant` (RFC 6749 §5.2): the refresh token is unknown, spent,
    /// expired or revoked; [`SessionError::detail`] says which.
    InvalidGrant,
    /// `unavailable`: the session store cannot be reached, so the operation
    /// failed closed.
    Unavailable,
    /// `internal`: something that should not happen (a signing or clock
    /// failure, a store error other than unreachability).
    Internal,
}

impl SessionErrorCode {
    /// The stable snake_case name (`expired`, `invalid_grant`,
    /// `unavailable`, `internal`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SessionErrorCode::Credential(code) => code.as_str(),
            SessionErrorCode::InvalidGrant => "invalid_grant",
            SessionErrorCode::Unavailable => "unavailable",
            SessionErrorCode::Internal => "internal",
        }
    }

    /// The core [`ErrorCode`], when the credential was refused by one of
    /// its rules.
    pub fn credential(self) -> Option<ErrorCode> {
        match self {
            SessionErrorCode::Credential(code) => Some(code),
            _ => None,
        }
    }
}

impl From<ErrorCode> for SessionErrorCode {
    fn from(code: ErrorCode) -> Self {
        SessionErrorCode::Credential(code)
    }
}

impl fmt::Display for SessionErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// Comparing with the wire name keeps assertions such as
// `assert_eq!(e.code(), "revoked")` reading as the contract does.
impl PartialEq<str> for SessionErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SessionErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// How a caller should answer a [`SessionError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionErrorKind {
    /// The credential or token is not good (HTTP 401).
    Unauthorized,
    /// The request itself is wrong (HTTP 400).
    BadRequest,
    /// The shared state cannot be reached: the operation failed closed
    /// (HTTP 503).
    Unavailable,
    /// Something that should not happen (HTTP 500).
    Internal,
}

/// A failed session operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionError {
    kind: SessionErrorKind,
    code: SessionErrorCode,
    message: String,
    detail: Option<&'static str>,
}

impl SessionError {
    /// An error of `kind` with a stable `code` and a message for humans.
    pub fn new(kind: SessionErrorKind, code: SessionErrorCode, message: impl Into<String>) -> Self {
        SessionError {
            kind,
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// Adds a finer reason (metrics label), e.g. `reuse_detected` for an
    /// `invalid_grant`.
    pub fn with_detail(mut self, detail: &'static str) -> Self {
        self.detail = Some(detail);
        self
    }

    /// The finer reason, when there is one.
    pub fn detail(&self) -> Option<&'static str> {
        self.detail
    }

    /// 401 with an [`ErrorCode`].
    pub fn unauthorized(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(
            SessionErrorKind::Unauthorized,
            SessionErrorCode::Credential(code),
            message,
        )
    }

    /// 400 `malformed`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            SessionErrorKind::BadRequest,
            SessionErrorCode::Credential(ErrorCode::Malformed),
            message,
        )
    }

    /// What to answer.
    pub fn kind(&self) -> SessionErrorKind {
        self.kind
    }

    /// The stable code (`expired`, `revoked`, `invalid_grant`, `unavailable`, ...).
    pub fn code(&self) -> SessionErrorCode {
        self.code
    }

    /// The message for humans.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for SessionError {}

impl From<Error> for SessionError {
    fn from(e: Error) -> Self {
        SessionError::unauthorized(e.code(), e.message())
    }
}

impl From<StoreError> for SessionError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            SessionError::new(
                SessionErrorKind::Unavailable,
                SessionErrorCode::Unavailable,
                "the session store cannot be reached; try again shortly",
            )
        } else {
            // The store's message names no secret (it scrubs passwords).
            SessionError::new(
                SessionErrorKind::Internal,
                SessionErrorCode::Internal,
                format!("session store error: {}", e.message()),
            )
        }
    }
}
