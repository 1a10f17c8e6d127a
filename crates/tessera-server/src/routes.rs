//! The stateful routes of contracts.md: auth (challenge, login, refresh,
//! logout, logout-all, me), OAuth revocation and introspection, the
//! Portal-compatible `/jwt/*`, and `/readyz`; and [`identify`], which
//! `/v1/verify` (`forward_auth.rs`) shares.
//!
//! Handlers stay thin: parsing, limits, cookies and status codes here; the
//! rules live in `tessera-session` and `tessera-core`.

use crate::app::Shared;
use crate::error::ApiError;
use crate::extract::{authorization, parse_json, Peer};
use crate::issuers::{Authenticated, BearerRoute, IssuerRefusal, Issuers, PORTAL_SIGNER_HEADER};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tessera_core::credential::{parse_authorization, Credential};
use tessera_core::encoding::hex_encode;
use tessera_core::nostr::{issue_portal, verify_portal, NostrPublicKey, NostrSecretKey};
use tessera_core::sha::constant_time_eq;
use tessera_core::{ErrorCode, Format, Identity, Policy};
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
                    "internal",
                    "internal error; see the server log",
                )
            }
        }
    }
}

/// The body of a request, with a JSON 413 past the limit.
pub fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than allowed (max_body_bytes)",
            )
        } else {
            ApiError::bad_request("the request body could not be read")
        }
    })
}

fn rate_limit(
    state: &Shared,
    headers: &HeaderMap,
    peer: &Peer,
    bucket: &'static str,
) -> Result<(), ApiError> {
    let ip = state.proxies.client_ip(headers, peer.0);
    state
        .limiter
        .check(ip, bucket)
        .map_err(ApiError::rate_limited)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    browser::find_cookie(
        headers.get_all(header::COOKIE).iter().map(|v| v.as_bytes()),
        name,
    )
}

/// The one origin rule for requests that use or set the session cookies
/// (`tessera_session::browser::check_cookie_origin`, which the axum layer
/// applies too), against the server's public origin.
fn same_origin(state: &Shared, headers: &HeaderMap, intent: Intent) -> Result<(), ApiError> {
    let public = state.config.public_url();
    let expected = browser::origin_of(&public).unwrap_or(public);
    cookie_origin(&expected, headers, intent)
}

fn cookie_origin(expected: &str, headers: &HeaderMap, intent: Intent) -> Result<(), ApiError> {
    browser::check_cookie_origin(
        expected,
        headers.get(header::ORIGIN).map(|v| v.as_bytes()),
        headers.get("sec-fetch-site").map(|v| v.as_bytes()),
        intent,
    )
    .map_err(ApiError::forbidden)
}

/// The parsed `Authorization` value, by core's one parser (scheme, then
/// exactly one space, then a credential without whitespace).
fn credential<'a>(
    state: &Shared,
    auth: Option<&'a str>,
) -> Result<Option<Credential<'a>>, ApiError> {
    match auth {
        None => Ok(None),
        Some(a) => parse_authorization(a, state.config.max_authorization_bytes, false)
            .map(Some)
            .map_err(|e| ApiError::from_core(&e)),
    }
}

fn set_cookie(
    resp: &mut Response,
    state: &Shared,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{name}={value}; HttpOnly{secure}; SameSite=Strict; Path={path}; Max-Age={}",
        max_age.max(0)
    );
    if let Ok(v) = HeaderValue::from_str(&text) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn pair_response(state: &Shared, pair: &TokenPair, as_cookies: bool) -> Response {
    let mut body = json!({
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
        "refresh_expires_in": pair.refresh_expires_in,
        "subject": pair.subject,
    });
    if !as_cookies {
        body["access_token"] = json!(pair.access_token);
        body["refresh_token"] = json!(pair.refresh_token);
    }
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
            Json(json!({"status": "ready", "store": backend})),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(store = backend, error = %e.message(), "readiness: store unreachable");
            ApiError::unavailable(format!("the {backend} store does not answer")).into_response()
        }
    }
}

// ------------------------------------------------------------- challenge

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChallengeRequest {
    address: Option<String>,
}

/// `POST /v1/auth/challenge`.
pub async fn challenge(
    State(state): State<Shared>,
    peer: Peer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    rate_limit(&state, &headers, &peer, "challenge")?;
    let body = body_bytes(body)?;
    let req: ChallengeRequest = parse_json(&body)?;
    let ch = state.sessions.challenge(req.address.as_deref()).await?;
    let mut resp = Json(json!({
        "nonce": ch.nonce,
        "expires_at": ch.expires_at,
        "domain": ch.domain,
        "uri": ch.uri,
        "chain_id": ch.chain_id,
        "message": ch.message,
    }))
    .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

// ----------------------------------------------------------------- login

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    method: Option<String>,
    message: Option<String>,
    signature: Option<String>,
    token: Option<String>,
    pubkey: Option<String>,
    #[serde(default)]
    cookie: bool,
}

fn required<'a>(v: &'a Option<String>, name: &str, method: &str) -> Result<&'a str, ApiError> {
    v.as_deref()
        .ok_or_else(|| ApiError::bad_request(format!("`{name}` is required for method `{method}`")))
}

/// `POST /v1/auth/login`: SIWE, Nostr (NIP-98 or NWT in the header) or
/// Portal.
pub async fn login(
    State(state): State<Shared>,
    peer: Peer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    rate_limit(&state, &headers, &peer, "login")?;
    let body = body_bytes(body)?;
    let auth = authorization(&headers, state.config.max_authorization_bytes)?;
    let nostr = match credential(&state, auth)? {
        Some(Credential::Nostr(_)) => auth,
        _ => None,
    };
    // Login CSRF: an HTML form can post `text/plain` cross-site without a
    // preflight, but not `application/json` nor an `Authorization` header.
    if nostr.is_none() && !is_json(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
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
            same_origin(&state, &headers, Intent::ChangeState)?;
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
            same_origin(&state, &headers, Intent::ChangeState)?;
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
                .with_label_values(&[method, e.code()])
                .inc();
            Err(e.into())
        }
    }
}

// --------------------------------------------------------------- refresh

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshRequest {
    refresh_token: Option<String>,
    #[serde(default)]
    cookie: bool,
}

/// `POST /v1/auth/refresh`: body token or the refresh cookie.
pub async fn refresh(
    State(state): State<Shared>,
    peer: Peer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    rate_limit(&state, &headers, &peer, "refresh")?;
    let body = body_bytes(body)?;
    let req: RefreshRequest = parse_json(&body)?;
    let (token, from_cookie) = match req.refresh_token {
        Some(t) => {
            if req.cookie {
                same_origin(&state, &headers, Intent::ChangeState)?;
            }
            (t, req.cookie)
        }
        None => match cookie(&headers, REFRESH_COOKIE) {
            Some(t) => {
                same_origin(&state, &headers, Intent::ChangeState)?;
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
                _ => e.detail().unwrap_or(e.code()),
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
    headers: &HeaderMap,
    changes_state: bool,
) -> Result<Option<String>, ApiError> {
    let auth = authorization(headers, state.config.max_authorization_bytes)?;
    match credential(state, auth)? {
        Some(Credential::Bearer(t)) => return Ok(Some(t.to_owned())),
        Some(Credential::Nostr(_)) => return Ok(None),
        None => {}
    }
    match cookie(headers, ACCESS_COOKIE) {
        Some(t) => {
            let intent = if changes_state {
                Intent::ChangeState
            } else {
                Intent::Read
            };
            same_origin(state, headers, intent)?;
            Ok(Some(t))
        }
        None => Ok(None),
    }
}

/// `POST /v1/auth/logout`: ends the presented session; 204.
pub async fn logout(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    let req: RefreshRequest = parse_json(&body)?;
    let refresh = match req.refresh_token {
        Some(t) => Some(t),
        None => match cookie(&headers, REFRESH_COOKIE) {
            Some(t) => {
                same_origin(&state, &headers, Intent::ChangeState)?;
                Some(t)
            }
            None => None,
        },
    };
    let access = access_token(&state, &headers, true)?;
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
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(token) = access_token(&state, &headers, true)? else {
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

// ------------------------------------------------- identity: me, verify

/// The request a NIP-98 event must match, as seen by this server or
/// reported by a gateway.
#[derive(Clone)]
pub(crate) struct SeenRequest {
    pub url: String,
    pub method: String,
    /// The body a `payload` tag is checked against; None when it is not
    /// known (a gateway that does not forward it): an event with a
    /// `payload` tag is then refused.
    pub body: Option<Bytes>,
}

/// The identity as the JSON body of `/v1/auth/me` and `/v1/verify`:
/// `subject`, `format`, `method`, `issuer` (the credential's own),
/// `issuer_name` (`tessera`, `nostr` or an `[[issuer]]` name), `audience`, `expires_at`,
/// `issued_at`, and for tessera's access tokens `session_id` and `amr`.
/// Written straight to text (this is on every forward-auth request; a
/// `serde_json::Value` tree cost more than the session check itself).
pub(crate) fn identity_body(found: &Authenticated) -> String {
    let id = &*found.identity;
    let method = found.method;
    let mut out = String::with_capacity(256 + id.subject.len());
    out.push_str("{\"subject\":");
    tessera_core::json::write_string(&id.subject, &mut out);
    out.push_str(",\"format\":");
    tessera_core::json::write_string(id.format.as_str(), &mut out);
    out.push_str(",\"method\":");
    tessera_core::json::write_string(method, &mut out);
    out.push_str(",\"issuer\":");
    match &id.issuer {
        Some(iss) => tessera_core::json::write_string(iss, &mut out),
        None => out.push_str("null"),
    }
    out.push_str(",\"issuer_name\":");
    tessera_core::json::write_string(&found.issuer, &mut out);
    out.push_str(",\"audience\":[");
    for (i, aud) in id.audience.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        tessera_core::json::write_string(aud, &mut out);
    }
    out.push(']');
    for (name, t) in [("expires_at", id.expires_at), ("issued_at", id.issued_at)] {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":");
        match t {
            Some(t) => tessera_core::json::write_int(t, &mut out),
            None => out.push_str("null"),
        }
    }
    if method == "access_token" {
        if let Some(sid) = id.claims.get("sid").and_then(|s| s.as_str()) {
            out.push_str(",\"session_id\":");
            tessera_core::json::write_string(sid, &mut out);
        }
        if let Some(amr) = id.claims.get("amr") {
            out.push_str(",\"amr\":");
            tessera_core::json::write_value(amr, &mut out);
        }
    }
    out.push('}');
    out
}

/// A JSON response from text already serialised.
pub(crate) fn json_text(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Verifies whatever credential a request carries: a tessera access token
/// (Bearer or cookie; with the session checks), a Nostr NWT for this
/// server, a NIP-98 event for `seen` (single use), or a credential of a
/// trusted `[[issuer]]` (tried only against the issuers of its kind; see
/// `crate::issuers`), with the session checks of credentials a subject
/// made (revocation by id, logout-all).
pub(crate) async fn identify(
    state: &Shared,
    headers: &HeaderMap,
    seen: impl Fn() -> SeenRequest,
) -> Result<Authenticated, ApiError> {
    let start = Instant::now();
    let auth = authorization(headers, state.config.max_authorization_bytes)?;
    let parsed = auth.map(|a| parse_authorization(a, state.config.max_authorization_bytes, false));
    // The cookie is what a browser attaches by itself: it counts only for a
    // request from the origin the request is for (the server's own, or at
    // `/v1/verify` the original request's).
    let cookie_token = match auth {
        None => cookie(headers, ACCESS_COOKIE),
        Some(_) => None,
    };
    if cookie_token.is_some() {
        let seen = seen();
        let expected = browser::origin_of(&seen.url).unwrap_or_default();
        cookie_origin(&expected, headers, Intent::of_method(&seen.method))?;
    }
    // The metrics label of a refusal: the format the credential was tried as.
    let mut label = match parsed {
        Some(Ok(Credential::Nostr(_))) => "nostr",
        _ => "access_token",
    };
    let issuers = &state.issuers;
    let tessera = |id: Arc<Identity>| Authenticated {
        identity: id,
        method: "access_token",
        issuer: Arc::clone(issuers.tessera()),
    };
    let result: Result<Authenticated, SessionError> = async {
        match (auth, parsed) {
            (Some(a), Some(Ok(Credential::Nostr(credential)))) => {
                // Only a Nostr credential is bound to the request.
                let seen = seen();
                let id = match state
                    .sessions
                    .verify_nostr_for(a, &seen.url, &seen.method, seen.body.as_deref().unwrap_or_default())
                    .await
                {
                    Ok(id) => id,
                    Err(e) => {
                        let core = ErrorCode::from_name(e.code())
                            .filter(|_| e.kind() == SessionErrorKind::Unauthorized)
                            .map(|code| tessera_core::Error::with_message(code, e.message().to_owned()));
                        let Some(found) = core.and_then(|c| issuers.verify_nwt(credential, &c)) else {
                            return Err(tried_builtin(e, issuers, issuers.nostr()));
                        };
                        let found = found.map_err(refused)?;
                        state.sessions.check_issued(&found.identity).await?;
                        return Ok(found);
                    }
                };
                let nostr = Arc::clone(issuers.nostr());
                if id.format == Format::Nip98 {
                    if seen.body.is_none() && id.claims.get("payload").is_some() {
                        return Err(SessionError::unauthorized(
                            ErrorCode::PayloadMismatch,
                            "the NIP-98 event has a `payload` tag but the gateway does not forward the request body, so it cannot be checked",
                        ));
                    }
                    state.sessions.remember_once(&id).await?;
                    return Ok(Authenticated { identity: id, method: "nip98", issuer: nostr });
                }
                Ok(Authenticated { identity: id, method: "nwt", issuer: nostr })
            }
            (_, Some(Ok(Credential::Bearer(token)))) => {
                let signer = headers
                    .get(PORTAL_SIGNER_HEADER)
                    .and_then(|v| v.to_str().ok());
                match issuers.verify_bearer(token, signer).await {
                    None => match state.sessions.check_access(token).await {
                        Ok(id) => Ok(tessera(id)),
                        Err(e) => Err(tried_builtin(e, issuers, issuers.tessera())),
                    },
                    Some(Ok(found)) => {
                        label = found.method;
                        state.sessions.check_issued(&found.identity).await?;
                        Ok(found)
                    }
                    Some(Err(r)) => {
                        label = match issuers.route_bearer(token) {
                            BearerRoute::Portal => "portal",
                            BearerRoute::Thirdweb => "thirdweb",
                            _ => "jwt",
                        };
                        Err(refused(r))
                    }
                }
            }
            (_, Some(Err(e))) => Err(e.into()),
            _ => match &cookie_token {
                Some(t) => Ok(tessera(state.sessions.check_access(t).await?)),
                None => Err(SessionError::unauthorized(
                    ErrorCode::Malformed,
                    "no credential: send `Authorization: Bearer <access token>`, `Authorization: Nostr <event>`, or the access cookie",
                )),
            },
        }
    }
    .await;
    let seconds = start.elapsed().as_secs_f64();
    match result {
        Ok(found) => {
            state.metrics.verification(found.method, Ok(()), seconds);
            Ok(found)
        }
        Err(e) => {
            if e.kind() == SessionErrorKind::Unauthorized {
                let code = ErrorCode::from_name(e.code()).unwrap_or(ErrorCode::Malformed);
                state.metrics.verification(label, Err(code), seconds);
            }
            Err(e.into())
        }
    }
}

/// A built-in issuer's refusal; with `[[issuer]]` tables configured, its
/// message names the issuer tried, like the refusals of the others.
fn tried_builtin(e: SessionError, issuers: &Issuers, name: &str) -> SessionError {
    if issuers.is_empty() || e.kind() != SessionErrorKind::Unauthorized {
        return e;
    }
    match ErrorCode::from_name(e.code()) {
        Some(code) => {
            SessionError::unauthorized(code, format!("{} (issuers tried: {name})", e.message()))
        }
        None => e,
    }
}

/// A credential every issuer of its kind refused, as a 401 that names the
/// issuers tried.
fn refused(r: IssuerRefusal) -> SessionError {
    SessionError::unauthorized(r.code(), r.message())
}

/// `GET /v1/auth/me`: the caller's identity.
pub async fn me(State(state): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let seen = || SeenRequest {
        url: format!("{}/v1/auth/me", state.config.public_url()),
        method: "GET".into(),
        body: Some(Bytes::new()),
    };
    let found = identify(&state, &headers, seen).await?;
    let mut resp = json_text(identity_body(&found));
    // Who the caller is must not be kept by a shared cache.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

// ------------------------------------------------------------ OAuth 2.0

#[derive(Deserialize)]
struct TokenForm {
    token: Option<String>,
    token_type_hint: Option<String>,
}

/// Whether the body is declared `application/json` (media type compared
/// case-insensitively, parameters such as `charset` allowed: RFC 9110
/// §8.3.1).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

fn token_form(headers: &HeaderMap, body: &[u8]) -> Result<TokenForm, ApiError> {
    if is_json(headers) {
        return parse_json(body);
    }
    let mut form = TokenForm {
        token: None,
        token_type_hint: None,
    };
    for (k, v) in form_urlencoded_pairs(body)? {
        let slot = match k.as_str() {
            "token" => &mut form.token,
            "token_type_hint" => &mut form.token_type_hint,
            _ => continue,
        };
        if slot.is_some() {
            return Err(ApiError::bad_request(format!("`{k}` is given twice")));
        }
        *slot = Some(v);
    }
    Ok(form)
}

fn form_urlencoded_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the form body is not UTF-8"))?;
    let mut out = Vec::new();
    for part in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        out.push((percent_decode(k)?, percent_decode(v)?));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        ApiError::bad_request("bad percent-encoding in the form body")
                    })?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::bad_request("the form body is not UTF-8"))
}

/// `POST /v1/oauth/revoke` (RFC 7009): 200 even for unknown tokens.
pub async fn revoke(
    State(state): State<Shared>,
    peer: Peer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // Limited like login: revoking an NWT stores its id until it expires,
    // so unlimited revocations would let anyone grow the store.
    rate_limit(&state, &headers, &peer, "revoke")?;
    let body = body_bytes(body)?;
    let form = token_form(&headers, &body)?;
    let token = form
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("the `token` parameter is required"))?;
    match form.token_type_hint.as_deref() {
        None | Some("access_token") | Some("refresh_token") => {}
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_token_type",
                "token_type_hint is access_token or refresh_token",
            ))
        }
    }
    state
        .sessions
        .revoke(&token, form.token_type_hint.as_deref())
        .await?;
    Ok(StatusCode::OK.into_response())
}

fn require_admin(state: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.config.admin_token else {
        return Err(ApiError::forbidden(
            "admin routes are disabled: set admin_token (TESSERA_ADMIN_TOKEN) to enable them",
        ));
    };
    let auth = authorization(headers, state.config.max_authorization_bytes)?;
    let token = match credential(state, auth) {
        Ok(Some(Credential::Bearer(t))) => Some(t),
        _ => None,
    };
    match token {
        Some(t) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "this route needs `Authorization: Bearer <admin_token>`",
        )),
    }
}

/// `POST /v1/oauth/introspect` (RFC 7662), admin-authenticated.
pub async fn introspect(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let body = body_bytes(body)?;
    let form = token_form(&headers, &body)?;
    let token = form
        .token
        .ok_or_else(|| ApiError::bad_request("the `token` parameter is required"))?;
    let answer = match state.sessions.introspect(&token).await? {
        Some(id) => {
            let mut v = json!({
                "active": true,
                "token_type": "access_token",
                "sub": id.subject,
                "iss": id.issuer,
                "aud": id.audience.first(),
                "exp": id.expires_at,
                "iat": id.issued_at,
                "nbf": id.not_before,
                "jti": id.id,
            });
            for name in ["sid", "amr"] {
                if let Some(c) = id.claims.get(name) {
                    v[name] = c.to_serde();
                }
            }
            v
        }
        None => json!({"active": false}),
    };
    let mut resp = Json(answer).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

// ------------------------------------------------ Portal-compatible REST

fn portal_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"success": false, "error": message}))).into_response()
}

fn portal_admin(state: &Shared, headers: &HeaderMap) -> Option<Response> {
    require_admin(state, headers)
        .err()
        .map(|e| portal_error(e.status, &e.description))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortalIssue {
    target_key: String,
    duration_hours: f64,
}

/// `POST /jwt/issue` `{"target_key","duration_hours"}` ->
/// `{"success":true,"data":{"token"}}`, signed by the server's Nostr key.
pub async fn portal_issue(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(r) = portal_admin(&state, &headers) {
        return r;
    }
    let body = match body_bytes(body) {
        Ok(b) => b,
        Err(e) => return portal_error(e.status, &e.description),
    };
    let req: PortalIssue = match parse_json(&body) {
        Ok(r) => r,
        Err(e) => return portal_error(e.status, &e.description),
    };
    let Ok(target) = NostrPublicKey::parse(req.target_key.trim()) else {
        return portal_error(
            StatusCode::BAD_REQUEST,
            "target_key must be a 64-hex Nostr key or npub",
        );
    };
    if !(req.duration_hours.is_finite() && req.duration_hours > 0.0 && req.duration_hours <= 8760.0)
    {
        return portal_error(
            StatusCode::BAD_REQUEST,
            "duration_hours must be a number in (0, 8760]",
        );
    }
    let seconds = (req.duration_hours * 3600.0).round() as i64;
    let secret = NostrSecretKey::from_secret(*state.keys().nostr_secret());
    match issue_portal(&secret, &target, state.clock.now(), seconds.max(1)) {
        Ok(token) => Json(json!({"success": true, "data": {"token": token}})).into_response(),
        Err(e) => portal_error(StatusCode::BAD_REQUEST, e.message()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortalVerify {
    pubkey: String,
    token: String,
}

/// `POST /jwt/verify` `{"pubkey","token"}` ->
/// `{"success":true,"data":{"target_key"}}` (with `exp`/`nbf` enforced).
pub async fn portal_verify(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(r) = portal_admin(&state, &headers) {
        return r;
    }
    let body = match body_bytes(body) {
        Ok(b) => b,
        Err(e) => return portal_error(e.status, &e.description),
    };
    let req: PortalVerify = match parse_json(&body) {
        Ok(r) => r,
        Err(e) => return portal_error(e.status, &e.description),
    };
    let Ok(signer) = NostrPublicKey::parse(req.pubkey.trim()) else {
        return portal_error(
            StatusCode::BAD_REQUEST,
            "pubkey must be a 64-hex Nostr key or npub",
        );
    };
    let policy = Policy {
        leeway: state.config.leeway_seconds,
        ..Policy::default()
    };
    let start = Instant::now();
    let result = verify_portal(&req.token, &signer, &policy, state.clock.now());
    let secs = start.elapsed().as_secs_f64();
    match result {
        Ok(id) => {
            state.metrics.verification("portal", Ok(()), secs);
            let target = id.audience.first().cloned().unwrap_or_default();
            Json(json!({"success": true, "data": {"target_key": target, "pubkey": id.subject}}))
                .into_response()
        }
        Err(e) => {
            state.metrics.verification("portal", Err(e.code()), secs);
            let mut r = portal_error(
                StatusCode::UNAUTHORIZED,
                &format!("{}: {}", e.code().as_str(), e.message()),
            );
            if let Ok(v) = HeaderValue::from_str(&format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                e.code().as_str()
            )) {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            r
        }
    }
}

/// A short, non-reversible tag of a secret for logs (never the secret).
pub fn log_tag(secret: &str) -> String {
    let h = tessera_core::sha::sha256(secret.as_bytes());
    hex_encode(&h[..4])
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::json::{Object, Value as CoreValue};

    fn identity(format: Format, issuer: Option<&str>, audience: &[&str]) -> Identity {
        let mut claims = Object::new();
        claims.insert("sid", "s-1".into());
        claims.insert("amr", CoreValue::Array(vec!["nostr".into(), "x\"y".into()]));
        Identity {
            format,
            alg: "ES256",
            issuer: issuer.map(str::to_owned),
            subject: "quote \" backslash \\ newline \n tab \t nul \u{0} é ✓ \u{2028}".into(),
            audience: audience.iter().map(|a| (*a).to_owned()).collect(),
            expires_at: Some(1_796_155_461),
            not_before: None,
            issued_at: None,
            id: None,
            kid: None,
            claims: claims.into(),
        }
    }

    fn found(identity: Identity, method: &'static str, issuer: &str) -> Authenticated {
        Authenticated {
            identity: Arc::new(identity),
            method,
            issuer: Arc::from(issuer),
        }
    }

    #[test]
    fn issuer_jwts_never_report_a_session() {
        // A trusted issuer's JWT may carry `sid`/`amr` claims: they are its
        // own, not a tessera session.
        let id = identity(Format::Jwt, Some("https://idp.example"), &["api"]);
        let body: serde_json::Value =
            serde_json::from_str(&identity_body(&found(id, "jwt", "corp"))).expect("JSON");
        assert_eq!(body["issuer_name"], "corp");
        assert_eq!(body["method"], "jwt");
        assert!(body.get("session_id").is_none() && body.get("amr").is_none());
    }

    #[test]
    fn the_identity_body_is_the_documented_json_whatever_the_strings_hold() {
        let id = identity(
            Format::Jwt,
            Some("https://iss.example/\"x\""),
            &["a", "b\\c"],
        );
        let body: serde_json::Value = serde_json::from_str(&identity_body(&found(
            id.clone(),
            "access_token",
            "tessera",
        )))
        .expect("the body is JSON");
        assert_eq!(
            body,
            json!({
                "subject": id.subject,
                "format": "jwt",
                "method": "access_token",
                "issuer": "https://iss.example/\"x\"",
                "issuer_name": "tessera",
                "audience": ["a", "b\\c"],
                "expires_at": 1_796_155_461,
                "issued_at": null,
                "session_id": "s-1",
                "amr": ["nostr", "x\"y"],
            })
        );
        // The members come in the documented order.
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "subject",
                "format",
                "method",
                "issuer",
                "issuer_name",
                "audience",
                "expires_at",
                "issued_at",
                "session_id",
                "amr"
            ]
        );
        // Only tessera's access tokens (JWT) carry session_id and amr; no
        // issuer is null, no audience an empty array.
        let nwt = identity(Format::Nwt, None, &[]);
        let body: serde_json::Value =
            serde_json::from_str(&identity_body(&found(nwt, "nwt", "nostr"))).expect("JSON");
        assert_eq!(body["issuer"], serde_json::Value::Null);
        assert_eq!(body["issuer_name"], "nostr");
        assert_eq!(body["audience"], json!([]));
        assert!(body.get("session_id").is_none() && body.get("amr").is_none());
        assert_eq!(body["method"], "nwt");
    }
}
