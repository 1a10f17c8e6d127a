//! What is never fetched, or never accepted from a fetch; each refusal
//! keeps the last good set and names its kind.

use crate::harness::{config, key, kids, Issuer};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_jwks::{ErrorKind, JwksConfig, RemoteJwks};

const JWKS: &str = "/jwks.json";

#[tokio::test]
async fn an_oversized_jwks_is_refused_and_the_old_set_kept() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    let mut cfg = config(&issuer.url(JWKS));
    cfg.max_body_bytes = 1024;
    let jwks = RemoteJwks::new(cfg).unwrap();
    let good = jwks.refresh().await.unwrap();

    // Past the limit (Content-Length declares it): refused before reading.
    issuer.serve_document(&format!(
        r#"{{"keys":[],"padding":"{}"}}"#,
        "x".repeat(2048)
    ));
    let err = jwks.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    assert!(Arc::ptr_eq(&jwks.keys(), &good));
    assert_eq!(jwks.state().last_error, Some(ErrorKind::TooLarge));
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_limit() {
    let issuer = Issuer::start().await;
    let mut cfg = config(&issuer.url("/endless.json"));
    cfg.max_body_bytes = 16 * 1024;
    cfg.timeout = Duration::from_secs(5);
    let jwks = RemoteJwks::new(cfg).unwrap();
    let start = Instant::now();
    let err = jwks.refresh().await.unwrap_err();
    // Stopped by the size limit, streaming, not by the timeout.
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(jwks.state().keys, 0);
}

#[tokio::test]
async fn a_slow_jwks_is_refused_and_the_old_set_kept() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    let mut cfg = config(&issuer.url(JWKS));
    cfg.timeout = Duration::from_millis(300);
    let jwks = RemoteJwks::new(cfg).unwrap();
    let good = jwks.refresh().await.unwrap();

    issuer.serve_keys(&[&key("b")]);
    issuer.delay(Duration::from_secs(3));
    let start = Instant::now();
    let err = jwks.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(Arc::ptr_eq(&jwks.keys(), &good));
    assert_eq!(kids(&jwks.keys()), ["a"]);
}

#[tokio::test]
async fn a_body_that_dribbles_is_refused_by_the_total_timeout() {
    let issuer = Issuer::start().await;
    let mut cfg = config(&issuer.url("/dribble.json"));
    cfg.timeout = Duration::from_millis(300);
    let jwks = RemoteJwks::new(cfg).unwrap();
    let start = Instant::now();
    let err = jwks.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_redirect_to_another_host_is_refused() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    // Location: http://localhost:<same port>/jwks.json — same server, other host.
    let jwks = RemoteJwks::new(config(&issuer.url("/redirect/other-host"))).unwrap();
    let err = jwks.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RedirectRefused, "{err}");
    assert_eq!(issuer.hits("/redirect/other-host"), 1);
    assert_eq!(issuer.hits(JWKS), 0, "the other host was not asked");
    assert_eq!(jwks.state().keys, 0);
}

#[tokio::test]
async fn same_origin_redirects_are_followed_a_bounded_number_of_times() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    let jwks = RemoteJwks::new(config(&issuer.url("/redirect/same"))).unwrap();
    assert_eq!(kids(&jwks.refresh().await.unwrap()), ["a"]);
    assert_eq!(issuer.hits(JWKS), 1);

    let looping = RemoteJwks::new(config(&issuer.url("/redirect/loop"))).unwrap();
    let err = looping.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RedirectRefused, "{err}");
    // The first request and three redirects, then no more.
    assert_eq!(issuer.hits("/redirect/loop"), 4);
}

#[tokio::test]
async fn a_loopback_address_is_refused_without_allow_insecure() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    let port = issuer.addr.port();
    let strict = |url: String| {
        let mut cfg = config(&url);
        cfg.allow_insecure = false;
        cfg
    };
    // An IP literal: refused before anything starts.
    let err = RemoteJwks::new(strict(format!("https://127.0.0.1:{port}/jwks.json"))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddressRefused, "{err}");
    assert!(err.message().contains("127.0.0.1"), "{err}");
    let err = strict(format!("https://[::ffff:127.0.0.1]:{port}/jwks.json"))
        .validate()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddressRefused, "{err}");

    // A host name whose addresses are loopback: refused at connection time,
    // by the resolver, before any connection.
    let jwks = RemoteJwks::new(strict(format!("https://localhost:{port}/jwks.json"))).unwrap();
    let err = jwks.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddressRefused, "{err}");
    assert!(err.message().contains("localhost"), "{err}");
    assert_eq!(jwks.state().last_error, Some(ErrorKind::AddressRefused));
    assert_eq!(issuer.hits(JWKS), 0);
}

#[tokio::test]
async fn http_is_refused_without_allow_insecure() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    let mut cfg = config(&issuer.url(JWKS));
    cfg.allow_insecure = false;
    assert_eq!(
        cfg.validate().unwrap_err().kind(),
        ErrorKind::InsecureScheme
    );
    let err = RemoteJwks::new(cfg).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InsecureScheme, "{err}");
    let err = RemoteJwks::new(JwksConfig::jwks_uri("http://idp.example/jwks.json")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InsecureScheme, "{err}");
    assert_eq!(issuer.hits(JWKS), 0);
}

#[tokio::test]
async fn an_unreachable_issuer_is_a_connect_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let jwks = RemoteJwks::new(config(&format!("http://127.0.0.1:{port}/jwks.json"))).unwrap();
    let err = jwks.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    let state = jwks.state();
    assert_eq!(
        (state.keys, state.last_error),
        (0, Some(ErrorKind::Connect))
    );
}

#[tokio::test]
async fn a_failed_tls_handshake_is_a_connect_error() {
    // https to a server that speaks plain HTTP: rustls gives up.
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    let url = format!("https://127.0.0.1:{}/jwks.json", issuer.addr.port());
    let jwks = RemoteJwks::new(config(&url)).unwrap();
    let err = jwks.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert_eq!(jwks.state().keys, 0);
}

#[tokio::test]
async fn an_error_status_is_refused() {
    let issuer = Issuer::start().await;
    let jwks = RemoteJwks::new(config(&issuer.url("/missing.json"))).unwrap();
    let err = jwks.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus, "{err}");
    assert!(err.message().contains("404"), "{err}");
}

#[test]
fn new_outside_a_runtime_is_a_configuration_error() {
    let err = RemoteJwks::new(JwksConfig::jwks_uri("https://idp.example/jwks.json")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err}");
}
