//! Logout, logout-all and RFC 7009 revocation.

use super::*;

pub(super) async fn logout_ends_the_session(b: &Backend) {
    let r = rig(b).await;
    let wallet = EthereumSecretKey::generate();
    let a = siwe_login(&r, &wallet).await;
    let other = siwe_login(&r, &wallet).await;
    r.sessions
        .logout_access(&a.access_token)
        .await
        .expect("logout");
    let e = r
        .sessions
        .check_access(&a.access_token)
        .await
        .expect_err("logged out");
    assert_eq!(e.code(), "revoked");
    let e = r
        .sessions
        .refresh(&a.refresh_token)
        .await
        .expect_err("family gone");
    assert_eq!(e.detail(), Some("revoked"));
    // The other session of the same subject is untouched.
    r.sessions
        .check_access(&other.access_token)
        .await
        .expect("other session");
    // Logout by refresh token.
    assert!(r
        .sessions
        .logout_refresh(&other.refresh_token)
        .await
        .expect("logout"));
    let e = r
        .sessions
        .check_access(&other.access_token)
        .await
        .expect_err("ended");
    assert_eq!(e.code(), "revoked");
    assert!(!r.sessions.logout_refresh("unknown").await.expect("unknown"));
}

pub(super) async fn logout_all_ends_every_session_of_the_subject(b: &Backend) {
    let r = rig(b).await;
    let wallet = EthereumSecretKey::generate();
    let bystander = EthereumSecretKey::generate();
    let a = siwe_login(&r, &wallet).await;
    let c = siwe_login(&r, &wallet).await;
    let z = siwe_login(&r, &bystander).await;
    let ended = r.sessions.logout_all(&a.subject).await.expect("logout-all");
    assert_eq!(ended, 2);
    for t in [&a, &c] {
        assert_eq!(
            r.sessions
                .check_access(&t.access_token)
                .await
                .expect_err("x")
                .code(),
            "revoked"
        );
        assert_eq!(
            r.sessions
                .refresh(&t.refresh_token)
                .await
                .expect_err("x")
                .code(),
            "invalid_grant"
        );
    }
    r.sessions
        .check_access(&z.access_token)
        .await
        .expect("bystander");
    // Logging in again afterwards works (from the next second: a SIWE
    // message issued in the logout-all's second is refused like the
    // credentials made before it), with the new token version: the
    // logout-all instant.
    r.clock.advance(1);
    let n = siwe_login(&r, &wallet).await;
    let id = r
        .sessions
        .check_access(&n.access_token)
        .await
        .expect("new login");
    assert_eq!(
        id.claims
            .get("ver")
            .and_then(|v| v.as_number())
            .and_then(|n| n.as_exact_i64()),
        Some(r.clock.now() - 1)
    );
    let again = r
        .sessions
        .refresh(&n.refresh_token)
        .await
        .expect("refresh after");
    r.sessions
        .check_access(&again.access_token)
        .await
        .expect("refreshed");
}

pub(super) async fn rfc7009_revocation_of_either_token(b: &Backend) {
    let r = rig(b).await;
    let wallet = EthereumSecretKey::generate();
    let a = siwe_login(&r, &wallet).await;
    assert_eq!(
        r.sessions
            .revoke(&a.access_token, None)
            .await
            .expect("revoke"),
        Revocation::AccessToken
    );
    assert_eq!(
        r.sessions
            .check_access(&a.access_token)
            .await
            .expect_err("x")
            .code(),
        "revoked"
    );
    // Only that access token: the session still refreshes.
    let b2 = r
        .sessions
        .refresh(&a.refresh_token)
        .await
        .expect("session lives");
    assert_eq!(
        r.sessions
            .revoke(&b2.refresh_token, Some("refresh_token"))
            .await
            .expect("revoke"),
        Revocation::RefreshToken
    );
    assert_eq!(
        r.sessions
            .check_access(&b2.access_token)
            .await
            .expect_err("x")
            .code(),
        "revoked"
    );
    assert_eq!(
        r.sessions.revoke("garbage", None).await.expect("unknown"),
        Revocation::Unknown
    );
    assert_eq!(
        r.sessions
            .revoke("a.b.c", Some("access_token"))
            .await
            .expect("unknown"),
        Revocation::Unknown
    );
    assert!(r
        .sessions
        .introspect(&b2.access_token)
        .await
        .expect("introspect")
        .is_none());
    let live = siwe_login(&r, &wallet).await;
    let id = r
        .sessions
        .introspect(&live.access_token)
        .await
        .expect("introspect")
        .expect("active");
    assert_eq!(id.subject, live.subject);
}
