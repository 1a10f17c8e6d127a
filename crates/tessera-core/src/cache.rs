//! The verified-credential cache.
//!
//! A credential that verified before and is still within its time window is
//! accepted again without repeating the signature check. Rules:
//! - only credentials that passed full verification are inserted, so a flood
//!   of garbage can never evict anything: it never gets in;
//! - the entry is found by a hash but matched by the *whole credential
//!   text*, so no two different credentials can share an entry;
//! - time is re-checked on every hit with the verifier's policy and clock,
//!   so a hit never returns what a full verification would refuse at that
//!   instant (revocation is the session layer's job and is checked after the
//!   verifier, hit or miss);
//! - memory is bounded by entries and by bytes (credential text plus a fixed
//!   per-entry estimate); when full, expired entries go first, then
//!   arbitrary ones of the same shard.

use crate::identity::Identity;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, RwLock};

const SHARDS: usize = 16;
/// Approximate bytes an entry costs beyond the credential text.
const ENTRY_OVERHEAD: usize = 512;

/// Bounds of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Most entries kept.
    pub max_entries: usize,
    /// Most bytes kept (credential text plus per-entry overhead).
    pub max_bytes: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_entries: 100_000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

struct Entry {
    credential: Box<str>,
    identity: Arc<Identity>,
}

#[derive(Default)]
struct Shard {
    map: HashMap<u64, Vec<Entry>>,
    entries: usize,
    bytes: usize,
}

/// A bounded map from credential text to its verified identity.
pub struct VerifiedCache {
    config: CacheConfig,
    hasher: RandomState,
    shards: Vec<RwLock<Shard>>,
}

impl std::fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedCache")
            .field("config", &self.config)
            .field("len", &self.len())
            .finish()
    }
}

impl VerifiedCache {
    /// An empty cache.
    pub fn new(config: CacheConfig) -> Self {
        VerifiedCache {
            config,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
        }
    }

    fn locate(&self, credential: &str) -> (u64, &RwLock<Shard>) {
        let h = self.hasher.hash_one(credential);
        (h, &self.shards[(h as usize) % SHARDS])
    }

    /// The identity cached for exactly this credential text.
    pub fn get(&self, credential: &str) -> Option<Arc<Identity>> {
        let (h, shard) = self.locate(credential);
        let guard = shard.read().ok()?;
        guard
            .map
            .get(&h)?
            .iter()
            .find(|e| &*e.credential == credential)
            .map(|e| Arc::clone(&e.identity))
    }

    /// Remembers a credential that has just passed full verification.
    pub fn insert(&self, credential: &str, identity: Arc<Identity>, now: i64) {
        let cost = credential.len() + ENTRY_OVERHEAD;
        let per_shard_entries = (self.config.max_entries / SHARDS).max(1);
        let per_shard_bytes = (self.config.max_bytes / SHARDS).max(cost);
        if self.config.max_entries == 0 || cost > per_shard_bytes {
            return;
        }
        let (h, shard) = self.locate(credential);
        let Ok(mut s) = shard.write() else { return };
        if s.map
            .get(&h)
            .is_some_and(|v| v.iter().any(|e| &*e.credential == credential))
        {
            return;
        }
        if s.entries + 1 > per_shard_entries || s.bytes + cost > per_shard_bytes {
            evict(&mut s, now, per_shard_entries, per_shard_bytes, cost);
        }
        s.entries += 1;
        s.bytes += cost;
        s.map.entry(h).or_default().push(Entry {
            credential: credential.into(),
            identity,
        });
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .filter_map(|s| s.read().ok())
            .map(|s| s.entries)
            .sum()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes accounted.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .filter_map(|s| s.read().ok())
            .map(|s| s.bytes)
            .sum()
    }

    /// Drops everything (after a key change).
    pub fn clear(&self) {
        for s in &self.shards {
            if let Ok(mut g) = s.write() {
                *g = Shard::default();
            }
        }
    }
}

fn evict(s: &mut Shard, now: i64, max_entries: usize, max_bytes: usize, incoming: usize) {
    let fits = |s: &Shard| s.entries < max_entries && s.bytes + incoming <= max_bytes;
    // Expired entries first.
    let mut freed_entries = 0;
    let mut freed_bytes = 0;
    s.map.retain(|_, bucket| {
        bucket.retain(|e| {
            let dead = e.identity.expires_at.is_some_and(|exp| exp <= now);
            if dead {
                freed_entries += 1;
                freed_bytes += e.credential.len() + ENTRY_OVERHEAD;
            }
            !dead
        });
        !bucket.is_empty()
    });
    s.entries -= freed_entries;
    s.bytes -= freed_bytes;
    // Then arbitrary entries (HashMap order is randomized per process).
    while !fits(s) {
        let Some(&h) = s.map.keys().next() else { break };
        if let Some(bucket) = s.map.get_mut(&h) {
            if let Some(e) = bucket.pop() {
                s.entries -= 1;
                s.bytes -= e.credential.len() + ENTRY_OVERHEAD;
            }
            if bucket.is_empty() {
                s.map.remove(&h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Format;
    use crate::json::Object;

    fn id(sub: &str, exp: i64) -> Arc<Identity> {
        Arc::new(Identity {
            format: Format::Jwt,
            alg: "HS256".into(),
            issuer: None,
            subject: sub.into(),
            audience: vec![],
            expires_at: Some(exp),
            not_before: None,
            issued_at: None,
            id: None,
            kid: None,
            claims: Object::new(),
        })
    }

    #[test]
    fn exact_match_only() {
        let c = VerifiedCache::new(CacheConfig::default());
        c.insert("a.b.c", id("alice", 100), 0);
        assert_eq!(c.get("a.b.c").unwrap().subject, "alice");
        assert!(c.get("a.b.d").is_none());
        assert!(c.get("a.b.c ").is_none());
    }

    #[test]
    fn bounded_by_entries_and_bytes() {
        let c = VerifiedCache::new(CacheConfig {
            max_entries: 64,
            max_bytes: usize::MAX,
        });
        for i in 0..10_000 {
            c.insert(&format!("token-{i}"), id("x", 1_000), 0);
        }
        assert!(c.len() <= 64, "{}", c.len());
        let c = VerifiedCache::new(CacheConfig {
            max_entries: 1_000_000,
            max_bytes: 16 * 4096,
        });
        for i in 0..10_000 {
            c.insert(&format!("{i}-{}", "x".repeat(1000)), id("x", 1_000), 0);
        }
        assert!(c.bytes() <= 16 * 4096, "{}", c.bytes());
    }

    #[test]
    fn expired_entries_are_evicted_first() {
        let mut shard = Shard::default();
        for (text, exp) in [("old", 10), ("live", 1_000)] {
            shard.entries += 1;
            shard.bytes += text.len() + ENTRY_OVERHEAD;
            shard.map.insert(
                shard.entries as u64,
                vec![Entry {
                    credential: text.into(),
                    identity: id("x", exp),
                }],
            );
        }
        evict(&mut shard, 50, 2, usize::MAX, 10);
        let left: Vec<&str> = shard
            .map
            .values()
            .flatten()
            .map(|e| &*e.credential)
            .collect();
        assert_eq!(left, vec!["live"]);
        assert_eq!(shard.entries, 1);
        assert_eq!(shard.bytes, 4 + ENTRY_OVERHEAD);
    }
}
