//! Digests used across formats.

use aws_lc_rs::digest;
use sha3::{Digest, Keccak256};

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Keccak-256 (the pre-standard SHA-3 Ethereum uses).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(data);
    h.finalize().into()
}

/// Compares two byte strings in time independent of where they differ
/// (aws-lc-rs's `CRYPTO_memcmp`); different lengths are unequal.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}
