//! Unit tests of revocation.rs.

use super::*;
use std::sync::atomic::{AtomicI64, Ordering};

struct TestClock(AtomicI64);
impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn cache_at(now: i64) -> (RevocationCache, Arc<TestClock>) {
    let clock = Arc::new(TestClock(AtomicI64::new(now)));
    (RevocationCache::new(1_020, clock.clone()), clock)
}

impl RevocationCache {
    fn new_for_test() -> Self {
        cache_at(0).0
    }
}

#[test]
fn stale_until_loaded_and_after_resync() {
    let c = RevocationCache::new_for_test();
    assert_eq!(c.check("j", "s", "alice", 0), None);
    c.load(RevocationSnapshot::default());
    assert_eq!(c.check("j", "s", "alice", 0), Some(Ok(())));
    c.apply(RevocationEvent::Resync);
    assert_eq!(c.check("j", "s", "alice", 0), None);
}

#[test]
fn each_kind_of_revocation() {
    let c = RevocationCache::new_for_test();
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
}

/// Issue 17, finding 12: ended sessions and revoked `jti`s leave the
/// picture once no token they cover can be alive; logout-all versions
/// stay.
#[test]
fn pruning_drops_what_no_live_token_needs() {
    let (c, clock) = cache_at(1_000);
    c.load(RevocationSnapshot {
        jtis: [("j-old".to_string(), 1_100)].into(),
        families: ["f-loaded".to_string()].into(),
        versions: [("alice".to_string(), 900)].into(),
    });
    clock.0.store(1_500, Ordering::SeqCst);
    c.apply(RevocationEvent::Family("f-late".into()));
    c.apply(RevocationEvent::Jti {
        jti: "j-late".into(),
        exp: 3_000,
    });
    let all = RevocationEntries {
        jtis: 2,
        families: 2,
        subjects: 1,
    };
    assert_eq!(c.entries(), all);
    // The jti expires at 1100; the session loaded at 1000 is kept until
    // 1000 + 1020 (exclusive).
    clock.0.store(2_019, Ordering::SeqCst);
    c.prune();
    assert_eq!(c.check("j-old", "s", "bob", 0), Some(Ok(())));
    assert_eq!(
        c.check("j", "f-loaded", "bob", 0),
        Some(Err(Revoked::Session))
    );
    clock.0.store(2_020, Ordering::SeqCst);
    c.prune();
    assert_eq!(c.check("j", "f-loaded", "bob", 0), Some(Ok(())));
    assert_eq!(
        c.check("j", "f-late", "bob", 0),
        Some(Err(Revoked::Session))
    );
    assert_eq!(
        c.entries(),
        RevocationEntries {
            jtis: 1,
            families: 1,
            subjects: 1
        }
    );
    // The session learned of at 1500 goes at 2520, the jti at its exp.
    clock.0.store(3_000, Ordering::SeqCst);
    c.prune();
    assert_eq!(
        c.entries(),
        RevocationEntries {
            jtis: 0,
            families: 0,
            subjects: 1
        }
    );
    // The subject's logout-all still refuses what was issued before it.
    assert_eq!(c.check("j", "s", "alice", 899), Some(Err(Revoked::Subject)));
    assert_eq!(
        c.check_issued(None, "alice", Some(900)),
        Some(Err(Revoked::Subject))
    );
}

#[test]
fn issued_credentials_die_at_the_logout_all_instant() {
    let (c, _) = cache_at(1_000);
    c.load(RevocationSnapshot::default());
    c.apply(RevocationEvent::Subject {
        subject: "alice".into(),
        version: 1_000,
    });
    c.apply(RevocationEvent::Jti {
        jti: "nwt:ab".into(),
        exp: 2_000,
    });
    // Before, and in the same second: refused; after: accepted.
    for (iat, want) in [
        (Some(999), Err(Revoked::Subject)),
        (Some(1_000), Err(Revoked::Subject)),
        (Some(1_001), Ok(())),
        (None, Err(Revoked::Subject)),
    ] {
        assert_eq!(c.check_issued(None, "alice", iat), Some(want), "{iat:?}");
    }
    // Another subject, never logged out everywhere.
    assert_eq!(c.check_issued(None, "bob", None), Some(Ok(())));
    // Revoked by id whatever its time.
    assert_eq!(
        c.check_issued(Some("nwt:ab"), "bob", Some(5_000)),
        Some(Err(Revoked::Token))
    );
    c.apply(RevocationEvent::Resync);
    assert_eq!(c.check_issued(None, "bob", Some(5_000)), None);
}

#[test]
fn events_during_a_reload_survive_an_older_snapshot() {
    let c = RevocationCache::new_for_test();
    c.begin_reload();
    // The snapshot was read before this revocation reached the store...
    c.apply(RevocationEvent::Family("s1".into()));
    // ...so it does not contain it; the replay puts it back.
    assert!(c.load(RevocationSnapshot::default()));
    assert_eq!(c.check("j", "s1", "bob", 0), Some(Err(Revoked::Session)));
}

#[test]
fn resync_during_a_reload_leaves_the_picture_stale() {
    let c = RevocationCache::new_for_test();
    c.begin_reload();
    c.apply(RevocationEvent::Resync);
    assert!(!c.load(RevocationSnapshot::default()));
    assert_eq!(c.check("j", "s", "bob", 0), None);
    // The next reload without lost events succeeds.
    c.begin_reload();
    assert!(c.load(RevocationSnapshot::default()));
    assert_eq!(c.check("j", "s", "bob", 0), Some(Ok(())));
}

#[test]
fn feed_health_counts_resyncs_and_the_lag_of_logout_all_events() {
    let (c, clock) = cache_at(1_000);
    assert_eq!(c.feed_health(), FeedHealth::default());
    c.load(RevocationSnapshot::default());
    assert!(c.feed_health().fresh);
    // Written at 990 by another instance, applied here at 1000.
    c.apply(RevocationEvent::Subject {
        subject: "alice".into(),
        version: 990,
    });
    assert_eq!(c.feed_health().lag_seconds, Some(10));
    // A version ahead of this clock (repeated logout-all) is no lag.
    clock.0.store(1_001, Ordering::SeqCst);
    c.apply(RevocationEvent::Subject {
        subject: "alice".into(),
        version: 1_005,
    });
    assert_eq!(c.feed_health().lag_seconds, Some(0));
    c.apply(RevocationEvent::Family("f".into()));
    assert_eq!(c.feed_health().lag_seconds, Some(0));
    c.apply(RevocationEvent::Resync);
    c.apply(RevocationEvent::Resync);
    let h = c.feed_health();
    assert!(!h.fresh);
    assert_eq!(h.resyncs, 2);
}
