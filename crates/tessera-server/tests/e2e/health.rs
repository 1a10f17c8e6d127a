//! `/healthz`, `/readyz` (naming the store), `/v1/info`, the JWKS (public
//! parts only) and `/metrics`.

use super::*;

pub(super) fn health_info_jwks(s: &Server, kind: Kind) {
    assert_eq!(http(s.addr, "GET", "/healthz", &[], b"").status, 200);
    let ready = http(s.addr, "GET", "/readyz", &[], b"");
    assert_eq!(ready.status, 200);
    let want = match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
        Kind::Redis => "redis",
    };
    assert_eq!(ready.json()["store"], want);
    let info = http(s.addr, "GET", "/v1/info", &[], b"").json();
    assert_eq!(info["issuer"], s.url.as_str());
    assert_eq!(info["siwe_domain"], s.addr.to_string());
    assert_eq!(info["nostr_pubkey"].as_str().map(str::len), Some(64));
    let jwks = http(s.addr, "GET", "/.well-known/jwks.json", &[], b"");
    assert_eq!(jwks.status, 200);
    let keys = jwks.json()["keys"].as_array().expect("keys").clone();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].get("d").is_none(), "no private part in the JWKS");
    let metrics = http(s.addr, "GET", "/metrics", &[], b"");
    assert_eq!(metrics.status, 200);
    // The store's health, pinged at the scrape (deploy/prometheus/alerts.yml
    // reads both).
    let text = metrics.text();
    assert!(text.contains("\ntessera_store_up 1\n"), "{text}");
    let ping = text
        .lines()
        .find_map(|l| l.strip_prefix("tessera_store_ping_seconds "))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no tessera_store_ping_seconds in {text}"));
    assert!((0.0..2.0).contains(&ping), "ping took {ping} s");
    // Every answer counted by route template and status; a path no route
    // has is one `unmatched` label whatever it was.
    assert_eq!(
        http(s.addr, "GET", "/no/such/path/4711", &[], b"").status,
        404
    );
    let text = http(s.addr, "GET", "/metrics", &[], b"").text();
    for series in [
        r#"tessera_http_requests_total{route="/healthz",status="200"}"#,
        r#"tessera_http_requests_total{route="/v1/info",status="200"}"#,
        r#"tessera_http_requests_total{route="/metrics",status="200"}"#,
        r#"tessera_http_requests_total{route="unmatched",status="404"}"#,
        r#"tessera_http_request_duration_seconds_count{route="/v1/info"}"#,
    ] {
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(series))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {series} in {text}"));
        assert!(value >= 1.0, "{series} {value}");
    }
    // Build and process metrics (the prometheus crate's collector).
    let version = format!(
        "tessera_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.lines().any(|l| l == version), "{version} in {text}");
    for series in [
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_cpu_seconds_total ",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(series)),
            "{series} in {text}"
        );
    }
    assert!(
        !text.contains("4711"),
        "a client's path became a label: {text}"
    );
}

/// After the scenarios (logins, forward-auth, logout-all among them): the
/// revocation picture's feed series and the verified-credential caches.
pub(super) fn after_scenarios_metrics(s: &Server) {
    let text = http(s.addr, "GET", "/metrics", &[], b"").text();
    let value = |series: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(series))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {series} in {text}"))
    };
    assert_eq!(value("tessera_revocation_fresh "), 1.0);
    // The scenarios' logout-all was applied within a second or so.
    let lag = value("tessera_revocation_feed_lag_seconds ");
    assert!((0.0..=5.0).contains(&lag), "lag {lag}");
    // Present from the start (a feed that lost events counts here).
    value("tessera_revocation_resyncs_total ");
    for kind in ["jti", "family", "subject"] {
        value(&format!("tessera_revocation_entries{{kind=\"{kind}\"}} "));
    }
    // The access-token cache: tokens verified more than once hit it.
    let cache = |series: &str, cache: &str| value(&format!("{series}{{cache=\"{cache}\"}} "));
    assert!(cache("tessera_verify_cache_entries", "access_token") >= 1.0);
    assert!(cache("tessera_verify_cache_bytes", "access_token") > 0.0);
    assert!(cache("tessera_verify_cache_hits_total", "access_token") >= 1.0);
    assert!(cache("tessera_verify_cache_misses_total", "access_token") >= 1.0);
    // The NWT cache: the scenarios log in and verify with NWTs.
    assert!(cache("tessera_verify_cache_misses_total", "nostr") >= 1.0);
    cache("tessera_verify_cache_entries", "nostr");
    cache("tessera_verify_cache_hits_total", "nostr");
    // Each store call's latency, by operation: the scenarios logged in
    // (a nonce consumed, a family created) and refreshed.
    for op in ["consume_nonce", "create_family", "rotate_refresh", "ping"] {
        let count = value(&format!(
            "tessera_store_operation_seconds_count{{answered=\"true\",operation=\"{op}\"}} "
        ));
        assert!(count >= 1.0, "{op}: {count}");
    }
}
