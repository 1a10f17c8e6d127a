//! The verified-credential cache.
//!
//! A credential that verified before and is still within its time window is
//! accepted again without repeating the signature check. Rules:
//! - only credentials that passed full verification are inserted, so a flood
//!   of garbage can never evict anything: it never gets in;
//! - the entry is found by a hash but matched by the *whole credential
//!   text* and the format it was verified as, so no two different
//!   credentials (nor one text read as two formats) can share an entry;
//! - time is re-checked on every hit with the verifier's policy and clock,
//!   so a hit never returns what a full verification would refuse at that
//!   instant (revocation is the session layer's job and is checked after the
//!   verifier, hit or miss);
//! - memory is bounded by entries and by bytes: what an entry really holds
//!   (the credential text, the identity with every claim built, the map's
//!   and the allocator's share, see `heap.rs`; an NWT's tags become a claim
//!   object several times the size of their text); when a shard is full it
//!   is cut down to 7/8 of its
//!   bounds (so the scan is paid once per many inserts): expired entries go
//!   first, then entries that were never looked up again, and only then
//!   arbitrary ones. A flood of distinct credentials each used once (even
//!   valid ones: anyone can sign an NWT with a key of their own) therefore
//!   only evicts its own kind, never the entries in real use.

use crate::identity::{Format, Identity};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

const SHARDS: usize = 16;

/// Bytes an entry costs whatever it holds: its slot in the bucket vector
/// (which starts with room for four), the map's slot for the bucket (at
/// least half the map's slots are in use), and the shared identity's
/// allocation.
const ENTRY_OVERHEAD: usize = crate::heap::alloc_bytes(4 * std::mem::size_of::<Entry>())
    + 2 * (std::mem::size_of::<(u64, Vec<Entry>)>() + 1)
    + crate::heap::alloc_bytes(2 * std::mem::size_of::<usize>() + std::mem::size_of::<Identity>());

/// What an entry for `credential` and `identity` costs against the byte
/// bound.
fn entry_cost(credential: &str, identity: &Identity) -> usize {
    ENTRY_OVERHEAD + crate::heap::alloc_bytes(credential.len()) + identity.heap_bytes()
}

/// Bounds of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Most entries kept.
    pub max_entries: usize,
    /// Most bytes kept: what the entries hold on the heap (credential text,
    /// identity and claims, bookkeeping), estimated per entry.
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
    /// [`entry_cost`] when inserted (the identity is complete by then:
    /// the claims are built before an identity is cached).
    cost: usize,
    /// Looked up at least once since it was inserted.
    used: AtomicBool,
}

impl Entry {
    fn cost(&self) -> usize {
        self.cost
    }
}

#[derive(Default)]
struct Shard {
    map: HashMap<u64, Vec<Entry>>,
    entries: usize,
    bytes: usize,
}

/// Lookups of one shard, on a cache line of their own: counting takes no
/// lock, and the shards' readers do not contend on one counter.
#[derive(Default)]
#[repr(align(64))]
struct Counts {
    hits: AtomicU64,
    misses: AtomicU64,
}

/// What a cache holds and how its lookups went (the server's
/// `tessera_verify_cache_*` metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Entries held.
    pub entries: usize,
    /// Bytes accounted (see [`CacheConfig::max_bytes`]).
    pub bytes: usize,
    /// Lookups that found the credential.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
}

/// Where a credential is filed: the keyed hash of its text and format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(u64);

/// A bounded map from credential text to its verified identity.
pub struct VerifiedCache {
    config: CacheConfig,
    hasher: RandomState,
    shards: Vec<RwLock<Shard>>,
    counts: Vec<Counts>,
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
            counts: (0..SHARDS).map(|_| Counts::default()).collect(),
        }
    }

    /// The bounds this cache was made with.
    pub fn config(&self) -> CacheConfig {
        self.config
    }

    fn slot(&self, credential: &str, format: Format) -> Slot {
        Slot(self.hasher.hash_one((credential, format)))
    }

    fn shard(&self, slot: Slot) -> &RwLock<Shard> {
        &self.shards[(slot.0 as usize) % SHARDS]
    }

    /// The identity cached for exactly this credential text, verified as
    /// `format`.
    pub fn get(&self, credential: &str, format: Format) -> Option<Arc<Identity>> {
        self.lookup(credential, format).0
    }

    /// As [`VerifiedCache::get`], also returning where the credential
    /// belongs, so that the insert after a miss does not hash the
    /// credential text a second time ([`VerifiedCache::insert_at`]).
    pub fn lookup(&self, credential: &str, format: Format) -> (Option<Arc<Identity>>, Slot) {
        let slot = self.slot(credential, format);
        let found = self.get_at(slot, credential, format);
        let counts = &self.counts[(slot.0 as usize) % SHARDS];
        let counter = if found.is_some() {
            &counts.hits
        } else {
            &counts.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        (found, slot)
    }

    fn get_at(&self, slot: Slot, credential: &str, format: Format) -> Option<Arc<Identity>> {
        let h = slot.0;
        let guard = self.shard(slot).read().ok()?;
        let entry = guard
            .map
            .get(&h)?
            .iter()
            .find(|e| e.identity.format == format && &*e.credential == credential)?;
        if !entry.used.load(Ordering::Relaxed) {
            entry.used.store(true, Ordering::Relaxed);
        }
        Some(Arc::clone(&entry.identity))
    }

    /// Remembers a credential that has just passed full verification (as
    /// `identity.format`). Its claims are built first if they are not yet
    /// (a claim set kept as text is built on first read, which would
    /// otherwise grow the entry after it was costed).
    pub fn insert(&self, credential: &str, identity: Arc<Identity>, now: i64) {
        let slot = self.slot(credential, identity.format);
        self.insert_at(slot, credential, identity, now);
    }

    /// As [`VerifiedCache::insert`], with the [`Slot`] a
    /// [`VerifiedCache::lookup`] of the same credential and format returned.
    /// (A slot from another credential only files the entry where no lookup
    /// finds it: entries are matched by their whole text, never by slot.)
    pub fn insert_at(&self, slot: Slot, credential: &str, identity: Arc<Identity>, now: i64) {
        let format = identity.format;
        identity.claims.object();
        let cost = entry_cost(credential, &identity);
        let per_shard_entries = (self.config.max_entries / SHARDS).max(1);
        let per_shard_bytes = self.config.max_bytes / SHARDS;
        if self.config.max_entries == 0 || cost > per_shard_bytes {
            return;
        }
        let h = slot.0;
        let Ok(mut s) = self.shard(slot).write() else {
            return;
        };
        if s.map.get(&h).is_some_and(|v| {
            v.iter()
                .any(|e| e.identity.format == format && &*e.credential == credential)
        }) {
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
            cost,
            used: AtomicBool::new(false),
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

    /// Bytes accounted (see [`CacheConfig::max_bytes`]).
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .filter_map(|s| s.read().ok())
            .map(|s| s.bytes)
            .sum()
    }

    /// Entries, bytes, and the hits and misses of every lookup so far
    /// ([`VerifiedCache::clear`] keeps the counts).
    pub fn stats(&self) -> CacheStats {
        let sum = |f: fn(&Counts) -> &AtomicU64| {
            self.counts
                .iter()
                .map(|c| f(c).load(Ordering::Relaxed))
                .sum()
        };
        CacheStats {
            entries: self.len(),
            bytes: self.bytes(),
            hits: sum(|c| &c.hits),
            misses: sum(|c| &c.misses),
        }
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

/// Cuts a full shard down to 7/8 of its bounds, with room for `incoming`
/// bytes: every expired entry goes, then entries never looked up since they
/// were inserted, then arbitrary ones (`HashMap` order is randomized per
/// process).
fn evict(s: &mut Shard, now: i64, max_entries: usize, max_bytes: usize, incoming: usize) {
    let low_entries = (max_entries - max_entries / 8).max(1);
    let low_bytes = (max_bytes - max_bytes / 8).max(incoming);
    let low_enough =
        |entries: usize, bytes: usize| entries < low_entries && bytes + incoming <= low_bytes;
    type Doomed<'a> = &'a dyn Fn(&Entry) -> bool;
    let rounds: [(bool, Doomed); 3] = [
        (true, &|e| {
            e.identity.expires_at.is_some_and(|exp| exp <= now)
        }),
        (false, &|e| !e.used.load(Ordering::Relaxed)),
        (false, &|_| true),
    ];
    for (all, doomed) in rounds {
        if !all && low_enough(s.entries, s.bytes) {
            return;
        }
        let (mut entries, mut bytes) = (s.entries, s.bytes);
        s.map.retain(|_, bucket| {
            bucket.retain(|e| {
                let go = (all || !low_enough(entries, bytes)) && doomed(e);
                if go {
                    entries -= 1;
                    bytes -= e.cost();
                }
                !go
            });
            !bucket.is_empty()
        });
        s.entries = entries;
        s.bytes = bytes;
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
            alg: crate::jws::Algorithm::HS256,
            issuer: None,
            subject: sub.into(),
            audience: vec![],
            expires_at: Some(exp),
            not_before: None,
            issued_at: None,
            id: None,
            kid: None,
            claims: Object::new().into(),
        })
    }

    #[test]
    fn one_hash_for_lookup_and_insert() {
        let c = VerifiedCache::new(CacheConfig::default());
        let (hit, slot) = c.lookup("a.b.c", Format::Jwt);
        assert!(hit.is_none());
        c.insert_at(slot, "a.b.c", id("alice", 100), 0);
        assert_eq!(c.get("a.b.c", Format::Jwt).unwrap().subject, "alice");
        assert_eq!(c.lookup("a.b.c", Format::Jwt).1, slot);
        // A slot from another credential files the entry where no lookup
        // finds it: a miss, never a wrong answer.
        let (_, other) = c.lookup("x.y.z", Format::Jwt);
        c.insert_at(other, "d.e.f", id("mallory", 100), 0);
        assert!(c.get("x.y.z", Format::Jwt).is_none());
        assert!(c.get("d.e.f", Format::Jwt).is_none());
    }

    #[test]
    fn stats_count_every_lookup_and_what_is_held() {
        let c = VerifiedCache::new(CacheConfig::default());
        assert_eq!(c.stats(), CacheStats::default());
        assert!(c.get("a.b.c", Format::Jwt).is_none());
        c.insert("a.b.c", id("alice", 100), 0);
        for _ in 0..3 {
            assert!(c.get("a.b.c", Format::Jwt).is_some());
        }
        // The same text read as another format is a miss.
        assert!(c.get("a.b.c", Format::Nwt).is_none());
        let s = c.stats();
        assert_eq!((s.entries, s.hits, s.misses), (1, 3, 2));
        assert_eq!(s.bytes, c.bytes());
        assert!(s.bytes > 0);
        c.clear();
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.hits, s.misses), (0, 0, 3, 2));
    }

    #[test]
    fn exact_match_only() {
        let c = VerifiedCache::new(CacheConfig::default());
        c.insert("a.b.c", id("alice", 100), 0);
        assert_eq!(c.get("a.b.c", Format::Jwt).unwrap().subject, "alice");
        assert!(c.get("a.b.d", Format::Jwt).is_none());
        assert!(c.get("a.b.c ", Format::Jwt).is_none());
        // The same text verified as another format is another credential.
        assert!(c.get("a.b.c", Format::Portal).is_none());
        assert!(c.get("a.b.c", Format::Thirdweb).is_none());
    }

    #[test]
    fn one_text_as_two_formats_is_two_entries() {
        let c = VerifiedCache::new(CacheConfig::default());
        c.insert("a.b.c", id("alice", 100), 0);
        let mut portal = (*id("npub-owner", 100)).clone();
        portal.format = Format::Portal;
        c.insert("a.b.c", Arc::new(portal), 0);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get("a.b.c", Format::Jwt).unwrap().subject, "alice");
        assert_eq!(
            c.get("a.b.c", Format::Portal).unwrap().subject,
            "npub-owner"
        );
    }

    #[test]
    fn a_flood_of_one_time_credentials_does_not_evict_those_in_use() {
        let config = CacheConfig {
            max_entries: 1_600,
            max_bytes: usize::MAX,
        };
        let c = VerifiedCache::new(config);
        // 400 credentials in real use: inserted, then looked up again.
        let useful: Vec<String> = (0..400).map(|i| format!("useful-{i}")).collect();
        for u in &useful {
            c.insert(u, id("user", 1_000), 0);
            assert!(c.get(u, Format::Jwt).is_some());
        }
        // 100 000 distinct credentials, each seen once (25x the capacity).
        for i in 0..100_000 {
            c.insert(&format!("flood-{i}"), id("attacker", 1_000), 0);
        }
        assert!(c.len() <= config.max_entries, "{}", c.len());
        let kept = useful
            .iter()
            .filter(|u| c.get(u, Format::Jwt).is_some())
            .count();
        assert_eq!(kept, useful.len(), "the flood evicted credentials in use");
        // The newest of the flood still get in (the cache keeps working).
        assert!(c.get("flood-99999", Format::Jwt).is_some());
    }

    #[test]
    fn when_everything_is_in_use_the_cache_still_takes_new_entries() {
        let c = VerifiedCache::new(CacheConfig {
            max_entries: 160,
            max_bytes: usize::MAX,
        });
        for i in 0..1_000 {
            let t = format!("t-{i}");
            c.insert(&t, id("x", 1_000), 0);
            assert!(c.get(&t, Format::Jwt).is_some(), "{t} was not kept");
        }
        assert!(c.len() <= 160, "{}", c.len());
    }

    #[test]
    fn a_credential_larger_than_a_shard_is_not_kept() {
        let c = VerifiedCache::new(CacheConfig {
            max_entries: 100,
            max_bytes: 16 * 1024,
        });
        c.insert(&"x".repeat(2_000), id("x", 1_000), 0);
        assert!(c.is_empty());
        assert_eq!(c.bytes(), 0);
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
            let identity = id("x", exp);
            let cost = entry_cost(text, &identity);
            shard.entries += 1;
            shard.bytes += cost;
            shard.map.insert(
                shard.entries as u64,
                vec![Entry {
                    credential: text.into(),
                    identity,
                    cost,
                    used: AtomicBool::new(true),
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
        assert_eq!(shard.bytes, entry_cost("live", &id("x", 1_000)));
    }
}
