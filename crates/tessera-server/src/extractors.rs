//! The typed extractors the handlers take: each reads one piece of the
//! request and refuses it with the [`ApiError`] of contracts.md (the same
//! status, code and text the handlers answered before they took them).
//! `extract.rs` holds the parsing they share with forward-auth.
//!
//! Order matters where a request can be wrong twice: axum runs the
//! extractors in argument order, the body last. A handler whose checks
//! interleave with the body's (login, logout) takes a header extractor as
//! `Result<_, ApiError>` and applies `?` where its check comes.

use crate::app::Shared;
use crate::error::{ApiCode, ApiError};
use crate::extract::{authorization, parse_json};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::net::SocketAddr;
use tessera_session::browser::{self, Intent};

/// The request body, read within `max_body_bytes` (`DefaultBodyLimit`):
/// 413 `payload_too_large` past it.
pub(crate) struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(body_refused)
    }
}

fn body_refused(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ApiCode::PayloadTooLarge,
            "the request body is larger than allowed (max_body_bytes)",
        )
    } else {
        ApiError::bad_request("the request body could not be read")
    }
}

/// A JSON body read by the strict reader (`extract::parse_json`: duplicate
/// members refused, bounded nesting; an empty body is `{}`), 400
/// `invalid_request` otherwise. Not `axum::Json`: that one reads with
/// `serde_json` (the last duplicate wins) and refuses a body without
/// `Content-Type: application/json`, which these routes accept.
pub(crate) struct StrictJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for StrictJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(body) = RawBody::from_request(req, state).await?;
        parse_json(&body).map(StrictJson)
    }
}

/// OAuth parameters (RFC 7009, RFC 7662): a strict JSON body when declared
/// `application/json`, else an `application/x-www-form-urlencoded` one,
/// with or without that content type (`axum::Form` would refuse a body
/// without it with 415).
pub(crate) struct JsonOrForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonOrForm<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = is_json(req.headers());
        let RawBody(body) = RawBody::from_request(req, state).await?;
        JsonOrForm::parse(json, &body)
    }
}

impl<T: DeserializeOwned> JsonOrForm<T> {
    /// The parameters of `body`, as JSON or else as a form.
    pub(crate) fn parse(json: bool, body: &[u8]) -> Result<Self, ApiError> {
        if json {
            return parse_json(body).map(JsonOrForm);
        }
        check_form_encoding(body)?;
        serde_urlencoded::from_bytes(body)
            .map(JsonOrForm)
            .map_err(|e| ApiError::bad_request(format!("invalid form body: {e}")))
    }
}

/// Strictness rules `serde_urlencoded` does not apply (it leaves a bad
/// escape as written and turns bytes that are not UTF-8 into U+FFFD, so a
/// token could arrive other than as sent): the body is UTF-8, every `%`
/// starts an escape of two hex digits, and the decoded text is UTF-8.
/// The decoded parameters are UTF-8 exactly when the whole decoded body is,
/// since the separators `&` and `=` are ASCII. (`serde_urlencoded` itself
/// refuses a parameter given twice into one field.)
fn check_form_encoding(body: &[u8]) -> Result<(), ApiError> {
    let not_utf8 = || ApiError::bad_request("the form body is not UTF-8");
    std::str::from_utf8(body).map_err(|_| not_utf8())?;
    let bad_escape = body.iter().enumerate().any(|(i, &b)| {
        b == b'%'
            && !body
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if bad_escape {
        return Err(ApiError::bad_request(
            "bad percent-encoding in the form body",
        ));
    }
    percent_encoding::percent_decode(body)
        .decode_utf8()
        .map_err(|_| not_utf8())?;
    Ok(())
}

/// Whether the body is declared `application/json` (the media type
/// compared case-insensitively, parameters such as `charset` allowed: RFC
/// 9110 §8.3.1).
pub(crate) struct DeclaredJson(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for DeclaredJson {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(DeclaredJson(is_json(&parts.headers)))
    }
}

pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The `Authorization` value, if any: within `max_authorization_bytes`
/// (431 `token_too_large`) and ASCII (401 `malformed`). The credential in
/// it is parsed by the handler (core's one parser), since what a wrong one
/// means differs by route.
pub(crate) struct Authorization(Option<HeaderValue>);

impl Authorization {
    /// The value, checked ASCII.
    pub(crate) fn as_str(&self) -> Option<&str> {
        self.0.as_ref().and_then(|v| v.to_str().ok())
    }
}

impl FromRequestParts<Shared> for Authorization {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let checked = authorization(&parts.headers, state.config.max_authorization_bytes)?;
        Ok(Authorization(checked.and_then(|_| {
            parts.headers.get(header::AUTHORIZATION).cloned()
        })))
    }
}

/// The session cookies of a request and what the origin rule reads
/// (`Origin`, `Sec-Fetch-Site`). Extracting never fails: a cookie is
/// checked only where a route uses it ([`SessionCookies::same_origin`]).
pub(crate) struct SessionCookies {
    /// `tessera_access`.
    pub access: Option<String>,
    /// `tessera_refresh`.
    pub refresh: Option<String>,
    origin: Option<HeaderValue>,
    fetch_site: Option<HeaderValue>,
}

impl<S: Send + Sync> FromRequestParts<S> for SessionCookies {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let h = &parts.headers;
        Ok(SessionCookies {
            access: cookie(h, browser::ACCESS_COOKIE),
            refresh: cookie(h, browser::REFRESH_COOKIE),
            origin: h.get(header::ORIGIN).cloned(),
            fetch_site: h.get(SEC_FETCH_SITE).cloned(),
        })
    }
}

impl SessionCookies {
    /// The one origin rule for requests that use or set the session
    /// cookies, against the server's public origin (403 `forbidden`).
    pub(crate) fn same_origin(&self, state: &Shared, intent: Intent) -> Result<(), ApiError> {
        let public = state.config.public_url();
        let expected = browser::origin_of(&public).unwrap_or(public);
        cookie_origin(
            &expected,
            self.origin.as_ref(),
            self.fetch_site.as_ref(),
            intent,
        )
    }
}

const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// A cookie of the request (`tessera_session::browser::find_cookie`).
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    browser::find_cookie(
        headers.get_all(header::COOKIE).iter().map(|v| v.as_bytes()),
        name,
    )
}

/// `tessera_session::browser::check_cookie_origin` (which the axum layer
/// applies too) against `expected`, as a 403.
pub(crate) fn cookie_origin(
    expected: &str,
    origin: Option<&HeaderValue>,
    fetch_site: Option<&HeaderValue>,
    intent: Intent,
) -> Result<(), ApiError> {
    browser::check_cookie_origin(
        expected,
        origin.map(|v| v.as_bytes()),
        fetch_site.map(|v| v.as_bytes()),
        intent,
    )
    .map_err(ApiError::forbidden)
}

/// The same rule with the origin headers read from `headers`.
pub(crate) fn cookie_origin_of(
    expected: &str,
    headers: &HeaderMap,
    intent: Intent,
) -> Result<(), ApiError> {
    cookie_origin(
        expected,
        headers.get(header::ORIGIN),
        headers.get(SEC_FETCH_SITE),
        intent,
    )
}

/// A rate-limit bucket of [`RateLimited`] (the `route` label of
/// `tessera_rate_limited_total`).
pub(crate) trait Bucket {
    /// The bucket's name.
    const NAME: &'static str;
}

macro_rules! buckets {
    ($($ty:ident => $name:literal),* $(,)?) => {$(
        #[doc = concat!("The `", $name, "` bucket.")]
        pub(crate) enum $ty {}
        impl Bucket for $ty {
            const NAME: &'static str = $name;
        }
    )*};
}

buckets! {
    ChallengeBucket => "challenge",
    LoginBucket => "login",
    RefreshBucket => "refresh",
    RevokeBucket => "revoke",
}

/// A request the per-client limiter let through (429 `rate_limited` with
/// `Retry-After` otherwise); the client is the socket peer or, from a
/// trusted proxy, its `X-Forwarded-For`. Listed before the body, so a
/// limited client's body is not read.
pub(crate) struct RateLimited<B>(PhantomData<B>);

impl<B: Bucket> FromRequestParts<Shared> for RateLimited<B> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let ip = state.proxies.client_ip(&parts.headers, peer);
        state.limiter.check(ip, B::NAME).map_err(|retry_after| {
            state.metrics.rate_limited(B::NAME);
            ApiError::rate_limited(retry_after)
        })?;
        Ok(RateLimited(PhantomData))
    }
}

/// A request with `Authorization: Bearer <admin_token>`: 403 `forbidden`
/// when no admin token is configured, 401 `invalid_token` without it.
pub(crate) struct Admin;

impl FromRequestParts<Shared> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let Some(expected) = &state.config.admin_token else {
            return Err(ApiError::forbidden(
                "admin routes are disabled: set admin_token (TESSERA_ADMIN_TOKEN) to enable them",
            ));
        };
        let auth = Authorization::from_request_parts(parts, state).await?;
        let token = match crate::routes::credential(state, auth.as_str()) {
            Ok(Some(tessera_core::internal::credential::Credential::Bearer(t))) => Some(t),
            _ => None,
        };
        match token {
            Some(t)
                if tessera_core::internal::sha::constant_time_eq(
                    t.as_bytes(),
                    expected.as_bytes(),
                ) =>
            {
                Ok(Admin)
            }
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ApiCode::InvalidToken,
                "this route needs `Authorization: Bearer <admin_token>`",
            )),
        }
    }
}
