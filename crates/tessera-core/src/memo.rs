//! A bounded memo of a pure function: what [`crate::jws::HeaderMemo`] and
//! [`crate::nostr::KeyMemo`] are built on.
//!
//! Only successful results are kept. When `capacity` entries are held the
//! memo is emptied and starts again, so a flood of distinct inputs costs each
//! of them the computation, and never more than `capacity` entries of memory.

use crate::error::Result;
use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::RwLock;

/// The memo of a pure function, bounded to `capacity` entries; `S` hashes
/// the keys (by default the standard keyed SipHash, for memos whose keys an
/// attacker chooses and whose capacity is large).
pub(crate) struct Memo<K, V, S = RandomState> {
    capacity: usize,
    map: RwLock<HashMap<K, V, S>>,
}

/// A fast, unkeyed hash of byte strings: eight bytes a step, each mixed in
/// by a rotation and a multiplication. Only for a memo whose capacity is
/// small: inputs chosen to collide then cost at most `capacity` key
/// comparisons a lookup.
#[derive(Default, Clone, Copy)]
pub(crate) struct WordHasher(u64);

/// [`WordHasher`] as a map's hasher.
pub(crate) type WordHash = BuildHasherDefault<WordHasher>;

impl WordHasher {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for WordHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let mut last = 0u64;
        for (i, &b) in chunks.remainder().iter().enumerate() {
            last |= u64::from(b) << (8 * i);
        }
        self.mix(last);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiplication mixes upwards; fold the high half down for the
        // table's low index bits.
        self.0 ^ (self.0 >> 32)
    }
}

impl<K: Hash + Eq, V: Clone, S: BuildHasher + Default> Memo<K, V, S> {
    pub(crate) fn new(capacity: usize) -> Self {
        Memo {
            capacity,
            map: RwLock::new(HashMap::with_hasher(S::default())),
        }
    }

    /// The remembered value for `key`, or `compute()`'s, remembered when it
    /// succeeds.
    pub(crate) fn get_or_compute<Q>(
        &self,
        key: &Q,
        compute: impl FnOnce() -> Result<V>,
    ) -> Result<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(v) = self.map.read().ok().and_then(|m| m.get(key).cloned()) {
            return Ok(v);
        }
        let v = compute()?;
        if self.capacity > 0 {
            if let Ok(mut m) = self.map.write() {
                if m.len() >= self.capacity {
                    m.clear();
                }
                m.insert(key.to_owned(), v.clone());
            }
        }
        Ok(v)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_hash_separates_lengths_and_bytes() {
        let hash = |b: &[u8]| WordHash::default().hash_one(b);
        let texts: [&[u8]; 8] = [
            b"",
            b"\0",
            b"a",
            b"a\0",
            b"abcdefgh",
            b"abcdefgh\0",
            b"abcdefghi",
            b"bbcdefghi",
        ];
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert_ne!(hash(a), hash(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn a_memo_remembers_successes_only_and_stays_bounded() {
        let memo: Memo<Vec<u8>, usize, WordHash> = Memo::new(2);
        let calls = std::cell::Cell::new(0);
        let len = |k: &[u8]| {
            calls.set(calls.get() + 1);
            if k.is_empty() {
                Err(crate::Error::malformed("empty"))
            } else {
                Ok(k.len())
            }
        };
        assert_eq!(memo.get_or_compute(&b"ab"[..], || len(b"ab")).unwrap(), 2);
        assert_eq!(memo.get_or_compute(&b"ab"[..], || len(b"ab")).unwrap(), 2);
        assert_eq!(calls.get(), 1);
        assert!(memo.get_or_compute(&b""[..], || len(b"")).is_err());
        assert!(memo.get_or_compute(&b""[..], || len(b"")).is_err());
        assert_eq!((calls.get(), memo.len()), (3, 1));
        memo.get_or_compute(&b"abc"[..], || len(b"abc")).unwrap();
        memo.get_or_compute(&b"abcd"[..], || len(b"abcd")).unwrap();
        assert!(memo.len() <= 2);
    }
}
