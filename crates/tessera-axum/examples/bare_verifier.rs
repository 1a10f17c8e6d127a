//! An axum API protected in-process by a bare verifier: the tokens of an
//! issuer you already have (its JWK Set), no tessera server, no store.
//!
//! ```sh
//! cargo run -p tessera-axum --example bare_verifier
//! ```
//!
//! It serves the API on a free loopback port, calls it as a client would
//! (a token of the issuer: 200; none, another audience, expired: 401),
//! checks each answer, stops the server and exits 0. The issuer is played
//! by the `jsonwebtoken` crate. Followed by docs/guides/axum.md, whose
//! code is the part between the ANCHOR lines.

use std::future::IntoFuture;
use std::time::{SystemTime, UNIX_EPOCH};

// ANCHOR: app
use axum::{routing::get, Router};
use tessera_axum::{Authenticated, TesseraLayer};
use tessera_core::{KeySet, Policy, Verifier};

/// A handler gets the verified identity from the extractor; it is never
/// called for a request the layer refused.
async fn orders(Authenticated(id): Authenticated) -> String {
    format!("orders of {}\n", id.subject)
}

/// The API, every route behind the layer. `jwks` is the issuer's JWK Set
/// (read it from a file, or fetch it once at start-up).
fn app(jwks: &str) -> Result<Router, tessera_core::Error> {
    let keys = KeySet::from_jwks(jwks, None)?;
    let policy = Policy {
        issuer: Some("https://idp.example".into()),
        audiences: vec!["https://api.example".into()],
        ..Policy::default()
    };
    let verifier = Verifier::new(policy, keys);
    Ok(Router::new()
        .route("/orders", get(orders))
        // The API's public base URL: NIP-98 events must name it.
        .layer(TesseraLayer::verifier(verifier, "https://api.example")))
}
// ANCHOR_END: app

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let idp = Issuer::new()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, app(&idp.jwks)?)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .into_future(),
    );
    println!("API on {base}/orders");

    let now = unix_now();
    let good = idp.token("https://api.example", now + 300)?;
    let (status, body) = call(&base, "/orders", Some(format!("Bearer {good}"))).await?;
    assert_eq!((status, body.as_str()), (200, "orders of alice\n"));
    println!("with the issuer's token: {status} {body:?}");

    let cases = [
        ("no credential", None, "malformed"),
        (
            "another audience",
            Some(idp.token("https://billing.example", now + 300)?),
            "audience_mismatch",
        ),
        (
            "expired",
            Some(idp.token("https://api.example", now - 3600)?),
            "expired",
        ),
    ];
    for (what, token, code) in cases {
        let (status, body) = call(&base, "/orders", token.map(|t| format!("Bearer {t}"))).await?;
        let error: serde_json::Value = serde_json::from_str(&body)?;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(error["error"], code, "{what}: {body}");
        println!("{what}: {status} {}", error["error"]);
    }

    let _ = stop.send(());
    server.await??;
    println!("bare_verifier: OK");
    Ok(())
}

/// `GET base+path` (blocking client, on a blocking thread): status and body.
async fn call(
    base: &str,
    path: &str,
    authorization: Option<String>,
) -> Result<(u16, String), Box<dyn std::error::Error + Send + Sync>> {
    let url = format!("{base}{path}");
    tokio::task::spawn_blocking(move || {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build();
        let mut req = ureq::Agent::new_with_config(config).get(&url);
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let mut resp = req.call()?;
        let status = resp.status().as_u16();
        Ok((status, resp.body_mut().read_to_string()?))
    })
    .await?
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// An issuer that is not tessera: the `jsonwebtoken` crate signs ES256
/// tokens for `alice` with a key whose JWK Set it publishes.
struct Issuer {
    key: jsonwebtoken::EncodingKey,
    jwks: String,
}

impl Issuer {
    fn new() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let pair = tessera_core::SigningKey::generate(tessera_core::Algorithm::ES256)?;
        let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.to_pkcs8_pem()?.as_bytes())?;
        let mut jwk =
            jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES256)?;
        jwk.common.key_id = Some("idp-1".into());
        let jwks = serde_json::to_string(&jsonwebtoken::jwk::JwkSet { keys: vec![jwk] })?;
        Ok(Issuer { key, jwks })
    }

    fn token(&self, aud: &str, exp: i64) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("idp-1".into());
        let claims = serde_json::json!({
            "iss": "https://idp.example", "sub": "alice", "aud": aud,
            "iat": unix_now(), "exp": exp,
        });
        jsonwebtoken::encode(&header, &claims, &self.key)
    }
}
