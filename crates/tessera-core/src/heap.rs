//! What a value really occupies on the heap, for the verified-credential
//! cache's byte bound (issue 17, finding 3: entries were costed as their
//! credential text plus a constant while an NWT's tags became a claim
//! object of about seven times that).
//!
//! Estimates follow the system allocator (glibc malloc on 64 bits: 8 bytes
//! of header, 16-byte granules, 32 bytes at least) and count capacities,
//! not lengths. They are what the cache's bound counts, so they err on the
//! high side.

/// Bytes the allocator takes for a request of `n` bytes (0: no allocation).
pub(crate) const fn alloc_bytes(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let chunk = (n + 8 + 15) & !15;
    if chunk < 32 {
        32
    } else {
        chunk
    }
}

/// The heap a `String` holds.
pub(crate) fn string_bytes(s: &String) -> usize {
    alloc_bytes(s.capacity())
}

/// The heap an optional `String` holds.
pub(crate) fn opt_string_bytes(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, string_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_round_like_malloc() {
        assert_eq!(alloc_bytes(0), 0);
        assert_eq!(alloc_bytes(1), 32);
        assert_eq!(alloc_bytes(24), 32);
        assert_eq!(alloc_bytes(25), 48);
        assert_eq!(alloc_bytes(1000), 1008);
        assert_eq!(alloc_bytes(1001), 1024);
    }
}
