//! The one HTTP client of the tests: `ureq` (blocking, small; plain HTTP on
//! loopback, no TLS). Requests a client cannot send (half-sent heads,
//! pipelining, bodies that never end) use [`crate::raw`].
//!
//! Every status is an answer (no status is an error), nothing is retried
//! and redirects are not followed: a request that got no answer may or may
//! not have been carried out, and the fault suites judge it so.

use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An answer: status, headers in order, the whole body, and how long the
/// exchange took.
#[derive(Debug)]
pub struct Resp {
    /// The HTTP status code.
    pub status: u16,
    /// Every header as received, names lowercase, in order (repeats kept).
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
    /// From sending the request to the end of the body.
    pub took: Duration,
}

impl Resp {
    /// The body as JSON; panics (with the status and body) when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as JSON, or `Null` when it is not JSON.
    pub fn json_or_null(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The `error` member of a JSON body, or `""`.
    pub fn error(&self) -> String {
        self.json_or_null()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header called `name` (any case), in order.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A client of one server: one keep-alive connection at a time, opened
/// again after an error. Cheap to make: one per thread.
pub struct Client {
    addr: SocketAddr,
    base: String,
    agent: ureq::Agent,
}

/// The socket timeout of [`Client::new`] (connect: 2 s).
pub const TIMEOUT: Duration = Duration::from_secs(30);

impl Client {
    /// A client of `http://addr` with the default [`TIMEOUT`].
    pub fn new(addr: SocketAddr) -> Client {
        Client::with_timeout(addr, TIMEOUT)
    }

    /// A client whose reads and writes each give up after `timeout`.
    pub fn with_timeout(addr: SocketAddr, timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections_per_host(1)
            .timeout_connect(Some(Duration::from_secs(2)))
            .timeout_send_request(Some(timeout))
            .timeout_send_body(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_recv_body(Some(timeout))
            // The servers answer header blocks up to 32 KiB and more.
            .max_response_header_size(256 * 1024)
            .build();
        Client {
            addr,
            base: format!("http://{addr}"),
            agent: ureq::Agent::new_with_config(config),
        }
    }

    /// `method path` with `headers` and `body` (sent whenever non-empty,
    /// whatever the method). An error says its kind first
    /// (`ConnectionRefused after 1ms`), and never holds a token.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Resp, String> {
        let start = Instant::now();
        let url = format!("{}{path}", self.base);
        let agent = &self.agent;
        let result = match method {
            "GET" => with_headers(agent.get(&url), headers).force_send_body(),
            "HEAD" => with_headers(agent.head(&url), headers).force_send_body(),
            "DELETE" => with_headers(agent.delete(&url), headers).force_send_body(),
            "OPTIONS" => with_headers(agent.options(&url), headers).force_send_body(),
            "POST" => with_headers(agent.post(&url), headers),
            "PUT" => with_headers(agent.put(&url), headers),
            "PATCH" => with_headers(agent.patch(&url), headers),
            other => return Err(format!("Unsupported method {other}")),
        }
        .send(body);
        match result {
            Ok(mut r) => {
                let status = r.status().as_u16();
                let headers = r
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_owned(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                let body = r
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024 * 1024)
                    .read_to_vec()
                    .map_err(|e| format!("{} after {:?}", kind(&e), start.elapsed()))?;
                let resp = Resp {
                    status,
                    headers,
                    body,
                    took: start.elapsed(),
                };
                remember(self.addr, method, path, &resp);
                Ok(resp)
            }
            Err(e) => Err(format!("{} after {:?}", kind(&e), start.elapsed())),
        }
    }

    /// `GET path` with `headers`.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Result<Resp, String> {
        self.send("GET", path, headers, b"")
    }
}

fn with_headers<B>(
    mut req: ureq::RequestBuilder<B>,
    headers: &[(&str, &str)],
) -> ureq::RequestBuilder<B> {
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req
}

/// The kind of an error, as `std::io::ErrorKind` spells it where there is one.
fn kind(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => format!("{:?}", io.kind()),
        ureq::Error::Timeout(_) => "TimedOut".into(),
        other => format!("{other:?}"),
    }
}

/// What a request goes to: an address, or a server of the testkit.
pub trait Target {
    /// The loopback address to connect to.
    fn addr(&self) -> SocketAddr;
}

impl Target for SocketAddr {
    fn addr(&self) -> SocketAddr {
        *self
    }
}

impl Target for &crate::serve::Tessera {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// One request on a connection of its own; panics when there is no answer.
pub fn http(
    to: impl Target,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    Client::new(to.addr())
        .send(method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path}: no answer ({e})"))
}

/// `POST path` with `body` as JSON (and `headers`).
pub fn post_json(to: impl Target, path: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(headers);
    http(to, "POST", path, &h, body.to_string().as_bytes())
}

/// The status of `GET path` on a fresh connection, or `None`.
pub fn status_of(addr: SocketAddr, path: &str) -> Option<u16> {
    Client::with_timeout(addr, Duration::from_secs(10))
        .get(path, &[])
        .ok()
        .map(|a| a.status)
}

/// `Bearer <token>`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// One answer of a server being recorded ([`record`]).
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request's method.
    pub method: String,
    /// The request's path (and query, as sent).
    pub path: String,
    /// The answer's status.
    pub status: u16,
    /// The answer's headers, in order.
    pub headers: Vec<(String, String)>,
    /// The answer's body.
    pub body: Vec<u8>,
}

/// At most this many answers are kept per recorded server.
const MAX_RECORDED: usize = 100_000;

type Recordings = Vec<(SocketAddr, Vec<Exchange>)>;

static RECORDINGS: Mutex<Recordings> = Mutex::new(Vec::new());

fn recordings() -> std::sync::MutexGuard<'static, Recordings> {
    RECORDINGS.lock().unwrap_or_else(|p| p.into_inner())
}

/// From now on, keep every answer this client library gets from `addr`
/// (up to 100,000 per address), for [`recorded`]: the e2e suite checks each
/// against the OpenAPI document.
pub fn record(addr: SocketAddr) {
    let mut all = recordings();
    if !all.iter().any(|(a, _)| *a == addr) {
        all.push((addr, Vec::new()));
    }
}

/// The answers `addr` gave since [`record`], in order.
pub fn recorded(addr: SocketAddr) -> Vec<Exchange> {
    recordings()
        .iter()
        .find(|(a, _)| *a == addr)
        .map(|(_, list)| list.clone())
        .unwrap_or_default()
}

fn remember(addr: SocketAddr, method: &str, path: &str, resp: &Resp) {
    let mut all = recordings();
    if let Some((_, list)) = all.iter_mut().find(|(a, _)| *a == addr) {
        if list.len() < MAX_RECORDED {
            list.push(Exchange {
                method: method.to_owned(),
                path: path.to_owned(),
                status: resp.status,
                headers: resp.headers.clone(),
                body: resp.body.clone(),
            });
        }
    }
}
