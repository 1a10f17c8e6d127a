//! The stateful routes of contracts.md: auth (challenge, login, refresh,
//! logout, logout-all, me), OAuth revocation and introspection, the
//! Portal-compatible `/jwt/*`, and `/readyz`; and [`identify`], which
//! `/v1/verify` (`forward_auth.rs`) shares.
//!
//! Handlers stay thin: parsing, limits, cookies and status codes here; the
//! rules live in `tessera-session` and `tessera-core`.

use crate::app::Shared;
use crate::error::{ApiCode, ApiError};
use crate::extract::{authorization, parse_json};
use crate::extractors::{
    cookie, cookie_origin_of, Authorization, ChallengeBucket, DeclaredJson, LoginBucket,
    RateLimited, RawBody, RefreshBucket, SessionCookies, StrictJson,
};
use crate::issuers::{Authenticated, BearerRoute, IssuerRefusal, Issuers, PORTAL_SIGNER_HEADER};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Instant;
use tessera_core::internal::credential::{parse_authorization, Credential};
use tessera_core::{ErrorCode, Format, Identity};
use tessera_session::browser::{self, Intent};
use tessera_session::{SessionError, SessionErrorKind, TokenPair};

pub use tessera_session::browser::{ACCESS_COOKIE, REFRESH_COOKIE};

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> Self {
        match e.kind() {
            SessionErrorKind::Unauthorized => {
                ApiError::new(StatusCode::UNAUTHORIZED, e.code(), e.message())
            }
            SessionErrorKind::BadRequest => {
                ApiError::new(StatusCode::BAD_REQUEST, e.code(), e.message())
            }
            SessionErrorKind::Unavailable => ApiError::unavailable(e.message()),
            SessionErrorKind::Internal => {
                tracing::error!(error = %e, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ApiCode::Internal,
                    "internal error; see the server log",
                )
            }
        }
    }
}

/// The parsed `Authorization` value, by core's one parser (scheme, then
/// exactly one space, then a credential without whitespace).
pub(crate) fn credential<'a>(
    state: &Shared,
    auth: Option<&'a str>,
) -> Result<Option<Credential<'a>>, ApiError> {
    match auth {
        None => Ok(None),
        Some(a) => parse_authorization(a, state.config.max_authorization_bytes, false)
            .map(Some)
            .map_err(|e| ApiError::unauthorized(e.code(), e.message())),
    }
}

/// A session cookie's `Set-Cookie` value, written by the `cookie` crate:
/// `HttpOnly; SameSite=Strict`, `Secure` unless `cookie_secure = false`,
/// the path, and `Max-Age` (0 clears it).
fn session_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> String {
    cookie::Cookie::build((name, value))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .path(path)
        .max_age(cookie::time::Duration::seconds(max_age.max(0)))
        .to_string()
}

fn set_cookie(
    resp: &mut Response,
    state: &Shared,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) {
    let text = session_cookie(name, value, path, max_age, state.config.cookie_secure);
    if let Ok(v) = HeaderValue::from_str(&text) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn pair_response(state: &Shared, pair: &TokenPair, as_cookies: bool) -> Response {
    let body = crate::bodies::TokenPairBody {
        token_type: "Bearer",
        expires_in: pair.expires_in,
        refresh_expires_in: pair.refresh_expires_in,
        subject: pair.subject.clone(),
        access_token: (!as_cookies).then(|| pair.access_token.clone()),
        refresh_token: (!as_cookies).then(|| pair.refresh_token.clone()),
    };
    let mut resp = (StatusCode::OK, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if as_cookies {
        set_cookie(
            &mut resp,
            state,
            ACCESS_COOKIE,
            &pair.access_token,
            "/",
            pair.expires_in,
        );
        set_cookie(
            &mut resp,
            state,
            REFRESH_COOKIE,
            &pair.refresh_token,
            "/v1/auth",
            pair.refresh_expires_in,
        );
    }
    resp
}

// ---------------------------------------------------------------- readyz

/// `GET /readyz`: 200 when the store answers, else 503.
pub async fn readyz(State(state): State<Shared>) -> Response {
    let backend = state.sessions.store().backend();
    match state.sessions.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(crate::bodies::Ready {
                status: "ready",
                store: backend,
            }),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(store = backend, error = %e.message(), "readiness: store unreachable");
            ApiError::unavailable(format!("the {backend} store does not answer")).into_response()
        }
    }
}

// ------------------------------------------------------------- challenge

/// `POST /v1/auth/challenge` (an empty body is `{}`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChallengeRequest {
    /// A 0x-prefixed Ethereum address: the answer then holds the whole
    /// EIP-4361 message to sign.
    address: Option<String>,
}

/// `POST /v1/auth/challenge`.
pub async fn challenge(
    State(state): State<Shared>,
    _: RateLimited<ChallengeBucket>,
    StrictJson(req): StrictJson<ChallengeRequest>,
) -> Result<Response, ApiError> {
    let ch = state.sessions.challenge(req.address.as_deref()).await?;
    let mut resp = Json(crate::bodies::ChallengeBody {
        nonce: ch.nonce,
        expires_at: ch.expires_at,
        domain: ch.domain,
        uri: ch.uri,
        chain_id: ch.chain_id,
        message: ch.message,
    })
    .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

// ----------------------------------------------------------------- login

/// `POST /v1/auth/login` as JSON: `{"method":"siwe","message","signature"}`
/// or `{"method":"portal","token","pubkey"}`. With `Authorization: Nostr`
/// the body is optional and only `cookie` counts.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    /// `siwe` or `portal` (required without `Authorization: Nostr`).
    #[schema(value_type = Option<LoginMethod>)]
    method: Option<String>,
    /// SIWE: the EIP-4361 message.
    message: Option<String>,
    /// SIWE: the 65-byte signature, 0x hex.
    signature: Option<String>,
    /// Portal: the Portal JWT.
    token: Option<String>,
    /// Portal: the signer's Nostr key (64 hex or npub).
    pubkey: Option<String>,
    /// Answer with session cookies instead of tokens in the body.
    #[serde(default)]
    cookie: bool,
}

/// The login methods of a JSON login body (Nostr logs in by header).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // a schema only: the handler matches the string
pub(crate) enum LoginMethod {
    Siwe,
    Portal,
}

fn required<'a>(v: &'a Option<String>, name: &str, method: &str) -> Result<&'a str, ApiError> {
    v.as_deref()
        .ok_or_else(|| ApiError::bad_request(format!("`{name}` is required for method `{method}`")))
}

/// `POST /v1/auth/login`: SIWE, Nostr (NIP-98 or NWT in the header) or
/// Portal. The body stays bytes: a NIP-98 event's `payload` tag covers
/// them as sent, and the JSON in them is optional with Nostr.
pub async fn login(
    State(state): State<Shared>,
    _: RateLimited<LoginBucket>,
    auth: Result<Authorization, ApiError>,
    DeclaredJson(declared_json): DeclaredJson,
    browser: SessionCookies,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    // The body's refusals (413) come before the header's, as they always did.
    let auth = auth?;
    let auth = auth.as_str();
    let nostr = match credential(&state, auth)? {
        Some(Credential::Nostr(_)) => auth,
        _ => None,
    };
    // Login CSRF: an HTML form can post `text/plain` cross-site without a
    // preflight, but not `application/json` nor an `Authorization` header.
    if nostr.is_none() && !declared_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiCode::InvalidRequest,
            "send the login as `Content-Type: application/json` (or with `Authorization: Nostr <event>`)",
        ));
    }
    let (method, result, cookie) = if let Some(auth) = nostr {
        // The body is what the NIP-98 payload hash covers; it may carry
        // `{"cookie":true}`.
        let cookie = if body.is_empty() {
            false
        } else {
            parse_json::<LoginRequest>(&body)?.cookie
        };
        if cookie {
            browser.same_origin(&state, Intent::ChangeState)?;
        }
        (
            "nostr",
            state.sessions.login_nostr(auth, &body).await,
            cookie,
        )
    } else {
        let req: LoginRequest = parse_json(&body)?;
        if req.cookie {
            // Setting the session cookies is a state change of the browser.
            browser.same_origin(&state, Intent::ChangeState)?;
        }
        match req.method.as_deref() {
            Some("siwe") => {
                let message = required(&req.message, "message", "siwe")?;
                let signature = required(&req.signature, "signature", "siwe")?;
                ("siwe", state.sessions.login_siwe(message, signature).await, req.cookie)
            }
            Some("portal") => {
                let token = required(&req.token, "token", "portal")?;
                let pubkey = required(&req.pubkey, "pubkey", "portal")?;
                ("portal", state.sessions.login_portal(token, pubkey).await, req.cookie)
            }
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "unknown login method {:?}: use \"siwe\", \"portal\", or send `Authorization: Nostr <event>`",
                    other.chars().take(32).collect::<String>()
                )))
            }
            None => {
                return Err(ApiError::bad_request(
                    "say how to log in: {\"method\":\"siwe\",...}, {\"method\":\"portal\",...}, or `Authorization: Nostr <event>`",
                ))
            }
        }
    };
    match result {
        Ok(pair) => {
            state
                .metrics
                .logins
                .with_label_values(&[method, "success"])
                .inc();
            tracing::info!(method, subject = %pair.subject, "login");
            Ok(pair_response(&state, &pair, cookie))
        }
        Err(e) => {
            state
                .metrics
                .logins
                .with_label_values(&[method, e.code().as_str()])
                .inc();
            Err(e.into())
        }
    }
}

// --------------------------------------------------------------- refresh

/// `POST /v1/auth/refresh` and `/v1/auth/logout` (an empty body is `{}`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    /// The refresh token (else the `tessera_refresh` cookie is used).
    refresh_token: Option<String>,
    /// Answer with session cookies instead of tokens in the body.
    #[serde(default)]
    cookie: bool,
}

/// `POST /v1/auth/refresh`: body token or the refresh cookie.
pub async fn refresh(
    State(state): State<Shared>,
    _: RateLimited<RefreshBucket>,
    browser: SessionCookies,
    StrictJson(req): StrictJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let (token, from_cookie) = match req.refresh_token {
        Some(t) => {
            if req.cookie {
                browser.same_origin(&state, Intent::ChangeState)?;
            }
            (t, req.cookie)
        }
        None => match browser.refresh.clone() {
            Some(t) => {
                browser.same_origin(&state, Intent::ChangeState)?;
                (t, true)
            }
            None => {
                return Err(ApiError::bad_request(
                    "send {\"refresh_token\":\"...\"} or the tessera_refresh cookie",
                ))
            }
        },
    };
    match state.sessions.refresh(&token).await {
        Ok(pair) => {
            state
                .metrics
                .refreshes
                .with_label_values(&["success"])
                .inc();
            Ok(pair_response(&state, &pair, from_cookie))
        }
        Err(e) => {
            let label = match e.kind() {
                SessionErrorKind::Unavailable => "unavailable",
                _ => e.detail().unwrap_or(e.code().as_str()),
            };
            state.metrics.refreshes.with_label_values(&[label]).inc();
            Err(e.into())
        }
    }
}

// ---------------------------------------------------------------- logout

fn clear_cookies(state: &Shared, resp: &mut Response) {
    set_cookie(resp, state, ACCESS_COOKIE, "", "/", 0);
    set_cookie(resp, state, REFRESH_COOKIE, "", "/v1/auth", 0);
}

/// The access token of a request: `Authorization: Bearer` or, for
/// state-changing routes after the same-origin check, the access cookie.
fn access_token(
    state: &Shared,
    auth: &Authorization,
    browser: &SessionCookies,
) -> Result<Option<String>, ApiError> {
    match credential(state, auth.as_str())? {
        Some(Credential::Bearer(t)) => return Ok(Some(t.to_owned())),
        Some(Credential::Nostr(_)) => return Ok(None),
        None => {}
    }
    match &browser.access {
        Some(t) => {
            browser.same_origin(state, Intent::ChangeState)?;
            Ok(Some(t.clone()))
        }
        None => Ok(None),
    }
}

/// `POST /v1/auth/logout`: ends the presented session; 204.
pub async fn logout(
    State(state): State<Shared>,
    auth: Result<Authorization, ApiError>,
    browser: SessionCookies,
    StrictJson(req): StrictJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let refresh = match req.refresh_token {
        Some(t) => Some(t),
        None => match &browser.refresh {
            Some(t) => {
                browser.same_origin(&state, Intent::ChangeState)?;
                Some(t.clone())
            }
            None => None,
        },
    };
    // The header's refusals come after the body's, as they always did.
    let access = access_token(&state, &auth?, &browser)?;
    let mut ended = false;
    let mut last: Option<SessionError> = None;
    if let Some(t) = &access {
        match state.sessions.logout_access(t).await {
            Ok(()) => ended = true,
            Err(e) if e.kind() == SessionErrorKind::Unavailable => return Err(e.into()),
            Err(e) => last = Some(e),
        }
    }
    if let Some(t) = &refresh {
        if state.sessions.logout_refresh(t).await? {
            ended = true;
        }
    }
    if !ended {
        return Err(match last {
            Some(e) => e.into(),
            None => ApiError::unauthorized(
                ErrorCode::MissingClaim,
                "present the session to end: a Bearer access token, a refresh_token, or the session cookies",
            ),
        });
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    clear_cookies(&state, &mut resp);
    Ok(resp)
}

/// `POST /v1/auth/logout-all`: every token of the caller's subject issued
/// before now stops working; 204.
pub async fn logout_all(
    State(state): State<Shared>,
    auth: Authorization,
    browser: SessionCookies,
) -> Result<Response, ApiError> {
    let Some(token) = access_token(&state, &auth, &browser)? else {
        return Err(ApiError::unauthorized(
            ErrorCode::Malformed,
            "logout-all needs `Authorization: Bearer <access token>` (or the access cookie)",
        ));
    };
    let identity = state.sessions.check_access(&token).await?;
    let ended = state.sessions.logout_all(&identity.subject).await?;
    tracing::info!(subject = %identity.subject, sessions = ended, "logout-all");
    let mut resp = StatusCode::NO_CONTENT.into_response();
    clear_cookies(&state, &mut resp);
    Ok(resp)
}

mod identity;
mod oauth;
mod portal_rest;

pub use identity::me;
pub(crate) use identity::{identify, identity_body, json_text, SeenRequest};
pub(crate) use oauth::TokenForm;
pub use oauth::{introspect, revoke};
pub use portal_rest::{portal_issue, portal_verify};
pub(crate) use portal_rest::{PortalIssue, PortalVerify};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookies_carry_their_attributes() {
        assert_eq!(
            session_cookie(ACCESS_COOKIE, "tok", "/", 900, true),
            "tessera_access=tok; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=900"
        );
        // cookie_secure = false leaves `Secure` out; a negative life clears.
        assert_eq!(
            session_cookie(REFRESH_COOKIE, "", "/v1/auth", -5, false),
            "tessera_refresh=; HttpOnly; SameSite=Strict; Path=/v1/auth; Max-Age=0"
        );
    }
}
