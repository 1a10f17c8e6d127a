//! Sanity checks on RSA public keys before they are trusted.

use super::key_error;
use crate::error::Result;

/// Smallest modulus accepted, bits (RFC 7518 §3.3 requires 2048).
pub(crate) const MIN_RSA_BITS: usize = 2048;
/// Largest modulus accepted, bits.
pub(crate) const MAX_RSA_BITS: usize = 8192;

pub(crate) fn bit_len(n: &[u8]) -> usize {
    match n.first() {
        None => 0,
        Some(&top) => n.len() * 8 - top.leading_zeros() as usize,
    }
}

/// Refuses short or huge moduli, even moduli, exponents that are even, one,
/// or larger than 64 bits, and moduli with the ROCA fingerprint
/// (CVE-2017-15361, keys from vulnerable Infineon chips).
pub(crate) fn check_public(n: &[u8], e: &[u8]) -> Result<()> {
    let bits = bit_len(n);
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(key_error(format!(
            "RSA modulus of {bits} bits refused: {MIN_RSA_BITS} to {MAX_RSA_BITS} bits are accepted"
        )));
    }
    if n.last().is_some_and(|b| b & 1 == 0) {
        return Err(key_error("RSA modulus is even"));
    }
    if e.is_empty() || e.len() > 8 || e.last().is_some_and(|b| b & 1 == 0) || e == [1] {
        return Err(key_error(
            "RSA public exponent must be odd, greater than 1, at most 64 bits",
        ));
    }
    if has_roca_fingerprint(n) {
        return Err(key_error(
            "RSA key has the ROCA fingerprint (CVE-2017-15361); generate a new key",
        ));
    }
    Ok(())
}

fn mod_small(n: &[u8], p: u32) -> u32 {
    n.iter()
        .fold(0u32, |acc, &b| ((acc << 8) | u32::from(b)) % p)
}

/// The ROCA test: vulnerable moduli are, modulo each small prime `p` of the
/// Infineon construction, a power of 65537. A modulus passing every prime is
/// flagged; an honest random modulus fails one of them almost surely.
fn has_roca_fingerprint(n: &[u8]) -> bool {
    const PRIMES: [u32; 38] = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ];
    PRIMES.iter().all(|&p| {
        let r = mod_small(n, p);
        let g = 65537 % p;
        let mut x = 1u32;
        for _ in 0..p {
            if x == r {
                return true;
            }
            x = (x * g) % p;
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_moduli_and_bad_exponents_refused() {
        let mut n = vec![0xffu8; 128];
        n[127] = 0xfd; // 1024 bits
        assert!(check_public(&n, &[1, 0, 1]).is_err());
        let mut n = vec![0xc3u8; 256];
        n[255] = 0x01;
        assert!(check_public(&n, &[1]).is_err());
        assert!(check_public(&n, &[2]).is_err());
        assert!(check_public(&n, &[]).is_err());
    }
}
