//! Errors of the session layer, each with an HTTP-friendly kind and a stable
//! code (an `ErrorCode` of contracts.md, or an OAuth error name).

use tessera_core::{Error, ErrorCode};
use tessera_store::StoreError;

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
    code: &'static str,
    message: String,
    detail: Option<&'static str>,
}

impl SessionError {
    /// An error of `kind` with a stable `code` and a message for humans.
    pub fn new(kind: SessionErrorKind, code: &'static str, message: impl Into<String>) -> Self {
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
        Self::new(SessionErrorKind::Unauthorized, code.as_str(), message)
    }

    /// 400 `malformed`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            SessionErrorKind::BadRequest,
            ErrorCode::Malformed.as_str(),
            message,
        )
    }

    /// What to answer.
    pub fn kind(&self) -> SessionErrorKind {
        self.kind
    }

    /// The stable code (`expired`, `revoked`, `invalid_grant`, `unavailable`, ...).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message for humans.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
                "unavailable",
                "the session store cannot be reached; try again shortly",
            )
        } else {
            // The store's message names no secret (it scrubs passwords).
            SessionError::new(
                SessionErrorKind::Internal,
                "internal",
                format!("session store error: {}", e.message()),
            )
        }
    }
}
