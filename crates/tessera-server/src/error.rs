//! HTTP errors: `{"error":"<code or OAuth error>","error_description":"..."}`,
//! with `WWW-Authenticate` on 401 (RFC 6750 §3).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tessera_core::ErrorCode;

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error`: a contract error code or an OAuth error name.
    pub error: String,
    /// `error_description`: for humans; never contains a token or secret.
    pub description: String,
    /// Seconds for `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, code and description.
    pub fn new(
        status: StatusCode,
        error: impl Into<String>,
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
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 401 with the credential's error code.
    pub fn unauthorized(code: ErrorCode, description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code.as_str(), description)
    }

    /// 403 for admin routes.
    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", description)
    }

    /// 503: the store cannot be reached; stateful operations fail closed.
    pub fn unavailable(description: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            description,
        );
        e.retry_after = Some(1);
        e
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
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
            error: self.error,
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
