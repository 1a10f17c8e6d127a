//! Sanity checks on Ed25519 public keys before they are trusted.
//!
//! The point arithmetic is curve25519-dalek's (a maintained, audited
//! implementation); this module only decides what to refuse.

use super::key_error;
use crate::error::Result;
use curve25519_dalek::edwards::CompressedEdwardsY;

/// Refuses an encoding that is not a curve point, one that is not the
/// canonical encoding of its point (RFC 8032 §5.1.3 decodes y modulo p and
/// lets x = 0 carry either sign: `y >= p` and "negative zero" are second
/// spellings of a point, which strict verifiers such as ed25519-zebra's
/// ZIP-215 rules and libsodium treat differently), and points of small order
/// (order 1, 2, 4 or 8). With a small-order key A, the signature R =
/// identity, S = 0 satisfies the verification equation [S]B = R + [k]A for
/// every message whenever [k]A is the identity, so such a key must never be
/// trusted.
pub(crate) fn check_public(x: &[u8; 32]) -> Result<()> {
    let compressed = CompressedEdwardsY(*x);
    let point = compressed
        .decompress()
        .ok_or_else(|| key_error("Ed25519 public key is not a point of the curve"))?;
    if point.compress() != compressed {
        return Err(key_error(
            "Ed25519 public key is not canonically encoded (RFC 8032 §5.1.3)",
        ));
    }
    if point.is_small_order() {
        return Err(key_error(
            "Ed25519 public key has small order: it would accept forged signatures",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;

    #[test]
    fn every_small_order_point_is_refused() {
        for p in EIGHT_TORSION {
            let bytes = p.compress().to_bytes();
            let e = check_public(&bytes).unwrap_err();
            assert!(e.message().contains("small order"), "{}", e.message());
        }
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        // y = p + 1 (= 1 mod p: the identity), 2^255 - 18 little-endian.
        let mut y_plus_p = [0xffu8; 32];
        y_plus_p[0] = 0xee;
        y_plus_p[31] = 0x7f;
        let e = check_public(&y_plus_p).unwrap_err();
        assert!(e.message().contains("canonical"), "{}", e.message());
        // The identity (y = 1) with the sign bit set: x = 0 spelled "-0".
        let mut negative_zero = [0u8; 32];
        negative_zero[0] = 1;
        negative_zero[31] = 0x80;
        let e = check_public(&negative_zero).unwrap_err();
        assert!(e.message().contains("canonical"), "{}", e.message());
    }

    #[test]
    fn a_point_off_the_curve_is_refused() {
        // y = 2: x^2 = (y^2 - 1) / (d y^2 + 1) has no root mod p.
        let mut y2 = [0u8; 32];
        y2[0] = 2;
        let e = check_public(&y2).unwrap_err();
        assert!(e.message().contains("not a point"), "{}", e.message());
    }

    #[test]
    fn the_base_point_is_accepted() {
        let b = curve25519_dalek::constants::ED25519_BASEPOINT_COMPRESSED.to_bytes();
        assert!(check_public(&b).is_ok());
    }
}
