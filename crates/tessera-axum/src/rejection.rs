//! What the layer answers a refused request with: a status, a typed code
//! and a message, written as `{"error":"<code>","error_description":"..."}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt;
use tessera_core::ErrorCode;
#[cfg(feature = "sessions")]
use tessera_session::SessionErrorCode;

/// The `error` of a refusal: a rule of tessera-core, or one of the few
/// codes the layer adds. [`RejectionCode::as_str`] is the wire name.
///
/// ```
/// use tessera_axum::RejectionCode;
/// use tessera_core::ErrorCode;
///
/// assert_eq!(RejectionCode::from(ErrorCode::Expired).as_str(), "expired");
/// assert_eq!(RejectionCode::Forbidden, "forbidden");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionCode {
    /// The credential broke a rule of tessera-core (`expired`,
    /// `bad_signature`, `malformed`, `replayed`, ...).
    Credential(ErrorCode),
    /// A code of tessera-session that is not a core rule (`internal`, ...).
    #[cfg(feature = "sessions")]
    Session(SessionErrorCode),
    /// `forbidden`: the access cookie came from another origin.
    Forbidden,
    /// `rate_limited`: too many recent NIP-98 events from one signer.
    RateLimited,
    /// `temporarily_unavailable`: the session store does not answer, or
    /// the NIP-98 replay guard is full.
    TemporarilyUnavailable,
    /// `payload_too_large`: a NIP-98 request's body is over the bound.
    PayloadTooLarge,
}

impl RejectionCode {
    /// The stable snake_case name sent as `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionCode::Credential(code) => code.as_str(),
            #[cfg(feature = "sessions")]
            RejectionCode::Session(code) => code.as_str(),
            RejectionCode::Forbidden => "forbidden",
            RejectionCode::RateLimited => "rate_limited",
            RejectionCode::TemporarilyUnavailable => "temporarily_unavailable",
            RejectionCode::PayloadTooLarge => "payload_too_large",
        }
    }

    /// The core [`ErrorCode`], when a rule of tessera-core refused.
    pub fn credential(self) -> Option<ErrorCode> {
        match self {
            RejectionCode::Credential(code) => Some(code),
            _ => None,
        }
    }
}

impl From<ErrorCode> for RejectionCode {
    fn from(code: ErrorCode) -> Self {
        RejectionCode::Credential(code)
    }
}

#[cfg(feature = "sessions")]
impl From<SessionErrorCode> for RejectionCode {
    fn from(code: SessionErrorCode) -> Self {
        match code.credential() {
            Some(code) => RejectionCode::Credential(code),
            None => RejectionCode::Session(code),
        }
    }
}

impl fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// Comparing with the wire name keeps assertions reading as the contract.
impl PartialEq<str> for RejectionCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RejectionCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A refused request: the layer's answer, and the extractor's
/// [`axum::extract::FromRequestParts::Rejection`].
#[derive(Debug, Clone)]
pub struct AuthRejection {
    status: StatusCode,
    code: RejectionCode,
    message: String,
}

impl AuthRejection {
    pub(crate) fn unauthorized(code: impl Into<RejectionCode>, message: impl Into<String>) -> Self {
        Self::other(StatusCode::UNAUTHORIZED, code, message)
    }

    pub(crate) fn other(
        status: StatusCode,
        code: impl Into<RejectionCode>,
        message: impl Into<String>,
    ) -> Self {
        AuthRejection {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// The HTTP status: 401, 403 (a cookie from another origin), 413, 429,
    /// or 503 when the session store is away.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable error code.
    pub fn code(&self) -> RejectionCode {
        self.code
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({"error": self.code.as_str(), "error_description": self.message});
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            let text: String = self
                .message
                .chars()
                .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
                .collect();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "Bearer error=\"invalid_token\", error_description=\"{text}\""
            )) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        } else if matches!(
            self.status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        ) {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire names are the strings the layer always sent.
    #[test]
    fn codes_keep_their_wire_names() {
        for (code, name) in [
            (RejectionCode::Credential(ErrorCode::Malformed), "malformed"),
            (RejectionCode::Credential(ErrorCode::Replayed), "replayed"),
            (RejectionCode::Forbidden, "forbidden"),
            (RejectionCode::RateLimited, "rate_limited"),
            (
                RejectionCode::TemporarilyUnavailable,
                "temporarily_unavailable",
            ),
            (RejectionCode::PayloadTooLarge, "payload_too_large"),
        ] {
            assert_eq!(code.as_str(), name);
            assert_eq!(code.to_string(), name);
        }
        #[cfg(feature = "sessions")]
        {
            let grant = RejectionCode::from(SessionErrorCode::InvalidGrant);
            assert_eq!(grant.as_str(), "invalid_grant");
            assert_eq!(
                RejectionCode::from(SessionErrorCode::Credential(ErrorCode::Revoked)),
                RejectionCode::Credential(ErrorCode::Revoked)
            );
        }
    }
}
