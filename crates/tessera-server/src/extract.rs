//! Request extraction with JSON errors: bodies (413 past the limit, 400 for
//! malformed JSON), the socket peer, and the `Authorization` value.

use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

/// Parses a JSON body strictly into `T`: the strict reader of
/// `tessera_core` (duplicate members refused, nesting bounded), whose
/// value is read as `T` directly (no second value type); an empty body
/// is `{}`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    use tessera_core::internal::json;
    if bytes.is_empty() {
        // The constant `{}` through serde_json, as before: its error text
        // (`missing field `x` at line 1 column 2`) is on the wire.
        return serde_json::from_slice(b"{}")
            .map_err(|e| ApiError::bad_request(format!("a JSON body is required: {e}")));
    }
    let strict = json::parse(bytes)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON body: {}", e.message())))?;
    json::from_value(strict).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// The socket peer, when the server was started with connect info.
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// The `Authorization` value, if any, checked against the size limit.
pub fn authorization(headers: &HeaderMap, max: usize) -> Result<Option<&str>, ApiError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    if v.len() > max {
        return Err(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            tessera_core::ErrorCode::TokenTooLarge,
            "the Authorization header is larger than allowed",
        ));
    }
    v.to_str().map(Some).map_err(|_| {
        ApiError::unauthorized(
            tessera_core::ErrorCode::Malformed,
            "the Authorization header is not ASCII",
        )
    })
}
