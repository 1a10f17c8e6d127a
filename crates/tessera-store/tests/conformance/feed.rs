//! The invalidation feed: own events once, other instances' within 1 s.

use std::time::{Duration, Instant};

use tessera_store::{Invalidation, RotateOutcome};
use tessera_testkit::store::{base, expect_event, hash, next_event, Backend, Kind};

use crate::{family, token};

pub(crate) async fn own_events_arrive_once(b: &Backend) {
    let s = b.open().await;
    let mut rx = s.subscribe();
    let t = base();
    s.create_family(&family("f", "alice", t, t + 1000), &token(1, t + 500))
        .await
        .unwrap();
    s.revoke_jti("j", t + 100).await.unwrap();
    s.revoke_family("f", t).await.unwrap();
    s.bump_token_version("alice", 0).await.unwrap();
    let want = [
        Invalidation::Jti {
            jti: "j".into(),
            expires_at: t + 100,
        },
        Invalidation::Family("f".into()),
        Invalidation::Subject {
            subject: "alice".into(),
            version: 1,
        },
    ];
    for w in &want {
        expect_event(&mut rx, w, Duration::from_secs(1)).await;
    }
    // The backend's echo of our own messages is not delivered a second time.
    assert_eq!(next_event(&mut rx, Duration::from_millis(500)).await, None);
}

pub(crate) async fn invalidation_reaches_other_instances_within_1s(b: &Backend) {
    let a = b.open().await;
    // SQLite has no cross-process feed: "another instance" is the same one.
    let other = if b.kind == Kind::Sqlite {
        a.clone()
    } else {
        b.open().await
    };
    let mut rx = other.subscribe();
    let t = base();
    a.create_family(&family("f", "alice", t, t + 1000), &token(1, t + 500))
        .await
        .unwrap();
    a.create_family(&family("g", "bob", t, t + 1000), &token(2, t + 500))
        .await
        .unwrap();

    let mut worst = Duration::ZERO;
    let started = Instant::now();
    assert!(a.revoke_family("f", t).await.unwrap());
    let took = expect_event(
        &mut rx,
        &Invalidation::Family("f".into()),
        Duration::from_secs(1),
    )
    .await;
    worst = worst.max(started.elapsed().max(took));

    let started = Instant::now();
    a.revoke_jti("j", t + 100).await.unwrap();
    expect_event(
        &mut rx,
        &Invalidation::Jti {
            jti: "j".into(),
            expires_at: t + 100,
        },
        Duration::from_secs(1),
    )
    .await;
    worst = worst.max(started.elapsed());

    let started = Instant::now();
    a.bump_token_version("alice", 0).await.unwrap();
    expect_event(
        &mut rx,
        &Invalidation::Subject {
            subject: "alice".into(),
            version: 1,
        },
        Duration::from_secs(1),
    )
    .await;
    worst = worst.max(started.elapsed());

    let started = Instant::now();
    assert_eq!(a.revoke_subject_families("bob", t).await.unwrap(), 1);
    expect_event(
        &mut rx,
        &Invalidation::Family("g".into()),
        Duration::from_secs(1),
    )
    .await;
    worst = worst.max(started.elapsed());

    // Reuse detection on A is an invalidation too.
    a.create_family(&family("h", "carol", t, t + 1000), &token(3, t + 500))
        .await
        .unwrap();
    a.rotate_refresh(&hash(3), &token(4, t + 500), t, 0)
        .await
        .unwrap();
    let started = Instant::now();
    let o = a
        .rotate_refresh(&hash(3), &token(5, t + 500), t + 1, 0)
        .await
        .unwrap();
    assert!(matches!(o, RotateOutcome::ReuseDetected { .. }), "{o:?}");
    expect_event(
        &mut rx,
        &Invalidation::Family("h".into()),
        Duration::from_secs(1),
    )
    .await;
    worst = worst.max(started.elapsed());

    eprintln!(
        "{:?}: slowest cross-instance invalidation {worst:?}",
        b.kind
    );
    assert!(worst < Duration::from_secs(1), "{worst:?}");
}
