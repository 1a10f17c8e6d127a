//! The in-memory NIP-98 replay guard of the bare-verifier mode.

use crate::{AuthRejection, RejectionCode};
use axum::http::StatusCode;
use std::collections::HashMap;
use std::sync::Mutex;
use tessera_core::{ErrorCode, Identity};

/// Most NIP-98 event ids remembered by the in-memory replay guard.
const REPLAY_CAPACITY: usize = 100_000;
/// Most live NIP-98 event ids of one signer: past it that signer waits
/// (429), so no single signer can fill the guard for everyone.
const REPLAY_PER_SIGNER: usize = 1_000;

/// Event ids seen, with their signer and expiry, and how many live ids each
/// signer holds.
#[derive(Default)]
pub(crate) struct ReplayGuard {
    seen: HashMap<String, (String, i64)>,
    per_signer: HashMap<String, usize>,
}

impl ReplayGuard {
    /// Forgets expired ids.
    fn purge(&mut self, now: i64) {
        let per_signer = &mut self.per_signer;
        self.seen.retain(|_, (signer, exp)| {
            let live = *exp > now;
            if !live {
                if let Some(n) = per_signer.get_mut(signer.as_str()) {
                    *n = n.saturating_sub(1);
                }
            }
            live
        });
        self.per_signer.retain(|_, n| *n > 0);
    }
}

/// The in-memory NIP-98 replay guard: each event id once until it expires.
/// Bounded in all and per signer: one signer past [`REPLAY_PER_SIGNER`]
/// live events waits (429) while others go on; only when the whole guard
/// is full of live ids of many signers does everyone wait (503). A live id
/// is never forgotten to make room (that would allow its replay).
pub(crate) fn remember(
    replay: &Mutex<ReplayGuard>,
    id: &Identity,
    now: i64,
) -> Result<(), AuthRejection> {
    let key = id.id.clone().unwrap_or_default();
    let signer = id.issuer.clone().unwrap_or_else(|| id.subject.clone());
    let until = id.expires_at.unwrap_or(now + 60);
    let mut guard = match replay.lock() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    };
    if guard.seen.get(&key).is_some_and(|(_, exp)| *exp > now) {
        return Err(AuthRejection::unauthorized(
            ErrorCode::Replayed,
            "this NIP-98 event was already used; sign a new one",
        ));
    }
    let of_signer = |g: &ReplayGuard| g.per_signer.get(&signer).copied().unwrap_or(0);
    if guard.seen.len() >= REPLAY_CAPACITY || of_signer(&guard) >= REPLAY_PER_SIGNER {
        guard.purge(now);
    }
    if of_signer(&guard) >= REPLAY_PER_SIGNER {
        return Err(AuthRejection::other(
            StatusCode::TOO_MANY_REQUESTS,
            RejectionCode::RateLimited,
            "too many recent NIP-98 events from this signer; retry shortly",
        ));
    }
    if guard.seen.len() >= REPLAY_CAPACITY {
        return Err(AuthRejection::other(
            StatusCode::SERVICE_UNAVAILABLE,
            RejectionCode::TemporarilyUnavailable,
            "too many recent NIP-98 events; retry shortly",
        ));
    }
    if let Some((old_signer, _)) = guard.seen.insert(key, (signer.clone(), until)) {
        // An expired entry of the same id is replaced.
        if let Some(n) = guard.per_signer.get_mut(&old_signer) {
            *n = n.saturating_sub(1);
        }
    }
    *guard.per_signer.entry(signer).or_insert(0) += 1;
    Ok(())
}
