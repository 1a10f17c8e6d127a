//! OpenID Connect discovery: `<issuer>/.well-known/openid-configuration`.

use crate::harness::{eventually, key, kids, Issuer};
use std::time::Duration;
use tessera_jwks::{ErrorKind, JwksConfig, RemoteJwks};

const DOC: &str = "/.well-known/openid-configuration";

fn discovery(issuer: &str) -> JwksConfig {
    let mut config = JwksConfig::discovery(issuer);
    config.allow_insecure = true;
    config.cache_floor = Duration::from_secs(60);
    config
}

#[tokio::test]
async fn discovery_finds_the_jwks_uri() {
    let server = Issuer::start().await;
    server.serve_keys(&[&key("a")]);
    let issuer = server.url("");
    server.discovery(&issuer, &server.url("/jwks.json"));
    let jwks = RemoteJwks::new(discovery(&issuer)).unwrap();
    assert_eq!(kids(&jwks.refresh().await.unwrap()), ["a"]);
    assert_eq!(server.hits(DOC), 1);
    assert_eq!(server.hits("/jwks.json"), 1);
    let state = jwks.state();
    assert_eq!(
        state.jwks_uri.as_deref(),
        Some(server.url("/jwks.json").as_str())
    );

    // Later refreshes go straight to the jwks_uri.
    jwks.refresh().await.unwrap();
    assert_eq!((server.hits(DOC), server.hits("/jwks.json")), (1, 2));
}

#[tokio::test]
async fn an_issuer_with_a_path_is_discovered_under_it() {
    let server = Issuer::start().await;
    server.serve_keys(&[&key("a")]);
    let issuer = server.url("/realms/main");
    server.discovery(&issuer, &server.url("/jwks.json"));
    let jwks = RemoteJwks::new(discovery(&issuer)).unwrap();
    assert_eq!(kids(&jwks.refresh().await.unwrap()), ["a"]);
    assert_eq!(server.hits(&format!("/realms/main{DOC}")), 1);
}

#[tokio::test]
async fn a_document_naming_another_issuer_is_refused() {
    let server = Issuer::start().await;
    server.serve_keys(&[&key("a")]);
    let issuer = server.url("");
    for named in [
        "https://evil.example",
        &format!("{issuer}/"),
        &issuer.to_uppercase(),
    ] {
        server.discovery(named, &server.url("/jwks.json"));
        let jwks = RemoteJwks::new(discovery(&issuer)).unwrap();
        let err = jwks.refresh().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IssuerMismatch, "{named}: {err}");
        assert_eq!(jwks.state().keys, 0);
    }
    assert_eq!(
        server.hits("/jwks.json"),
        0,
        "no jwks_uri of a wrong document is fetched"
    );
}

#[tokio::test]
async fn a_document_without_jwks_uri_is_refused_and_discovery_retried() {
    let server = Issuer::start().await;
    server.serve_keys(&[&key("a")]);
    let issuer = server.url("");
    let mut config = discovery(&issuer);
    config.cache_floor = Duration::from_millis(100);
    let jwks = RemoteJwks::new(config).unwrap();
    // No document yet: 404.
    assert_eq!(
        jwks.refresh().await.unwrap_err().kind(),
        ErrorKind::HttpStatus
    );
    // Then a document: the background retries discover it.
    server.discovery(&issuer, &server.url("/jwks.json"));
    assert!(eventually(Duration::from_secs(3), || jwks.state().keys == 1).await);
    assert!(server.hits(DOC) >= 2);
}
