//! The end-to-end harness shared by the server's HTTP tests: a server
//! started on a free port (its own runtime and thread, served by
//! `tessera_server::serve::run`, what `tessera serve` runs), and a tiny
//! blocking HTTP/1.1 client.

#![allow(dead_code)]

use crate::common;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use tessera_core::encoding::hex_encode;
use tessera_core::ethereum::{eip191, EthereumSecretKey};
use tessera_server::config::Config;

pub const ADMIN: &str = "admin-token-for-tests-0123456789";

pub struct Server {
    pub addr: SocketAddr,
    pub url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: TempDir,
}

pub struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
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
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn start(store: Option<String>, tweak: impl FnOnce(&mut Config)) -> Server {
    let dir = std::env::temp_dir().join(common::unique("tessera-e2e"));
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
            let _ = ready_tx.send(Ok(()));
            // What `tessera serve` runs: its connection limits included.
            let limits = tessera_server::listen::Limits::from_config(&state.config);
            tessera_server::serve::run(listener, state, limits, async {
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
        url,
        shutdown: Some(tx),
        thread: Some(thread),
        _dir: TempDir(dir),
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    // A server may answer (413) before reading the whole body.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

pub fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(i) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..i]).unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[i + 2 + n + 2..];
    }
}

pub fn post_json(s: &Server, path: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(headers);
    http(s.addr, "POST", path, &h, body.to_string().as_bytes())
}

pub fn siwe_login(s: &Server, wallet: &EthereumSecretKey, extra: Value) -> Resp {
    siwe_login_with(s, wallet, extra, &[])
}

/// A SIWE challenge for `wallet`: the server's ready message and its nonce.
pub fn siwe_challenge(s: &Server, wallet: &EthereumSecretKey) -> Value {
    let address = wallet.address().to_checksum();
    let ch = post_json(s, "/v1/auth/challenge", &json!({"address": address}), &[]);
    assert_eq!(ch.status, 200, "{:?}", ch);
    ch.json()
}

/// The login body for `message` signed by `wallet`, with `extra` members.
pub fn siwe_body(wallet: &EthereumSecretKey, message: &str, extra: Value) -> Value {
    let sig = eip191::sign(wallet, message.as_bytes());
    let mut body = json!({"method": "siwe", "message": message, "signature": format!("0x{}", hex_encode(&sig))});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    body
}

/// A SIWE login with the server's own message, `extra` body members and
/// extra request headers.
pub fn siwe_login_with(
    s: &Server,
    wallet: &EthereumSecretKey,
    extra: Value,
    headers: &[(&str, &str)],
) -> Resp {
    let ch = siwe_challenge(s, wallet);
    let message = ch["message"].as_str().expect("message").to_owned();
    post_json(
        s,
        "/v1/auth/login",
        &siwe_body(wallet, &message, extra),
        headers,
    )
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Sleeps into the next second of the clock (the server's is the same).
pub fn next_second() {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_millis())
        .unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_millis(u64::from(1_050 - ms)));
}
