//! Issue 17, findings 1 and 10 at the session layer: credentials the
//! subject made (NWT, NIP-98, Portal JWT, SIWE message) stop at the subject's logout-all,
//! for verification and for login, on every instance; an NWT is revoked by
//! its event id; a refresh token has one live successor.

use super::*;

per_backend!(
    nwt_nip98_and_portal_stop_at_logout_all,
    revoking_an_nwt_refuses_it_until_it_expires,
    a_replaced_successor_is_reuse,
    siwe_message_signed_before_logout_all_cannot_log_in,
);

fn nwt_for(user: &NostrSecretKey, created_at: i64, iat: Option<i64>) -> String {
    let claims = NwtClaims {
        aud: vec![URL.into()],
        ttl: Some(600),
        iat,
        ..NwtClaims::default()
    };
    nwt_authorization(&issue_nwt(user, &claims, "", created_at).expect("nwt"))
}

async fn verify(r: &Rig, auth: &str) -> Result<(), String> {
    let url = format!("{URL}/v1/auth/me");
    r.sessions
        .verify_nostr_for(auth, &url, "GET", b"")
        .await
        .map(|_| ())
        .map_err(|e| e.code().to_string())
}

async fn nwt_nip98_and_portal_stop_at_logout_all(b: &Backend) {
    let r = rig(b).await;
    let user = NostrSecretKey::generate();
    let subject = user.public_key().to_hex();
    let t = r.clock.now();
    let before = nwt_for(&user, t - 30, None);
    // `iat` wins over `created_at` (formats.md §4).
    let dated_later = nwt_for(&user, t - 30, Some(t + 5));
    let portal_before =
        issue_portal(&user, &r.server_nostr.public_key(), t - 30, 3600).expect("portal");
    verify(&r, &before).await.expect("valid before logout-all");
    let pair = r.sessions.login_nostr(&before, b"").await.expect("login");

    r.sessions
        .logout_all(&pair.subject)
        .await
        .expect("logout-all");
    // Issued before, and in the same second as, the logout-all: refused
    // for verification and for login.
    let same_second = nwt_for(&user, t, None);
    for auth in [&before, &same_second] {
        assert_eq!(verify(&r, auth).await, Err("revoked".into()));
        let e = r.sessions.login_nostr(auth, b"").await.expect_err("login");
        assert_eq!(e.code(), "revoked");
    }
    let login_url = format!("{URL}/v1/auth/login");
    let nip98 = issue_nip98(&user, &login_url, "POST", None, t).expect("nip98");
    let e = r
        .sessions
        .login_nostr(&nip98_authorization(&nip98), b"")
        .await
        .expect_err("nip98 of the logout-all second");
    assert_eq!(e.code(), "revoked");
    let e = r
        .sessions
        .login_portal(&portal_before, &subject)
        .await
        .expect_err("portal issued before");
    assert_eq!(e.code(), "revoked");
    // An `iat` after the logout-all is honoured as the issue time.
    verify(&r, &dated_later)
        .await
        .expect("iat after the logout-all");

    // One second later, new credentials work again.
    r.clock.advance(1);
    let t = r.clock.now();
    let after = nwt_for(&user, t, None);
    verify(&r, &after).await.expect("issued after");
    r.sessions
        .login_nostr(&after, b"")
        .await
        .expect("login after");
    let portal_after = issue_portal(&user, &r.server_nostr.public_key(), t, 3600).expect("portal");
    r.sessions
        .login_portal(&portal_after, &subject)
        .await
        .expect("portal issued after");

    // Another subject is untouched.
    let other = NostrSecretKey::generate();
    verify(&r, &nwt_for(&other, t - 30, None))
        .await
        .expect("another subject");

    // A second instance on the same store refuses the old NWT too, from
    // its own picture (loaded from the store) or from the feed.
    let two = rig_on(
        match b.kind {
            // SQLite: one store per process; the same store object.
            Kind::Sqlite => Arc::clone(r.sessions.store()),
            _ => b.open().await,
        },
        Arc::clone(&r.clock),
        Arc::new(SigningKey::generate(Algorithm::ES256).expect("keygen")),
        NostrSecretKey::from_bytes(r.server_nostr.to_bytes()).expect("key"),
    );
    assert_eq!(verify(&two, &before).await, Err("revoked".into()));
    verify(&two, &after).await.expect("issued after, on two");
    // ...and learns of a later logout-all through the feed.
    r.clock.advance(1);
    let newest = nwt_for(&user, r.clock.now() - 1, None);
    verify(&two, &newest)
        .await
        .expect("before the second logout-all");
    r.sessions.logout_all(&subject).await.expect("logout-all");
    let start = Instant::now();
    while verify(&two, &newest).await.is_ok() {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "instance two still accepts the NWT after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(verify(&two, &newest).await, Err("revoked".into()));
}

async fn revoking_an_nwt_refuses_it_until_it_expires(b: &Backend) {
    let r = rig(b).await;
    let user = NostrSecretKey::generate();
    let t = r.clock.now();
    let auth = nwt_for(&user, t, None);
    let bare = auth.strip_prefix("Nostr ").expect("scheme").to_owned();
    verify(&r, &auth).await.expect("valid");
    assert_eq!(
        r.sessions.revoke(&bare, None).await.expect("revoke"),
        Revocation::NostrToken
    );
    assert_eq!(verify(&r, &auth).await, Err("revoked".into()));
    let e = r.sessions.login_nostr(&auth, b"").await.expect_err("login");
    assert_eq!(e.code(), "revoked");
    // Another NWT of the same subject is not affected.
    let other = nwt_for(&user, t + 1, None);
    verify(&r, &other).await.expect("another NWT");
    // With the scheme, and with the access-token hint, it works as well.
    assert_eq!(
        r.sessions
            .revoke(&other, Some("access_token"))
            .await
            .expect("revoke"),
        Revocation::NostrToken
    );
    assert_eq!(verify(&r, &other).await, Err("revoked".into()));
    // An NWT for another audience is nothing this server accepts or revokes.
    let claims = NwtClaims {
        aud: vec!["https://other.example".into()],
        ttl: Some(600),
        ..NwtClaims::default()
    };
    let foreign = nwt_authorization(&issue_nwt(&user, &claims, "", t).expect("nwt"));
    assert_eq!(
        r.sessions.revoke(&foreign, None).await.expect("revoke"),
        Revocation::Unknown
    );
    // The revocation is stored until the NWT's expiry (plus leeway), so a
    // picture reloaded from the store still refuses it.
    let store = Arc::clone(r.sessions.store());
    let id = format!(
        "nwt:{}",
        r.sessions
            .nostr_verifier()
            .verify_authorization(&auth, None, tessera_core::FormatHint::Nwt, false)
            .expect("signature")
            .id
            .clone()
            .expect("id")
    );
    assert!(store
        .is_jti_revoked(&id, t + 600 + 59)
        .await
        .expect("store"));
    assert!(!store
        .is_jti_revoked(&id, t + 600 + 60)
        .await
        .expect("store"));
}

async fn a_replaced_successor_is_reuse(b: &Backend) {
    let r = rig(b).await;
    let wallet = EthereumSecretKey::generate();
    let pair = siwe_login(&r, &wallet).await;
    let first = r.sessions.refresh(&pair.refresh_token).await.expect("r1");
    // The answer was lost: the same token again within the grace window.
    let second = r.sessions.refresh(&pair.refresh_token).await.expect("r2");
    // The first successor was replaced: presenting it ends the session.
    let e = r
        .sessions
        .refresh(&first.refresh_token)
        .await
        .expect_err("replaced successor");
    assert_eq!(e.detail(), Some("reuse_detected"));
    let e = r
        .sessions
        .refresh(&second.refresh_token)
        .await
        .expect_err("the family is revoked");
    assert_eq!(e.detail(), Some("revoked"));
    for t in [&pair, &first, &second] {
        let e = r
            .sessions
            .check_access(&t.access_token)
            .await
            .expect_err("session ended");
        assert_eq!(e.code(), "revoked");
    }
}

/// A SIWE message whose nonce is still alive, signed before the subject
/// logged out everywhere, no longer logs in: its `Issued At` is at or
/// before the logout-all instant. A fresh message a second later does.
async fn siwe_message_signed_before_logout_all_cannot_log_in(b: &Backend) {
    let r = rig(b).await;
    let wallet = EthereumSecretKey::generate();
    let address = wallet.address().to_checksum();
    let pair = siwe_login(&r, &wallet).await;
    let (old_message, old_sig) = signed_siwe(&r, &wallet, &address).await;
    r.sessions
        .logout_all(&pair.subject)
        .await
        .expect("logout-all");
    let e = r
        .sessions
        .login_siwe(&old_message, &old_sig)
        .await
        .expect_err("a message issued before the logout-all");
    assert_eq!(e.code(), "revoked");
    r.clock.advance(1);
    let (message, sig) = signed_siwe(&r, &wallet, &address).await;
    r.sessions
        .login_siwe(&message, &sig)
        .await
        .expect("a message issued after the logout-all");
}

/// A fresh challenge's message for `address`, signed by `wallet`.
async fn signed_siwe(r: &Rig, wallet: &EthereumSecretKey, address: &str) -> (String, String) {
    let ch = r
        .sessions
        .challenge(Some(address))
        .await
        .expect("challenge");
    let message = ch.message.expect("message");
    let sig_hex = siwe_signature(wallet, &message);
    (message, sig_hex)
}
