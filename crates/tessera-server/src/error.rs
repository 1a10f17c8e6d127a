//! HTTP errors: `{"error":"<code or OAuth error>","error_description":"..."}`,
//! with `WWW-Authenticate` on 401 (RFC 6750 §3).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tessera_core::ErrorCode;
use tessera_session::SessionErrorCode;

use crate::gateway::Refusal;

/// The `error` of an answer: one variant per code the server sends, so
/// handlers name a code instead of spelling a string. [`ApiCode::as_str`]
/// is the wire name (contracts.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiCode {
    /// A credential refused by a rule of tessera-core (`expired`, ...).
    Credential(ErrorCode),
    /// Another code of tessera-session (`invalid_grant`).
    Session(SessionErrorCode),
    /// A forward-auth request that does not normalise (`bad_escape`, ...).
    Refused(Refusal),
    /// OAuth `invalid_request`.
    InvalidRequest,
    /// OAuth `invalid_token` (introspection without the admin token).
    InvalidToken,
    /// OAuth `unsupported_token_type` (RFC 7009 §2.2.1).
    UnsupportedTokenType,
    /// OAuth `temporarily_unavailable`: the store cannot be reached.
    TemporarilyUnavailable,
    /// `forbidden`: an admin route without the admin token.
    Forbidden,
    /// `rate_limited`.
    RateLimited,
    /// `payload_too_large`.
    PayloadTooLarge,
    /// `request_timeout`.
    RequestTimeout,
    /// `not_found`: no such route.
    NotFound,
    /// `internal`.
    Internal,
}

impl ApiCode {
    /// The wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ApiCode::Credential(code) => code.as_str(),
            ApiCode::Session(code) => code.as_str(),
            ApiCode::Refused(r) => r.code(),
            ApiCode::InvalidRequest => "invalid_request",
            ApiCode::InvalidToken => "invalid_token",
            ApiCode::UnsupportedTokenType => "unsupported_token_type",
            ApiCode::TemporarilyUnavailable => "temporarily_unavailable",
            ApiCode::Forbidden => "forbidden",
            ApiCode::RateLimited => "rate_limited",
            ApiCode::PayloadTooLarge => "payload_too_large",
            ApiCode::RequestTimeout => "request_timeout",
            ApiCode::NotFound => "not_found",
            ApiCode::Internal => "internal",
        }
    }
}

impl From<ErrorCode> for ApiCode {
    fn from(code: ErrorCode) -> Self {
        ApiCode::Credential(code)
    }
}

impl From<SessionErrorCode> for ApiCode {
    fn from(code: SessionErrorCode) -> Self {
        match code.credential() {
            Some(code) => ApiCode::Credential(code),
            None => ApiCode::Session(code),
        }
    }
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub(crate) status: StatusCode,
    /// `error`: a contract error code or an OAuth error name.
    pub(crate) error: ApiCode,
    /// `error_description`: for humans; never contains a token or secret.
    pub(crate) description: String,
    /// Seconds for `Retry-After` (429, 503).
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, code and description.
    pub(crate) fn new(
        status: StatusCode,
        error: impl Into<ApiCode>,
        description: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            error: error.into(),
            description: description.into(),
            retry_after: None,
        }
    }

    /// 400 `invalid_request`.
    pub(crate) fn bad_request(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ApiCode::InvalidRequest,
            description,
        )
    }

    /// 401 with the credential's error code.
    pub(crate) fn unauthorized(code: ErrorCode, description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, description)
    }

    /// 403 for admin routes.
    pub(crate) fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ApiCode::Forbidden, description)
    }

    /// 503: the store cannot be reached; stateful operations fail closed.
    pub(crate) fn unavailable(description: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ApiCode::TemporarilyUnavailable,
            description,
        );
        e.retry_after = Some(1);
        e
    }

    /// 429 with `Retry-After`.
    pub(crate) fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ApiCode::RateLimited,
            "too many requests from this client; retry later",
        );
        e.retry_after = Some(retry_after.max(1));
        e
    }
}

fn quote(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = crate::bodies::ErrorBody {
            error: self.error.as_str().to_owned(),
            error_description: self.description.clone(),
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            let value = format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                quote(&self.description)
            );
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}
