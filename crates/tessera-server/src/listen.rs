//! Accepting connections within limits (issue 17, item 2): a cap on open
//! connections, hyper's header-read timeout (which also closes idle
//! keep-alive connections), and a shutdown that lets in-flight requests
//! finish within a bound. The request timeout is a tower-http layer on the
//! router (`app::finish`).
//!
//! axum's own `serve` offers none of these knobs, so connections are served
//! here with hyper's HTTP/1 builder, hyper-util's graceful-shutdown watcher
//! and a semaphore: the same building blocks `axum::serve` uses inside.

use crate::config::Config;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Descriptors kept free for everything but client connections: the
/// listener, store connections (pool and feed), the database and key files,
/// the log, the runtime's own.
pub const DESCRIPTORS_RESERVED: u64 = 256;

/// The limits connections are served with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From waiting for a request (new or keep-alive connection) to its
    /// whole head.
    pub header_read_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long in-flight requests get after the shutdown signal.
    pub shutdown_grace: Duration,
}

impl Limits {
    /// The configured limits, the connection cap lowered to what the
    /// descriptor limit allows (see [`descriptor_budget`]).
    pub fn from_config(config: &Config) -> Limits {
        let cap = match descriptor_budget() {
            Some(budget) if (budget as usize) < config.max_connections => {
                tracing::warn!(
                    configured = config.max_connections,
                    effective = budget,
                    "max_connections lowered to fit the open-file limit (raise `ulimit -n` to allow more)"
                );
                (budget as usize).max(1)
            }
            _ => config.max_connections,
        };
        Limits {
            header_read_timeout: Duration::from_secs(config.header_read_timeout_seconds),
            max_connections: cap,
            shutdown_grace: Duration::from_secs(config.shutdown_grace_seconds),
        }
    }
}

/// Pending connections the kernel holds for the server (Linux caps it at
/// `net.core.somaxconn`, 4096 by default). tokio's `TcpListener::bind`
/// asks for 1024, which a burst of reconnecting clients overflows: the
/// kernel then drops SYNs and each dropped client waits a 1-s retransmit.
const LISTEN_BACKLOG: u32 = 4096;

/// Binds `addr` (an address like `127.0.0.1:8787`) with `LISTEN_BACKLOG`.
pub fn bind(addr: &str) -> std::io::Result<TcpListener> {
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As std and tokio do: a restarted server can bind while old
    // connections linger in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Raises the soft open-file limit to the hard one (what a process may do
/// for itself; Go's runtime does the same at start-up) and returns how many
/// client connections fit under it, `None` where there is no such limit.
pub fn descriptor_budget() -> Option<u64> {
    #[cfg(unix)]
    {
        let soft = match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(soft) => soft,
            Err(e) => {
                tracing::debug!(error = %e, "cannot raise the open-file limit");
                rlimit::getrlimit(rlimit::Resource::NOFILE).ok()?.0
            }
        };
        Some(soft.saturating_sub(DESCRIPTORS_RESERVED))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops
/// accepting, lets in-flight requests finish (idle connections close at
/// once) and returns when all connections are closed or after
/// `limits.shutdown_grace`, whichever comes first.
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // Past the cap, wait for a connection to close before accepting:
        // new clients wait in the kernel's backlog meanwhile.
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors (EMFILE) or a connection reset
                    // before it was accepted: wait a little, never spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers go out as soon as they are written: without TCP_NODELAY,
        // the second of two pipelined answers waits for the client's
        // delayed ACK (40 ms on Linux).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req)
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                // Header-read timeouts, resets, malformed requests.
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(
        connections = open,
        "no longer accepting; finishing in-flight requests"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => tracing::warn!(
            grace_seconds = limits.shutdown_grace.as_secs(),
            "shutdown grace elapsed; dropping the remaining connections"
        ),
    }
}
