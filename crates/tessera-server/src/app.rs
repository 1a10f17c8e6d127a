//! Router and the routes that need no session state.

use crate::config::Config;
use crate::error::{ApiCode, ApiError};
use crate::keys::ServerKeys;
use crate::metrics::Metrics;
use crate::proxies::TrustedProxies;
use crate::ratelimit::RateLimiter;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use std::sync::{Arc, RwLock};
use tessera_core::Value;
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
    /// Per-client limiter for challenge, login, refresh and revoke.
    pub limiter: RateLimiter,
    /// `[forward_auth] trusted_proxies`: whose forwarding headers count.
    pub proxies: TrustedProxies,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Sessions over the configured store.
    pub sessions: Arc<Sessions>,
    /// `/v1/verify`'s request reader, rules and claim headers, built once
    /// (an error only for a configuration `validate` would refuse).
    pub forward_auth: Result<crate::forward_auth::ForwardAuthState, String>,
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
        let forward_auth =
            crate::forward_auth::ForwardAuthState::from_config(&config).map_err(|e| e.0);
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
            verify_cache: tessera_core::CacheConfig {
                max_entries: config.verify_cache_entries,
                max_bytes: config.verify_cache_bytes,
            },
        };
        let plan = crate::key_reload::KeyPlan::at(&keys, &config, clock.now());
        // The store reports each call's latency into the metrics
        // (`tessera_store_operation_seconds`); a store shared with another
        // state keeps reporting to the first one registered.
        let metrics = Metrics::new();
        store.observe_latency(Arc::new(metrics.clone()));
        let issuers = crate::issuers::Issuers::none(issuer_context(&config, &keys, &clock));
        let sessions = Sessions::with_clock(
            session_config,
            store,
            plan.signer,
            plan.published,
            keys.nostr_public(),
            Arc::clone(&clock),
        );
        AppState {
            config,
            keys: RwLock::new(keys),
            metrics,
            limiter,
            proxies,
            clock,
            sessions: Arc::new(sessions),
            forward_auth,
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
        cache: tessera_core::CacheConfig {
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
    use crate::{forward_auth, routes};
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
            ("GET", "/v1/verify") => get(forward_auth::verify),
            ("POST", "/v1/verify") => post(forward_auth::verify),
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
    let router = envoy_routes(router, &state.config);
    router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::map_response(timeout_body))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            count_request,
        ))
        .with_state(state)
}

/// Envoy's ext_authz `http_service` asks at `path_prefix` + the original
/// path, with the original method: every method under the prefix goes to
/// `/v1/verify`'s handler (which refuses a path outside it).
fn envoy_routes(router: Router<Shared>, config: &Config) -> Router<Shared> {
    if config.forward_auth.gateway != Some(crate::gateway::Gateway::Envoy) {
        return router;
    }
    let prefix = config
        .forward_auth
        .path_prefix
        .as_deref()
        .unwrap_or(crate::gateway::DEFAULT_ENVOY_PATH_PREFIX);
    let handler = axum::routing::any(crate::forward_auth::verify);
    router
        .route(&format!("{prefix}/"), handler.clone())
        .route(&format!("{prefix}/{{*rest}}"), handler)
}

/// `tessera_http_requests_total{route,status}` and
/// `tessera_http_request_duration_seconds{route}` for every answer, timeouts
/// included. The route is the documented template (a bounded set), never
/// the path a client sent: anything no route matched is `unmatched`, and
/// Envoy's routes under `[forward_auth] path_prefix` are `envoy_path_prefix`.
async fn count_request(
    State(state): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| {
            crate::openapi::ROUTES
                .iter()
                .find(|d| d.path == m.as_str())
                .map_or("envoy_path_prefix", |d| d.path)
        })
        .unwrap_or("unmatched");
    let started = std::time::Instant::now();
    let resp = next.run(request).await;
    state
        .metrics
        .http_request(route, resp.status(), started.elapsed().as_secs_f64());
    resp
}

/// The timeout layer answers 408 with no body; say it in the JSON every
/// error has.
async fn timeout_body(resp: Response) -> Response {
    if resp.status() == StatusCode::REQUEST_TIMEOUT {
        return ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            ApiCode::RequestTimeout,
            "the request took longer than allowed (request_timeout_seconds)",
        )
        .into_response();
    }
    resp
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ApiCode::NotFound,
        "no such route; see /openapi.json",
    )
}

async fn healthz() -> Response {
    (StatusCode::OK, Json(crate::bodies::Health { status: "ok" })).into_response()
}

/// How long a scrape waits for the store's ping before it counts the store
/// as down (Prometheus's default scrape timeout is 10 s).
const STORE_PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

async fn metrics(State(state): State<Shared>) -> Response {
    state
        .metrics
        .set_revocation_entries(state.sessions.revocation_entries());
    state
        .metrics
        .set_revocation_feed(state.sessions.revocation_feed());
    state
        .metrics
        .set_verify_caches(&state.sessions.verify_cache_stats());
    state
        .metrics
        .set_remote_key_sets(&state.issuers.remote_key_sets());
    // The store's health as of this scrape: what the store alerts read.
    let started = std::time::Instant::now();
    let answered = matches!(
        tokio::time::timeout(STORE_PING_TIMEOUT, state.sessions.ping()).await,
        Ok(Ok(()))
    );
    state
        .metrics
        .record_store_ping(answered, started.elapsed().as_secs_f64());
    let mut resp = state.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// `/v1/info`: what a client needs to build credentials for this server.
async fn info(State(state): State<Shared>) -> Json<crate::bodies::Info> {
    let url = state.config.public_url();
    Json(crate::bodies::Info {
        issuer: url.clone(),
        audience: url.clone(),
        siwe_domain: state.config.public_host(),
        siwe_uri: url.clone(),
        chain_id: state.config.chain_id,
        nostr_pubkey: state.keys().nostr_pubkey_hex(),
        jwks_uri: format!("{url}/.well-known/jwks.json"),
        login_url: format!("{url}/v1/auth/login"),
    })
}

/// Public keys of the signers: the current one, newer ones not signed
/// with yet, and retired ones whose tokens may still be alive
/// (`key_reload::KeyPlan`).
async fn jwks(State(state): State<Shared>) -> Response {
    let now = state.clock.now();
    let plan = crate::key_reload::KeyPlan::at(&state.keys(), &state.config, now);
    let set = plan.published.to_public_jwks();
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
