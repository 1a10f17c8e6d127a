//! Concurrent refreshes of one token: one rotation wins.

use super::*;

pub(super) async fn concurrent_refreshes_have_one_winner(b: &Backend) {
    let r = Arc::new(rig(b).await);
    let wallet = EthereumSecretKey::generate();
    let pair = siwe_login(&r, &wallet).await;
    // Grace 10 s: all 20 concurrent presentations get a pair (one rotation,
    // 19 reissues); the store must still rotate exactly once.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let r = Arc::clone(&r);
        let t = pair.refresh_token.clone();
        tasks.push(tokio::spawn(async move { r.sessions.refresh(&t).await }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.expect("join").is_ok() {
            ok += 1;
        }
    }
    assert_eq!(
        ok, 20,
        "inside the grace window every presentation is served"
    );
    r.clock.advance(11);
    let e = r
        .sessions
        .refresh(&pair.refresh_token)
        .await
        .expect_err("reuse");
    assert_eq!(e.detail(), Some("reuse_detected"));
}
