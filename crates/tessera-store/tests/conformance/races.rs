//! Races: many callers on two instances, exactly one winner.

use std::collections::HashMap;
use std::sync::Arc;

use tessera_store::{RotateOutcome, Store};
use tessera_testkit::store::{base, hash, Backend};

use crate::{family, token};

const RACERS: usize = 50;
const ROUNDS: usize = 4;

pub(crate) async fn concurrent_rotations_have_one_winner(b: &Backend) {
    let a = b.open().await;
    let c = b.open().await;
    let t = base();
    for round in 0..ROUNDS {
        let id = format!("race-{round}");
        let first = 1_000_000 * (round as u64 + 1);
        a.create_family(&family(&id, "alice", t, t + 1000), &token(first, t + 500))
            .await
            .unwrap();
        let mut tasks = vec![];
        for i in 0..RACERS {
            let st: Arc<dyn Store> = if i % 2 == 0 { a.clone() } else { c.clone() };
            let succ = token(first + 1 + i as u64, t + 600);
            tasks.push(tokio::spawn(async move {
                let o = st.rotate_refresh(&hash(first), &succ, t + 1, 0).await;
                (succ.hash, o)
            }));
        }
        let mut counts: HashMap<&'static str, usize> = HashMap::new();
        let mut winner = None;
        for task in tasks {
            let (succ, o) = task.await.unwrap();
            let o = o.unwrap_or_else(|e| panic!("round {round}: rotation failed: {e}"));
            let name = match o {
                RotateOutcome::Rotated { .. } => {
                    winner = Some(succ);
                    "rotated"
                }
                RotateOutcome::Reissued { .. } => "reissued",
                RotateOutcome::ReuseDetected { .. } => "reuse",
                RotateOutcome::Revoked => "revoked",
                RotateOutcome::Expired => "expired",
                RotateOutcome::NotFound => "notfound",
            };
            *counts.entry(name).or_default() += 1;
        }
        // One winner; the first loser detects reuse and revokes the family;
        // every later one finds it revoked.
        assert_eq!(counts.get("rotated"), Some(&1), "round {round}: {counts:?}");
        assert_eq!(counts.get("reuse"), Some(&1), "round {round}: {counts:?}");
        assert_eq!(
            counts.get("revoked"),
            Some(&(RACERS - 2)),
            "round {round}: {counts:?}"
        );
        // The winner's successor died with the family.
        let winner = winner.expect("winner");
        let o = c
            .rotate_refresh(&winner, &token(first + 999, t + 600), t + 2, 0)
            .await
            .unwrap();
        assert_eq!(o, RotateOutcome::Revoked, "round {round}");
    }
}

/// Issue 17, finding 10: 30 concurrent refreshes of one token within the
/// grace window leave one live chain. The first rotates and every later
/// one replaces the successor before it; the 30 successors presented
/// together then end the family at the first replaced one (at most one of
/// them, the live one, can rotate before that).
pub(crate) async fn concurrent_reissues_leave_one_live_chain(b: &Backend) {
    const N: u64 = 30;
    let a = b.open().await;
    let c = b.open().await;
    let t = base();
    for round in 0..ROUNDS as u64 {
        let id = format!("grace-race-{round}");
        let first = 10_000_000 * (round + 1);
        a.create_family(&family(&id, "alice", t, t + 1000), &token(first, t + 500))
            .await
            .unwrap();
        let mut tasks = vec![];
        for i in 0..N {
            let st: Arc<dyn Store> = if i % 2 == 0 { a.clone() } else { c.clone() };
            let succ = token(first + 1 + i, t + 600);
            tasks.push(tokio::spawn(async move {
                st.rotate_refresh(&hash(first), &succ, t + 1, 10).await
            }));
        }
        let mut counts: HashMap<&'static str, u64> = HashMap::new();
        for task in tasks {
            let o = task.await.unwrap().expect("rotation");
            let name = match o {
                RotateOutcome::Rotated { .. } => "rotated",
                RotateOutcome::Reissued { .. } => "reissued",
                other => panic!("round {round}: {other:?}"),
            };
            *counts.entry(name).or_default() += 1;
        }
        assert_eq!(counts.get("rotated"), Some(&1), "round {round}: {counts:?}");
        assert_eq!(
            counts.get("reissued"),
            Some(&(N - 1)),
            "round {round}: {counts:?}"
        );
        // Every successor now presented at once.
        let mut tasks = vec![];
        for i in 0..N {
            let st: Arc<dyn Store> = if i % 2 == 0 { c.clone() } else { a.clone() };
            let next = token(first + 1_000 + i, t + 600);
            tasks.push(tokio::spawn(async move {
                let o = st
                    .rotate_refresh(&hash(first + 1 + i), &next, t + 2, 10)
                    .await;
                (next.hash, o)
            }));
        }
        let mut counts: HashMap<&'static str, u64> = HashMap::new();
        let mut continued = None;
        for task in tasks {
            let (next, o) = task.await.unwrap();
            let name = match o.expect("rotation") {
                RotateOutcome::Rotated { .. } => {
                    continued = Some(next);
                    "rotated"
                }
                RotateOutcome::ReuseDetected { .. } => "reuse",
                RotateOutcome::Revoked => "revoked",
                other => panic!("round {round}: {other:?}"),
            };
            *counts.entry(name).or_default() += 1;
        }
        let rotated = counts.get("rotated").copied().unwrap_or(0);
        assert!(rotated <= 1, "round {round}: {counts:?}");
        assert_eq!(counts.get("reuse"), Some(&1), "round {round}: {counts:?}");
        assert_eq!(
            rotated + counts.get("revoked").copied().unwrap_or(0),
            N - 1,
            "round {round}: {counts:?}"
        );
        assert!(a.family(&id).await.unwrap().expect("family").revoked);
        if let Some(next) = continued {
            let o = c
                .rotate_refresh(&next, &token(first + 5_000, t + 600), t + 3, 10)
                .await
                .unwrap();
            assert_eq!(o, RotateOutcome::Revoked, "round {round}");
        }
    }
}

pub(crate) async fn concurrent_nonce_consumption_has_one_winner(b: &Backend) {
    let a = b.open().await;
    let c = b.open().await;
    let t = base();
    for round in 0..ROUNDS {
        let nonce = format!("nonce-{round}");
        a.put_nonce(&nonce, t + 300).await.unwrap();
        let mut tasks = vec![];
        for i in 0..RACERS {
            let st: Arc<dyn Store> = if i % 2 == 0 { a.clone() } else { c.clone() };
            let nonce = nonce.clone();
            tasks.push(tokio::spawn(
                async move { st.consume_nonce(&nonce, t).await },
            ));
        }
        let mut wins = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() {
                wins += 1;
            }
        }
        assert_eq!(wins, 1, "round {round}");

        // Same for the replay guard.
        let id = format!("event-{round}");
        let mut tasks = vec![];
        for i in 0..RACERS {
            let st: Arc<dyn Store> = if i % 2 == 0 { a.clone() } else { c.clone() };
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                st.remember_once(&id, t + 300, t).await
            }));
        }
        let mut wins = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() {
                wins += 1;
            }
        }
        assert_eq!(wins, 1, "remember_once round {round}");
    }
}
