//! tessera as a forward-auth gateway for an identity provider you already
//! have: the server library started with a `tessera.toml` (an `[[issuer]]`
//! table with the provider's JWK Set, `[[rule]]` tables), asked about
//! requests the way nginx's `auth_request` asks `/v1/verify`.
//!
//! ```sh
//! cargo run -p tessera-server --example forward_auth
//! ```
//!
//! It writes the configuration and the provider's JWK Set into a temporary
//! directory, starts the server on a free loopback port, checks four
//! answers (200 with the `X-Auth-*` headers, 401, 403 by rule, an anonymous
//! rule), stops the server, removes the directory and exits 0. The provider
//! is played by the `jsonwebtoken` crate. `tessera serve --config
//! tessera.toml` runs the same server; docs/guides/nginx.md puts nginx in
//! front of it.

use std::time::{SystemTime, UNIX_EPOCH};
use tessera_server::config::Config;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const TESSERA_TOML: &str = r#"
public_url = "https://api.example"   # what clients call (the gateway)

[forward_auth]
gateway = "nginx"                    # X-Original-URL / X-Original-Method
claim_headers = ["scope"]            # X-Auth-Claim-Scope

[[issuer]]
name = "corp"
kind = "jwt"
iss = "https://idp.example"
audiences = ["https://api.example"]
keys = ["idp.jwks.json"]             # relative to this file

[[rule]]
path = "/public/*"
anonymous = true

[[rule]]
path = "/admin/*"
allow = ["corp"]
claims = { scope = { contains = "admin" } }

[[rule]]
path = "/*"
allow = ["corp"]
"#;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let dir = std::env::temp_dir().join(format!("tessera-forward-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&dir).await;
    std::fs::remove_dir_all(&dir)?;
    result
}

async fn run(dir: &std::path::Path) -> Result<(), BoxError> {
    let idp = Issuer::new()?;
    std::fs::write(dir.join("idp.jwks.json"), &idp.jwks)?;
    std::fs::write(dir.join("tessera.toml"), TESSERA_TOML)?;

    // What `tessera serve --config tessera.toml` does, on a free port.
    let mut config = Config::from_file(&dir.join("tessera.toml"))?;
    config.data_dir = dir.join("data");
    let state = tessera_server::serve::build_state(config).await?;
    let limits = tessera_server::listen::Limits::from_config(&state.config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // The server runs until the checks are done (the server future is
    // polled here, not spawned).
    let server = tessera_server::serve::run(listener, None, state, limits, async move {
        let _ = stopped.await;
    });
    let checks = async move {
        let result = check(addr, &idp).await;
        let _ = stop.send(());
        result
    };
    println!("tessera on {addr}");
    let ((), result) = tokio::join!(server, checks);
    result?;
    println!("forward_auth: OK");
    Ok(())
}

/// Asks about four requests as nginx would, and checks each answer.
async fn check(addr: std::net::SocketAddr, idp: &Issuer) -> Result<(), BoxError> {
    let now = unix_now();
    let reader = idp.token("alice", "orders:read", now)?;
    let admin = idp.token("root", "orders:read admin", now)?;

    // Allowed: 200, and the headers the gateway copies to the app.
    let r = ask(addr, "/orders?id=7", Some(&reader)).await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-auth-subject"), Some("alice"));
    assert_eq!(r.header("x-auth-issuer"), Some("corp"));
    assert_eq!(r.header("x-auth-method"), Some("jwt"));
    assert_eq!(r.header("x-auth-claim-scope"), Some("orders:read"));
    println!("GET /orders with alice's token: 200, X-Auth-Subject: alice, X-Auth-Issuer: corp");

    // No credential: 401 with a Bearer challenge.
    let r = ask(addr, "/orders?id=7", None).await?;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r
        .header("www-authenticate")
        .is_some_and(|v| v.starts_with("Bearer")));
    println!("GET /orders without a token: 401");

    // Authenticated, but the /admin/* rule wants an `admin` scope: 403
    // with the reason and the rule (never the caller's claim values).
    let r = ask(addr, "/admin/users", Some(&reader)).await?;
    let body: serde_json::Value = serde_json::from_str(&r.body)?;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(body["reason"], "claim_not_satisfied");
    assert_eq!(body["rule"]["path"], "/admin/*");
    let r = ask(addr, "/admin/users", Some(&admin)).await?;
    assert_eq!((r.status, r.header("x-auth-subject")), (200, Some("root")));
    println!("GET /admin/users: alice 403 (claim_not_satisfied), root 200");

    // An anonymous rule: 200 without a credential, and no X-Auth-* headers.
    let r = ask(addr, "/public/logo.png", None).await?;
    assert_eq!((r.status, r.header("x-auth-subject")), (200, None));
    println!("GET /public/logo.png without a token: 200");
    Ok(())
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Asks `/v1/verify` about `GET https://api.example{path}` as nginx's
/// `auth_request` does: the original URL and method in headers, the
/// client's `Authorization` passed on.
async fn ask(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
) -> Result<Answer, BoxError> {
    let original = format!("https://api.example{path}");
    let auth = token.map(|t| format!("Bearer {t}"));
    tokio::task::spawn_blocking(move || {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build();
        let mut req = ureq::Agent::new_with_config(config)
            .get(format!("http://{addr}/v1/verify"))
            .header("X-Original-URL", original)
            .header("X-Original-Method", "GET");
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let mut resp = req.call()?;
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        Ok(Answer {
            status: resp.status().as_u16(),
            headers,
            body: resp.body_mut().read_to_string()?,
        })
    })
    .await?
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The identity provider: the `jsonwebtoken` crate signs ES256 tokens with
/// a key whose JWK Set it publishes.
struct Issuer {
    key: jsonwebtoken::EncodingKey,
    jwks: String,
}

impl Issuer {
    fn new() -> Result<Self, BoxError> {
        let pair = tessera_core::SigningKey::generate(tessera_core::Algorithm::ES256)?;
        let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.to_pkcs8_pem()?.as_bytes())?;
        let mut jwk =
            jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES256)?;
        jwk.common.key_id = Some("idp-1".into());
        let jwks = serde_json::to_string(&jsonwebtoken::jwk::JwkSet { keys: vec![jwk] })?;
        Ok(Issuer { key, jwks })
    }

    fn token(
        &self,
        sub: &str,
        scope: &str,
        now: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("idp-1".into());
        let claims = serde_json::json!({
            "iss": "https://idp.example", "sub": sub, "aud": "https://api.example",
            "iat": now, "exp": now + 300, "scope": scope,
        });
        jsonwebtoken::encode(&header, &claims, &self.key)
    }
}
