//! Byte searches eight bytes at a time (SIMD within a register), in safe
//! code: the JSON readers' string scans and the JWS part split.

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);

/// Marks the bytes of `w` (read little-endian) that are below `n`
/// (`n <= 0x80`) by setting their high bit; exact for the lowest such byte
/// (a borrow only reaches the bytes above it), so the lowest mark of an OR
/// of several such masks is the first byte that any of them matches.
#[inline(always)]
pub(crate) fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH
}

/// Marks the bytes of `w` equal to `b`, as [`below`] does.
#[inline(always)]
pub(crate) fn equal(w: u64, b: u8) -> u64 {
    below(w ^ (ONES * u64::from(b)), 1)
}

/// The index of the first byte of `s` that `marks` marks (see [`below`]),
/// eight bytes at a time; `is` must say the same of a single byte (it reads
/// the last few).
#[inline(always)]
pub(crate) fn position(
    s: &[u8],
    marks: impl Fn(u64) -> u64,
    is: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut chunks = s.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let hits = marks(u64::from_le_bytes(w));
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| is(c))
        .map(|i| at + i)
}

/// The index of the first `b` in `s`.
#[inline]
pub(crate) fn find(s: &[u8], b: u8) -> Option<usize> {
    position(s, |w| equal(w, b), |c| c == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_agrees_with_a_byte_loop() {
        // Every length up to three words, the byte at every position, behind
        // bytes next to it in value and bytes with the high bit set.
        for len in 0..24 {
            for fill in [b'-', b'/', b'a', 0x80, 0xae, 0xff, 0x00] {
                let mut s = vec![fill; len];
                assert_eq!(find(&s, b'.'), None, "{s:?}");
                for at in 0..len {
                    s[at] = b'.';
                    assert_eq!(find(&s, b'.'), Some(at), "{s:?}");
                    if at + 1 < len {
                        s[len - 1] = b'.';
                        assert_eq!(find(&s, b'.'), Some(at), "{s:?}");
                    }
                    s.fill(fill);
                }
            }
        }
    }
}
