//! Refresh families: creation, rotation, the grace window, reissue and
//! reuse detection.

use std::time::Duration;

use tessera_store::{Invalidation, RotateOutcome, StoreErrorKind};
use tessera_testkit::store::{base, expect_event, hash, next_event, Backend};

use crate::{family, is_rotated, token};

pub(crate) async fn create_and_read_families(b: &Backend) {
    let s = b.open().await;
    let t = base();
    let f = family("fam-a", "0xAbC", t, t + 1000);
    s.create_family(&f, &token(1, t + 500)).await.unwrap();
    assert_eq!(s.family("fam-a").await.unwrap(), Some(f.clone()));
    assert_eq!(s.family_of_token(&hash(1)).await.unwrap(), Some(f.clone()));
    assert_eq!(s.family("nope").await.unwrap(), None);
    assert_eq!(s.family_of_token(&hash(99)).await.unwrap(), None);

    // Same family id again: conflict, nothing written.
    let e = s
        .create_family(&f, &token(2, t + 500))
        .await
        .expect_err("duplicate family id");
    assert_eq!(e.kind(), StoreErrorKind::Conflict, "{e}");
    assert_eq!(s.family_of_token(&hash(2)).await.unwrap(), None);

    // Same token hash in another family: conflict, family not created.
    let g = family("fam-b", "0xAbC", t, t + 1000);
    let e = s
        .create_family(&g, &token(1, t + 500))
        .await
        .expect_err("duplicate token hash");
    assert_eq!(e.kind(), StoreErrorKind::Conflict, "{e}");
    assert_eq!(s.family("fam-b").await.unwrap(), None);

    // A family created revoked reads back revoked.
    let mut r = family("fam-r", "0xAbC", t, t + 1000);
    r.revoked = true;
    s.create_family(&r, &token(3, t + 500)).await.unwrap();
    assert_eq!(s.family("fam-r").await.unwrap(), Some(r));
}

pub(crate) async fn rotation_rotates(b: &Backend) {
    let s = b.open().await;
    let t = base();
    let f = family("fam", "alice", t, t + 1000);
    s.create_family(&f, &token(1, t + 500)).await.unwrap();

    let o = s
        .rotate_refresh(&hash(1), &token(2, t + 600), t + 1, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Rotated { family: f.clone() });
    assert_eq!(s.family_of_token(&hash(2)).await.unwrap(), Some(f.clone()));
    let o = s
        .rotate_refresh(&hash(2), &token(3, t + 700), t + 2, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Rotated { family: f.clone() });
    // The chain goes on from another instance.
    let s2 = b.open().await;
    let o = s2
        .rotate_refresh(&hash(3), &token(4, t + 800), t + 3, 10)
        .await
        .unwrap();
    assert!(is_rotated(&o), "{o:?}");
    assert_eq!(s.family("fam").await.unwrap(), Some(f));
}

pub(crate) async fn rotation_reissues_within_grace(b: &Backend) {
    let s = b.open().await;
    let t = base();
    let f = family("fam", "alice", t, t + 1000);
    s.create_family(&f, &token(1, t + 500)).await.unwrap();
    let o = s
        .rotate_refresh(&hash(1), &token(2, t + 600), t + 1, 10)
        .await
        .unwrap();
    assert!(is_rotated(&o), "{o:?}");

    // The client lost the answer and presents the same token again.
    let o = s
        .rotate_refresh(&hash(1), &token(3, t + 600), t + 5, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Reissued { family: f.clone() });
    let o = s
        .rotate_refresh(&hash(1), &token(4, t + 600), t + 10, 10)
        .await
        .unwrap();
    assert_eq!(
        o,
        RotateOutcome::Reissued { family: f.clone() },
        "last second of grace"
    );
    // The latest successor is the live one, and its chain goes on.
    assert_eq!(s.family_of_token(&hash(4)).await.unwrap(), Some(f.clone()));
    let o = s
        .rotate_refresh(&hash(4), &token(5, t + 600), t + 10, 10)
        .await
        .unwrap();
    assert!(is_rotated(&o), "the latest successor rotates: {o:?}");
    let o = s
        .rotate_refresh(&hash(5), &token(6, t + 600), t + 11, 10)
        .await
        .unwrap();
    assert!(is_rotated(&o), "{o:?}");
    assert!(!s.family("fam").await.unwrap().expect("family").revoked);
}

/// Issue 17, finding 10: a reissue replaces the successor handed out
/// before; presenting the replaced one is reuse and ends the family.
pub(crate) async fn reissue_replaces_the_previous_successor(b: &Backend) {
    let s = b.open().await;
    let mut rx = s.subscribe();
    let t = base();
    let f = family("fam", "alice", t, t + 1000);
    s.create_family(&f, &token(1, t + 500)).await.unwrap();
    let o = s
        .rotate_refresh(&hash(1), &token(2, t + 600), t + 1, 10)
        .await
        .unwrap();
    assert!(is_rotated(&o), "{o:?}");
    let o = s
        .rotate_refresh(&hash(1), &token(3, t + 600), t + 2, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Reissued { family: f.clone() });
    // 2 was replaced by 3: unspent and within the grace window, yet reuse.
    let o = s
        .rotate_refresh(&hash(2), &token(4, t + 600), t + 3, 10)
        .await
        .unwrap();
    assert_eq!(
        o,
        RotateOutcome::ReuseDetected {
            family_id: "fam".into(),
            subject: "alice".into()
        }
    );
    expect_event(
        &mut rx,
        &Invalidation::Family("fam".into()),
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(s.family_of_token(&hash(4)).await.unwrap(), None);
    assert!(s.family("fam").await.unwrap().expect("family").revoked);
    // The live successor died with the family, from any instance.
    let s2 = b.open().await;
    let o = s2
        .rotate_refresh(&hash(3), &token(5, t + 600), t + 4, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Revoked);
}

/// Once the successor was used, its chain went on: the parent presented
/// again, even within the grace window, can no longer be a lost answer.
pub(crate) async fn repeat_after_the_successor_was_used_is_reuse(b: &Backend) {
    let s = b.open().await;
    let t = base();
    let f = family("fam", "alice", t, t + 1000);
    s.create_family(&f, &token(1, t + 500)).await.unwrap();
    for (from, to, at) in [(1, 2, t + 1), (2, 3, t + 2)] {
        let o = s
            .rotate_refresh(&hash(from), &token(to, t + 600), at, 10)
            .await
            .unwrap();
        assert!(is_rotated(&o), "{o:?}");
    }
    let o = s
        .rotate_refresh(&hash(1), &token(4, t + 600), t + 3, 10)
        .await
        .unwrap();
    assert_eq!(
        o,
        RotateOutcome::ReuseDetected {
            family_id: "fam".into(),
            subject: "alice".into()
        }
    );
    let o = s
        .rotate_refresh(&hash(3), &token(5, t + 600), t + 4, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Revoked);
}

pub(crate) async fn reuse_after_grace_revokes_the_family(b: &Backend) {
    let s = b.open().await;
    let mut rx = s.subscribe();
    let t = base();
    let f = family("fam", "alice", t, t + 1000);
    s.create_family(&f, &token(1, t + 500)).await.unwrap();
    let o = s
        .rotate_refresh(&hash(1), &token(2, t + 600), t + 1, 10)
        .await
        .unwrap();
    assert!(is_rotated(&o), "{o:?}");

    // The stolen old token comes back after the grace window.
    let o = s
        .rotate_refresh(&hash(1), &token(3, t + 600), t + 30, 10)
        .await
        .unwrap();
    assert_eq!(
        o,
        RotateOutcome::ReuseDetected {
            family_id: "fam".into(),
            subject: "alice".into()
        }
    );
    expect_event(
        &mut rx,
        &Invalidation::Family("fam".into()),
        Duration::from_secs(1),
    )
    .await;
    // The successor of the reuse was not stored...
    assert_eq!(s.family_of_token(&hash(3)).await.unwrap(), None);
    // ...the whole family is revoked...
    let revoked = s.family("fam").await.unwrap().expect("family");
    assert!(revoked.revoked);
    assert_eq!(s.family_of_token(&hash(2)).await.unwrap(), Some(revoked));
    // ...so the legitimate client's successor is dead too, and so is the
    // old token.
    let o = s
        .rotate_refresh(&hash(2), &token(4, t + 600), t + 31, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Revoked);
    let o = s
        .rotate_refresh(&hash(1), &token(5, t + 600), t + 32, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Revoked);
    assert_eq!(s.family_of_token(&hash(4)).await.unwrap(), None);
    // Already revoked: revoking again reports false and publishes nothing.
    assert!(!s.revoke_family("fam", t + 33).await.unwrap());
    assert_eq!(next_event(&mut rx, Duration::from_millis(300)).await, None);
}

pub(crate) async fn rotation_refuses_expired_revoked_and_unknown(b: &Backend) {
    let s = b.open().await;
    let t = base();
    // Token expiry.
    s.create_family(&family("f1", "alice", t, t + 1000), &token(1, t + 100))
        .await
        .unwrap();
    let o = s
        .rotate_refresh(&hash(1), &token(2, t + 600), t + 100, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Expired);
    assert_eq!(s.family_of_token(&hash(2)).await.unwrap(), None);
    // The token was not spent: it still rotates before its expiry.
    let o = s
        .rotate_refresh(&hash(1), &token(2, t + 600), t + 99, 10)
        .await
        .unwrap();
    assert!(is_rotated(&o), "{o:?}");

    // Family expiry (before the token's).
    s.create_family(&family("f2", "alice", t, t + 50), &token(3, t + 500))
        .await
        .unwrap();
    let o = s
        .rotate_refresh(&hash(3), &token(4, t + 600), t + 50, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Expired);

    // Revoked family.
    s.create_family(&family("f3", "alice", t, t + 1000), &token(5, t + 500))
        .await
        .unwrap();
    assert!(s.revoke_family("f3", t + 1).await.unwrap());
    let o = s
        .rotate_refresh(&hash(5), &token(6, t + 600), t + 2, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::Revoked);
    assert_eq!(s.family_of_token(&hash(6)).await.unwrap(), None);

    // Unknown token.
    let o = s
        .rotate_refresh(&hash(77), &token(8, t + 600), t, 10)
        .await
        .unwrap();
    assert_eq!(o, RotateOutcome::NotFound);
}

pub(crate) async fn rotation_successor_conflict_changes_nothing(b: &Backend) {
    let s = b.open().await;
    let t = base();
    s.create_family(&family("f1", "alice", t, t + 1000), &token(1, t + 500))
        .await
        .unwrap();
    s.create_family(&family("f2", "bob", t, t + 1000), &token(2, t + 500))
        .await
        .unwrap();
    let e = s
        .rotate_refresh(&hash(1), &token(2, t + 600), t + 1, 0)
        .await
        .expect_err("successor hash exists");
    assert_eq!(e.kind(), StoreErrorKind::Conflict, "{e}");
    // Token 1 was not spent by the failed attempt (grace 0 would otherwise
    // make this a reuse).
    let o = s
        .rotate_refresh(&hash(1), &token(3, t + 600), t + 2, 0)
        .await
        .unwrap();
    assert!(is_rotated(&o), "{o:?}");
    // Token 2 still belongs to bob.
    assert_eq!(
        s.family_of_token(&hash(2))
            .await
            .unwrap()
            .map(|f| f.subject),
        Some("bob".to_string())
    );
}
