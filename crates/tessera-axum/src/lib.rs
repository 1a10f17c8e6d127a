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
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]
#![warn(missing_docs)]

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tessera_core::nostr::HttpRequest;
use tessera_core::{ErrorCode, Format, FormatHint, Identity, Verifier};
use tessera_session::{SessionErrorKind, Sessions};
use tower_layer::Layer;
use tower_service::Service;

/// Most NIP-98 event ids remembered by the in-memory replay guard.
const REPLAY_CAPACITY: usize = 100_000;

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
        } else {
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
        replay: Mutex<HashMap<String, i64>>,
    },
    Sessions(Arc<Sessions>),
}

/// The layer: authenticates every request before the inner service sees
/// it.
#[derive(Clone)]
pub struct TesseraLayer {
    mode: Arc<Mode>,
}

impl std::fmt::Debug for TesseraLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match &*self.mode {
            Mode::Bare { .. } => "verifier",
            Mode::Sessions(_) => "sessions",
        };
        f.debug_struct("TesseraLayer").field("mode", &mode).finish()
    }
}

impl TesseraLayer {
    /// Authenticates with a bare verifier. `base_url` (scheme and
    /// authority, e.g. `https://api.example`) plus the request's path and
    /// query is the URL a NIP-98 event must name. The layer does not buffer
    /// bodies: a NIP-98 event with a `payload` tag is checked against an
    /// empty body.
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
                replay: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Authenticates tessera access tokens (Bearer or the `tessera_access`
    /// cookie) with the session checks.
    pub fn sessions(sessions: Arc<Sessions>) -> Self {
        TesseraLayer {
            mode: Arc::new(Mode::Sessions(sessions)),
        }
    }

    /// Authenticates one request's head.
    pub async fn authenticate(&self, parts: &Parts) -> Result<Arc<Identity>, AuthRejection> {
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
                    body: None,
                };
                let id = verifier
                    .verify_authorization(auth, Some(&request), FormatHint::Auto, false)
                    .map_err(|e| AuthRejection::unauthorized(e.code().as_str(), e.message()))?;
                if id.format == Format::Nip98 {
                    remember(replay, &id, verifier.now())?;
                }
                Ok(id)
            }
            Mode::Sessions(sessions) => {
                let token = match authorization(parts)? {
                    Some(a) if a.len() > 7 && a[..7].eq_ignore_ascii_case("bearer ") => {
                        a[7..].trim().to_owned()
                    }
                    Some(_) => {
                        return Err(AuthRejection::unauthorized(
                            "malformed",
                            "use `Authorization: Bearer <access token>`",
                        ))
                    }
                    None => access_cookie(parts).ok_or_else(missing)?,
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
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == "tessera_access" && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// The in-memory NIP-98 replay guard: each event id once until it expires.
fn remember(
    replay: &Mutex<HashMap<String, i64>>,
    id: &Identity,
    now: i64,
) -> Result<(), AuthRejection> {
    let key = id.id.clone().unwrap_or_default();
    let until = id.expires_at.unwrap_or(now + 60);
    let mut map = match replay.lock() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    };
    if map.get(&key).is_some_and(|exp| *exp > now) {
        return Err(AuthRejection::unauthorized(
            "replayed",
            "this NIP-98 event was already used; sign a new one",
        ));
    }
    if map.len() >= REPLAY_CAPACITY {
        map.retain(|_, exp| *exp > now);
        if map.len() >= REPLAY_CAPACITY {
            // Never forget a live id to make room: refuse instead.
            return Err(AuthRejection {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "temporarily_unavailable",
                message: "too many recent NIP-98 events; retry shortly".into(),
            });
        }
    }
    map.insert(key, until);
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

impl<S, B> Service<Request<B>> for TesseraService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The clone is ready-polled later; keep the one that was polled.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            match layer.authenticate(&parts).await {
                Ok(id) => {
                    parts.extensions.insert(Authenticated(id));
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}
