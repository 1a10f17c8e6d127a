//! Cache-Control, ETag, background refresh and stale-if-error.

use crate::harness::{config, eventually, key, kids, policy, token, Issuer};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tessera_jwks::{ErrorKind, RemoteJwks, RemoteVerifier};

const JWKS: &str = "/jwks.json";

#[tokio::test]
async fn first_fetch_fills_the_set_and_the_state() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    issuer.cache_control(Some("max-age=600"));
    let jwks = RemoteJwks::new(config(&issuer.url(JWKS))).unwrap();
    let set = jwks.refresh().await.unwrap();
    assert_eq!(kids(&set), ["a"]);
    let state = jwks.state();
    assert_eq!(state.jwks_uri.as_deref(), Some(issuer.url(JWKS).as_str()));
    assert_eq!(state.keys, 1);
    assert_eq!(state.lifetime, Duration::from_secs(600));
    assert!(!state.stale);
    assert!(state.last_success.is_some());
    assert!(state.age.unwrap() < Duration::from_secs(1));
    assert_eq!(state.last_error, None);
    // The background task's first fetch and refresh() were one request.
    assert_eq!(issuer.hits(JWKS), 1);
    assert_eq!(state.fetches, 1);
}

#[tokio::test]
async fn rotation_is_picked_up_on_the_max_age_schedule() {
    let issuer = Issuer::start().await;
    let (a, b) = (key("a"), key("b"));
    issuer.serve_keys(&[&a]);
    issuer.cache_control(Some("max-age=1"));
    let mut cfg = config(&issuer.url(JWKS));
    cfg.cache_floor = Duration::from_millis(100);
    let jwks = RemoteJwks::new(cfg).unwrap();
    jwks.refresh().await.unwrap();
    let fetched = Instant::now();
    assert_eq!(jwks.state().lifetime, Duration::from_secs(1));

    issuer.serve_keys(&[&b]);
    // Cached: the new set is not fetched at once...
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(kids(&jwks.keys()), ["a"]);
    assert_eq!(issuer.hits(JWKS), 1);
    // ...but at three quarters of its max-age (1 s), not of the ceiling
    // (60 s); the upper bound is generous for a loaded machine.
    assert!(eventually(Duration::from_secs(5), || kids(&jwks.keys()) == ["b"]).await);
    let took = fetched.elapsed();
    assert!(
        took >= Duration::from_millis(700),
        "refreshed after {took:?}"
    );
    assert!(took <= Duration::from_secs(3), "refreshed after {took:?}");
    assert_eq!(issuer.hits(JWKS), 2);
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_refreshes() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    issuer.cache_control(Some("max-age=0"));
    let mut cfg = config(&issuer.url(JWKS));
    cfg.cache_floor = Duration::from_millis(100);
    let jwks = RemoteJwks::new(cfg).unwrap();
    let verifier = RemoteVerifier::new(jwks.clone(), policy());
    assert!(eventually(Duration::from_secs(3), || issuer.hits(JWKS) >= 3).await);
    drop((jwks, verifier));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = issuer.hits(JWKS);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        issuer.hits(JWKS),
        after,
        "no fetch once every handle is gone"
    );
}

#[tokio::test]
async fn max_age_above_the_ceiling_is_lowered_to_it() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    issuer.cache_control(Some("max-age=86400"));
    let mut cfg = config(&issuer.url(JWKS));
    cfg.cache_floor = Duration::from_millis(100);
    cfg.cache_ceiling = Duration::from_millis(400);
    let jwks = RemoteJwks::new(cfg).unwrap();
    jwks.refresh().await.unwrap();
    assert_eq!(jwks.state().lifetime, Duration::from_millis(400));
    // Refreshed every 300 ms (three quarters of the ceiling), not in a day.
    assert!(eventually(Duration::from_secs(3), || issuer.hits(JWKS) >= 3).await);
}

#[tokio::test]
async fn max_age_below_the_floor_is_raised_to_it() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    let mut cfg = config(&issuer.url(JWKS));
    cfg.cache_floor = Duration::from_secs(2);
    cfg.cache_ceiling = Duration::from_secs(60);
    let jwks = RemoteJwks::new(cfg).unwrap();
    for cache_control in [Some("max-age=0"), Some("no-store"), None] {
        issuer.cache_control(cache_control);
        let before = issuer.hits(JWKS);
        jwks.refresh().await.unwrap();
        assert_eq!(
            jwks.state().lifetime,
            Duration::from_secs(2),
            "{cache_control:?}"
        );
        // Not refetched in a loop: nothing more within a quarter of the floor.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(issuer.hits(JWKS), before + 1, "{cache_control:?}");
    }
}

#[tokio::test]
async fn etag_304_keeps_the_set_and_restarts_its_age() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(&[&key("a")]);
    issuer.etag(Some("\"v1\""));
    issuer.cache_control(Some("max-age=600"));
    let jwks = RemoteJwks::new(config(&issuer.url(JWKS))).unwrap();
    let first = jwks.refresh().await.unwrap();
    assert!(issuer.if_none_match().is_empty());

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(jwks.state().age.unwrap() >= Duration::from_millis(300));
    // The 304 carries no Cache-Control: the stored max-age stands (RFC 9111 §4.3.4).
    issuer.cache_control(None);
    let second = jwks.refresh().await.unwrap();
    assert_eq!(issuer.if_none_match(), ["\"v1\""]);
    assert_eq!(issuer.not_modified(), 1);
    assert!(Arc::ptr_eq(&first, &second), "a 304 keeps the same set");
    let state = jwks.state();
    assert!(
        state.age.unwrap() < Duration::from_millis(200),
        "age restarts"
    );
    assert_eq!(state.lifetime, Duration::from_secs(600));
    assert_eq!(state.last_error, None);

    // A new ETag with a new set: fetched in full and swapped.
    issuer.serve_keys(&[&key("b")]);
    issuer.etag(Some("\"v2\""));
    let third = jwks.refresh().await.unwrap();
    assert_eq!(kids(&third), ["b"]);
    assert_eq!(issuer.not_modified(), 1);
    assert_eq!(issuer.if_none_match(), ["\"v1\"", "\"v1\""]);
}

#[tokio::test]
async fn issuer_down_keeps_the_last_good_set_and_says_stale() {
    let issuer = Issuer::start().await;
    let a = key("a");
    issuer.serve_keys(&[&a]);
    issuer.cache_control(Some("max-age=0"));
    let mut cfg = config(&issuer.url(JWKS));
    cfg.cache_floor = Duration::from_millis(200);
    let jwks = RemoteJwks::new(cfg).unwrap();
    let good = jwks.refresh().await.unwrap();
    let verifier = RemoteVerifier::new(jwks.clone(), policy());

    issuer.status(Some(503));
    assert!(
        eventually(Duration::from_secs(3), || {
            let s = jwks.state();
            s.stale && s.consecutive_failures >= 2
        })
        .await
    );
    let state = jwks.state();
    assert_eq!(state.last_error, Some(ErrorKind::HttpStatus));
    assert_eq!(state.keys, 1);
    assert!(Arc::ptr_eq(&jwks.keys(), &good));
    // Tokens of the last good set are still accepted.
    assert_eq!(
        verifier
            .verify_jwt(&token(&a, "alice"))
            .await
            .unwrap()
            .subject,
        "alice"
    );

    issuer.status(None);
    assert!(
        eventually(Duration::from_secs(3), || {
            let s = jwks.state();
            !s.stale && s.last_error.is_none()
        })
        .await
    );
    assert_eq!(jwks.state().consecutive_failures, 0);
}

/// A `tracing` writer that keeps what it is given.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything this test binary logs. A global subscriber: a thread-local
/// one misses events whose callsite another test thread hit first.
fn captured_log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        captured
    })
}

#[tokio::test]
async fn a_failed_refresh_logs_one_warning_without_key_material() {
    let captured = captured_log();
    let issuer = Issuer::start().await;
    let a = key("a");
    issuer.serve_keys(&[&a]);
    let jwks = RemoteJwks::new(config(&format!("{}?secret=s3cr3t", issuer.url(JWKS)))).unwrap();
    jwks.refresh().await.unwrap();
    issuer.status(Some(503));
    assert_eq!(
        jwks.refresh().await.unwrap_err().kind(),
        ErrorKind::HttpStatus
    );

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // This test's lines: its issuer's port is its own.
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains(&issuer.url(JWKS)))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    let line = warnings[0];
    assert!(line.contains("serving the last good key set"), "{line}");
    assert!(line.contains("error=\"http_status\""), "{line}");
    assert!(line.contains(&issuer.url(JWKS)), "{line}");
    let x = tessera_core::internal::json::parse_object(crate::harness::jwks_of(&[&a]).as_bytes())
        .unwrap()
        .get("keys")
        .and_then(|k| k.as_array())
        .and_then(|k| k[0].as_object())
        .and_then(|k| k.get("x"))
        .and_then(|x| x.as_str())
        .unwrap()
        .to_owned();
    assert!(!log.contains(&x), "key material in the log: {log}");
    assert!(!log.contains("s3cr3t"), "the URL's query in the log: {log}");
}

#[tokio::test]
async fn a_refused_set_keeps_the_last_good_one() {
    let issuer = Issuer::start().await;
    // An empty body is no set, even before the first one.
    issuer.serve_document("");
    let jwks = RemoteJwks::new(config(&issuer.url(JWKS))).unwrap();
    assert_eq!(
        jwks.refresh().await.unwrap_err().kind(),
        ErrorKind::InvalidJwks
    );
    issuer.serve_keys(&[&key("a")]);
    let good = jwks.refresh().await.unwrap();
    for bad in [
        r#"{"keys":[{"kty":"nope","kid":"x"}]}"#,
        r#"{"keys":[]}"#,
        "",
        // 32 bytes of HMAC secret, published: refused, never trusted.
        r#"{"keys":[{"kty":"oct","alg":"HS256","kid":"h","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}"#,
        r#"{"keys":"#,
        "\u{0}\u{fffd}",
    ] {
        issuer.serve_document(bad);
        let err = jwks.refresh().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidJwks, "{bad}: {err}");
        assert!(Arc::ptr_eq(&jwks.keys(), &good), "{bad}");
        assert_eq!(jwks.state().last_error, Some(ErrorKind::InvalidJwks));
    }
}
