//! tessera-jwks: the remote key sets of trusted issuers (`jwks_uri`, or
//! OpenID Connect discovery), for `tessera serve`, the axum layer and
//! library users. The verification itself stays in tessera-core (pure, no
//! I/O); this crate only keeps its [`KeySet`](tessera_core::KeySet) current.
//!
//! One [`RemoteJwks`] per issuer (keys are looked up by issuer, then
//! `kid`, never by `kid` across issuers):
//! - **No waiting**: [`RemoteJwks::keys`] is a lock-free snapshot; a
//!   background task refreshes the set at three quarters of its lifetime.
//! - **Cache**: `Cache-Control: max-age` (less `Age`) clamped to
//!   [`cache_floor`, `cache_ceiling`] (default 5 min, 24 h); no `max-age`,
//!   `no-cache` or `no-store` mean the floor. `ETag` is sent back as
//!   `If-None-Match`; a 304 keeps the set and restarts its lifetime.
//! - **Unknown `kid`**: [`RemoteJwks::refetch_for_unknown_kid`] fetches at
//!   most once per `unknown_kid_cooldown` (default 30 s); concurrent
//!   callers share that one fetch.
//! - **Stale-if-error**: a failed fetch (unreachable, bad status, too
//!   large, too slow, a set tessera-core refuses or that is empty) keeps
//!   the last good set; [`RemoteJwks::state`] says `stale` once it is
//!   past its lifetime, and each failure logs one `tracing::warn!` line
//!   (URL without query, error kind; never key material).
//! - **Fetch rules**: `https` only; host names resolved at connection time
//!   and refused when they resolve only to loopback, private, link-local,
//!   CGNAT, unique-local, multicast or other non-global addresses (IP
//!   literals too, and IPv4-mapped forms); no proxy; redirects followed
//!   only within the same origin (scheme, host, port), at most 3; the
//!   body streamed and cut at `max_body_bytes` (default 256 KiB); the
//!   whole attempt (discovery, redirects, body) bounded by `timeout`
//!   (default 5 s). `allow_insecure` lifts the `https` and address rules,
//!   for local tests only. TLS: rustls (aws-lc-rs) with the system's
//!   roots.
//! - **Discovery**: `<issuer>/.well-known/openid-configuration`, whose
//!   `issuer` must equal the configured one exactly and whose `jwks_uri`
//!   obeys the rules above; discovery is repeated after a failed fetch.
//! - Token headers `jku`, `x5u`, `jwk` and `x5c` are never fetched or used:
//!   the only URL fetched is the configured one (or the one its issuer's
//!   discovery document names).
//!
//! [`RemoteVerifier`] wraps a core [`Verifier`](tessera_core::Verifier)
//! for one issuer's standard JWTs: verify with the current keys; on
//! `unknown_key`, refetch once (if the cooldown allows) and retry.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use tessera_core::{Object, Value};
//! # use tessera_core::{KeySet, SigningKey};
//! # use tessera_core::{jwt, Algorithm, Clock, SystemClock};
//! # // An issuer serving its JWK Set on a local port.
//! # let signer = SigningKey::generate(Algorithm::ES256)?.with_kid("2026-01");
//! # let jwks = Value::Object(KeySet::single(signer.verifying_key()?).to_public_jwks()).to_json();
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let issuer_url = format!("http://{}", listener.local_addr()?);
//! # let app = axum::Router::new().route(
//! #     "/jwks.json",
//! #     axum::routing::get(move || std::future::ready(jwks.clone())),
//! # );
//! # tokio::spawn(async move { axum::serve(listener, app).await });
//! # let mut claims = Object::new();
//! # claims.insert("iss", "https://idp.example".into());
//! # claims.insert("sub", "alice".into());
//! # claims.insert("aud", "https://api.example".into());
//! # claims.insert("exp", (SystemClock.now() + 300).into());
//! # let token = jwt::sign(&signer, &Object::new(), &claims)?;
//! use tessera_core::Policy;
//! use tessera_jwks::{JwksConfig, RemoteJwks, RemoteVerifier};
//!
//! // In production: JwksConfig::jwks_uri("https://idp.example/jwks.json"),
//! // or JwksConfig::discovery("https://idp.example").
//! let mut config = JwksConfig::jwks_uri(format!("{issuer_url}/jwks.json"));
//! config.allow_insecure = true; // this example's issuer is http://127.0.0.1
//! let jwks = RemoteJwks::new(config)?; // starts the background refresh
//! jwks.refresh().await?; // optional: wait for the first set (start-up)
//!
//! let verifier = RemoteVerifier::new(
//!     jwks.clone(),
//!     Policy {
//!         issuer: Some("https://idp.example".into()),
//!         audiences: vec!["https://api.example".into()],
//!         ..Policy::default()
//!     },
//! );
//! let identity = verifier.verify_jwt(&token).await?;
//! assert_eq!(identity.subject, "alice");
//!
//! // For metrics and health: age, lifetime, stale, fetches, last error.
//! let state = jwks.state();
//! assert!(!state.stale && state.keys == 1 && state.last_error.is_none());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Library code never unwraps; tests may (clippy.toml).
#![warn(clippy::unwrap_used)]

mod config;
mod error;
mod fetch;
mod guard;
mod remote;
mod verifier;

pub use config::{
    JwksConfig, JwksSource, DEFAULT_CACHE_CEILING, DEFAULT_CACHE_FLOOR, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_TIMEOUT, DEFAULT_UNKNOWN_KID_COOLDOWN, MAX_CACHE_CEILING, MAX_TIMEOUT,
};
pub use error::{ErrorKind, JwksError};
pub use remote::{JwksState, RemoteJwks};
pub use verifier::RemoteVerifier;
