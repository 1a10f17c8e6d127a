//! Sessions over every store backend: SIWE, Nostr and Portal logins,
//! refresh with rotation, grace and reuse detection, logout, logout-all,
//! RFC 7009 revocation, the per-request check, cross-instance revocation
//! and failing closed. One file per part; the rig (a `Sessions` on a
//! test clock over one store namespace) is here.
//!
//! SQLite always runs; PostgreSQL and Redis come from
//! `TESSERA_TEST_POSTGRES_URL` / `TESSERA_TEST_REDIS_URL` (skipped loudly
//! when unset, failing when `CI` is set).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_core::internal::ethereum::EthereumSecretKey;
use tessera_core::internal::nostr::{
    issue_nip98, issue_nwt, issue_portal, nip98_authorization, nwt_authorization, NostrSecretKey,
    NwtClaims,
};
use tessera_core::KeySet;
use tessera_core::{Algorithm, Clock, SigningKey};
use tessera_session::{Revocation, SessionConfig, SessionErrorKind, Sessions};
use tessera_store::{
    Invalidation, NewRefreshToken, RefreshFamily, RevocationSnapshot, RotateOutcome, Store,
    StoreError, StoreErrorKind,
};
use tessera_testkit::fixtures::siwe_signature;
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
        self_issued_max_lifetime: Some(3600),
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

/// A SIWE challenge (a fresh nonce and the server's message) for `wallet`.
async fn siwe_challenge(r: &Rig, wallet: &EthereumSecretKey) -> tessera_session::Challenge {
    let address = wallet.address().to_checksum();
    r.sessions
        .challenge(Some(&address))
        .await
        .expect("challenge")
}

/// The server's SIWE message (a fresh nonce) for `wallet`.
async fn siwe_message(r: &Rig, wallet: &EthereumSecretKey) -> String {
    siwe_challenge(r, wallet).await.message.expect("message")
}

async fn siwe_login(r: &Rig, wallet: &EthereumSecretKey) -> tessera_session::TokenPair {
    let message = siwe_message(r, wallet).await;
    let sig_hex = siwe_signature(wallet, &message);
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

// After the macro: the modules use it.
mod cross_instance;
mod fail_closed;
mod logins;
mod logout;
mod refresh;
mod revocation_rules;

use logins::*;
use logout::*;
use refresh::*;

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
