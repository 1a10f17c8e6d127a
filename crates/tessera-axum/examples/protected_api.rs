//! An axum API protected by tessera's layer, with no server of its own:
//! access tokens of a `tessera serve` (verified against its JWKS, saved to
//! a file), NWTs addressed to this API, and NIP-98 events for its URLs.
//!
//! ```sh
//! tessera serve &                                   # the auth server on :8787
//! curl -s http://127.0.0.1:8787/.well-known/jwks.json > jwks.json
//! cargo run -p tessera-axum --example protected_api -- jwks.json http://127.0.0.1:8787 http://127.0.0.1:3000
//! curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:3000/hello
//! ```
//! Arguments: JWKS file, the tessera server's URL (token `iss` and `aud`),
//! this API's public base URL (NIP-98 `u` tags and NWT `aud`).

use axum::routing::get;
use axum::Router;
use tessera_axum::{Authenticated, TesseraLayer};
use tessera_core::KeySet;
use tessera_core::{Policy, Verifier};

async fn hello(Authenticated(id): Authenticated) -> String {
    format!("hello {} ({})\n", id.subject, id.format.as_str())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: protected_api <jwks.json> <tessera URL> <this API's base URL>";
    let jwks = args.next().ok_or(usage)?;
    let issuer = args.next().ok_or(usage)?;
    let base = args.next().ok_or(usage)?;
    let keys = KeySet::from_jwks(&std::fs::read_to_string(&jwks)?, None)?;
    let policy = Policy {
        // tessera's access tokens name the server; NWTs name this API.
        audiences: vec![issuer.clone(), base.clone()],
        required_typ: None,
        ..Policy::default()
    };
    let verifier = Verifier::new(policy, keys).with_cache(Default::default());
    let app = Router::new()
        .route("/hello", get(hello))
        .layer(TesseraLayer::verifier(verifier, base.clone()));
    let addr = base
        .split("://")
        .nth(1)
        .unwrap_or("127.0.0.1:3000")
        .to_owned();
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("protected API on {base}/hello (tokens from {issuer})");
    axum::serve(listener, app).await?;
    Ok(())
}
