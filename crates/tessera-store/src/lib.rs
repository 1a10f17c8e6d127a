//! Shared session state for tessera.
//!
//! [`Store`] holds exactly the atomic operations the session layer needs:
//! single-use challenge nonces, a credential replay guard, refresh-token
//! families with atomic rotation (spent check, successor, grace window,
//! whole-family revocation on reuse, one live successor per token),
//! revoked access-token `jti`s, a token version per subject (bumped by
//! logout-all to the logout-all instant), and a feed of
//! [`Invalidation`]s so that in-process caches on every instance stay
//! current.
//!
//! Three backends implement it with the same semantics, proven by one
//! conformance suite (`tests/conformance.rs`):
//!
//! - **SQLite** (`sqlite://PATH`, `sqlite::memory:`), the embedded default:
//!   WAL journal, `synchronous=FULL` (an acknowledged write survives the
//!   process being killed, and power loss), write transactions opened with
//!   `BEGIN IMMEDIATE`; invalidations are delivered in-process only.
//! - **PostgreSQL** (`postgres://...`, `postgresql://...`): row locks
//!   (`SELECT ... FOR UPDATE`) and single-statement conditional writes;
//!   invalidations go through `NOTIFY`, sent in the same statement or
//!   transaction as the write, and a `LISTEN` task that reconnects by itself.
//!   The optional URL parameter `schema=NAME` keeps the tables in their own
//!   schema (created on open).
//! - **Redis** (`redis://...`): every multi-step operation is one Lua script
//!   (atomic on the server), keys carry native TTLs (`EXPIREAT`), and
//!   invalidations are `PUBLISH`ed from inside the same script. The optional
//!   URL parameter `prefix=NAME` (default `tessera`) namespaces every key and
//!   the channel. Standalone Redis only (not Redis Cluster).
//!
//! Every method takes the current time from the caller (`now`), never from a
//! system clock: callers own the clock, so tests and `--now` are exact.
//! Migrations are applied when a store is opened.
//!
//! Failures of the backend (refused connection, timeout, closed pool) come
//! back as [`StoreErrorKind::Unavailable`] within a few seconds; callers fail
//! closed. Connections recover by themselves when the backend returns.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod events;
mod postgres;
mod redis_backend;
mod rotation;
mod sqlite;
mod url;

use std::sync::Arc;

pub use error::{StoreError, StoreErrorKind};
pub use events::Invalidation;

/// Unix time in seconds.
pub type Timestamp = i64;

/// Longest time one store call may take before it fails with
/// [`StoreErrorKind::Unavailable`].
pub const OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Longest time spent connecting to PostgreSQL or Redis (or waiting for a
/// pooled connection) before failing with [`StoreErrorKind::Unavailable`].
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Capacity of each [`Store::subscribe`] receiver. A receiver that falls
/// further behind gets `RecvError::Lagged` and must treat it like
/// [`Invalidation::Resync`].
pub const INVALIDATION_CAPACITY: usize = 4096;

/// A refresh token to store: only its hash is ever kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewRefreshToken {
    /// Hash of the opaque token text (the caller chooses the hash, e.g.
    /// SHA-256).
    pub hash: [u8; 32],
    /// The token is refused from this instant on (`now >= expires_at`).
    pub expires_at: Timestamp,
}

/// A refresh-token family: one login session and every token rotated from
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshFamily {
    /// Session id (the access token's `sid`).
    pub id: String,
    /// The subject that logged in.
    pub subject: String,
    /// Login method (`siwe`, `nostr`, `portal`, ...).
    pub amr: String,
    /// When the session started.
    pub created_at: Timestamp,
    /// The whole family is refused from this instant on.
    pub expires_at: Timestamp,
    /// Whether the family was revoked (logout, reuse detected, revocation).
    pub revoked: bool,
    /// The subject's token version when the family was created; the session
    /// layer compares it with [`Store::token_version`].
    pub token_version: u64,
}

/// The result of [`Store::rotate_refresh`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The presented token was live and unspent: it is now spent and the
    /// successor is stored in the same family.
    Rotated {
        /// The family, as it is after the rotation.
        family: RefreshFamily,
    },
    /// The presented token was already spent, but less than `grace_seconds`
    /// ago (`now < spent_at + grace_seconds`), and the successor it got
    /// before has not been used: the new successor is stored in the same
    /// family and *replaces* the previous one (presenting that one from now
    /// on is reuse), the presented token stays spent. This serves a client
    /// that lost the response of its first refresh, and keeps one live
    /// successor per token.
    Reissued {
        /// The family, as it is after the reissue.
        family: RefreshFamily,
    },
    /// The presented token was spent `grace_seconds` or more ago, or within
    /// the grace window after its successor was already used, or it is a
    /// successor that a reissue replaced: the whole family is now revoked
    /// (every token of it, the winner's successor included) and the
    /// successor is not stored.
    ReuseDetected {
        /// The family that was revoked.
        family_id: String,
        /// Its subject.
        subject: String,
    },
    /// The family was already revoked; the successor is not stored.
    Revoked,
    /// The presented token or its family is past its `expires_at`
    /// (`now >= expires_at`); nothing changed.
    Expired,
    /// No such token (never stored, or already purged).
    NotFound,
}

/// What an instance needs to warm its in-process revocation cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationSnapshot {
    /// Revoked `jti`s still in force (`now < expires_at`), with their
    /// `expires_at`; the latest-expiring first.
    pub jtis: Vec<(String, Timestamp)>,
    /// Revoked families that have not expired yet; the latest-expiring
    /// first.
    pub families: Vec<String>,
    /// Subjects whose token version is above zero, with the version.
    pub versions: Vec<(String, u64)>,
    /// `false` when one of the lists was cut at the requested limit (the
    /// cache must then fall back to asking the store).
    pub complete: bool,
}

/// The atomic operations sessions need, with identical semantics on every
/// backend.
///
/// All methods take `now` from the caller. An entry past its `expires_at`
/// behaves as expired at once; it may physically remain until
/// [`Store::purge_expired`] (SQL) or its native TTL (Redis, a minute after
/// expiry) removes it, after which it is simply unknown.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Short name of the backend: `sqlite`, `postgres` or `redis`.
    fn backend(&self) -> &'static str;

    /// Stores a challenge nonce valid until `expires_at` (exclusive). Storing
    /// the same nonce again replaces its expiry.
    async fn put_nonce(&self, nonce: &str, expires_at: Timestamp) -> Result<(), StoreError>;

    /// Consumes a nonce: `true` exactly once, only if it is present and
    /// `now < expires_at`. The nonce is deleted in any case.
    async fn consume_nonce(&self, nonce: &str, now: Timestamp) -> Result<bool, StoreError>;

    /// Replay guard for credential ids (NIP-98 and NWT event ids, SIWE
    /// nonces): `true` if `id` was newly remembered until `expires_at`,
    /// `false` if it is already remembered and not expired. An expired entry
    /// is replaced.
    async fn remember_once(
        &self,
        id: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Creates a family with its first refresh token. Fails with
    /// [`StoreErrorKind::Conflict`] when the family id or the token hash
    /// already exists (nothing is written then).
    async fn create_family(
        &self,
        family: &RefreshFamily,
        first: &NewRefreshToken,
    ) -> Result<(), StoreError>;

    /// Rotates a refresh token in one atomic step; see [`RotateOutcome`] for
    /// every case. The checks run in this order: unknown token or family
    /// ([`RotateOutcome::NotFound`]), family revoked
    /// ([`RotateOutcome::Revoked`]), token or family expired
    /// ([`RotateOutcome::Expired`]), token replaced by a reissue
    /// ([`RotateOutcome::ReuseDetected`]), then spent state, grace window and
    /// whether the previous successor was used. At most one successor of a
    /// token is ever live: a reissue replaces the one before it. A
    /// negative `grace_seconds` counts as zero. A successor hash that
    /// already exists fails with [`StoreErrorKind::Conflict`] and changes
    /// nothing. Reuse detection publishes [`Invalidation::Family`].
    async fn rotate_refresh(
        &self,
        presented_hash: &[u8; 32],
        successor: &NewRefreshToken,
        now: Timestamp,
        grace_seconds: i64,
    ) -> Result<RotateOutcome, StoreError>;

    /// The family with this id, revoked or not.
    async fn family(&self, family_id: &str) -> Result<Option<RefreshFamily>, StoreError>;

    /// The family a refresh token belongs to, whatever the token's state
    /// (for logout and RFC 7009 revocation by refresh token).
    async fn family_of_token(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<RefreshFamily>, StoreError>;

    /// Revokes a family: `true` if it existed and was not revoked yet.
    /// Publishes [`Invalidation::Family`] when it returns `true`.
    async fn revoke_family(&self, family_id: &str, now: Timestamp) -> Result<bool, StoreError>;

    /// Revokes every unexpired, unrevoked family of `subject`; returns how
    /// many were revoked and publishes [`Invalidation::Family`] for each.
    async fn revoke_subject_families(
        &self,
        subject: &str,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Revokes an access token's `jti` until `expires_at` (its `exp`, plus
    /// any leeway the verifier allows). Revoking again keeps the later
    /// expiry. Publishes [`Invalidation::Jti`] with the expiry in force.
    async fn revoke_jti(&self, jti: &str, expires_at: Timestamp) -> Result<(), StoreError>;

    /// Whether `jti` is revoked at `now` (`now < expires_at`).
    async fn is_jti_revoked(&self, jti: &str, now: Timestamp) -> Result<bool, StoreError>;

    /// The subject's token version; 0 when never bumped.
    async fn token_version(&self, subject: &str) -> Result<u64, StoreError>;

    /// Logout-all: sets the subject's token version atomically to
    /// `max(previous + 1, now)` and returns it. Publishes
    /// [`Invalidation::Subject`].
    ///
    /// The one number serves two checks. Tokens that carry the version they
    /// were minted with (access tokens' `ver`) are dead when it is below the
    /// current one. Credentials that carry an issue time (NWT `iat` or
    /// `created_at`, Portal `iat`) are dead when it is at or below the
    /// current one: the version is the logout-all instant, Unix seconds
    /// (later by a second or so only when a subject logs out everywhere
    /// several times within one second). A version below any plausible
    /// issue time (a counter from before this rule) refuses nothing by time.
    async fn bump_token_version(&self, subject: &str, now: Timestamp) -> Result<u64, StoreError>;

    /// Revoked `jti`s, revoked families and token versions, each list cut at
    /// `limit` entries (see [`RevocationSnapshot::complete`]). Subscribe
    /// before taking the snapshot so that no change falls in between.
    async fn revocation_snapshot(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<RevocationSnapshot, StoreError>;

    /// Deletes what has expired at `now` (nonces, remembered ids, revoked
    /// `jti`s, refresh tokens and families with `expires_at <= now`) and
    /// returns how many entries were removed. On Redis the keys expire by
    /// themselves; this trims the indexes used by
    /// [`Store::revocation_snapshot`] and counts the entries removed there.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError>;

    /// One round trip to the backend (readiness).
    async fn ping(&self) -> Result<(), StoreError>;

    /// A receiver of every [`Invalidation`] from now on: this instance's own
    /// (delivered at once, in-process) and other instances' (through Redis
    /// pub/sub or PostgreSQL `LISTEN`/`NOTIFY`). [`Invalidation::Resync`]
    /// means events may have been missed: caches must drop everything.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Invalidation>;
}

/// Opens a store from a URL and applies migrations.
///
/// - `sqlite://PATH` (relative) or `sqlite:///ABSOLUTE/PATH`: the file and
///   its parent directory are created if missing; `sqlite::memory:` for a
///   private in-memory database.
/// - `postgres://...` or `postgresql://...`, optional `schema=NAME`.
/// - `redis://...` (or `rediss://` if the build supports TLS), optional
///   `prefix=NAME`.
///
/// Fails with [`StoreErrorKind::Config`] for a malformed URL or unknown
/// scheme and [`StoreErrorKind::Unavailable`] when the backend cannot be
/// reached within [`CONNECT_TIMEOUT`] (plus a little). Must be called inside
/// a Tokio runtime: PostgreSQL and Redis stores spawn their listener task.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(StoreError::new(
            StoreErrorKind::Config,
            "tessera_store::open must be called inside a Tokio runtime",
        ));
    }
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    let result: Result<Arc<dyn Store>, StoreError> = match scheme.as_str() {
        "sqlite" => sqlite::SqliteStore::open(url)
            .await
            .map(|s| Arc::new(s) as Arc<dyn Store>),
        "postgres" | "postgresql" => postgres::PostgresStore::open(url)
            .await
            .map(|s| Arc::new(s) as Arc<dyn Store>),
        "redis" | "rediss" => redis_backend::RedisStore::open(url)
            .await
            .map(|s| Arc::new(s) as Arc<dyn Store>),
        _ => Err(StoreError::new(
            StoreErrorKind::Config,
            format!(
                "unsupported store URL {}: expected sqlite://, postgres://, postgresql:// or redis://",
                url::mask_password(url)
            ),
        )),
    };
    result.map_err(|e| {
        url::secrets(url)
            .into_iter()
            .fold(e, |e, secret| e.scrub_secret(Some(secret)))
    })
}

/// `url` with every credential replaced by `***` (the userinfo password and
/// `?password=`-like query parameters), for configuration dumps, logs and
/// error messages: the one function everything that prints a store URL
/// uses.
pub fn mask_url(url: &str) -> String {
    url::mask_password(url)
}
