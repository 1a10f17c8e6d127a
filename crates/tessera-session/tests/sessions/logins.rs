//! Logins: SIWE (single-use nonce, domain), NIP-98 and NWT (once each),
//! Portal (for the server key only); the per-request check and refresh
//! with reuse detection after a SIWE login.

use super::*;

pub(super) async fn siwe_login_then_check_refresh_and_reuse(b: &Backend) {
    let r = rig(b).await;
    let wallet = EthereumSecretKey::generate();
    let pair = siwe_login(&r, &wallet).await;
    assert_eq!(pair.subject, wallet.address().to_checksum());
    assert_eq!(pair.expires_in, 900);
    assert_eq!(pair.refresh_expires_in, 30 * 86400);
    assert!(pair.refresh_token.len() >= 43, "256-bit refresh token");

    let id = r
        .sessions
        .check_access(&pair.access_token)
        .await
        .expect("check");
    assert_eq!(id.subject, pair.subject);
    assert_eq!(
        id.claims.get("sid").and_then(|v| v.as_str()),
        Some(pair.session_id.as_str())
    );

    // Rotation: a new pair, same session; the old access token still works.
    r.clock.advance(1);
    let second = r
        .sessions
        .refresh(&pair.refresh_token)
        .await
        .expect("refresh");
    assert_eq!(second.session_id, pair.session_id);
    assert_ne!(second.refresh_token, pair.refresh_token);
    r.sessions
        .check_access(&second.access_token)
        .await
        .expect("new access");

    // Within the grace window the spent token gets a new pair (lost response).
    r.clock.advance(5);
    let again = r
        .sessions
        .refresh(&pair.refresh_token)
        .await
        .expect("grace reissue");
    assert_eq!(again.session_id, pair.session_id);

    // After the grace window: reuse detected, the whole family revoked.
    r.clock.advance(10);
    let err = r
        .sessions
        .refresh(&pair.refresh_token)
        .await
        .expect_err("reuse");
    assert_eq!(err.code(), "invalid_grant");
    assert_eq!(err.detail(), Some("reuse_detected"));
    for token in [
        &second.access_token,
        &again.access_token,
        &pair.access_token,
    ] {
        let e = r
            .sessions
            .check_access(token)
            .await
            .expect_err("family revoked");
        assert_eq!(e.code(), "revoked", "{e}");
    }
    let e = r
        .sessions
        .refresh(&second.refresh_token)
        .await
        .expect_err("dead family");
    assert_eq!(e.detail(), Some("revoked"));

    // Garbage and unknown refresh tokens.
    let e = r.sessions.refresh("nope").await.expect_err("unknown");
    assert_eq!(
        (e.code().as_str(), e.detail()),
        ("invalid_grant", Some("not_found"))
    );
    let e = r.sessions.refresh("").await.expect_err("empty");
    assert_eq!(e.code(), "invalid_grant");

    // An access token past its exp (and the leeway) is expired.
    let fresh = siwe_login(&r, &wallet).await;
    r.clock.advance(900 + 61);
    let e = r
        .sessions
        .check_access(&fresh.access_token)
        .await
        .expect_err("expired");
    assert_eq!(e.code(), "expired");
    // A token from another signer is refused.
    let other = rig(b).await;
    let foreign = siwe_login(&other, &wallet).await;
    let e = r
        .sessions
        .check_access(&foreign.access_token)
        .await
        .expect_err("foreign");
    assert!(
        matches!(e.code().as_str(), "unknown_key" | "bad_signature"),
        "{e}"
    );
}

pub(super) async fn siwe_nonce_is_single_use_and_not_burned_by_forgeries(b: &Backend) {
    let r = rig(b).await;
    let wallet = EthereumSecretKey::generate();
    let address = wallet.address().to_checksum();
    let message = siwe_message(&r, &wallet).await;
    // A signature by another key: bad_signature, and the nonce survives.
    let forged_hex = siwe_signature(&EthereumSecretKey::generate(), &message);
    let e = r
        .sessions
        .login_siwe(&message, &forged_hex)
        .await
        .expect_err("forged");
    assert_eq!(e.code(), "bad_signature");
    assert_eq!(e.kind(), SessionErrorKind::Unauthorized);

    let sig_hex = siwe_signature(&wallet, &message);
    r.sessions
        .login_siwe(&message, &sig_hex)
        .await
        .expect("first use");
    let e = r
        .sessions
        .login_siwe(&message, &sig_hex)
        .await
        .expect_err("second use");
    assert_eq!(e.code(), "nonce_mismatch");

    // An expired challenge: the message's Expiration Time has passed.
    let ch = r
        .sessions
        .challenge(Some(&address))
        .await
        .expect("challenge");
    let message = ch.message.expect("message");
    let sig_hex = siwe_signature(&wallet, &message);
    r.clock.advance(301 + 5);
    let e = r
        .sessions
        .login_siwe(&message, &sig_hex)
        .await
        .expect_err("expired");
    assert_eq!(e.code(), "expired");
}

pub(super) async fn siwe_wrong_domain_and_unknown_nonce(b: &Backend) {
    let r = rig(b).await;
    let wallet = EthereumSecretKey::generate();
    let ch = siwe_challenge(&r, &wallet).await;
    let message = ch.message.expect("message");
    let evil = message.replacen("127.0.0.1:8787 wants", "evil.example wants", 1);
    assert_ne!(evil, message);
    let sig = siwe_signature(&wallet, &evil);
    let e = r
        .sessions
        .login_siwe(&evil, &sig)
        .await
        .expect_err("domain");
    assert_eq!(e.code(), "domain_mismatch");

    // A well-formed message whose nonce this server never issued.
    let unknown = message.replace(&format!("Nonce: {}", ch.nonce), "Nonce: abcdefgh12345678");
    let sig = siwe_signature(&wallet, &unknown);
    let e = r
        .sessions
        .login_siwe(&unknown, &sig)
        .await
        .expect_err("nonce");
    assert_eq!(e.code(), "nonce_mismatch");

    let e = r
        .sessions
        .login_siwe("not a siwe message", "0x00")
        .await
        .expect_err("garbage");
    assert_eq!(e.code(), "malformed");
    let e = r
        .sessions
        .challenge(Some("0x1234"))
        .await
        .expect_err("bad address");
    assert_eq!(e.kind(), SessionErrorKind::BadRequest);
    let plain = r.sessions.challenge(None).await.expect("bare nonce");
    assert!(plain.message.is_none());
    assert_eq!(plain.expires_at, r.clock.now() + 300);
}

pub(super) async fn nostr_logins_nip98_and_nwt_once_each(b: &Backend) {
    let r = rig(b).await;
    let user = NostrSecretKey::generate();
    let now = r.clock.now();
    let login_url = format!("{URL}/v1/auth/login");
    let body = b"{}";
    let event = issue_nip98(&user, &login_url, "POST", Some(body), now).expect("nip98");
    let auth = nip98_authorization(&event);
    let pair = r
        .sessions
        .login_nostr(&auth, body)
        .await
        .expect("nip98 login");
    assert_eq!(pair.subject, user.public_key().to_hex());
    assert_eq!(pair.method, "nostr");
    let e = r
        .sessions
        .login_nostr(&auth, body)
        .await
        .expect_err("replay");
    assert_eq!(e.code(), "replayed");

    let wrong = issue_nip98(&user, &format!("{URL}/v1/other"), "POST", None, now).expect("nip98");
    let e = r
        .sessions
        .login_nostr(&nip98_authorization(&wrong), b"")
        .await
        .expect_err("url");
    assert_eq!(e.code(), "url_mismatch");
    let get = issue_nip98(&user, &login_url, "GET", None, now).expect("nip98");
    let e = r
        .sessions
        .login_nostr(&nip98_authorization(&get), b"")
        .await
        .expect_err("method");
    assert_eq!(e.code(), "method_mismatch");
    let stale = issue_nip98(&user, &login_url, "POST", None, now - 600).expect("nip98");
    let e = r
        .sessions
        .login_nostr(&nip98_authorization(&stale), b"")
        .await
        .expect_err("stale");
    assert_eq!(e.code(), "stale");
    let hashed = issue_nip98(&user, &login_url, "POST", Some(b"{\"a\":1}"), now).expect("nip98");
    let e = r
        .sessions
        .login_nostr(&nip98_authorization(&hashed), b"{}")
        .await
        .expect_err("payload");
    assert_eq!(e.code(), "payload_mismatch");

    let claims = NwtClaims {
        aud: vec!["127.0.0.1:8787".into()],
        ttl: Some(300),
        ..NwtClaims::default()
    };
    let nwt = issue_nwt(&user, &claims, "", now).expect("nwt");
    let auth = nwt_authorization(&nwt);
    let pair = r.sessions.login_nostr(&auth, b"").await.expect("nwt login");
    assert_eq!(pair.subject, user.public_key().to_hex());
    let e = r
        .sessions
        .login_nostr(&auth, b"")
        .await
        .expect_err("nwt replay");
    assert_eq!(e.code(), "replayed");
    // The NWT was verified once and then answered from the Nostr verifier's
    // cache (the replay guard still refused it); NIP-98 events are never
    // cached. A cached NWT still expires on time.
    let cached = || r.sessions.nostr_verifier().cache().map(|c| c.len());
    assert_eq!(cached(), Some(1));
    r.sessions
        .verify_nostr_for(&auth, &login_url, "POST", b"")
        .await
        .expect("a valid NWT verifies again");
    r.clock.0.store(now + 300 + 61, Ordering::SeqCst);
    let e = r
        .sessions
        .verify_nostr_for(&auth, &login_url, "POST", b"")
        .await
        .expect_err("expired");
    assert_eq!(e.code(), "expired");
    r.clock.0.store(now, Ordering::SeqCst);
    let elsewhere = NwtClaims {
        aud: vec!["https://other.example".into()],
        ttl: Some(300),
        ..NwtClaims::default()
    };
    let nwt = issue_nwt(&user, &elsewhere, "", now).expect("nwt");
    let e = r
        .sessions
        .login_nostr(&nwt_authorization(&nwt), b"")
        .await
        .expect_err("aud");
    assert_eq!(e.code(), "audience_mismatch");
    let e = r
        .sessions
        .login_nostr("Bearer abc.def.ghi", b"")
        .await
        .expect_err("scheme");
    assert_eq!(e.kind(), SessionErrorKind::Unauthorized);
}

pub(super) async fn portal_login_for_the_server_key_only(b: &Backend) {
    let r = rig(b).await;
    let user = NostrSecretKey::generate();
    let now = r.clock.now();
    let token = issue_portal(&user, &r.server_nostr.public_key(), now, 3600).expect("portal");
    let pk = user.public_key().to_npub();
    let pair = r
        .sessions
        .login_portal(&token, &pk)
        .await
        .expect("portal login");
    assert_eq!(pair.subject, user.public_key().to_hex());
    assert_eq!(pair.method, "portal");
    let e = r
        .sessions
        .login_portal(&token, &pk)
        .await
        .expect_err("replay");
    assert_eq!(e.code(), "replayed");

    let other_target = NostrSecretKey::generate().public_key();
    let token = issue_portal(&user, &other_target, now, 3600).expect("portal");
    let e = r
        .sessions
        .login_portal(&token, &pk)
        .await
        .expect_err("target");
    assert_eq!(e.code(), "audience_mismatch");
    let token = issue_portal(&user, &r.server_nostr.public_key(), now, 3600).expect("portal");
    let someone = NostrSecretKey::generate().public_key().to_hex();
    let e = r
        .sessions
        .login_portal(&token, &someone)
        .await
        .expect_err("signer");
    assert_eq!(e.code(), "bad_signature");
    let old = issue_portal(&user, &r.server_nostr.public_key(), now - 7200, 3600).expect("portal");
    let e = r
        .sessions
        .login_portal(&old, &pk)
        .await
        .expect_err("expired");
    assert_eq!(e.code(), "expired");
    let e = r
        .sessions
        .login_portal(&old, "zz")
        .await
        .expect_err("bad pubkey");
    assert_eq!(e.kind(), SessionErrorKind::BadRequest);
}
