//! In-process revocation state for the per-request access-token check.
//!
//! The check must cost at most one store round trip and usually none. This
//! instance keeps a *complete* picture of what is revoked — revoked `jti`s
//! (until their `exp`), revoked sessions (refresh families) and each
//! subject's token version — loaded once from the store and kept current by
//! the store's invalidation feed (Redis pub/sub, PostgreSQL LISTEN/NOTIFY,
//! in-process on SQLite). While the feed is down the picture may be stale,
//! so checks fail closed until it is reloaded.
//!
//! The picture does not only grow: a revoked `jti` is dropped once its
//! token has expired, and an ended session once every access token it
//! could have handed out has (ended at `T`, dropped at `T` plus the
//! configured retention: the access-token life and the leeway, see
//! [`RevocationCache::new`]). Subjects' logout-all versions stay: they
//! also date the logout-all for credentials that carry an issue time.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use tessera_core::Clock;

/// The revocation facts an access-token check needs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RevocationSnapshot {
    /// Revoked `jti`s and their `exp`.
    pub jtis: HashMap<String, i64>,
    /// Revoked session (family) ids.
    pub families: HashSet<String>,
    /// Subjects whose token version is above zero.
    pub versions: HashMap<String, u64>,
}

/// One change, as the invalidation feed reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationEvent {
    /// A `jti` was revoked until `exp`.
    Jti {
        /// The access token's `jti`.
        jti: String,
        /// Its `exp`: the entry can be dropped after it.
        exp: i64,
    },
    /// A session was revoked.
    Family(String),
    /// A subject's token version changed.
    Subject {
        /// The subject (`sub`).
        subject: String,
        /// Its new version: tokens minted with a lower `ver` are revoked
        /// (logout-all).
        version: u64,
    },
    /// The feed lost events: the picture must be reloaded.
    Resync,
}

/// A credential as the check sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// A tessera access token.
    Access {
        /// Its `jti`.
        jti: &'a str,
        /// Its session (`sid`).
        sid: &'a str,
        /// Its subject.
        subject: &'a str,
        /// The subject's token version it was minted with (`ver`).
        ver: u64,
    },
    /// A credential the subject made (NWT, NIP-98, Portal JWT), checked
    /// against the subject's logout-all instant and, when it has one, by
    /// its revocation id.
    Issued {
        /// The key it is revoked under (`nwt:<event id>`), if any.
        revocation_id: Option<&'a str>,
        /// Its subject.
        subject: &'a str,
        /// Its issue time (`iat`, or a Nostr event's `created_at`).
        issued_at: Option<i64>,
    },
}

/// How many entries the picture holds, by kind (the
/// `tessera_revocation_entries` metric).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevocationEntries {
    /// Revoked `jti`s (and NWT ids) not expired yet.
    pub jtis: usize,
    /// Ended sessions whose access tokens may still be alive.
    pub families: usize,
    /// Subjects that logged out everywhere.
    pub subjects: usize,
}

/// How well the picture follows the store's feed (the
/// `tessera_revocation_*` feed metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedHealth {
    /// Whether checks are answered from memory (else they go to the store,
    /// or fail closed).
    pub fresh: bool,
    /// For the last logout-all event applied: whole seconds from its
    /// instant (the token version the writing instance stored) to this
    /// instance applying it. `None` until one is seen. The only event that
    /// carries when it was written, hence logout-all only.
    pub lag_seconds: Option<i64>,
    /// `Resync` events seen: the feed lost events and the picture had to be
    /// reloaded.
    pub resyncs: u64,
}

/// Why a token is no longer good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// This access token was revoked.
    Token,
    /// Its session was ended.
    Session,
    /// Its subject logged out everywhere after it was issued.
    Subject,
}

/// Most events buffered while a reload is in flight; past it the reload
/// does not count as fresh (the next check reloads again).
const MAX_PENDING: usize = 100_000;

/// What the picture holds: [`RevocationSnapshot`], with the instant this
/// instance learned of each ended session.
#[derive(Debug, Default)]
struct Picture {
    jtis: HashMap<String, i64>,
    families: HashMap<String, i64>,
    versions: HashMap<String, u64>,
}

#[derive(Debug, Default)]
struct State {
    snapshot: Picture,
    fresh: bool,
    /// Events seen since [`RevocationCache::begin_reload`]: the snapshot
    /// being loaded may predate them, so [`RevocationCache::load`] replays
    /// them on top of it.
    pending: Option<Vec<RevocationEvent>>,
    /// A `Resync` (or an overflow) arrived during the reload: the snapshot
    /// cannot be trusted to be complete.
    pending_lost: bool,
    /// [`FeedHealth::lag_seconds`].
    lag_seconds: Option<i64>,
    /// [`FeedHealth::resyncs`].
    resyncs: u64,
}

/// The in-process picture.
pub struct RevocationCache {
    state: RwLock<State>,
    /// How long an ended session is kept after this instance learned of it.
    family_retention: i64,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RevocationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationCache")
            .field("entries", &self.entries())
            .field("family_retention", &self.family_retention)
            .finish_non_exhaustive()
    }
}

impl RevocationCache {
    /// An empty cache that is not yet fresh (checks fail closed). An ended
    /// session is kept `family_retention` seconds after this instance
    /// learned of it (by `clock`): at least the access-token life plus the
    /// verifier's leeway, since its access tokens are accepted until
    /// `exp + leeway` and none is minted after it ended. [`Sessions`] adds
    /// one more leeway for clock differences between instances.
    ///
    /// [`Sessions`]: crate::Sessions
    pub fn new(family_retention: i64, clock: Arc<dyn Clock>) -> Self {
        RevocationCache {
            state: RwLock::new(State::default()),
            family_retention: family_retention.max(0),
            clock,
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        match self.state.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Call before asking the store for a snapshot (and after subscribing
    /// to the feed): events that arrive from now on are kept and replayed
    /// by [`RevocationCache::load`], so none falls between the snapshot and
    /// the feed.
    pub fn begin_reload(&self) {
        let mut s = self.write();
        s.pending = Some(Vec::new());
        s.pending_lost = false;
    }

    /// Replaces the picture with a snapshot loaded from the store, replays
    /// the events seen since [`RevocationCache::begin_reload`], and marks
    /// the picture fresh unless the feed reported lost events meanwhile.
    /// Returns whether the picture is now fresh.
    pub fn load(&self, snapshot: RevocationSnapshot) -> bool {
        // The store does not say when a session ended: it counts from now,
        // which keeps it at least as long as needed.
        let now = self.clock.now();
        let mut s = self.write();
        s.snapshot = Picture {
            jtis: snapshot.jtis,
            families: snapshot.families.into_iter().map(|f| (f, now)).collect(),
            versions: snapshot.versions,
        };
        let pending = s.pending.take().unwrap_or_default();
        for event in pending {
            apply_to(&mut s.snapshot, event, now);
        }
        s.fresh = !std::mem::take(&mut s.pending_lost);
        s.fresh
    }

    /// Ends a reload that failed (the store could not be reached).
    pub fn abort_reload(&self) {
        let mut s = self.write();
        s.pending = None;
        s.pending_lost = false;
    }

    /// Marks the picture stale (feed disconnected); checks fail closed.
    pub fn mark_stale(&self) {
        self.write().fresh = false;
    }

    /// Whether checks can be answered from memory.
    pub fn is_fresh(&self) -> bool {
        self.state.read().map(|s| s.fresh).unwrap_or(false)
    }

    /// Applies one event from the feed (own or another instance's).
    pub fn apply(&self, event: RevocationEvent) {
        let now = self.clock.now();
        let mut s = self.write();
        if event == RevocationEvent::Resync {
            s.resyncs = s.resyncs.saturating_add(1);
            s.fresh = false;
            if s.pending.is_some() {
                s.pending_lost = true;
            }
            return;
        }
        let overflow = match &mut s.pending {
            Some(p) if p.len() < MAX_PENDING => {
                p.push(event.clone());
                false
            }
            Some(_) => true,
            None => false,
        };
        if overflow {
            s.pending_lost = true;
        }
        if let RevocationEvent::Subject { version, .. } = &event {
            let written = i64::try_from(*version).unwrap_or(i64::MAX);
            s.lag_seconds = Some(now.saturating_sub(written).max(0));
        }
        apply_to(&mut s.snapshot, event, now);
    }

    /// Checks a token; `None` when the picture is stale (the caller reloads
    /// it with one store round trip, or fails closed).
    pub fn check(
        &self,
        jti: &str,
        sid: &str,
        subject: &str,
        ver: u64,
    ) -> Option<Result<(), Revoked>> {
        let s = self.state.read().ok()?;
        if !s.fresh {
            return None;
        }
        if s.snapshot.jtis.contains_key(jti) {
            return Some(Err(Revoked::Token));
        }
        if s.snapshot.families.contains_key(sid) {
            return Some(Err(Revoked::Session));
        }
        if ver < s.snapshot.versions.get(subject).copied().unwrap_or(0) {
            return Some(Err(Revoked::Subject));
        }
        Some(Ok(()))
    }

    /// Checks a credential the subject made (see [`Presented::Issued`]):
    /// refused when revoked by id, and when the subject logged out
    /// everywhere at or after its issue time (a credential issued in the
    /// same second as the logout-all is refused: seconds cannot tell which
    /// came first), or without an issue time at all once the subject has
    /// logged out everywhere. `None` when the picture is stale.
    pub fn check_issued(
        &self,
        revocation_id: Option<&str>,
        subject: &str,
        issued_at: Option<i64>,
    ) -> Option<Result<(), Revoked>> {
        let s = self.state.read().ok()?;
        if !s.fresh {
            return None;
        }
        if revocation_id.is_some_and(|id| s.snapshot.jtis.contains_key(id)) {
            return Some(Err(Revoked::Token));
        }
        let instant = s.snapshot.versions.get(subject).copied().unwrap_or(0);
        Some(issued_after(issued_at, instant))
    }

    /// [`RevocationCache::check`] or [`RevocationCache::check_issued`].
    pub fn check_presented(&self, p: &Presented<'_>) -> Option<Result<(), Revoked>> {
        match *p {
            Presented::Access {
                jti,
                sid,
                subject,
                ver,
            } => self.check(jti, sid, subject, ver),
            Presented::Issued {
                revocation_id,
                subject,
                issued_at,
            } => self.check_issued(revocation_id, subject, issued_at),
        }
    }

    /// The subject's current token version as far as this instance knows.
    pub fn version(&self, subject: &str) -> Option<u64> {
        let s = self.state.read().ok()?;
        s.fresh
            .then(|| s.snapshot.versions.get(subject).copied().unwrap_or(0))
    }

    /// Drops what no live token needs any more: `jti`s (and NWT ids) past
    /// their expiry, and sessions ended more than the retention ago.
    pub fn prune(&self) {
        let now = self.clock.now();
        let retention = self.family_retention;
        let mut s = self.write();
        s.snapshot.jtis.retain(|_, exp| *exp > now);
        s.snapshot
            .families
            .retain(|_, ended| ended.saturating_add(retention) > now);
    }

    /// How many entries the picture holds.
    pub fn entries(&self) -> RevocationEntries {
        self.state
            .read()
            .map(|s| RevocationEntries {
                jtis: s.snapshot.jtis.len(),
                families: s.snapshot.families.len(),
                subjects: s.snapshot.versions.len(),
            })
            .unwrap_or_default()
    }
}

impl RevocationCache {
    /// How well the picture follows the feed.
    pub fn feed_health(&self) -> FeedHealth {
        self.state
            .read()
            .map(|s| FeedHealth {
                fresh: s.fresh,
                lag_seconds: s.lag_seconds,
                resyncs: s.resyncs,
            })
            .unwrap_or_default()
    }
}

/// The logout-all rule for credentials with an issue time: `instant` is the
/// subject's token version (0: never logged out everywhere).
pub(crate) fn issued_after(issued_at: Option<i64>, instant: u64) -> Result<(), Revoked> {
    if instant == 0 {
        return Ok(());
    }
    let instant = i64::try_from(instant).unwrap_or(i64::MAX);
    match issued_at {
        Some(iat) if iat > instant => Ok(()),
        _ => Err(Revoked::Subject),
    }
}

fn apply_to(snapshot: &mut Picture, event: RevocationEvent, now: i64) {
    match event {
        RevocationEvent::Jti { jti, exp } => {
            let e = snapshot.jtis.entry(jti).or_insert(exp);
            *e = (*e).max(exp);
        }
        RevocationEvent::Family(id) => {
            snapshot.families.entry(id).or_insert(now);
        }
        RevocationEvent::Subject { subject, version } => {
            let v = snapshot.versions.entry(subject).or_insert(0);
            *v = (*v).max(version);
        }
        RevocationEvent::Resync => {}
    }
}

#[cfg(test)]
mod tests;
