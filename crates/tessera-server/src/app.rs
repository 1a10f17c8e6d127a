//! Router and the routes that need no session state.

use crate::config::Config;
use crate::error::ApiError;
use crate::keys::ServerKeys;
use crate::metrics::Metrics;
use crate::proxies::TrustedProxies;
use crate::ratelimit::RateLimiter;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::json;
use std::sync::{Arc, RwLock};
use tessera_core::json::Value;
use tessera_core::{Clock, SystemClock};
use tessera_session::{SessionConfig, Sessions};
use tessera_store::Store;
use tower_http::timeout::TimeoutLayer;

/// Shared state of every route.
pub struct AppState {
    /// Effective configuration.
    pub config: Config,
    /// The server's keys (rotation replaces them).
    pub keys: RwLock<ServerKeys>,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Per-client limiter for challenge, login and refresh.
    pub limiter: RateLimiter,
    /// `[forward_auth] trusted_proxies`: whose forwarding headers count.
    pub proxies: TrustedProxies,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Sessions over the configured store.
    pub sessions: Arc<Sessions>,
    /// The `[[issuer]]` tables, ready to verify (empty: only the built-in
    /// `tessera` and `nostr` issuers).
    pub issuers: crate::issuers::Issuers,
}

impl AppState {
    /// State from a configuration, loaded keys and an opened store. Must be
    /// called inside a Tokio runtime (sessions follow the store's feed).
    pub fn new(config: Config, keys: ServerKeys, store: Arc<dyn Store>) -> Self {
        Self::with_clock(config, keys, store, Arc::new(SystemClock))
    }

    /// As [`AppState::new`] with a chosen clock.
    pub fn with_clock(
        config: Config,
        keys: ServerKeys,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let limiter = RateLimiter::new(config.rate_limit_per_minute);
        // `validate` refused a bad list already; an unvalidated one trusts
        // no proxy rather than guess.
        let proxies = TrustedProxies::new(config.trusted_proxies().unwrap_or_default());
        let url = config.public_url();
        let host = config.public_host();
        let session_config = SessionConfig {
            issuer: url.clone(),
            audience: url.clone(),
            siwe_domain: host.clone(),
            siwe_uri: url.clone(),
            chain_id: config.chain_id,
            siwe_chain_ids: config.allowed_chain_ids(),
            login_url: format!("{url}/v1/auth/login"),
            nwt_audiences: vec![url, host],
            access_ttl: config.access_ttl_seconds,
            refresh_ttl: config.refresh_ttl_seconds,
            grace: config.refresh_reuse_grace_seconds,
            leeway: config.leeway_seconds,
            nonce_ttl: config.nonce_ttl_seconds,
            self_issued_max_lifetime: Some(config.nostr_max_lifetime_seconds),
            verify_cache: tessera_core::cache::CacheConfig {
                max_entries: config.verify_cache_entries,
                max_bytes: config.verify_cache_bytes,
            },
        };
        let issuers = crate::issuers::Issuers::none(issuer_context(&config, &keys, &clock));
        let now = clock.now();
        let life = config.access_ttl_seconds + config.leeway_seconds;
        let sessions = Sessions::with_clock(
            session_config,
            store,
            Arc::clone(keys.current()),
            keys.verification_keys(now, life),
            keys.nostr_public(),
            Arc::clone(&clock),
        );
        AppState {
            config,
            keys: RwLock::new(keys),
            metrics: Metrics::new(),
            limiter,
            proxies,
            clock,
            sessions: Arc::new(sessions),
            issuers,
        }
    }

    /// Builds the `[[issuer]]` tables of the configuration (their remote
    /// key sets start fetching). A problem names the table and the fix.
    pub fn with_issuers(mut self) -> Result<Self, crate::config::ConfigError> {
        let context = issuer_context(&self.config, &self.keys(), &self.clock);
        self.issuers = crate::issuers::Issuers::build(&self.config.issuer, context)?;
        Ok(self)
    }

    /// Reads the keys; a poisoned lock still holds valid keys.
    pub fn keys(&self) -> std::sync::RwLockReadGuard<'_, ServerKeys> {
        match self.keys.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

/// What the issuers need to know about this server.
fn issuer_context(
    config: &Config,
    keys: &ServerKeys,
    clock: &Arc<dyn Clock>,
) -> crate::issuers::ServerContext {
    crate::issuers::ServerContext {
        url: config.public_url(),
        host: config.public_host(),
        nostr: keys.nostr_public(),
        leeway: config.leeway_seconds,
        cache: tessera_core::cache::CacheConfig {
            max_entries: config.verify_cache_entries,
            max_bytes: config.verify_cache_bytes,
        },
        clock: Arc::clone(clock),
    }
}

/// Shared state handle.
pub type Shared = Arc<AppState>;

/// Every route of [`crate::openapi::ROUTES`], and nothing else.
pub fn base_router() -> Router<Shared> {
    use crate::routes;
    let mut router = Router::new();
    for doc in crate::openapi::ROUTES {
        let handler: MethodRouter<Shared> = match (doc.method, doc.path) {
            ("GET", "/healthz") => get(healthz),
            ("GET", "/readyz") => get(routes::readyz),
            ("GET", "/metrics") => get(metrics),
            ("GET", "/openapi.json") => get(openapi),
            ("GET", "/v1/info") => get(info),
            ("GET", "/.well-known/jwks.json") => get(jwks),
            ("POST", "/v1/auth/challenge") => post(routes::challenge),
            ("POST", "/v1/auth/login") => post(routes::login),
            ("POST", "/v1/auth/refresh") => post(routes::refresh),
            ("POST", "/v1/auth/logout") => post(routes::logout),
            ("POST", "/v1/auth/logout-all") => post(routes::logout_all),
            ("GET", "/v1/auth/me") => get(routes::me),
            ("GET", "/v1/verify") => get(routes::verify),
            ("POST", "/v1/verify") => post(routes::verify),
            ("POST", "/v1/oauth/revoke") => post(routes::revoke),
            ("POST", "/v1/oauth/introspect") => post(routes::introspect),
            ("POST", "/jwt/issue") => post(routes::portal_issue),
            ("POST", "/jwt/verify") => post(routes::portal_verify),
            (m, p) => panic!("route {m} {p} is documented but has no handler"),
        };
        router = router.route(doc.path, handler);
    }
    router
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

/// Wraps a router with the limits and fallbacks every route shares: the
/// body limit, and the request timeout (tower-http; a request still
/// unanswered after `request_timeout_seconds`, its body read included, gets
/// 408 and its handler is dropped).
pub fn finish(router: Router<Shared>, state: Shared) -> Router {
    let limit = state.config.max_body_bytes;
    let timeout = std::time::Duration::from_secs(state.config.request_timeout_seconds);
    router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::map_response(timeout_body))
        .with_state(state)
}

/// The timeout layer answers 408 with no body; say it in the JSON every
/// error has.
async fn timeout_body(resp: Response) -> Response {
    if resp.status() == StatusCode::REQUEST_TIMEOUT {
        return ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request took longer than allowed (request_timeout_seconds)",
        )
        .into_response();
    }
    resp
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
    state
        .metrics
        .set_revocation_entries(state.sessions.revocation_entries());
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
