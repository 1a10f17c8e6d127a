//! Challenge nonces and the credential replay guard.

use tessera_testkit::store::{base, Backend};

pub(crate) async fn nonce_is_consumed_once(b: &Backend) {
    let s = b.open().await;
    let t = base();
    s.put_nonce("n1", t + 300).await.unwrap();
    assert!(s.consume_nonce("n1", t).await.unwrap(), "live nonce");
    assert!(
        !s.consume_nonce("n1", t).await.unwrap(),
        "second consumption"
    );
    assert!(!s.consume_nonce("never-stored", t).await.unwrap());

    // Expired at exactly expires_at, and deleted by the refused attempt.
    s.put_nonce("n2", t + 10).await.unwrap();
    assert!(
        !s.consume_nonce("n2", t + 10).await.unwrap(),
        "expired nonce"
    );
    assert!(
        !s.consume_nonce("n2", t).await.unwrap(),
        "refused nonce is gone"
    );

    // One second before expiry is still good.
    s.put_nonce("n3", t + 10).await.unwrap();
    assert!(s.consume_nonce("n3", t + 9).await.unwrap());

    // Storing again replaces the expiry.
    s.put_nonce("n4", t + 5).await.unwrap();
    s.put_nonce("n4", t + 50).await.unwrap();
    assert!(s.consume_nonce("n4", t + 20).await.unwrap());
}

pub(crate) async fn remember_once_refuses_replays(b: &Backend) {
    let s = b.open().await;
    let t = base();
    assert!(s.remember_once("ev1", t + 100, t).await.unwrap());
    assert!(!s.remember_once("ev1", t + 100, t + 1).await.unwrap());
    assert!(!s.remember_once("ev1", t + 500, t + 99).await.unwrap());
    assert!(
        s.remember_once("ev2", t + 100, t).await.unwrap(),
        "other id"
    );
    // Expired entries may be replaced, and the replacement holds.
    assert!(s.remember_once("ev1", t + 200, t + 100).await.unwrap());
    assert!(!s.remember_once("ev1", t + 300, t + 150).await.unwrap());
    // A second instance sees the same state.
    let s2 = b.open().await;
    assert!(!s2.remember_once("ev2", t + 100, t + 50).await.unwrap());
}
