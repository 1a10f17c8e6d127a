//! tessera-axum: a tower [`Layer`] and an axum extractor that hand a
//! handler the verified [`Identity`] of the request's credential.
//!
//! Two ways to authenticate:
//! - [`TesseraLayer::verifier`]: a bare [`Verifier`] (no server, no
//!   store): JWTs from your JWKS, Portal, thirdweb, NWT and NIP-98 (with an
//!   in-memory replay guard for NIP-98 events);
//! - [`TesseraLayer::sessions`]: tessera access tokens checked against a
//!   [`Sessions`] (revoked `jti`, ended session, logout-all), as
//!   `tessera serve` does.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use tessera_axum::{Authenticated, TesseraLayer};
//! # fn make_verifier() -> tessera_core::Verifier { unimplemented!() }
//!
//! async fn hello(Authenticated(id): Authenticated) -> String {
//!     format!("hello {}", id.subject)
//! }
//! let app: Router = Router::new()
//!     .route("/hello", get(hello))
//!     .layer(TesseraLayer::verifier(make_verifier(), "https://api.example"));
//! ```
//!
//! Refusals are `401` with `{"error":"<code>","error_description":"..."}`
//! and `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750); a
//! session store that cannot be reached gives `503` (fail closed).
//!
//! The `Authorization` value is read by `tessera_core`'s one parser; a
//! NIP-98 event is checked against the request's body (buffered up to
//! [`TesseraLayer::max_body_bytes`], 413 past it); a request that uses the
//! `tessera_access` cookie must pass the same origin rule as `tessera
//! serve` (`tessera_session::browser`, 403 otherwise).
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]
#![warn(missing_docs)]

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tessera_core::credential::{parse_authorization, Credential};
use tessera_core::nostr::HttpRequest;
use tessera_core::{ErrorCode, Format, FormatHint, Identity, Verifier};
use tessera_session::browser::{self, Intent, ACCESS_COOKIE};
use tessera_session::{SessionErrorKind, Sessions};
use tower_layer::Layer;
use tower_service::Service;

/// Most NIP-98 event ids remembered by the in-memory replay guard.
const REPLAY_CAPACITY: usize = 100_000;
/// Most live NIP-98 event ids of one signer: past it that signer waits
/// (429), so no single signer can fill the guard for everyone.
const REPLAY_PER_SIGNER: usize = 1_000;
/// Default most body bytes buffered to check a NIP-98 `payload`.
const DEFAULT_MAX_BODY: usize = 64 * 1024;
/// Largest `Authorization` value read.
const MAX_AUTHORIZATION: usize = 16 * 1024;

/// The verified identity, placed in the request's extensions by the layer.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<Identity>);

/// A refused request.
#[derive(Debug, Clone)]
pub struct AuthRejection {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl AuthRejection {
    fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        AuthRejection {
            status: StatusCode::UNAUTHORIZED,
            code,
            message: message.into(),
        }
    }

    fn other(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AuthRejection {
            status,
            code,
            message: message.into(),
        }
    }

    /// The HTTP status (401, or 503 when the session store is away).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable error code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.code, "error_description": self.message});
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

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AuthRejection> {
        parts
            .extensions
            .get::<Authenticated>()
            .cloned()
            .ok_or_else(|| {
                AuthRejection::unauthorized(
                    "malformed",
                    "no verified credential: is the TesseraLayer installed on this route?",
                )
            })
    }
}

enum Mode {
    Bare {
        verifier: Verifier,
        base_url: String,
        replay: Mutex<ReplayGuard>,
    },
    Sessions {
        sessions: Arc<Sessions>,
        /// The origin a cookie-carrying request must come from.
        origin: String,
    },
}

/// The layer: authenticates every request before the inner service sees
/// it.
#[derive(Clone)]
pub struct TesseraLayer {
    mode: Arc<Mode>,
    max_body: usize,
}

impl std::fmt::Debug for TesseraLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match &*self.mode {
            Mode::Bare { .. } => "verifier",
            Mode::Sessions { .. } => "sessions",
        };
        f.debug_struct("TesseraLayer").field("mode", &mode).finish()
    }
}

impl TesseraLayer {
    /// Authenticates with a bare verifier. `base_url` (scheme and
    /// authority, e.g. `https://api.example`) plus the request's path and
    /// query is the URL a NIP-98 event must name; its `payload` tag is
    /// checked against the request's body (see
    /// [`TesseraLayer::max_body_bytes`]).
    ///
    /// The verifier's [`tessera_core::Policy`] decides what is accepted. Its
    /// audience rule applies as everywhere: set `audiences` to the
    /// audiences this API answers to; a verifier with none refuses a
    /// credential that names an audience (401 `audience_mismatch`, RFC 7519
    /// §4.1.3) unless its policy opts out with `accept_any_audience`.
    pub fn verifier(verifier: Verifier, base_url: impl Into<String>) -> Self {
        TesseraLayer {
            mode: Arc::new(Mode::Bare {
                verifier,
                base_url: base_url.into().trim_end_matches('/').to_owned(),
                replay: Mutex::new(ReplayGuard::default()),
            }),
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// Authenticates tessera access tokens (Bearer or the `tessera_access`
    /// cookie) with the session checks. A cookie counts only for a request
    /// from the origin of the sessions' issuer (`SessionConfig::issuer`).
    pub fn sessions(sessions: Arc<Sessions>) -> Self {
        let issuer = sessions.config().issuer.clone();
        let origin = browser::origin_of(&issuer).unwrap_or(issuer);
        TesseraLayer {
            mode: Arc::new(Mode::Sessions { sessions, origin }),
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// The most body bytes buffered for a NIP-98 request (default 64 KiB;
    /// a larger body is refused with 413). Only requests with an
    /// `Authorization: Nostr` header are buffered.
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }

    /// Authenticates one request's head; a NIP-98 event with a `payload`
    /// tag is checked against an empty body (the service buffers the body
    /// and calls [`TesseraLayer::authenticate_with_body`]).
    pub async fn authenticate(&self, parts: &Parts) -> Result<Arc<Identity>, AuthRejection> {
        self.authenticate_with_body(parts, b"").await
    }

    /// Authenticates a request whose body is `body`.
    pub async fn authenticate_with_body(
        &self,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Arc<Identity>, AuthRejection> {
        match &*self.mode {
            Mode::Bare {
                verifier,
                base_url,
                replay,
            } => {
                let auth = authorization(parts)?.ok_or_else(missing)?;
                let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let url = format!("{base_url}{path}");
                let request = HttpRequest {
                    url: &url,
                    method: parts.method.as_str(),
                    body: Some(body),
                };
                let id = verifier
                    .verify_authorization(auth, Some(&request), FormatHint::Auto, false)
                    .map_err(|e| AuthRejection::unauthorized(e.code().as_str(), e.message()))?;
                if id.format == Format::Nip98 {
                    remember(replay, &id, verifier.now())?;
                }
                Ok(id)
            }
            Mode::Sessions { sessions, origin } => {
                let token = match authorization(parts)? {
                    Some(a) => match parse_authorization(a, MAX_AUTHORIZATION, false) {
                        Ok(Credential::Bearer(t)) => t.to_owned(),
                        Ok(Credential::Nostr(_)) => {
                            return Err(AuthRejection::unauthorized(
                                "malformed",
                                "use `Authorization: Bearer <access token>`",
                            ))
                        }
                        Err(e) => {
                            return Err(AuthRejection::unauthorized(e.code().as_str(), e.message()))
                        }
                    },
                    None => {
                        let token = access_cookie(parts).ok_or_else(missing)?;
                        browser::check_cookie_origin(
                            origin,
                            parts.headers.get(header::ORIGIN).map(|v| v.as_bytes()),
                            parts.headers.get("sec-fetch-site").map(|v| v.as_bytes()),
                            Intent::of_method(parts.method.as_str()),
                        )
                        .map_err(|why| {
                            AuthRejection::other(StatusCode::FORBIDDEN, "forbidden", why)
                        })?;
                        token
                    }
                };
                sessions
                    .check_access(&token)
                    .await
                    .map_err(|e| match e.kind() {
                        SessionErrorKind::Unavailable => AuthRejection {
                            status: StatusCode::SERVICE_UNAVAILABLE,
                            code: "temporarily_unavailable",
                            message: e.message().to_owned(),
                        },
                        _ => AuthRejection::unauthorized(e.code(), e.message()),
                    })
            }
        }
    }
}

fn missing() -> AuthRejection {
    AuthRejection::unauthorized(
        ErrorCode::Malformed.as_str(),
        "no credential: send an Authorization header",
    )
}

fn authorization(parts: &Parts) -> Result<Option<&str>, AuthRejection> {
    match parts.headers.get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| {
            AuthRejection::unauthorized("malformed", "the Authorization header is not ASCII")
        }),
    }
}

fn access_cookie(parts: &Parts) -> Option<String> {
    browser::find_cookie(
        parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .map(|v| v.as_bytes()),
        ACCESS_COOKIE,
    )
}

fn is_nostr(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            matches!(
                parse_authorization(a, MAX_AUTHORIZATION, false),
                Ok(Credential::Nostr(_))
            )
        })
}

/// Event ids seen, with their signer and expiry, and how many live ids each
/// signer holds.
#[derive(Default)]
struct ReplayGuard {
    seen: HashMap<String, (String, i64)>,
    per_signer: HashMap<String, usize>,
}

impl ReplayGuard {
    /// Forgets expired ids.
    fn purge(&mut self, now: i64) {
        let per_signer = &mut self.per_signer;
        self.seen.retain(|_, (signer, exp)| {
            let live = *exp > now;
            if !live {
                if let Some(n) = per_signer.get_mut(signer.as_str()) {
                    *n = n.saturating_sub(1);
                }
            }
            live
        });
        self.per_signer.retain(|_, n| *n > 0);
    }
}

/// The in-memory NIP-98 replay guard: each event id once until it expires.
/// Bounded in all and per signer: one signer past [`REPLAY_PER_SIGNER`]
/// live events waits (429) while others go on; only when the whole guard
/// is full of live ids of many signers does everyone wait (503). A live id
/// is never forgotten to make room (that would allow its replay).
fn remember(replay: &Mutex<ReplayGuard>, id: &Identity, now: i64) -> Result<(), AuthRejection> {
    let key = id.id.clone().unwrap_or_default();
    let signer = id.issuer.clone().unwrap_or_else(|| id.subject.clone());
    let until = id.expires_at.unwrap_or(now + 60);
    let mut guard = match replay.lock() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    };
    if guard.seen.get(&key).is_some_and(|(_, exp)| *exp > now) {
        return Err(AuthRejection::unauthorized(
            "replayed",
            "this NIP-98 event was already used; sign a new one",
        ));
    }
    let of_signer = |g: &ReplayGuard| g.per_signer.get(&signer).copied().unwrap_or(0);
    if guard.seen.len() >= REPLAY_CAPACITY || of_signer(&guard) >= REPLAY_PER_SIGNER {
        guard.purge(now);
    }
    if of_signer(&guard) >= REPLAY_PER_SIGNER {
        return Err(AuthRejection::other(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many recent NIP-98 events from this signer; retry shortly",
        ));
    }
    if guard.seen.len() >= REPLAY_CAPACITY {
        return Err(AuthRejection::other(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "too many recent NIP-98 events; retry shortly",
        ));
    }
    if let Some((old_signer, _)) = guard.seen.insert(key, (signer.clone(), until)) {
        // An expired entry of the same id is replaced.
        if let Some(n) = guard.per_signer.get_mut(&old_signer) {
            *n = n.saturating_sub(1);
        }
    }
    *guard.per_signer.entry(signer).or_insert(0) += 1;
    Ok(())
}

impl<S> Layer<S> for TesseraLayer {
    type Service = TesseraService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TesseraService {
            layer: self.clone(),
            inner,
        }
    }
}

/// The service made by [`TesseraLayer`].
#[derive(Clone, Debug)]
pub struct TesseraService<S> {
    layer: TesseraLayer,
    inner: S,
}

impl<S> Service<Request<Body>> for TesseraService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The clone is ready-polled later; keep the one that was polled.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            // A NIP-98 event binds the body (its `payload` tag): read it,
            // within the bound, and hand the same bytes on.
            let (result, body) = if is_nostr(&parts) {
                let bytes = match axum::body::to_bytes(body, layer.max_body).await {
                    Ok(b) => b,
                    Err(_) => {
                        return Ok(AuthRejection::other(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "payload_too_large",
                            "the request body is larger than allowed",
                        )
                        .into_response())
                    }
                };
                let result = layer.authenticate_with_body(&parts, &bytes).await;
                (result, Body::from(bytes))
            } else {
                (layer.authenticate(&parts).await, body)
            };
            match result {
                Ok(id) => {
                    parts.extensions.insert(Authenticated(id));
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}
