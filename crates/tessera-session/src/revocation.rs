//! In-process revocation state for the per-request access-token check.
//!
//! The check must cost at most one store round trip and usually none. This
//! instance keeps a *complete* picture of what is revoked — revoked `jti`s
//! (until their `exp`), revoked sessions (refresh families) and each
//! subject's token version — loaded once from the store and kept current by
//! the store's invalidation feed (Redis pub/sub, PostgreSQL LISTEN/NOTIFY,
//! in-process on SQLite). While the feed is down the picture may be stale,
//! so checks fail closed until it is reloaded.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

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
    Jti { jti: String, exp: i64 },
    /// A session was revoked.
    Family(String),
    /// A subject's token version changed.
    Subject { subject: String, version: u64 },
    /// The feed lost events: the picture must be reloaded.
    Resync,
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

#[derive(Debug, Default)]
struct State {
    snapshot: RevocationSnapshot,
    fresh: bool,
    /// Events seen since [`RevocationCache::begin_reload`]: the snapshot
    /// being loaded may predate them, so [`RevocationCache::load`] replays
    /// them on top of it.
    pending: Option<Vec<RevocationEvent>>,
    /// A `Resync` (or an overflow) arrived during the reload: the snapshot
    /// cannot be trusted to be complete.
    pending_lost: bool,
}

/// The in-process picture.
#[derive(Debug, Default)]
pub struct RevocationCache {
    state: RwLock<State>,
}

impl RevocationCache {
    /// An empty cache that is not yet fresh (checks fail closed).
    pub fn new() -> Self {
        RevocationCache::default()
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
        let mut s = self.write();
        s.snapshot = snapshot;
        let pending = s.pending.take().unwrap_or_default();
        for event in pending {
            apply_to(&mut s.snapshot, event);
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
        let mut s = self.write();
        if event == RevocationEvent::Resync {
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
        apply_to(&mut s.snapshot, event);
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
        if s.snapshot.families.contains(sid) {
            return Some(Err(Revoked::Session));
        }
        if ver < s.snapshot.versions.get(subject).copied().unwrap_or(0) {
            return Some(Err(Revoked::Subject));
        }
        Some(Ok(()))
    }

    /// The subject's current token version as far as this instance knows.
    pub fn version(&self, subject: &str) -> Option<u64> {
        let s = self.state.read().ok()?;
        s.fresh
            .then(|| s.snapshot.versions.get(subject).copied().unwrap_or(0))
    }

    /// Drops `jti`s whose tokens have expired anyway.
    pub fn purge(&self, now: i64) {
        self.write().snapshot.jtis.retain(|_, exp| *exp > now);
    }
}

fn apply_to(snapshot: &mut RevocationSnapshot, event: RevocationEvent) {
    match event {
        RevocationEvent::Jti { jti, exp } => {
            let e = snapshot.jtis.entry(jti).or_insert(exp);
            *e = (*e).max(exp);
        }
        RevocationEvent::Family(id) => {
            snapshot.families.insert(id);
        }
        RevocationEvent::Subject { subject, version } => {
            let v = snapshot.versions.entry(subject).or_insert(0);
            *v = (*v).max(version);
        }
        RevocationEvent::Resync => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_until_loaded_and_after_resync() {
        let c = RevocationCache::new();
        assert_eq!(c.check("j", "s", "alice", 0), None);
        c.load(RevocationSnapshot::default());
        assert_eq!(c.check("j", "s", "alice", 0), Some(Ok(())));
        c.apply(RevocationEvent::Resync);
        assert_eq!(c.check("j", "s", "alice", 0), None);
    }

    #[test]
    fn each_kind_of_revocation() {
        let c = RevocationCache::new();
        c.load(RevocationSnapshot::default());
        c.apply(RevocationEvent::Jti {
            jti: "j1".into(),
            exp: 100,
        });
        c.apply(RevocationEvent::Family("s1".into()));
        c.apply(RevocationEvent::Subject {
            subject: "alice".into(),
            version: 2,
        });
        assert_eq!(c.check("j1", "s", "bob", 0), Some(Err(Revoked::Token)));
        assert_eq!(c.check("j2", "s1", "bob", 0), Some(Err(Revoked::Session)));
        assert_eq!(c.check("j2", "s2", "alice", 1), Some(Err(Revoked::Subject)));
        assert_eq!(c.check("j2", "s2", "alice", 2), Some(Ok(())));
        // Versions never go back.
        c.apply(RevocationEvent::Subject {
            subject: "alice".into(),
            version: 1,
        });
        assert_eq!(c.version("alice"), Some(2));
        c.purge(100);
        assert_eq!(c.check("j1", "s", "bob", 0), Some(Ok(())));
    }

    #[test]
    fn events_during_a_reload_survive_an_older_snapshot() {
        let c = RevocationCache::new();
        c.begin_reload();
        // The snapshot was read before this revocation reached the store...
        c.apply(RevocationEvent::Family("s1".into()));
        // ...so it does not contain it; the replay puts it back.
        assert!(c.load(RevocationSnapshot::default()));
        assert_eq!(c.check("j", "s1", "bob", 0), Some(Err(Revoked::Session)));
    }

    #[test]
    fn resync_during_a_reload_leaves_the_picture_stale() {
        let c = RevocationCache::new();
        c.begin_reload();
        c.apply(RevocationEvent::Resync);
        assert!(!c.load(RevocationSnapshot::default()));
        assert_eq!(c.check("j", "s", "bob", 0), None);
        // The next reload without lost events succeeds.
        c.begin_reload();
        assert!(c.load(RevocationSnapshot::default()));
        assert_eq!(c.check("j", "s", "bob", 0), Some(Ok(())));
    }
}
