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
//! conformance suite (`tests/conformance/`); each is a Cargo feature
//! (`sqlite`, `postgres`, `redis`, all on by default):
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
#![deny(missing_docs)]
// Built without a backend (a library that only passes `Arc<dyn Store>`
// around, such as tessera-session on its own), the backends' helpers go
// unused.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "redis")),
    allow(dead_code)
)]

mod error;
mod events;
#[cfg(feature = "redis")]
mod redis_backend;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
mod timed;
mod url;

use std::sync::Arc;

pub use error::{StoreError, StoreErrorKind};
pub use events::Invalidation;
pub use timed::LatencyObserver;

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

impl RevocationSnapshot {
    /// Cuts each list (fetched with one entry more than `limit`) at
    /// `limit` and converts the versions.
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "redis")),
        allow(dead_code)
    )]
    pub(crate) fn cut(
        mut jtis: Vec<(String, i64)>,
        mut families: Vec<String>,
        mut versions: Vec<(String, i64)>,
        limit: usize,
    ) -> Result<RevocationSnapshot, StoreError> {
        let complete = jtis.len() <= limit && families.len() <= limit && versions.len() <= limit;
        jtis.truncate(limit);
        families.truncate(limit);
        versions.truncate(limit);
        let versions = versions
            .into_iter()
            .map(|(s, v)| {
                u64::try_from(v)
                    .map(|v| (s, v))
                    .map_err(|_| StoreError::corrupt(format!("negative token version {v}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RevocationSnapshot {
            jtis,
            families,
            versions,
            complete,
        })
    }
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

    /// Reports how long each later call of this store takes to `observer`
    /// (a metrics histogram per operation). One observer per store:
    /// `false`, and the first one kept, when one is registered already.
    fn observe_latency(&self, observer: Arc<dyn LatencyObserver>) -> bool;
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
/// Each backend is a Cargo feature of this crate (`sqlite`, `postgres`,
/// `redis`; all three by default); a URL of a backend this build leaves out
/// is a [`StoreErrorKind::Config`] error naming the feature.
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
        #[cfg(feature = "sqlite")]
        "sqlite" => sql::sqlite::open(url)
            .await
            .map(|s| Arc::new(s) as Arc<dyn Store>),
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => sql::postgres::open(url)
            .await
            .map(|s| Arc::new(s) as Arc<dyn Store>),
        #[cfg(feature = "redis")]
        "redis" | "rediss" => redis_backend::RedisStore::open(url)
            .await
            .map(|s| Arc::new(s) as Arc<dyn Store>),
        #[cfg(not(feature = "sqlite"))]
        "sqlite" => Err(not_built("sqlite")),
        #[cfg(not(feature = "postgres"))]
        "postgres" | "postgresql" => Err(not_built("postgres")),
        #[cfg(not(feature = "redis"))]
        "redis" | "rediss" => Err(not_built("redis")),
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

/// The error for a URL whose backend this build leaves out.
#[cfg(not(all(feature = "sqlite", feature = "postgres", feature = "redis")))]
fn not_built(feature: &str) -> StoreError {
    StoreError::config(format!(
        "this build has no {feature} store: build tessera-store with its `{feature}` feature"
    ))
}

/// `url` with every credential replaced by `***` (the userinfo password and
/// `?password=`-like query parameters), for configuration dumps, logs and
/// error messages: the one function everything that prints a store URL
/// uses.
pub fn mask_url(url: &str) -> String {
    url::mask_password(url)
}

/// Runs in the single-backend builds (`.ci/run` builds each backend alone
/// and runs these unit tests there).
#[cfg(all(
    test,
    not(all(feature = "sqlite", feature = "postgres", feature = "redis"))
))]
mod tests {
    use super::*;

    /// A URL of a backend the build leaves out is a configuration error
    /// that names the feature, and shows no password.
    #[tokio::test]
    async fn a_backend_left_out_of_the_build_is_a_config_error() {
        let mut left_out = Vec::new();
        #[cfg(not(feature = "sqlite"))]
        left_out.extend([("sqlite::memory:", "sqlite"), ("sqlite://x/t.db", "sqlite")]);
        #[cfg(not(feature = "postgres"))]
        left_out.extend([
            ("postgres://u:hunter2@127.0.0.1:1/db", "postgres"),
            ("postgresql://127.0.0.1:1/db", "postgres"),
        ]);
        #[cfg(not(feature = "redis"))]
        left_out.extend([
            ("redis://:hunter2@127.0.0.1:1", "redis"),
            ("rediss://127.0.0.1:1", "redis"),
        ]);
        assert!(!left_out.is_empty());
        for (url, feature) in left_out {
            let e = match open(url).await {
                Ok(_) => panic!("{url}: opened without its backend"),
                Err(e) => e,
            };
            assert_eq!(e.kind(), StoreErrorKind::Config, "{url}: {e}");
            assert!(
                e.to_string().contains(&format!("`{feature}` feature")),
                "{e}"
            );
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }
}
