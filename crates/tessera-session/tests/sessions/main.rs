//! Sessions over every store backend: SIWE, Nostr and Portal logins,
//! refresh with rotation, grace and reuse detection, logout, logout-all,
//! RFC 7009 revocation, the per-request check, cross-instance revocation
//! and failing closed.
//!
//! SQLite always runs; PostgreSQL and Redis come from
//! `TESSERA_TEST_POSTGRES_URL` / `TESSERA_TEST_REDIS_URL` (skipped loudly
//! when unset, failing when `CI` is set).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_core::ethereum::{eip191, EthereumSecretKey};
use tessera_core::keys::KeySet;
use tessera_core::nostr::{
    issue_nip98, issue_nwt, issue_portal, nip98_authorization, nwt_authorization, NostrSecretKey,
    NwtClaims,
};
use tessera_core::{Algorithm, Clock, SigningKey};
use tessera_session::{Revocation, SessionConfig, SessionErrorKind, Sessions};
use tessera_store::{
    Invalidation, NewRefreshToken, RefreshFamily, RevocationSnapshot, RotateOutcome, Store,
    StoreError, StoreErrorKind,
};
use tessera_testkit::store::{base, Backend, Kind};

const URL: &str = "http://127.0.0.1:8787";

struct TestClock(AtomicI64);
impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
impl TestClock {
    fn advance(&self, s: i64) {
        self.0.fetch_add(s, Ordering::SeqCst);
    }
}

fn config() -> SessionConfig {
    SessionConfig {
        issuer: URL.into(),
        audience: URL.into(),
        siwe_domain: "127.0.0.1:8787".into(),
        siwe_uri: URL.into(),
        chain_id: 1,
        siwe_chain_ids: Vec::new(),
        login_url: format!("{URL}/v1/auth/login"),
        nwt_audiences: vec![URL.into(), "127.0.0.1:8787".into()],
        access_ttl: 900,
        refresh_ttl: 30 * 86400,
        grace: 10,
        leeway: 60,
        nonce_ttl: 300,
        verify_cache: Default::default(),
    }
}

struct Rig {
    sessions: Sessions,
    clock: Arc<TestClock>,
    server_nostr: NostrSecretKey,
}

fn rig_on(
    store: Arc<dyn Store>,
    clock: Arc<TestClock>,
    signer: Arc<SigningKey>,
    server: NostrSecretKey,
) -> Rig {
    let mut keys = KeySet::new();
    keys.push(signer.verifying_key().expect("public key"))
        .expect("push");
    let sessions = Sessions::with_clock(
        config(),
        store,
        signer,
        keys,
        server.public_key(),
        Arc::clone(&clock) as Arc<dyn Clock>,
    );
    Rig {
        sessions,
        clock,
        server_nostr: server,
    }
}

async fn rig(backend: &Backend) -> Rig {
    let signer = Arc::new(SigningKey::generate(Algorithm::ES256).expect("keygen"));
    rig_on(
        backend.open().await,
        Arc::new(TestClock(AtomicI64::new(base()))),
        signer,
        NostrSecretKey::generate(),
    )
}

async fn siwe_login(r: &Rig, wallet: &EthereumSecretKey) -> tessera_session::TokenPair {
    let address = wallet.address().to_checksum();
    let ch = r
        .sessions
        .challenge(Some(&address))
        .await
        .expect("challenge");
    let message = ch.message.expect("message");
    let sig = eip191::sign(wallet, message.as_bytes());
    let sig_hex = format!("0x{}", tessera_core::encoding::hex_encode(&sig));
    r.sessions
        .login_siwe(&message, &sig_hex)
        .await
        .expect("siwe login")
}

macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { if let Some(b) = super::Backend::new(super::Kind::Sqlite) { super::$name(&b).await } } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { if let Some(b) = super::Backend::new(super::Kind::Postgres) { super::$name(&b).await } } )* }
        mod redis { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { if let Some(b) = super::Backend::new(super::Kind::Redis) { super::$name(&b).await } } )* }
    };
}

mod revocation_rules;

per_backend!(
    siwe_login_then_check_refresh_and_reuse,
    siwe_nonce_is_single_use_and_not_burned_by_forgeries,
    siwe_wrong_domain_and_unknown_nonce,
    nostr_logins_nip98_and_nwt_once_each,
    portal_login_for_the_server_key_only,
    logout_ends_the_session,
    logout_all_ends_every_session_of_the_subject,
    rfc7009_revocation_of_either_token,
    concurrent_refreshes_have_one_winner,
);

async fn siwe_login_then_check_refresh_and_reuse(b: &Backend) {
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
    assert_eq!((e.code(), e.detail()), ("invalid_grant", Some("not_found")));
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
    assert!(matches!(e.code(), "unknown_key" | "bad_signature"), "{e}");
}

async fn siwe_nonce_is_single_use_and_not_burned_by_forgeries(b: &Backend) {
    let r = rig(b).await;
    let wallet = EthereumSecretKey::generate();
    let address = wallet.address().to_checksum();
    let ch = r
        .sessions
        .challenge(Some(&address))
        .await
        .expect("challenge");
    let message = ch.message.expect("message");
    // A signature by another key: bad_signature, and the nonce survives.
    let forged = eip191::sign(&EthereumSecretKey::generate(), message.as_bytes());
    let forged_hex = format!("0x{}", tessera_core::encoding::hex_encode(&forged));
    let e = r
        .sessions
        .login_siwe(&message, &forged_hex)
        .await
        .expect_err("forged");
    assert_eq!(e.code(), "bad_signature");
    assert_eq!(e.kind(), SessionErrorKind::Unauthorized);

    let sig = eip191::sign(&wallet, message.as_bytes());
    let sig_hex = format!("0x{}", tessera_core::encoding::hex_encode(&sig));
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
    let sig = eip191::sign(&wallet, message.as_bytes());
    let sig_hex = format!("0x{}", tessera_core::encoding::hex_encode(&sig));
    r.clock.advance(301 + 5);
    let e = r
        .sessions
        .login_siwe(&message, &sig_hex)
        .await
        .expect_err("expired");
    assert_eq!(e.code(), "expired");
}

async fn siwe_wrong_domain_and_unknown_nonce(b: &Backend) {
    let r = rig(b).await;
    let wallet = EthereumSecretKey::generate();
    let address = wallet.address().to_checksum();
    let ch = r
        .sessions
        .challenge(Some(&address))
        .await
        .expect("challenge");
    let message = ch.message.expect("message");
    let evil = message.replacen("127.0.0.1:8787 wants", "evil.example wants", 1);
    assert_ne!(evil, message);
    let sig = eip191::sign(&wallet, evil.as_bytes());
    let e = r
        .sessions
        .login_siwe(
            &evil,
            &format!("0x{}", tessera_core::encoding::hex_encode(&sig)),
        )
        .await
        .expect_err("domain");
    assert_eq!(e.code(), "domain_mismatch");

    // A well-formed message whose nonce this server never issued.
    let unknown = message.replace(&format!("Nonce: {}", ch.nonce), "Nonce: abcdefgh12345678");
    let sig = eip191::sign(&wallet, unknown.as_bytes());
    let e = r
        .sessions
        .login_siwe(
            &unknown,
            &format!("0x{}", tessera_core::encoding::hex_encode(&sig)),
        )
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

async fn nostr_logins_nip98_and_nwt_once_each(b: &Backend) {
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

async fn portal_login_for_the_server_key_only(b: &Backend) {
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

async fn logout_ends_the_session(b: &Backend) {
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

async fn logout_all_ends_every_session_of_the_subject(b: &Backend) {
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

async fn rfc7009_revocation_of_either_token(b: &Backend) {
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

async fn concurrent_refreshes_have_one_winner(b: &Backend) {
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

/// Two instances (two pools, two `Sessions`) on one shared store: a
/// revocation on one takes effect on the other within 1 s. SQLite is the
/// single-instance embedded default (its feed is in-process only), so this
/// runs on PostgreSQL and Redis.
async fn cross_instance(kind: Kind) {
    let Some(b) = Backend::new(kind) else { return };
    let signer = Arc::new(SigningKey::generate(Algorithm::ES256).expect("keygen"));
    let server = NostrSecretKey::generate();
    let clock = Arc::new(TestClock(AtomicI64::new(base())));
    let one = rig_on(
        b.open().await,
        Arc::clone(&clock),
        Arc::clone(&signer),
        NostrSecretKey::from_bytes(server.to_bytes()).expect("key"),
    );
    let two = rig_on(b.open().await, Arc::clone(&clock), signer, server);
    let wallet = EthereumSecretKey::generate();
    for what in ["jti", "session", "subject"] {
        let pair = siwe_login(&one, &wallet).await;
        // Instance two has checked it (its picture is loaded and fresh).
        two.sessions
            .check_access(&pair.access_token)
            .await
            .expect("valid on two");
        let start = Instant::now();
        match what {
            "jti" => assert_eq!(
                one.sessions
                    .revoke(&pair.access_token, None)
                    .await
                    .expect("r"),
                Revocation::AccessToken
            ),
            "session" => one
                .sessions
                .logout_access(&pair.access_token)
                .await
                .expect("logout"),
            _ => {
                one.sessions
                    .logout_all(&pair.subject)
                    .await
                    .expect("logout-all");
            }
        }
        let took = loop {
            match two.sessions.check_access(&pair.access_token).await {
                Err(e) if e.code() == "revoked" => break start.elapsed(),
                Ok(_) if start.elapsed() < Duration::from_secs(3) => {
                    tokio::time::sleep(Duration::from_millis(5)).await
                }
                other => panic!(
                    "{what}: instance two still answers {other:?} after {:?}",
                    start.elapsed()
                ),
            }
        };
        eprintln!("{kind:?}: {what} revocation seen by the other instance after {took:?}");
        assert!(took < Duration::from_secs(1), "{what}: {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_instance_revocation_within_one_second_postgres() {
    cross_instance(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_instance_revocation_within_one_second_redis() {
    cross_instance(Kind::Redis).await;
}

/// A store that can be switched off: every call fails as `Unavailable` and
/// the feed reports `Resync`, as a real backend does when it goes away.
struct Switchable {
    inner: Arc<dyn Store>,
    down: AtomicBool,
    /// While down, the revocation snapshot fails only after this many
    /// milliseconds (a store that times out instead of refusing at once).
    slow_ms: AtomicI64,
    calls: AtomicI64,
    tx: tokio::sync::broadcast::Sender<Invalidation>,
}

impl Switchable {
    fn new(inner: Arc<dyn Store>) -> Arc<Self> {
        let (tx, _) = tokio::sync::broadcast::channel(1024);
        let mut rx = inner.subscribe();
        let fwd = tx.clone();
        tokio::spawn(async move {
            while let Ok(ev) = rx.recv().await {
                let _ = fwd.send(ev);
            }
        });
        Arc::new(Switchable {
            inner,
            down: AtomicBool::new(false),
            slow_ms: AtomicI64::new(0),
            calls: AtomicI64::new(0),
            tx,
        })
    }
    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        let _ = self.tx.send(Invalidation::Resync);
    }
    fn gate(&self) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new(StoreErrorKind::Unavailable, "switched off"))
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl Store for Switchable {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn put_nonce(&self, n: &str, e: i64) -> Result<(), StoreError> {
        self.gate()?;
        self.inner.put_nonce(n, e).await
    }
    async fn consume_nonce(&self, n: &str, now: i64) -> Result<bool, StoreError> {
        self.gate()?;
        self.inner.consume_nonce(n, now).await
    }
    async fn remember_once(&self, id: &str, e: i64, now: i64) -> Result<bool, StoreError> {
        self.gate()?;
        self.inner.remember_once(id, e, now).await
    }
    async fn create_family(
        &self,
        f: &RefreshFamily,
        t: &NewRefreshToken,
    ) -> Result<(), StoreError> {
        self.gate()?;
        self.inner.create_family(f, t).await
    }
    async fn rotate_refresh(
        &self,
        h: &[u8; 32],
        s: &NewRefreshToken,
        now: i64,
        g: i64,
    ) -> Result<RotateOutcome, StoreError> {
        self.gate()?;
        self.inner.rotate_refresh(h, s, now, g).await
    }
    async fn family(&self, id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        self.gate()?;
        self.inner.family(id).await
    }
    async fn family_of_token(&self, h: &[u8; 32]) -> Result<Option<RefreshFamily>, StoreError> {
        self.gate()?;
        self.inner.family_of_token(h).await
    }
    async fn revoke_family(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        self.gate()?;
        self.inner.revoke_family(id, now).await
    }
    async fn revoke_subject_families(&self, s: &str, now: i64) -> Result<u64, StoreError> {
        self.gate()?;
        self.inner.revoke_subject_families(s, now).await
    }
    async fn revoke_jti(&self, j: &str, e: i64) -> Result<(), StoreError> {
        self.gate()?;
        self.inner.revoke_jti(j, e).await
    }
    async fn is_jti_revoked(&self, j: &str, now: i64) -> Result<bool, StoreError> {
        self.gate()?;
        self.inner.is_jti_revoked(j, now).await
    }
    async fn token_version(&self, s: &str) -> Result<u64, StoreError> {
        self.gate()?;
        self.inner.token_version(s).await
    }
    async fn bump_token_version(&self, s: &str, now: i64) -> Result<u64, StoreError> {
        self.gate()?;
        self.inner.bump_token_version(s, now).await
    }
    async fn revocation_snapshot(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<RevocationSnapshot, StoreError> {
        let slow = self.slow_ms.load(Ordering::SeqCst);
        if slow > 0 && self.down.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(slow as u64)).await;
        }
        self.gate()?;
        self.inner.revocation_snapshot(now, limit).await
    }
    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        self.gate()?;
        self.inner.purge_expired(now).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.gate()?;
        self.inner.ping().await
    }
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Invalidation> {
        self.tx.subscribe()
    }
}

/// The per-request check costs no store round trip while the feed is up,
/// fails closed (never "allow") while the store is away, and recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_is_free_when_warm_and_fails_closed_when_the_store_is_away() {
    let b = Backend::new(Kind::Sqlite).expect("sqlite");
    let store = Switchable::new(b.open().await);
    let signer = Arc::new(SigningKey::generate(Algorithm::EdDSA).expect("keygen"));
    let clock = Arc::new(TestClock(AtomicI64::new(base())));
    let r = rig_on(store.clone(), clock, signer, NostrSecretKey::generate());
    let wallet = EthereumSecretKey::generate();
    let pair = siwe_login(&r, &wallet).await;
    r.sessions
        .check_access(&pair.access_token)
        .await
        .expect("first check loads the picture");
    let before = store.calls.load(Ordering::SeqCst);
    for _ in 0..100 {
        r.sessions
            .check_access(&pair.access_token)
            .await
            .expect("warm check");
    }
    assert_eq!(
        store.calls.load(Ordering::SeqCst),
        before,
        "warm checks make no store call"
    );

    store.set_down(true);
    // Let the feed deliver the Resync.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let e = r
        .sessions
        .check_access(&pair.access_token)
        .await
        .expect_err("fail closed");
    assert_eq!(e.kind(), SessionErrorKind::Unavailable);
    assert_eq!(e.code(), "unavailable");
    for e in [
        r.sessions
            .refresh(&pair.refresh_token)
            .await
            .expect_err("refresh"),
        r.sessions.challenge(None).await.expect_err("challenge"),
        r.sessions
            .logout_access(&pair.access_token)
            .await
            .expect_err("logout"),
    ] {
        assert_eq!(e.kind(), SessionErrorKind::Unavailable, "{e}");
    }

    store.set_down(false);
    tokio::time::sleep(Duration::from_millis(50)).await;
    r.sessions
        .check_access(&pair.access_token)
        .await
        .expect("recovered");
    let next = r
        .sessions
        .refresh(&pair.refresh_token)
        .await
        .expect("refresh after");
    r.sessions
        .logout_access(&next.access_token)
        .await
        .expect("logout after");
    assert_eq!(
        r.sessions
            .check_access(&next.access_token)
            .await
            .expect_err("x")
            .code(),
        "revoked"
    );
}

/// With the store timing out, concurrent checks do not queue up behind one
/// another's reload attempts: the n-th would otherwise answer after n
/// timeouts (found by crates/tessera-cli/tests/faults.rs on PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_checks_fail_closed_within_one_store_timeout() {
    let b = Backend::new(Kind::Sqlite).expect("sqlite");
    let store = Switchable::new(b.open().await);
    let signer = Arc::new(SigningKey::generate(Algorithm::EdDSA).expect("keygen"));
    let clock = Arc::new(TestClock(AtomicI64::new(base())));
    let r = Arc::new(rig_on(
        store.clone(),
        clock,
        signer,
        NostrSecretKey::generate(),
    ));
    let pair = siwe_login(&r, &EthereumSecretKey::generate()).await;
    r.sessions
        .check_access(&pair.access_token)
        .await
        .expect("warm");
    store.slow_ms.store(300, Ordering::SeqCst);
    store.set_down(true);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let start = Instant::now();
    let checks: Vec<_> = (0..10)
        .map(|_| {
            let (r, token) = (Arc::clone(&r), pair.access_token.clone());
            tokio::spawn(async move { r.sessions.check_access(&token).await.map(|_| ()) })
        })
        .collect();
    for check in checks {
        let e = check.await.expect("task").expect_err("fail closed");
        assert_eq!(e.kind(), SessionErrorKind::Unavailable, "{e}");
    }
    // One timeout for the reload in flight, at most one more for a check
    // that arrived after it; never ten.
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "10 concurrent checks took {:?} with a 300 ms store timeout",
        start.elapsed()
    );
}
