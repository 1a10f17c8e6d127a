//! Unit tests of the Redis store: the helpers, and native TTLs on a real
//! server.

use super::*;
use crate::{NewRefreshToken, RefreshFamily, Store};

#[test]
fn hex_encodes_lowercase() {
    assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
}

#[test]
fn parses_scores() {
    assert_eq!(parse_i64("x", "1800000000").ok(), Some(1_800_000_000));
    assert_eq!(parse_i64("x", "1.8e9").ok(), Some(1_800_000_000));
    assert!(parse_i64("x", "1.5").is_err());
    assert!(parse_i64("x", "abc").is_err());
}

/// Every key the store writes carries a native TTL near its expiry
/// (needs `TESSERA_TEST_REDIS_URL`; skipped without it).
#[tokio::test]
async fn keys_get_native_ttls() {
    let Ok(url) = std::env::var("TESSERA_TEST_REDIS_URL") else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(!ci, "CI needs TESSERA_TEST_REDIS_URL");
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "!!! TESSERA_TEST_REDIS_URL is not set: SKIPPING keys_get_native_ttls"
        );
        return;
    };
    let prefix = format!("ttltest{}", std::process::id());
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = RedisStore::open(&format!("{url}{sep}prefix={prefix}"))
        .await
        .expect("open redis");
    let now = 2_000_000_000; // a time well in the future of the server
    store.put_nonce("n", now + 100).await.expect("nonce");
    assert!(store
        .remember_once("id", now + 200, now)
        .await
        .expect("seen"));
    store.revoke_jti("j", now + 300).await.expect("jti");
    let fam = RefreshFamily {
        id: "f".into(),
        subject: "s".into(),
        amr: "siwe".into(),
        created_at: now,
        expires_at: now + 400,
        revoked: false,
        token_version: 0,
    };
    let tok = NewRefreshToken {
        hash: [7; 32],
        expires_at: now + 500,
    };
    store.create_family(&fam, &tok).await.expect("family");
    let mut con = store.con.clone();
    for (key, exp) in [
        (store.key("nonce", "n"), now + 100),
        (store.key("seen", "id"), now + 200),
        (store.key("jti", "j"), now + 300),
        (store.family_key("f"), now + 400),
        (store.key("subj", "s"), now + 400),
        (store.token_key(&[7; 32]), now + 500),
    ] {
        let at: i64 = redis::cmd("EXPIRETIME")
            .arg(&key)
            .query_async(&mut con)
            .await
            .expect("EXPIRETIME");
        assert_eq!(at, exp + TTL_SLACK_SECONDS, "{key}");
    }
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut con)
        .await
        .expect("KEYS");
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut con)
        .await
        .expect("DEL");
}
