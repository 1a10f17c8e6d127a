//! Revocation: families, `jti`s, token versions (logout-all), the
//! snapshot and purging.

use std::time::Duration;

use tessera_store::{Invalidation, RotateOutcome};
use tessera_testkit::store::{base, expect_event, hash, next_event, Backend, Kind};

use crate::{family, is_rotated, token};

pub(crate) async fn revoke_families(b: &Backend) {
    let s = b.open().await;
    let mut rx = s.subscribe();
    let t = base();
    s.create_family(&family("a1", "alice", t, t + 1000), &token(1, t + 500))
        .await
        .unwrap();
    s.create_family(&family("a2", "alice", t, t + 1000), &token(2, t + 500))
        .await
        .unwrap();
    s.create_family(&family("a3", "alice", t, t + 5), &token(3, t + 5))
        .await
        .unwrap();
    s.create_family(&family("a4", "alice", t, t + 1000), &token(4, t + 500))
        .await
        .unwrap();
    s.create_family(&family("b1", "bob", t, t + 1000), &token(5, t + 500))
        .await
        .unwrap();

    assert!(s.revoke_family("a4", t + 10).await.unwrap());
    assert!(
        !s.revoke_family("a4", t + 10).await.unwrap(),
        "already revoked"
    );
    assert!(!s.revoke_family("zzz", t + 10).await.unwrap(), "unknown");
    expect_event(
        &mut rx,
        &Invalidation::Family("a4".into()),
        Duration::from_secs(1),
    )
    .await;

    // a1 and a2: live; a3 expired; a4 already revoked; b1 another subject.
    assert_eq!(s.revoke_subject_families("alice", t + 10).await.unwrap(), 2);
    let mut got = vec![];
    for _ in 0..2 {
        match next_event(&mut rx, Duration::from_secs(1)).await {
            Some(Invalidation::Family(id)) => got.push(id),
            other => panic!("expected a family invalidation, got {other:?}"),
        }
    }
    got.sort();
    assert_eq!(got, ["a1", "a2"]);
    assert_eq!(next_event(&mut rx, Duration::from_millis(300)).await, None);
    assert_eq!(s.revoke_subject_families("alice", t + 11).await.unwrap(), 0);
    assert_eq!(
        s.revoke_subject_families("nobody", t + 11).await.unwrap(),
        0
    );

    for (id, revoked) in [("a1", true), ("a2", true), ("a4", true), ("b1", false)] {
        let f = s.family(id).await.unwrap().expect(id);
        assert_eq!(f.revoked, revoked, "{id}");
    }
    let o = s
        .rotate_refresh(&hash(1), &token(9, t + 600), t + 12, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Revoked);
    let o = s
        .rotate_refresh(&hash(5), &token(10, t + 600), t + 12, 10)
        .await
        .unwrap();
    assert!(is_rotated(&o), "bob is untouched: {o:?}");
}

pub(crate) async fn revoke_jti_until_exp(b: &Backend) {
    let s = b.open().await;
    let mut rx = s.subscribe();
    let t = base();
    s.revoke_jti("j1", t + 100).await.unwrap();
    expect_event(
        &mut rx,
        &Invalidation::Jti {
            jti: "j1".into(),
            expires_at: t + 100,
        },
        Duration::from_secs(1),
    )
    .await;
    assert!(s.is_jti_revoked("j1", t).await.unwrap());
    assert!(s.is_jti_revoked("j1", t + 99).await.unwrap());
    assert!(
        !s.is_jti_revoked("j1", t + 100).await.unwrap(),
        "ends at exp"
    );
    assert!(!s.is_jti_revoked("j2", t).await.unwrap(), "never revoked");

    // Revoking again with an earlier expiry keeps the later one.
    s.revoke_jti("j1", t + 50).await.unwrap();
    expect_event(
        &mut rx,
        &Invalidation::Jti {
            jti: "j1".into(),
            expires_at: t + 100,
        },
        Duration::from_secs(1),
    )
    .await;
    assert!(s.is_jti_revoked("j1", t + 75).await.unwrap());
    // A later expiry extends it.
    s.revoke_jti("j1", t + 200).await.unwrap();
    assert!(s.is_jti_revoked("j1", t + 150).await.unwrap());
    // Visible from another instance.
    let s2 = b.open().await;
    assert!(s2.is_jti_revoked("j1", t + 199).await.unwrap());
}

pub(crate) async fn token_versions(b: &Backend) {
    let s = b.open().await;
    let mut rx = s.subscribe();
    assert_eq!(s.token_version("alice").await.unwrap(), 0);
    assert_eq!(s.bump_token_version("alice", 0).await.unwrap(), 1);
    assert_eq!(s.bump_token_version("alice", 0).await.unwrap(), 2);
    assert_eq!(s.token_version("alice").await.unwrap(), 2);
    assert_eq!(s.token_version("bob").await.unwrap(), 0);
    for v in [1, 2] {
        expect_event(
            &mut rx,
            &Invalidation::Subject {
                subject: "alice".into(),
                version: v,
            },
            Duration::from_secs(1),
        )
        .await;
    }
    // Concurrent bumps from two instances never lose an increment.
    let s2 = b.open().await;
    let mut tasks = vec![];
    for i in 0..20 {
        let st = if i % 2 == 0 { s.clone() } else { s2.clone() };
        tasks.push(tokio::spawn(async move {
            st.bump_token_version("carol", 0).await
        }));
    }
    let mut seen = vec![];
    for task in tasks {
        seen.push(task.await.unwrap().unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=20).collect::<Vec<u64>>());
    assert_eq!(s2.token_version("carol").await.unwrap(), 20);
}

/// Issue 17, finding 1: the version a logout-all sets is its instant,
/// `max(previous + 1, now)`, so it also dates the logout-all for
/// credentials that carry an issue time.
pub(crate) async fn token_version_is_the_logout_all_instant(b: &Backend) {
    let s = b.open().await;
    let mut rx = s.subscribe();
    let t = base();
    let tu = t as u64;
    assert_eq!(s.bump_token_version("dave", t).await.unwrap(), tu);
    expect_event(
        &mut rx,
        &Invalidation::Subject {
            subject: "dave".into(),
            version: tu,
        },
        Duration::from_secs(1),
    )
    .await;
    // Twice within one second: still a new version (access tokens minted
    // in between carry `ver = t` and must die too).
    assert_eq!(s.bump_token_version("dave", t).await.unwrap(), tu + 1);
    // A later logout-all jumps to its own instant...
    assert_eq!(
        s.bump_token_version("dave", t + 100).await.unwrap(),
        tu + 100
    );
    // ...and a clock behind the stored instant never moves it back.
    assert_eq!(
        s.bump_token_version("dave", t + 50).await.unwrap(),
        tu + 101
    );
    // A counter from before the rule becomes the instant at the next bump.
    assert_eq!(s.bump_token_version("erin", 0).await.unwrap(), 1);
    assert_eq!(s.bump_token_version("erin", t).await.unwrap(), tu);
    // Every instance reads the same, and the snapshot carries it.
    let s2 = b.open().await;
    assert_eq!(s2.token_version("dave").await.unwrap(), tu + 101);
    let snap = s2.revocation_snapshot(t, 100).await.unwrap();
    assert!(snap.versions.contains(&("dave".to_string(), tu + 101)));
    // Concurrent logout-alls in one second from two instances: each gets
    // its own version, none is lost.
    let mut tasks = vec![];
    for i in 0..20 {
        let st = if i % 2 == 0 { s.clone() } else { s2.clone() };
        tasks.push(tokio::spawn(async move {
            st.bump_token_version("frank", t).await
        }));
    }
    let mut seen = vec![];
    for task in tasks {
        seen.push(task.await.unwrap().unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (tu..tu + 20).collect::<Vec<u64>>());
}

pub(crate) async fn revocation_snapshot(b: &Backend) {
    let s = b.open().await;
    let t = base();
    s.revoke_jti("j-live", t + 100).await.unwrap();
    s.revoke_jti("j-later", t + 300).await.unwrap();
    s.revoke_jti("j-old", t + 10).await.unwrap();
    s.create_family(&family("f-rev", "alice", t, t + 1000), &token(1, t + 500))
        .await
        .unwrap();
    s.create_family(&family("f-live", "alice", t, t + 1000), &token(2, t + 500))
        .await
        .unwrap();
    s.create_family(&family("f-rev-old", "alice", t, t + 20), &token(3, t + 20))
        .await
        .unwrap();
    assert!(s.revoke_family("f-rev", t + 1).await.unwrap());
    assert!(s.revoke_family("f-rev-old", t + 1).await.unwrap());
    s.bump_token_version("alice", 0).await.unwrap();
    s.bump_token_version("bob", 0).await.unwrap();
    s.bump_token_version("bob", 0).await.unwrap();

    let snap = s.revocation_snapshot(t + 50, 100).await.unwrap();
    assert!(snap.complete);
    assert_eq!(
        snap.jtis,
        vec![
            ("j-later".to_string(), t + 300),
            ("j-live".to_string(), t + 100)
        ]
    );
    assert_eq!(snap.families, vec!["f-rev".to_string()]);
    assert_eq!(
        snap.versions,
        vec![("alice".to_string(), 1), ("bob".to_string(), 2)]
    );

    let cut = s.revocation_snapshot(t + 50, 1).await.unwrap();
    assert!(!cut.complete);
    assert_eq!(cut.jtis, vec![("j-later".to_string(), t + 300)]);
    assert_eq!(cut.versions.len(), 1);
}

pub(crate) async fn purge_removes_only_expired(b: &Backend) {
    let s = b.open().await;
    let t = base();
    s.put_nonce("old", t + 10).await.unwrap();
    s.put_nonce("live", t + 1000).await.unwrap();
    assert!(s.remember_once("seen-old", t + 10, t).await.unwrap());
    assert!(s.remember_once("seen-live", t + 1000, t).await.unwrap());
    s.revoke_jti("j-old", t + 10).await.unwrap();
    s.revoke_jti("j-live", t + 1000).await.unwrap();
    s.create_family(&family("f-old", "alice", t, t + 10), &token(1, t + 10))
        .await
        .unwrap();
    assert!(s.revoke_family("f-old", t + 1).await.unwrap());
    s.create_family(&family("f-live", "alice", t, t + 1000), &token(2, t + 1000))
        .await
        .unwrap();

    let removed = s.purge_expired(t + 20).await.unwrap();
    match b.kind {
        // nonce, seen id, jti, token, family.
        Kind::Sqlite | Kind::Postgres => assert_eq!(removed, 5),
        // Keys expire natively; the revoked-jti and revoked-family index
        // entries are what purge removes.
        Kind::Redis => assert_eq!(removed, 2),
    }
    assert_eq!(
        s.purge_expired(t + 20).await.unwrap(),
        0,
        "nothing left to purge"
    );

    let snap = s.revocation_snapshot(t + 20, 100).await.unwrap();
    assert_eq!(snap.jtis, vec![("j-live".to_string(), t + 1000)]);
    assert!(snap.families.is_empty());
    // What was live still is.
    assert!(s.consume_nonce("live", t + 20).await.unwrap());
    assert!(!s
        .remember_once("seen-live", t + 1000, t + 20)
        .await
        .unwrap());
    assert!(s.is_jti_revoked("j-live", t + 20).await.unwrap());
    let o = s
        .rotate_refresh(&hash(2), &token(3, t + 1000), t + 20, 0)
        .await
        .unwrap();
    assert!(is_rotated(&o), "{o:?}");
    // What expired stays refused.
    assert!(!s.consume_nonce("old", t + 20).await.unwrap());
    assert!(
        s.remember_once("seen-old", t + 100, t + 20).await.unwrap(),
        "expired id is free again"
    );
    let o = s
        .rotate_refresh(&hash(1), &token(4, t + 1000), t + 20, 0)
        .await
        .unwrap();
    assert!(
        matches!(o, RotateOutcome::NotFound | RotateOutcome::Revoked),
        "{o:?}"
    );
}
