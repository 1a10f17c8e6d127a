//! A bounded memo of a pure function: what [`crate::jws::HeaderMemo`] and
//! [`crate::nostr::KeyMemo`] are built on.
//!
//! Only successful results are kept. When `capacity` entries are held the
//! memo is emptied and starts again, so a flood of distinct inputs costs each
//! of them the computation, and never more than `capacity` entries of memory.

use crate::error::Result;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;

pub(crate) struct Memo<K, V> {
    capacity: usize,
    map: RwLock<HashMap<K, V>>,
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Memo {
            capacity,
            map: RwLock::new(HashMap::new()),
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
