//! `tessera serve` in-process: the server's own `serve::run` (connection
//! limits included) on a free port, on a runtime and thread of its own, with
//! a temporary data directory. Tests change the configuration with a
//! closure; everything else is what `tessera serve` does.

use crate::dir::TempDir;
use crate::http::Target;
use std::net::SocketAddr;
use std::time::Duration;
use tessera_server::config::Config;

/// The admin token of every in-process server.
pub const ADMIN: &str = "admin-token-for-tests-0123456789";

/// A running server; stopped (as SIGTERM would) when dropped.
pub struct Server {
    /// Where the HTTP API listens.
    pub addr: SocketAddr,
    /// Where Envoy's ext_authz gRPC service listens, when the
    /// configuration sets `[forward_auth] grpc_listen` (`127.0.0.1:0`
    /// gets a free port).
    pub grpc_addr: Option<SocketAddr>,
    /// The public URL (issuer and audience).
    pub url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: TempDir,
}

impl Target for &Server {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Server {
    /// Sends the shutdown signal (what SIGTERM does to `tessera serve`)
    /// without waiting for the server to stop.
    pub fn signal_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Waits for the server's thread to end (after `signal_shutdown`).
    pub fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.signal_shutdown();
        self.join();
    }
}

/// Starts a server on `store` (SQLite in the temporary data directory when
/// `None`), with [`ADMIN`] as admin token, secure cookies and the rate
/// limiter off, then `tweak`ed.
pub fn start(store: Option<String>, tweak: impl FnOnce(&mut Config)) -> Server {
    let dir = TempDir::new("e2e");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    let mut config = Config {
        listen: addr.to_string(),
        data_dir: dir.join("data"),
        store,
        admin_token: Some(ADMIN.into()),
        cookie_secure: true,
        // Tests log in many times from one address; the limiter has its
        // own test.
        rate_limit_per_minute: 0,
        ..Config::default()
    };
    tweak(&mut config);
    let url = config.public_url();
    let grpc_listener = config.grpc_listen().expect("grpc_listen").map(|a| {
        let l = std::net::TcpListener::bind(a).expect("bind grpc_listen");
        l.set_nonblocking(true).expect("nonblocking");
        l
    });
    let grpc_addr = grpc_listener
        .as_ref()
        .map(|l| l.local_addr().expect("grpc addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let state = match tessera_server::serve::build_state(config).await {
                Ok(s) => s,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.0));
                    return;
                }
            };
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let grpc =
                grpc_listener.map(|l| tokio::net::TcpListener::from_std(l).expect("grpc listener"));
            let _ = ready_tx.send(Ok(()));
            // What `tessera serve` runs: its connection limits included.
            let limits = tessera_server::listen::Limits::from_config(&state.config);
            tessera_server::serve::run(listener, grpc, state, limits, async {
                let _ = rx.await;
            })
            .await;
        });
    });
    ready_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("server start")
        .expect("server state");
    Server {
        addr,
        grpc_addr,
        url,
        shutdown: Some(tx),
        thread: Some(thread),
        _dir: dir,
    }
}
