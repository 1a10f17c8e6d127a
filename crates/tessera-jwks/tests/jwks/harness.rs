//! A real HTTP issuer on 127.0.0.1 (axum) whose answers the tests steer,
//! counting every request it gets per path; keys and tokens to go with it.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera_core::{jwt, Algorithm, Clock, SystemClock};
use tessera_core::{KeySet, SigningKey};
use tessera_core::{Object, Value};
use tessera_jwks::JwksConfig;

/// What the issuer answers; changed by the tests between requests.
#[derive(Default)]
struct Behaviour {
    jwks: String,
    cache_control: Option<String>,
    etag: Option<String>,
    status: Option<StatusCode>,
    delay: Duration,
    discovery: Option<String>,
}

#[derive(Default)]
struct Shared {
    behaviour: Mutex<Behaviour>,
    hits: Mutex<HashMap<String, usize>>,
    not_modified: Mutex<usize>,
    if_none_match: Mutex<Vec<String>>,
}

/// The test issuer.
pub struct Issuer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Issuer {
    /// Starts an issuer on a free port of 127.0.0.1.
    pub async fn start() -> Issuer {
        let shared = Arc::new(Shared::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Issuer { addr, shared, task }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.shared.behaviour.lock().unwrap());
    }

    /// Serves the public halves of `keys` at `/jwks.json`.
    pub fn serve_keys(&self, keys: &[&SigningKey]) {
        self.serve_document(&jwks_of(keys));
    }

    /// Serves `text` verbatim at `/jwks.json`.
    pub fn serve_document(&self, text: &str) {
        let text = text.to_owned();
        self.set(|b| b.jwks = text);
    }

    pub fn cache_control(&self, value: Option<&str>) {
        self.set(|b| b.cache_control = value.map(str::to_owned));
    }

    pub fn etag(&self, value: Option<&str>) {
        self.set(|b| b.etag = value.map(str::to_owned));
    }

    /// Every path answers this status (`None`: back to normal).
    pub fn status(&self, status: Option<u16>) {
        self.set(|b| b.status = status.map(|s| StatusCode::from_u16(s).unwrap()));
    }

    /// `/jwks.json` waits this long before its headers.
    pub fn delay(&self, delay: Duration) {
        self.set(|b| b.delay = delay);
    }

    /// Serves an OpenID discovery document naming `issuer` and `jwks_uri`
    /// at every path ending in `/.well-known/openid-configuration`.
    pub fn discovery(&self, issuer: &str, jwks_uri: &str) {
        let mut o = Object::new();
        o.insert("issuer", issuer.into());
        o.insert("jwks_uri", jwks_uri.into());
        let text = Value::Object(o).to_json();
        self.set(|b| b.discovery = Some(text));
    }

    /// Requests received for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.shared
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// 304 answers given so far.
    pub fn not_modified(&self) -> usize {
        *self.shared.not_modified.lock().unwrap()
    }

    /// The `If-None-Match` values received, in order.
    pub fn if_none_match(&self) -> Vec<String> {
        self.shared.if_none_match.lock().unwrap().clone()
    }
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    *shared.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let inm = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .map(|v| v.to_str().unwrap().to_owned());
    if let Some(tag) = &inm {
        shared.if_none_match.lock().unwrap().push(tag.clone());
    }
    let (jwks, cache_control, etag, status, delay, discovery) = {
        let b = shared.behaviour.lock().unwrap();
        (
            b.jwks.clone(),
            b.cache_control.clone(),
            b.etag.clone(),
            b.status,
            b.delay,
            b.discovery.clone(),
        )
    };
    if let Some(status) = status {
        return reply(status, Body::empty(), &[]);
    }
    let port = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit(':').next())
        .unwrap_or("80")
        .to_owned();
    match path.as_str() {
        "/jwks.json" => {
            tokio::time::sleep(delay).await;
            let mut headers = vec![];
            if let Some(cc) = &cache_control {
                headers.push((header::CACHE_CONTROL, cc.clone()));
            }
            if let Some(tag) = &etag {
                headers.push((header::ETAG, tag.clone()));
                if inm.as_ref() == Some(tag) {
                    *shared.not_modified.lock().unwrap() += 1;
                    return reply(StatusCode::NOT_MODIFIED, Body::empty(), &headers);
                }
            }
            reply(StatusCode::OK, Body::from(jwks), &headers)
        }
        "/big.json" => reply(StatusCode::OK, Body::from(vec![b' '; 64 * 1024]), &[]),
        "/endless.json" => {
            // Chunked, no Content-Length, never ends.
            let chunks = futures_util::stream::repeat_with(|| {
                Ok::<_, std::io::Error>(axum::body::Bytes::from_static(&[b' '; 1024]))
            });
            reply(StatusCode::OK, Body::from_stream(chunks), &[])
        }
        "/dribble.json" => {
            // One byte, then nothing for a long time.
            let chunks = futures_util::stream::unfold(0u32, |n| async move {
                if n > 0 {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                Some((
                    Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{")),
                    n + 1,
                ))
            });
            reply(StatusCode::OK, Body::from_stream(chunks), &[])
        }
        "/redirect/same" => redirect("/jwks.json"),
        "/redirect/loop" => redirect("/redirect/loop"),
        // Same server, same port, another host name: another origin.
        "/redirect/other-host" => redirect(&format!("http://localhost:{port}/jwks.json")),
        p if p.ends_with("/.well-known/openid-configuration") => match discovery {
            Some(doc) => reply(StatusCode::OK, Body::from(doc), &[]),
            None => reply(StatusCode::NOT_FOUND, Body::empty(), &[]),
        },
        _ => reply(StatusCode::NOT_FOUND, Body::empty(), &[]),
    }
}

fn redirect(location: &str) -> Response {
    reply(
        StatusCode::FOUND,
        Body::empty(),
        &[(header::LOCATION, location.to_owned())],
    )
}

fn reply(status: StatusCode, body: Body, headers: &[(header::HeaderName, String)]) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(name.clone(), HeaderValue::from_str(value).unwrap());
    }
    response
}

/// The JWK Set text of the public halves of `keys`.
pub fn jwks_of(keys: &[&SigningKey]) -> String {
    let mut set = KeySet::new();
    for key in keys {
        set.push(key.verifying_key().unwrap()).unwrap();
    }
    Value::Object(set.to_public_jwks()).to_json()
}

/// A fresh ES256 key named `kid`.
pub fn key(kid: &str) -> SigningKey {
    SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid(kid)
}

pub const ISS: &str = "https://idp.example";
pub const AUD: &str = "https://api.example";

/// A token of `ISS` for `AUD`, subject `sub`, valid for five minutes.
pub fn token(key: &SigningKey, sub: &str) -> String {
    let mut claims = Object::new();
    claims.insert("iss", ISS.into());
    claims.insert("sub", sub.into());
    claims.insert("aud", AUD.into());
    claims.insert("exp", (SystemClock.now() + 300).into());
    jwt::sign(key, &Object::new(), &claims).unwrap()
}

/// The policy tokens of [`token`] pass.
pub fn policy() -> tessera_core::Policy {
    tessera_core::Policy {
        issuer: Some(ISS.into()),
        audiences: vec![AUD.into()],
        ..tessera_core::Policy::default()
    }
}

/// A test configuration for `url`: `allow_insecure` (the issuer is
/// http://127.0.0.1), and bounds long enough that no background refresh
/// or second unknown-kid fetch happens unless a test shortens them.
pub fn config(url: &str) -> JwksConfig {
    let mut config = JwksConfig::jwks_uri(url);
    config.allow_insecure = true;
    config.cache_floor = Duration::from_secs(60);
    config.unknown_kid_cooldown = Duration::from_secs(60);
    config.timeout = Duration::from_secs(2);
    config
}

/// The kids of a key set.
pub fn kids(set: &KeySet) -> Vec<String> {
    set.keys()
        .iter()
        .filter_map(|k| k.kid().map(str::to_owned))
        .collect()
}

/// Polls `done` every 10 ms until it holds (true) or `limit` passes (false).
pub async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}
