//! Start-up, listening and graceful shutdown.

use crate::app::{self, AppState};
use crate::config::Config;
use crate::keys::ServerKeys;
use std::sync::Arc;
use tessera_core::{Clock, SystemClock};

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
    crate::gateway::refuse_unenforced(&config).map_err(|e| ServeError(e.0))?;
    crate::single_instance::create_data_dir(&config.data_dir)?;
    let keys = ServerKeys::load_or_create(
        &config.data_dir,
        config.signing_alg.algorithm(),
        SystemClock.now(),
    )
    .map_err(|e| ServeError(format!("keys: {e}")))?;
    let url = config.store_url();
    let store = tessera_store::open(&url).await.map_err(|e| {
        ServeError(format!(
            "cannot open the store {}: {}; check --store / TESSERA_STORE and that the server is running",
            tessera_store::mask_url(&url),
            e.message()
        ))
    })?;
    let state = AppState::new(config, keys, store)
        .with_issuers()
        .map_err(|e| ServeError(e.0))?;
    let state = Arc::new(state);
    spawn_purge(Arc::clone(&state));
    Ok(state)
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
    let limits = crate::listen::Limits::from_config(&state.config);
    tracing::info!(
        %addr,
        public_url = %state.config.public_url(),
        store = %tessera_store::mask_url(&state.config.store_url()),
        max_connections = limits.max_connections,
        "tessera listening"
    );
    run(listener, state, limits, shutdown_signal()).await;
    Ok(())
}

/// Serves `state` on a bound listener until `shutdown` resolves, within
/// `limits` (what `tessera serve` runs; tests call it with their own
/// listener and signal).
pub async fn run(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    limits: crate::listen::Limits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    crate::listen::serve_connections(listener, router(state), limits, shutdown).await;
}
