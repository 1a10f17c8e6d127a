//! An unknown `kid`: one refetch per cooldown, shared by concurrent
//! callers; keys never shared across issuers; no wait on a background fetch.

use crate::harness::{config, key, policy, token, Issuer};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_core::ErrorCode;
use tessera_jwks::{RemoteJwks, RemoteVerifier};

const JWKS: &str = "/jwks.json";

async fn verifier(issuer: &Issuer, cooldown: Duration) -> RemoteVerifier {
    let mut cfg = config(&issuer.url(JWKS));
    cfg.unknown_kid_cooldown = cooldown;
    let jwks = RemoteJwks::new(cfg).unwrap();
    jwks.refresh().await.unwrap();
    RemoteVerifier::new(jwks, policy())
}

#[tokio::test]
async fn an_unknown_kid_is_refetched_once_per_cooldown() {
    let issuer = Issuer::start().await;
    let (a, b, c) = (key("a"), key("b"), key("c"));
    issuer.serve_keys(&[&a]);
    let verifier = verifier(&issuer, Duration::from_millis(500)).await;
    assert_eq!(issuer.hits(JWKS), 1);
    assert!(verifier.verify_jwt(&token(&a, "alice")).await.is_ok());
    assert_eq!(issuer.hits(JWKS), 1, "a known kid fetches nothing");

    // The issuer rotates in `b`: its first token brings one refetch.
    issuer.serve_keys(&[&a, &b]);
    let id = verifier.verify_jwt(&token(&b, "bob")).await.unwrap();
    assert_eq!(id.subject, "bob");
    assert_eq!(issuer.hits(JWKS), 2);

    // `c` is published too late for the cooldown: refused, nothing fetched.
    issuer.serve_keys(&[&a, &b, &c]);
    let err = verifier.verify_jwt(&token(&c, "carol")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnknownKey);
    assert_eq!(issuer.hits(JWKS), 2);

    // After the cooldown, one refetch, which finds it.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(verifier.verify_jwt(&token(&c, "carol")).await.is_ok());
    assert_eq!(issuer.hits(JWKS), 3);

    // A kid nobody publishes: after the cooldown one fetch, then none.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let stranger = key("zz");
    for _ in 0..5 {
        let err = verifier
            .verify_jwt(&token(&stranger, "eve"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnknownKey);
    }
    assert_eq!(issuer.hits(JWKS), 4);
    assert_eq!(verifier.jwks().state().fetches, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unknown_kids_share_one_fetch() {
    let issuer = Issuer::start().await;
    let (a, b) = (key("a"), key("b"));
    issuer.serve_keys(&[&a]);
    let verifier = verifier(&issuer, Duration::from_millis(500)).await;
    // Multi-threaded: the background task's first fetch may or may not
    // have been separate from refresh(); count from here.
    let base = issuer.hits(JWKS);

    // `b` appears; the fetch is slow, so every caller arrives while it runs.
    issuer.serve_keys(&[&a, &b]);
    issuer.delay(Duration::from_millis(300));
    let b_token = Arc::new(token(&b, "bob"));
    let callers: Vec<_> = (0..32)
        .map(|_| {
            let (verifier, t) = (verifier.clone(), Arc::clone(&b_token));
            tokio::spawn(async move { verifier.verify_jwt(&t).await.map(|id| id.subject.clone()) })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap().unwrap(), "bob");
    }
    assert_eq!(issuer.hits(JWKS), base + 1, "32 callers, one fetch");

    // After the cooldown, 32 tokens with as many unknown kids: one fetch.
    issuer.delay(Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let callers: Vec<_> = (0..32)
        .map(|i| {
            let verifier = verifier.clone();
            let t = token(&key(&format!("unknown-{i}")), "eve");
            tokio::spawn(async move { verifier.verify_jwt(&t).await.map(|_| ()) })
        })
        .collect();
    for caller in callers {
        assert_eq!(
            caller.await.unwrap().unwrap_err().code(),
            ErrorCode::UnknownKey
        );
    }
    assert_eq!(issuer.hits(JWKS), base + 2, "32 unknown kids, one fetch");
}

#[tokio::test]
async fn a_newer_set_in_place_is_used_without_a_fetch() {
    let issuer = Issuer::start().await;
    let (a, b) = (key("a"), key("b"));
    issuer.serve_keys(&[&a]);
    let verifier = verifier(&issuer, Duration::from_secs(60)).await;
    let jwks = verifier.jwks().clone();
    let old = jwks.keys();
    issuer.serve_keys(&[&a, &b]);
    let new = jwks.refresh().await.unwrap();
    assert_eq!(issuer.hits(JWKS), 2);
    // A caller that failed with the old set gets the new one, no fetch.
    let got = jwks.refetch_for_unknown_kid(&old).await.unwrap();
    assert!(Arc::ptr_eq(&got, &new));
    assert!(verifier.verify_jwt(&token(&b, "bob")).await.is_ok());
    assert_eq!(issuer.hits(JWKS), 2);
}

#[tokio::test]
async fn issuers_never_share_keys_even_with_the_same_kid() {
    let (one, two) = (Issuer::start().await, Issuer::start().await);
    let (k1, k2) = (key("same"), key("same"));
    one.serve_keys(&[&k1]);
    two.serve_keys(&[&k2]);
    let v1 = verifier(&one, Duration::from_secs(60)).await;
    let v2 = verifier(&two, Duration::from_secs(60)).await;
    let t1 = token(&k1, "alice");
    assert!(v1.verify_jwt(&t1).await.is_ok());
    let err = v2.verify_jwt(&t1).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadSignature);
    assert_eq!(
        two.hits(JWKS),
        1,
        "a known kid with a wrong signature fetches nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_never_waits_for_a_background_fetch() {
    let issuer = Issuer::start().await;
    let a = key("a");
    issuer.serve_keys(&[&a]);
    let verifier = verifier(&issuer, Duration::from_secs(60)).await;
    let t = token(&a, "alice");
    let base = issuer.hits(JWKS);
    issuer.delay(Duration::from_secs(3));
    let jwks = verifier.jwks().clone();
    let slow = tokio::spawn(async move { jwks.refresh().await.map(|_| ()) });
    // Let the slow refresh reach the server.
    assert!(
        crate::harness::eventually(Duration::from_secs(2), || issuer.hits(JWKS) == base + 1).await
    );
    let start = Instant::now();
    for _ in 0..100 {
        verifier.verify_jwt(&t).await.unwrap();
    }
    // All answered while the fetch was still waiting for the issuer.
    assert!(
        !slow.is_finished(),
        "verification waited: {:?}",
        start.elapsed()
    );
    slow.abort();
}
