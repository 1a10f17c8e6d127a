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

/// Which public exponents a caller accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exponent {
    /// Only 65537 (F4): the default. Every current generator writes it, and
    /// a small exponent is what the Bleichenbacher-2006 signature forgery
    /// against lax PKCS#1 v1.5 parsers needs.
    F4Only,
    /// Any odd exponent above 1 of at most 64 bits (explicit opt-in).
    AnyOdd,
}

/// 65537, big-endian without leading zeros.
const F4: [u8; 3] = [1, 0, 1];

/// Refuses short or huge moduli, even moduli, exponents that are even, one,
/// or larger than 64 bits (and, unless `exponent` allows it, any exponent
/// but 65537), and moduli with the ROCA fingerprint (CVE-2017-15361, keys
/// from vulnerable Infineon chips).
pub(crate) fn check_public(n: &[u8], e: &[u8], exponent: Exponent) -> Result<()> {
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
    if exponent == Exponent::F4Only && e != F4 {
        return Err(key_error(
            "RSA public exponent must be 65537; a key with another exponent is refused unless the caller opts in (VerifyingKey::rsa_with_unusual_exponent)",
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
        assert!(check_public(&n, &F4, Exponent::AnyOdd).is_err());
        let mut n = vec![0xc3u8; 256];
        n[255] = 0x01;
        for any in [Exponent::F4Only, Exponent::AnyOdd] {
            assert!(check_public(&n, &[1], any).is_err());
            assert!(check_public(&n, &[2], any).is_err());
            assert!(check_public(&n, &[], any).is_err());
        }
    }

    #[test]
    fn exponents_other_than_f4_need_the_opt_in() {
        let mut n = vec![0xc3u8; 256];
        n[255] = 0x01;
        assert!(check_public(&n, &F4, Exponent::F4Only).is_ok());
        for e in [&[3u8][..], &[0x01, 0x00, 0x03], &[0x01, 0x00, 0x00, 0x01]] {
            let err = check_public(&n, e, Exponent::F4Only).unwrap_err();
            assert!(err.message().contains("65537"), "{}", err.message());
            assert!(check_public(&n, e, Exponent::AnyOdd).is_ok(), "{e:?}");
        }
    }
}
