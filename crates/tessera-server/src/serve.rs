//! Start-up, listening and graceful shutdown.

use crate::app::{self, AppState};
use crate::config::Config;
use crate::keys::ServerKeys;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_core::{Clock, SystemClock};
use tessera_store::{Store, StoreError, StoreErrorKind};

/// A start-up failure, with what to do about it.
#[derive(Debug)]
pub struct ServeError(pub String);

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServeError {}

/// Builds the application state: keys from (or into) the data directory.
pub async fn build_state(config: Config) -> Result<Arc<AppState>, ServeError> {
    config.validate().map_err(|e| ServeError(e.0))?;
    crate::single_instance::create_data_dir(&config.data_dir)?;
    let keys = ServerKeys::load_or_create(
        &config.data_dir,
        config.signing_alg.algorithm(),
        SystemClock.now(),
    )
    .map_err(|e| ServeError(format!("keys: {e}")))?;
    let url = config.store_url();
    let budget = Duration::from_secs(config.store_connect_timeout_seconds);
    let store = open_store(&url, budget).await?;
    let state = AppState::new(config, keys, store)
        .with_issuers()
        .map_err(|e| ServeError(e.0))?;
    let state = Arc::new(state);
    if let Err(e) = &state.forward_auth {
        return Err(ServeError(e.clone()));
    }
    spawn_purge(Arc::clone(&state));
    crate::key_reload::spawn(&state);
    Ok(state)
}

/// First pause between attempts to reach the store; it doubles up to
/// [`STORE_RETRY_MAX`].
const STORE_RETRY_FIRST: Duration = Duration::from_millis(250);
const STORE_RETRY_MAX: Duration = Duration::from_secs(5);

/// Opens the store. One that cannot be reached (not started yet, a
/// restarting database) is tried again with backoff until `budget` has
/// passed (the last attempt is cut there too, so the server gives up
/// within about `budget`); any other failure (a bad URL, refused
/// credentials) ends at once.
async fn open_store(url: &str, budget: Duration) -> Result<Arc<dyn Store>, ServeError> {
    let masked = tessera_store::mask_url(url);
    let started = Instant::now();
    let deadline = started + budget;
    let mut pause = STORE_RETRY_FIRST;
    let mut attempt: u32 = 1;
    loop {
        // An attempt that hangs (a silent host) is cut at the deadline.
        let result = if budget.is_zero() {
            tessera_store::open(url).await
        } else {
            let left = deadline.saturating_duration_since(Instant::now());
            tokio::time::timeout(
                left.max(Duration::from_millis(100)),
                tessera_store::open(url),
            )
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::new(
                    StoreErrorKind::Unavailable,
                    "no answer in time",
                ))
            })
        };
        let e = match result {
            Ok(store) => {
                if attempt > 1 {
                    tracing::info!(store = %masked, attempt, "store reachable");
                }
                return Ok(store);
            }
            Err(e) => e,
        };
        if e.kind() != StoreErrorKind::Unavailable {
            return Err(ServeError(format!(
                "cannot open the store {masked}: {}; check --store / TESSERA_STORE",
                e.message()
            )));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ServeError(format!(
                "cannot reach the store {masked} after {attempt} attempt(s) in {:.1} s: {}; check that it is running and reachable from here (--store / TESSERA_STORE), or wait longer with store_connect_timeout_seconds (now {})",
                started.elapsed().as_secs_f64(),
                e.message(),
                budget.as_secs()
            )));
        }
        tracing::warn!(
            store = %masked,
            attempt,
            retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
            error = %e.message(),
            "store not reachable yet; retrying until store_connect_timeout_seconds"
        );
        // The last attempt is made at the deadline.
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause * 2).min(STORE_RETRY_MAX);
        attempt += 1;
    }
}

/// Deletes expired state every five minutes (a failure is logged and
/// retried at the next tick).
fn spawn_purge(state: Arc<AppState>) {
    let weak = Arc::downgrade(&state);
    drop(state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { return };
            match state.sessions.purge_expired().await {
                Ok(n) if n > 0 => tracing::debug!(removed = n, "purged expired session state"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge of expired state failed; will retry"),
            }
        }
    });
}

/// The full router for a state.
pub fn router(state: Arc<AppState>) -> axum::Router {
    app::finish(app::base_router(), state)
}

/// Resolves when SIGTERM or Ctrl-C arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

/// Serves until SIGTERM/Ctrl-C; in-flight requests then get
/// `shutdown_grace_seconds` to finish.
pub async fn serve(mut config: Config) -> Result<(), ServeError> {
    let listen = config.listen.clone();
    // Held until the process ends: one process per SQLite store.
    let _single = crate::single_instance::lock_for_sqlite(&config)?;
    let listener = crate::listen::bind(&listen).map_err(|e| {
        ServeError(format!(
            "cannot listen on {listen}: {e}; is another server running there? (--listen to change)"
        ))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError(e.to_string()))?;
    // `--listen HOST:0` asks the system for a port: the URL the server
    // answers at (its issuer, audience and NIP-98 base) names the port it
    // got, not port 0.
    if config.public_url.is_none() && listen.ends_with(":0") {
        config.public_url = Some(format!("http://{addr}"));
    }
    let state = build_state(config).await?;
    let grpc = bind_grpc(&state.config)?;
    let limits = crate::listen::Limits::from_config(&state.config);
    log_start(&state.config, addr, &limits);
    if let Some(l) = &grpc {
        let grpc_addr = l.local_addr().map_err(|e| ServeError(e.to_string()))?;
        tracing::info!(%grpc_addr, "Envoy ext_authz gRPC service listening (envoy.service.auth.v3.Authorization/Check)");
    }
    run(listener, grpc, state, limits, shutdown_signal()).await;
    Ok(())
}

/// Binds `[forward_auth] grpc_listen`, when set.
pub fn bind_grpc(config: &Config) -> Result<Option<tokio::net::TcpListener>, ServeError> {
    let Some(addr) = config.grpc_listen().map_err(|e| ServeError(e.0))? else {
        return Ok(None);
    };
    crate::listen::bind(&addr.to_string()).map(Some).map_err(|e| {
        ServeError(format!(
            "cannot listen on {addr} ([forward_auth] grpc_listen): {e}; is another server running there?"
        ))
    })
}

/// The start-up lines: where the server listens, its store, what is on,
/// and what to do next. Secrets are not in them (the store URL is masked;
/// the admin token is only said to be set).
fn log_start(config: &Config, addr: std::net::SocketAddr, limits: &crate::listen::Limits) {
    let url = config.public_url();
    let store = tessera_store::mask_url(&config.store_url());
    let store_kind = store.split(':').next().unwrap_or("");
    let admin = if config.admin_token.is_some() {
        "on (admin_token set)"
    } else {
        "off (403; set admin_token to enable)"
    };
    let gateway = config
        .forward_auth
        .gateway
        .map_or("none", crate::gateway::Gateway::as_str);
    // Names only (they are the operator's labels, never key material).
    let issuers = if config.issuer.is_empty() {
        "none".to_owned()
    } else {
        let names: Vec<&str> = config.issuer.iter().map(|i| i.name.as_str()).collect();
        names.join(",")
    };
    tracing::info!(
        %addr,
        public_url = %url,
        store = %store,
        store_kind,
        admin_routes = admin,
        issuers = %issuers,
        rules = config.rule.len(),
        gateway,
        trusted_proxies = config.forward_auth.trusted_proxies.len(),
        grpc_listen = config.forward_auth.grpc_listen.as_deref().unwrap_or("off"),
        assertion = config.forward_auth.assertion_audience.is_some(),
        max_connections = limits.max_connections,
        "tessera listening"
    );
    tracing::info!(
        "next: check GET {url}/readyz (the store answers), log in with POST {url}/v1/auth/login (SIWE, NIP-98/NWT or Portal; `tessera issue --format nip98` makes a NIP-98 event), point a gateway at {url}/v1/verify, scrape {url}/metrics; `tessera serve --print-config` shows the effective configuration"
    );
}

/// Serves `state` on a bound listener (and Envoy's ext_authz gRPC service
/// on `grpc`, when bound) until `shutdown` resolves, within `limits` (what
/// `tessera serve` runs; tests call it with their own listeners and
/// signal). Both stop accepting at the signal and give calls in flight
/// `limits.shutdown_grace`.
pub async fn run(
    listener: tokio::net::TcpListener,
    grpc: Option<tokio::net::TcpListener>,
    state: Arc<AppState>,
    limits: crate::listen::Limits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        // A dropped sender also means stop.
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let signal = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    let grpc_service = async {
        if let Some(l) = grpc {
            crate::ext_authz::serve(
                l,
                Arc::clone(&state),
                stopped(stop_rx.clone()),
                limits.shutdown_grace,
            )
            .await;
        }
    };
    let http = crate::listen::serve_connections(
        listener,
        router(Arc::clone(&state)),
        limits,
        stopped(stop_rx.clone()),
    );
    tokio::join!(signal, http, grpc_service);
}
