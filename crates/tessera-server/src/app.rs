//! Router and the routes that need no session state.

use crate::config::Config;
use crate::error::ApiError;
use crate::keys::ServerKeys;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::{Arc, RwLock};
use tessera_core::json::Value;
use tessera_core::{Clock, SystemClock};

/// Shared state of every route.
pub struct AppState {
    /// Effective configuration.
    pub config: Config,
    /// The server's keys (rotation replaces them).
    pub keys: RwLock<ServerKeys>,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Per-IP limiter for challenge, login and refresh.
    pub limiter: RateLimiter,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// State from a configuration and loaded keys.
    pub fn new(config: Config, keys: ServerKeys) -> Self {
        let limiter = RateLimiter::new(config.rate_limit_per_minute);
        AppState {
            config,
            keys: RwLock::new(keys),
            metrics: Metrics::new(),
            limiter,
            clock: Arc::new(SystemClock),
        }
    }

    /// Reads the keys; a poisoned lock still holds valid keys.
    pub fn keys(&self) -> std::sync::RwLockReadGuard<'_, ServerKeys> {
        match self.keys.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

/// Shared state handle.
pub type Shared = Arc<AppState>;

/// The routes of this module, with body limits and a JSON 404.
pub fn base_router() -> Router<Shared> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/info", get(info))
        .route("/.well-known/jwks.json", get(jwks))
}

/// Wraps a router with the limits and fallbacks every route shares.
pub fn finish(router: Router<Shared>, state: Shared) -> Router {
    let limit = state.config.max_body_bytes;
    router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see /openapi.json",
    )
}

async fn healthz() -> Response {
    (StatusCode::OK, Json(json!({"status": "ok"}))).into_response()
}

async fn metrics(State(state): State<Shared>) -> Response {
    let mut resp = state.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// `/v1/info`: what a client needs to build credentials for this server.
async fn info(State(state): State<Shared>) -> Json<serde_json::Value> {
    let url = state.config.public_url();
    Json(json!({
        "issuer": url,
        "audience": url,
        "siwe_domain": state.config.public_host(),
        "siwe_uri": url,
        "chain_id": state.config.chain_id,
        "nostr_pubkey": state.keys().nostr_pubkey_hex(),
        "jwks_uri": format!("{url}/.well-known/jwks.json"),
        "login_url": format!("{url}/v1/auth/login"),
    }))
}

/// Public keys of the current and still-valid previous signers.
async fn jwks(State(state): State<Shared>) -> Response {
    let now = state.clock.now();
    let life = state.config.access_ttl_seconds + state.config.leeway_seconds;
    let set = state.keys().verification_keys(now, life).to_public_jwks();
    let mut resp = (StatusCode::OK, Value::Object(set).to_json()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}
