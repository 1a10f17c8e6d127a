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
}
