//! [`Sessions`]: wallet logins, access/refresh pairs, rotation, logout,
//! revocation and the per-request check, over any [`Store`].
//!
//! The types and the shared state are here; the operations are split along
//! their seams: `login.rs` (challenges, logins, a new session's pair),
//! `refresh.rs` (rotation), `check.rs` (access tokens and self-made
//! credentials against the revocation picture), `revoke.rs` (logout and
//! RFC 7009).

use crate::error::{SessionError, SessionErrorCode, SessionErrorKind};
use crate::revocation::{RevocationCache, RevocationEntries, RevocationEvent};
use crate::tokens::ACCESS_TOKEN_TYP;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use tessera_core::CacheConfig;
use tessera_core::NostrPublicKey;
use tessera_core::{Clock, ErrorCode, Identity, KeySet, Policy, SigningKey, SystemClock, Verifier};
use tessera_store::{Invalidation, Store, StoreError};
use tokio::sync::broadcast::error::RecvError;

mod check;
mod login;
mod refresh;
mod revoke;

/// Most revocation entries loaded per list into the in-process picture;
/// past it the check asks the store for each request instead.
const SNAPSHOT_LIMIT: usize = 200_000;

/// What the session layer needs to know about the server it runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Access-token `iss`: the server's public URL.
    pub issuer: String,
    /// Access-token `aud`: the server's public URL.
    pub audience: String,
    /// The SIWE `domain` (`host[:port]` of the public URL).
    pub siwe_domain: String,
    /// The SIWE `URI`.
    pub siwe_uri: String,
    /// The SIWE `Chain ID` put into challenges.
    pub chain_id: u64,
    /// The SIWE `Chain ID`s a login may name; empty: just `chain_id`.
    pub siwe_chain_ids: Vec<u64>,
    /// The absolute URL a NIP-98 login event must name (method `POST`).
    pub login_url: String,
    /// Audiences an NWT login may name (the public URL and its host).
    pub nwt_audiences: Vec<String>,
    /// Access-token life, seconds.
    pub access_ttl: i64,
    /// Refresh-token (and session) life, seconds.
    pub refresh_ttl: i64,
    /// Window in which a rotated refresh token presented again gets a new
    /// pair instead of killing the family, seconds. The new pair replaces
    /// the one it got before (one live successor per token), and only
    /// while that one has not been used.
    pub grace: i64,
    /// Clock-skew allowance, seconds.
    pub leeway: i64,
    /// Life of a challenge nonce, seconds.
    pub nonce_ttl: i64,
    /// Longest life (`exp - iat`, `exp - now` without `iat`) of the
    /// credentials users sign themselves for this server: NWTs (login and
    /// verification) and wallet-signed Portal JWTs (login). Longer ones are
    /// `invalid_claim`. `None`: no cap.
    pub self_issued_max_lifetime: Option<i64>,
    /// Bounds of each verified-credential cache: the access tokens' and the
    /// Nostr verifier's (NWTs) have one each.
    pub verify_cache: CacheConfig,
}

/// A SIWE challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The single-use nonce.
    pub nonce: String,
    /// When it stops being accepted (Unix seconds).
    pub expires_at: i64,
    /// The domain the message must name.
    pub domain: String,
    /// The URI the message names.
    pub uri: String,
    /// The chain id.
    pub chain_id: u64,
    /// A ready EIP-4361 message, when an address was given.
    pub message: Option<String>,
}

/// What a login or refresh hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// The signed `at+jwt` access token.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The opaque refresh token (only its hash is stored).
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
    /// The subject: a 64-hex Nostr key or an EIP-55 address.
    pub subject: String,
    /// The session (refresh family) id.
    pub session_id: String,
    /// The login method (`siwe`, `nostr`, `portal`).
    pub method: String,
}

/// The outcome of RFC 7009 revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// An access token's `jti` was revoked.
    AccessToken,
    /// A refresh token's whole session was revoked.
    RefreshToken,
    /// An NWT for this server was revoked by its event id until it
    /// expires.
    NostrToken,
    /// Nothing known by that token (RFC 7009 still answers 200).
    Unknown,
}

struct Signer {
    key: Arc<SigningKey>,
    verifier: Verifier,
}

/// Sessions over one store.
pub struct Sessions {
    config: SessionConfig,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    signer: RwLock<Arc<Signer>>,
    server_nostr: NostrPublicKey,
    revocations: Arc<RevocationCache>,
    /// Verifies `Nostr` credentials (NWT, NIP-98): built once, so that its
    /// cache (NWTs; NIP-98 events are never cached) and its memo of signer
    /// keys last across requests.
    nostr: Verifier,
    /// Held while the picture is reloaded; holds whether the last reload
    /// could not reach the store.
    reload: tokio::sync::Mutex<bool>,
    /// Reloads finished (successful or not), to tell whether one ran while
    /// a check waited for `reload`.
    reloads: AtomicU64,
    listener: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("backend", &self.store.backend())
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl Drop for Sessions {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

fn unauthorized(code: ErrorCode, message: &str) -> SessionError {
    SessionError::unauthorized(code, message)
}

fn invalid_grant(detail: &'static str, message: &str) -> SessionError {
    SessionError::new(
        SessionErrorKind::BadRequest,
        SessionErrorCode::InvalidGrant,
        message,
    )
    .with_detail(detail)
}

impl Sessions {
    /// Sessions signing access tokens with `signer` (and accepting tokens
    /// of every key in `verify_keys`), for the server whose Nostr key is
    /// `server_nostr`. Starts the task that follows the store's
    /// invalidation feed; must be called inside a Tokio runtime.
    pub fn new(
        config: SessionConfig,
        store: Arc<dyn Store>,
        signer: Arc<SigningKey>,
        verify_keys: KeySet,
        server_nostr: NostrPublicKey,
    ) -> Self {
        Self::with_clock(
            config,
            store,
            signer,
            verify_keys,
            server_nostr,
            Arc::new(SystemClock),
        )
    }

    /// As [`Sessions::new`], with a clock of the caller's choosing.
    pub fn with_clock(
        config: SessionConfig,
        store: Arc<dyn Store>,
        signer: Arc<SigningKey>,
        verify_keys: KeySet,
        server_nostr: NostrPublicKey,
        clock: Arc<dyn Clock>,
    ) -> Self {
        // An ended session's access tokens are accepted until `exp +
        // leeway`, at most `access_ttl` after it ended; one more leeway
        // covers clocks of instances that differ.
        let retention = config
            .access_ttl
            .saturating_add(config.leeway.max(0).saturating_mul(2));
        let revocations = Arc::new(RevocationCache::new(retention, Arc::clone(&clock)));
        let listener = tokio::spawn(follow_feed(store.subscribe(), Arc::clone(&revocations)));
        let signer = Arc::new(Signer {
            verifier: access_verifier(&config, verify_keys, &clock),
            key: signer,
        });
        let nostr = nostr_verifier(&config, &clock);
        Sessions {
            config,
            store,
            clock,
            signer: RwLock::new(signer),
            server_nostr,
            revocations,
            nostr,
            reload: tokio::sync::Mutex::new(false),
            reloads: AtomicU64::new(0),
            listener,
        }
    }

    /// Replaces the signer and the keys access tokens are verified with
    /// (key rotation: keep the retired keys whose tokens are still alive).
    pub fn set_signer(&self, signer: Arc<SigningKey>, verify_keys: KeySet) {
        let next = Arc::new(Signer {
            verifier: access_verifier(&self.config, verify_keys, &self.clock),
            key: signer,
        });
        match self.signer.write() {
            Ok(mut g) => *g = next,
            Err(p) => *p.into_inner() = next,
        }
    }

    /// Replaces the keys access tokens are verified with and keeps the
    /// signer (an app that verifies a tessera server's tokens by the
    /// server's JWKS, which rotates).
    pub fn set_verify_keys(&self, verify_keys: KeySet) {
        self.set_signer(Arc::clone(&self.signer().key), verify_keys);
    }

    fn signer(&self) -> Arc<Signer> {
        match self.signer.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The current time.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Applies this instance's own change to its picture at once (the feed
    /// delivers it too, a moment later; applying twice is harmless).
    fn note(&self, event: RevocationEvent) {
        self.revocations.apply(event);
    }

    /// Deletes expired state from the store, and from the in-process
    /// picture what no live token needs any more.
    pub async fn purge_expired(&self) -> Result<u64, SessionError> {
        let now = self.now();
        self.revocations.prune();
        Ok(self.store.purge_expired(now).await?)
    }

    /// How many entries the in-process revocation picture holds, by kind.
    pub fn revocation_entries(&self) -> RevocationEntries {
        self.revocations.entries()
    }

    /// How well the in-process revocation picture follows the store's feed.
    pub fn revocation_feed(&self) -> crate::revocation::FeedHealth {
        self.revocations.feed_health()
    }

    /// The verified-credential caches: `access_token` (the current
    /// signer's; a key change starts a new one) and `nostr` (NWTs). `None`
    /// for a cache that is turned off.
    pub fn verify_cache_stats(
        &self,
    ) -> [(
        &'static str,
        Option<tessera_core::internal::cache::CacheStats>,
    ); 2] {
        let access = self.signer().verifier.cache().map(|c| c.stats());
        let nostr = self.nostr.cache().map(|c| c.stats());
        [("access_token", access), ("nostr", nostr)]
    }

    /// One round trip to the store (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}

/// The key an NWT is revoked under: its event id, apart from access-token
/// `jti`s.
fn nwt_revocation_id(identity: &Identity) -> Option<String> {
    match (&identity.format, &identity.id) {
        (tessera_core::Format::Nwt, Some(id)) => Some(format!("nwt:{id}")),
        _ => None,
    }
}

/// The verifier of `Nostr` credentials: NWTs must name this server.
fn nostr_verifier(config: &SessionConfig, clock: &Arc<dyn Clock>) -> Verifier {
    let policy = Policy {
        audiences: config.nwt_audiences.clone(),
        leeway: config.leeway,
        max_lifetime: config.self_issued_max_lifetime,
        ..Policy::default()
    };
    Verifier::new(policy, KeySet::new())
        .with_clock(Arc::clone(clock))
        .with_cache(config.verify_cache)
}

fn access_verifier(config: &SessionConfig, keys: KeySet, clock: &Arc<dyn Clock>) -> Verifier {
    let policy = Policy {
        audiences: vec![config.audience.clone()],
        issuer: Some(config.issuer.clone()),
        leeway: config.leeway,
        required_typ: Some(ACCESS_TOKEN_TYP.to_owned()),
        required_claims: vec!["jti".into(), "sid".into(), "sub".into()],
        ..Policy::default()
    };
    Verifier::new(policy, keys)
        .with_clock(Arc::clone(clock))
        .with_cache(config.verify_cache)
}

/// Follows the store's invalidation feed into the in-process picture.
async fn follow_feed(
    mut rx: tokio::sync::broadcast::Receiver<Invalidation>,
    cache: Arc<RevocationCache>,
) {
    loop {
        let event = match rx.recv().await {
            Ok(Invalidation::Jti { jti, expires_at }) => RevocationEvent::Jti {
                jti,
                exp: expires_at,
            },
            Ok(Invalidation::Family(id)) => RevocationEvent::Family(id),
            Ok(Invalidation::Subject { subject, version }) => {
                RevocationEvent::Subject { subject, version }
            }
            Ok(Invalidation::Resync) | Err(RecvError::Lagged(_)) => RevocationEvent::Resync,
            Err(RecvError::Closed) => {
                cache.apply(RevocationEvent::Resync);
                return;
            }
        };
        cache.apply(event);
    }
}
