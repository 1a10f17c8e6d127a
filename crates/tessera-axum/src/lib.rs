//! tessera-axum: a tower [`Layer`](tower_layer::Layer) and an axum extractor that hand a
//! handler the verified [`Identity`] of the request's credential.
//!
//! Three ways to authenticate:
//! - [`TesseraLayer::verifier`]: a bare [`Verifier`] (no server, no
//!   store) with keys you hold: JWTs, Portal, thirdweb, NWT and NIP-98 (with
//!   an in-memory replay guard for NIP-98 events). Its keys are fixed: a
//!   new key of the issuer needs a new verifier.
//! - [`TesseraLayer::remote`]: `Bearer` JWTs checked against an issuer's
//!   JWKS URL through tessera-jwks (cached, refreshed in the background,
//!   one refetch per cooldown for an unknown `kid`, the last good set kept
//!   while the issuer is down). Trusting a tessera server this way
//!   ([`access_token_policy`]), a `tessera keys rotate` on the server
//!   reaches the app without a restart.
//! - [`TesseraLayer::sessions`]: tessera access tokens checked against a
//!   [`Sessions`] (revoked `jti`, ended session, logout-all), as
//!   `tessera serve` does; [`TesseraLayer::follow_jwks`] keeps its
//!   verification keys on a tessera server's JWKS, so that it also follows
//!   a rotation.
//!
//! `remote` and `sessions` are Cargo features, both on by default. An app
//! that only verifies with keys it holds builds with
//! `default-features = false`: core, axum and tower, without the HTTP
//! client of tessera-jwks or the store clients of tessera-session.
//!
//! A bare verifier with keys you hold:
//!
//! ```
//! use axum::{routing::get, Router};
//! use tessera_axum::{Authenticated, TesseraLayer};
//! use tessera_core::{KeySet, SigningKey};
//! use tessera_core::{Algorithm, Policy, Verifier};
//!
//! async fn hello(Authenticated(id): Authenticated) -> String {
//!     format!("hello {}", id.subject)
//! }
//! # fn main() -> Result<(), tessera_core::Error> {
//! # let issuer_key = SigningKey::generate(Algorithm::ES256)?;
//! // In production: KeySet::from_jwks(&std::fs::read_to_string("issuer.jwks.json")?, None)?
//! let keys = KeySet::single(issuer_key.verifying_key()?);
//! let policy = Policy {
//!     audiences: vec!["https://api.example".into()],
//!     ..Policy::default()
//! };
//! let app: Router = Router::new()
//!     .route("/hello", get(hello))
//!     .layer(TesseraLayer::verifier(Verifier::new(policy, keys), "https://api.example"));
//! # Ok(())
//! # }
//! ```
//!
//! A tessera server trusted by its JWKS URL (follows its key rotations):
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use tessera_axum::{access_token_policy, Authenticated, TesseraLayer};
//! use tessera_jwks::{JwksConfig, RemoteJwks, RemoteVerifier};
//!
//! async fn hello(Authenticated(id): Authenticated) -> String {
//!     format!("hello {}", id.subject)
//! }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = "https://auth.example"; // the server's public_url
//! let jwks = RemoteJwks::new(JwksConfig::jwks_uri(format!(
//!     "{server}/.well-known/jwks.json"
//! )))?;
//! jwks.refresh().await?; // optional: wait for the first set
//! let verifier = RemoteVerifier::new(jwks, access_token_policy(server));
//! let app: Router = Router::new()
//!     .route("/hello", get(hello))
//!     .layer(TesseraLayer::remote(verifier));
//! # Ok(())
//! # }
//! ```
//!
//! Sessions on the server's store (revocation and logout checked), with
//! verification keys that follow the server's JWKS:
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use std::sync::Arc;
//! use tessera_axum::{Authenticated, TesseraLayer};
//! use tessera_core::{KeySet, SigningKey};
//! use tessera_core::internal::nostr::NostrSecretKey;
//! use tessera_core::Algorithm;
//! use tessera_jwks::{JwksConfig, RemoteJwks};
//! use tessera_session::{SessionConfig, Sessions};
//!
//! async fn hello(Authenticated(id): Authenticated) -> String {
//!     format!("hello {}", id.subject)
//! }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let config: SessionConfig = unimplemented!("the server's issuer, audience, TTLs");
//! let server = "https://auth.example";
//! let store = tessera_store::open("postgres://tessera@db/tessera").await?;
//! // This app signs nothing itself; the server's keys verify.
//! let signer = Arc::new(SigningKey::generate(Algorithm::ES256)?);
//! let server_nostr = NostrSecretKey::generate().public_key();
//! let sessions = Arc::new(Sessions::new(config, store, signer, KeySet::new(), server_nostr));
//! let jwks = RemoteJwks::new(JwksConfig::jwks_uri(format!(
//!     "{server}/.well-known/jwks.json"
//! )))?;
//! let app: Router = Router::new()
//!     .route("/hello", get(hello))
//!     .layer(TesseraLayer::sessions(sessions).follow_jwks(jwks));
//! # Ok(())
//! # }
//! ```
//!
//! Refusals are `401` with `{"error":"<code>","error_description":"..."}`
//! and `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750); a
//! session store that cannot be reached gives `503` (fail closed). The
//! code is typed: [`AuthRejection::code`] is a [`RejectionCode`].
//!
//! The `Authorization` value is read by `tessera_core`'s one parser; a
//! NIP-98 event is checked against the request's body (buffered up to
//! [`TesseraLayer::max_body_bytes`], 413 past it); a request that uses the
//! `tessera_access` cookie must pass the same origin rule as `tessera
//! serve` (`tessera_session::browser`, 403 otherwise).
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]
#![deny(missing_docs)]

mod rejection;
mod replay;
mod service;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
#[cfg(feature = "sessions")]
use axum::http::StatusCode;
use replay::{remember, ReplayGuard};
use std::sync::{Arc, Mutex};
use tessera_core::internal::credential::{parse_authorization, Credential};
use tessera_core::HttpRequest;
#[cfg(all(feature = "remote", feature = "sessions"))]
use tessera_core::KeySet;
use tessera_core::{ErrorCode, Format, FormatHint, Identity, Policy, Verifier};
#[cfg(all(feature = "remote", feature = "sessions"))]
use tessera_jwks::RemoteJwks;
#[cfg(feature = "remote")]
use tessera_jwks::RemoteVerifier;
#[cfg(feature = "sessions")]
use tessera_session::browser::{self, Intent, ACCESS_COOKIE};
#[cfg(feature = "sessions")]
use tessera_session::{SessionErrorKind, Sessions};

pub use rejection::{AuthRejection, RejectionCode};
pub use service::TesseraService;

/// Default most body bytes buffered to check a NIP-98 `payload`.
const DEFAULT_MAX_BODY: usize = 64 * 1024;
/// Largest `Authorization` value read.
const MAX_AUTHORIZATION: usize = 16 * 1024;
/// The `typ` of a tessera server's access tokens (RFC 9068), the same as
/// `tessera_session::tokens::ACCESS_TOKEN_TYP` (a test holds them equal):
/// written here so that [`access_token_policy`] needs no session crate.
const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// The verified identity, placed in the request's extensions by the layer.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<Identity>);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AuthRejection> {
        parts
            .extensions
            .get::<Authenticated>()
            .cloned()
            .ok_or_else(|| {
                AuthRejection::unauthorized(
                    ErrorCode::Malformed,
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
    #[cfg(feature = "remote")]
    Remote { verifier: RemoteVerifier },
    #[cfg(feature = "sessions")]
    Sessions {
        sessions: Arc<Sessions>,
        /// The origin a cookie-carrying request must come from.
        origin: String,
        /// The server's JWKS the verification keys follow.
        #[cfg(feature = "remote")]
        follow: Option<Follow>,
    },
}

/// A [`RemoteJwks`] whose set the sessions verify with.
#[cfg(all(feature = "remote", feature = "sessions"))]
struct Follow {
    jwks: RemoteJwks,
    /// The set last handed to the sessions.
    applied: Mutex<Option<Arc<KeySet>>>,
}

#[cfg(all(feature = "remote", feature = "sessions"))]
impl Follow {
    /// Hands the sessions the current set if it is not the one they have;
    /// returns the set in force.
    fn sync(&self, sessions: &Sessions) -> Arc<KeySet> {
        let keys = self.jwks.keys();
        let mut applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        if !applied.as_ref().is_some_and(|a| Arc::ptr_eq(a, &keys)) {
            sessions.set_verify_keys((*keys).clone());
            *applied = Some(Arc::clone(&keys));
        }
        keys
    }
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
            #[cfg(feature = "remote")]
            Mode::Remote { .. } => "remote",
            #[cfg(all(feature = "sessions", feature = "remote"))]
            Mode::Sessions {
                follow: Some(_), ..
            } => "sessions following a JWKS",
            #[cfg(feature = "sessions")]
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

    /// Authenticates `Bearer` JWTs with a [`RemoteVerifier`]: the keys of
    /// one issuer's JWKS URL (a tessera server's
    /// `/.well-known/jwks.json`, or any issuer's `jwks_uri`), cached and
    /// refreshed in the background by tessera-jwks, refetched once (per
    /// cooldown) when a token names a `kid` the cached set lacks. A key
    /// rotation on the issuer therefore reaches the app without a restart.
    ///
    /// For a tessera server, [`access_token_policy`] is the policy of its
    /// access tokens. They are checked by signature and claims only: a
    /// revoked token or an ended session stays accepted until the token
    /// expires (`access_ttl_seconds`); [`TesseraLayer::sessions`] checks
    /// those too. Other credentials (`Authorization: Nostr`, cookies) are
    /// refused. (Feature `remote`, on by default.)
    #[cfg(feature = "remote")]
    pub fn remote(verifier: RemoteVerifier) -> Self {
        TesseraLayer {
            mode: Arc::new(Mode::Remote { verifier }),
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// Authenticates tessera access tokens (Bearer or the `tessera_access`
    /// cookie) with the session checks. A cookie counts only for a request
    /// from the origin of the sessions' issuer (`SessionConfig::issuer`).
    /// (Feature `sessions`, on by default.)
    #[cfg(feature = "sessions")]
    pub fn sessions(sessions: Arc<Sessions>) -> Self {
        let issuer = sessions.config().issuer.clone();
        let origin = browser::origin_of(&issuer).unwrap_or(issuer);
        TesseraLayer {
            mode: Arc::new(Mode::Sessions {
                sessions,
                origin,
                #[cfg(feature = "remote")]
                follow: None,
            }),
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// Sessions mode: access tokens are verified with the keys of `jwks`
    /// (a tessera server's `/.well-known/jwks.json`) instead of the keys
    /// the [`Sessions`] were built with. The set is handed over whenever
    /// tessera-jwks has a newer one, and a token whose `kid` it lacks causes
    /// one refetch (per cooldown) and one retry, so that a key rotation on
    /// the server reaches the app without a restart. The session checks
    /// are unchanged. On a layer made by [`TesseraLayer::verifier`] or
    /// [`TesseraLayer::remote`] it changes nothing (those take their keys
    /// from their verifier). (Features `sessions` and `remote`.)
    #[cfg(all(feature = "remote", feature = "sessions"))]
    pub fn follow_jwks(self, jwks: RemoteJwks) -> Self {
        let mode = match &*self.mode {
            Mode::Sessions {
                sessions, origin, ..
            } => Arc::new(Mode::Sessions {
                sessions: Arc::clone(sessions),
                origin: origin.clone(),
                follow: Some(Follow {
                    jwks,
                    applied: Mutex::new(None),
                }),
            }),
            _ => return self,
        };
        TesseraLayer {
            mode,
            max_body: self.max_body,
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
                    .map_err(|e| AuthRejection::unauthorized(e.code(), e.message()))?;
                if id.format == Format::Nip98 {
                    remember(replay, &id, verifier.now())?;
                }
                Ok(id)
            }
            #[cfg(feature = "remote")]
            Mode::Remote { verifier } => {
                let auth = authorization(parts)?.ok_or_else(missing)?;
                let token = match parse_authorization(auth, MAX_AUTHORIZATION, false) {
                    Ok(Credential::Bearer(t)) => t,
                    Ok(Credential::Nostr(_)) => {
                        return Err(AuthRejection::unauthorized(
                            ErrorCode::Malformed,
                            "use `Authorization: Bearer <JWT>`",
                        ))
                    }
                    Err(e) => return Err(AuthRejection::unauthorized(e.code(), e.message())),
                };
                verifier
                    .verify_jwt(token)
                    .await
                    .map_err(|e| AuthRejection::unauthorized(e.code(), e.message()))
            }
            #[cfg(feature = "sessions")]
            Mode::Sessions {
                sessions,
                origin,
                #[cfg(feature = "remote")]
                follow,
            } => {
                let token = match authorization(parts)? {
                    Some(a) => match parse_authorization(a, MAX_AUTHORIZATION, false) {
                        Ok(Credential::Bearer(t)) => t.to_owned(),
                        Ok(Credential::Nostr(_)) => {
                            return Err(AuthRejection::unauthorized(
                                ErrorCode::Malformed,
                                "use `Authorization: Bearer <access token>`",
                            ))
                        }
                        Err(e) => return Err(AuthRejection::unauthorized(e.code(), e.message())),
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
                            AuthRejection::other(
                                StatusCode::FORBIDDEN,
                                RejectionCode::Forbidden,
                                why,
                            )
                        })?;
                        token
                    }
                };
                #[cfg(not(feature = "remote"))]
                let result = sessions.check_access(&token).await;
                #[cfg(feature = "remote")]
                let result = match follow {
                    None => sessions.check_access(&token).await,
                    Some(f) => {
                        let used = f.sync(sessions);
                        let first = sessions.check_access(&token).await;
                        match first {
                            Err(e)
                                if e.code()
                                    == tessera_session::SessionErrorCode::Credential(
                                        ErrorCode::UnknownKey,
                                    ) =>
                            {
                                if f.jwks.refetch_for_unknown_kid(&used).await.is_some() {
                                    f.sync(sessions);
                                    sessions.check_access(&token).await
                                } else {
                                    Err(e)
                                }
                            }
                            other => other,
                        }
                    }
                };
                result.map_err(|e| match e.kind() {
                    SessionErrorKind::Unavailable => AuthRejection::other(
                        StatusCode::SERVICE_UNAVAILABLE,
                        RejectionCode::TemporarilyUnavailable,
                        e.message(),
                    ),
                    _ => AuthRejection::unauthorized(e.code(), e.message()),
                })
            }
        }
    }
}

/// The policy of a tessera server's access tokens, for
/// [`TesseraLayer::remote`]: `iss` and `aud` the server's `public_url`,
/// `typ` `at+jwt`, and `jti`, `sid` and `sub` present (what `tessera serve`
/// checks itself).
pub fn access_token_policy(public_url: &str) -> Policy {
    let url = public_url.trim_end_matches('/').to_owned();
    Policy {
        audiences: vec![url.clone()],
        issuer: Some(url),
        required_typ: Some(ACCESS_TOKEN_TYP.to_owned()),
        required_claims: vec!["jti".into(), "sid".into(), "sub".into()],
        ..Policy::default()
    }
}

fn missing() -> AuthRejection {
    AuthRejection::unauthorized(
        ErrorCode::Malformed,
        "no credential: send an Authorization header",
    )
}

fn authorization(parts: &Parts) -> Result<Option<&str>, AuthRejection> {
    match parts.headers.get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| {
            AuthRejection::unauthorized(
                ErrorCode::Malformed,
                "the Authorization header is not ASCII",
            )
        }),
    }
}

#[cfg(feature = "sessions")]
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
