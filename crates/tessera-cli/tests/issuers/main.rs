//! Trusted issuers end to end (issue 19): a real `tessera serve` started
//! with a TOML file holding one `[[issuer]]` of each kind — a jwt issuer
//! whose JWK Set a real HTTP server in this test serves (RS256), one with a
//! JWK Set file and one with a PEM file (ES256), Portal in both
//! directions, thirdweb, nwt — and each credential sent to `/v1/verify`:
//! accepted with the right `X-Auth-Subject` and `X-Auth-Issuer`, refused
//! (401 and the error code) when expired, tampered, from an unknown key,
//! or longer than its issuer's cap.
//!
//! One file per topic: kinds.rs (each kind at `/v1/verify`), logout_all.rs
//! (`/v1/auth/logout-all` and issuer credentials), print_config.rs
//! (`--print-config` and bad `[[issuer]]` tables); the JWK Set server, the
//! keys, the configuration and the assertions shared by them are here.

mod kinds;
mod logout_all;
mod print_config;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tessera_core::internal::encoding::b64url_encode;
use tessera_core::internal::ethereum::{issue_thirdweb, EthereumSecretKey, ThirdwebClaims};
use tessera_core::internal::nostr::{
    issue_nwt, issue_portal, nwt_authorization, NostrSecretKey, NwtClaims,
};
use tessera_core::NostrPublicKey;
use tessera_core::{jwt, Algorithm};
use tessera_core::{KeySet, SigningKey};
use tessera_core::{Object, Value as CoreValue};
use tessera_testkit::api::next_second;
use tessera_testkit::dir::TempDir;
use tessera_testkit::fixtures::nostr_key;
use tessera_testkit::http::{bearer, http, Resp};
use tessera_testkit::serve::Tessera;
use tessera_testkit::{tessera_bin, unix_now};

/// A JWK Set served over HTTP by a thread of this test (the server
/// fetches it as it would an identity provider's); counts the requests.
struct JwksServer {
    url: String,
    hits: Arc<AtomicUsize>,
}

fn serve_jwks(body: String) -> JwksServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let url = format!("{origin}/jwks.json");
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = Vec::new();
            let mut buf = [0u8; 2048];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            counter.fetch_add(1, Ordering::SeqCst);
            // OpenID Connect discovery names the JWK Set of this same server.
            let body = if head.starts_with(b"GET /.well-known/openid-configuration ") {
                format!(r#"{{"issuer":"{origin}","jwks_uri":"{origin}/jwks.json"}}"#)
            } else {
                body.clone()
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=300\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    JwksServer { url, hits }
}

impl JwksServer {
    /// The origin: an OpenID Connect issuer whose discovery document names
    /// the same JWK Set.
    fn origin(&self) -> &str {
        self.url.trim_end_matches("/jwks.json")
    }
}

fn jwks_of(key: &SigningKey) -> String {
    CoreValue::Object(KeySet::single(key.verifying_key().unwrap()).to_public_jwks()).to_json()
}

struct Keys {
    corp: SigningKey,
    files: SigningKey,
    pem: SigningKey,
    service: NostrSecretKey,
    admin: EthereumSecretKey,
    delegate: NostrSecretKey,
}

fn keys() -> Keys {
    Keys {
        // The identity provider's key and the JWK Set file's share a kid.
        corp: SigningKey::generate(Algorithm::RS256)
            .unwrap()
            .with_kid("shared"),
        files: SigningKey::generate(Algorithm::ES256)
            .unwrap()
            .with_kid("shared"),
        pem: SigningKey::generate(Algorithm::ES256).unwrap(),
        service: nostr_key(21),
        admin: EthereumSecretKey::from_bytes([7; 32]).unwrap(),
        delegate: nostr_key(22),
    }
}

fn config(dir: &TempDir, k: &Keys, jwks_uri: &str) -> String {
    std::fs::create_dir_all(dir.join("etc/keys")).unwrap();
    dir.write("etc/keys/files.jwks.json", &jwks_of(&k.files));
    dir.write("etc/keys/pem.pem", &k.pem.to_public_pem().unwrap());
    let text = format!(
        r#"
[[issuer]]
name = "corp"
kind = "jwt"
iss = "https://idp.example"
audiences = ["api.example"]
algorithms = ["RS256"]
jwks_uri = "{jwks_uri}"
allow_insecure_jwks = true
max_lifetime_seconds = 3600

[[issuer]]
name = "oidc"
kind = "jwt"
iss = "{origin}"
audiences = ["api.example"]
discovery = "{origin}"
allow_insecure_jwks = true

[[issuer]]
name = "files"
kind = "jwt"
iss = "https://files.example"
audiences = ["api.example"]
keys = ["keys/files.jwks.json"]

[[issuer]]
name = "pem"
kind = "jwt"
iss = "https://pem.example"
audiences = ["api.example"]
keys = ["keys/pem.pem"]

[[issuer]]
name = "portal-service"
kind = "portal"
signers = ["{service}"]
max_lifetime_seconds = 7200

[[issuer]]
name = "portal-wallets"
kind = "portal"
wallet_signed = true
max_lifetime_seconds = 3600

[[issuer]]
name = "tw"
kind = "thirdweb"
admins = ["{admin}"]
domain = "example.com"
max_lifetime_seconds = 86400

[[issuer]]
name = "app-nostr"
kind = "nwt"
audiences = ["api.example"]
trusted_signers = ["{delegate}"]
max_lifetime_seconds = 600
"#,
        service = k.service.public_key().to_npub(),
        admin = k.admin.address().to_checksum(),
        delegate = k.delegate.public_key().to_hex(),
        origin = jwks_uri.trim_end_matches("/jwks.json"),
    );
    dir.write("etc/tessera.toml", &text)
}

fn verify(server: &Tessera, authorization: &str, extra: &[(&str, &str)]) -> Resp {
    let mut headers = vec![("Authorization", authorization)];
    headers.extend_from_slice(extra);
    http(server, "GET", "/v1/verify", &headers, b"")
}

#[track_caller]
fn assert_accepted(r: &Resp, issuer: &str, subject: &str, method: &str) {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-auth-issuer"), Some(issuer), "{}", r.text());
    assert_eq!(r.header("x-auth-subject"), Some(subject));
    assert_eq!(r.header("x-auth-method"), Some(method));
    let body = r.json();
    assert_eq!(body["issuer_name"], issuer);
    assert_eq!(body["subject"], subject);
}

#[track_caller]
fn assert_refused(r: &Resp, code: &str, issuer: &str) {
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(r.error(), code, "{}", r.text());
    let description = r.json()["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        description.contains("issuers tried:") && description.contains(issuer),
        "{description}"
    );
}

fn claims(iss: &str, sub: &str, iat: i64, exp: i64) -> Object {
    let mut c = Object::new();
    c.insert("iss", iss.into());
    c.insert("sub", sub.into());
    c.insert("aud", "api.example".into());
    c.insert("iat", iat.into());
    c.insert("exp", exp.into());
    c
}

fn sign(key: &SigningKey, c: &Object) -> String {
    jwt::sign(key, &Object::new(), c).unwrap()
}

/// The token with its payload replaced (the signature no longer covers it).
fn tampered(token: &str, payload: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        b64url_encode(payload.as_bytes()),
        parts[2]
    )
}

fn nwt(signer: &NostrSecretKey, aud: &str, iat: i64, ttl: i64, sub: Option<String>) -> String {
    let claims = NwtClaims {
        aud: vec![aud.into()],
        ttl: Some(ttl),
        sub,
        ..NwtClaims::default()
    };
    nwt_authorization(&issue_nwt(signer, &claims, "", iat).unwrap())
}

fn server_nostr(server: &Tessera) -> NostrPublicKey {
    let info = http(server, "GET", "/v1/info", &[], b"").json();
    NostrPublicKey::parse(info["nostr_pubkey"].as_str().unwrap()).unwrap()
}
