//! Bech32 (BIP-173) as NIP-19 uses it for `npub` / `nsec`, through the
//! `bech32` crate.
//!
//! The crate checks the checksum (Bech32 only: NIP-19 entities use the
//! original constant, so Bech32m is refused), the case rule (all lowercase
//! or all uppercase, BIP-173 "Uppercase/lowercase"), the prefix (1-83
//! characters of US-ASCII 33-126) and the data characters. Two BIP-173
//! rules are kept here by hand, where the crate is more lenient:
//! - the whole string is at most 90 characters (the crate's generic limit
//!   is 1023, BIP-173's 90 is a segwit-address rule it applies only there);
//! - the data part's padding is at most four zero bits (BIP-173
//!   "convertbits"; the crate's `byte_iter` drops the bits unchecked, so
//!   `validate_segwit_padding` is called, which is that same rule).

use crate::error::{Error, Result};
use bech32::primitives::decode::{CheckedHrpstring, CheckedHrpstringError};
use bech32::{Bech32, Hrp};

/// BIP-173's length limit for a whole string.
pub const MAX_LENGTH: usize = 90;

/// Encodes `data` (8-bit bytes) under the human-readable part `hrp`
/// (lowercase ASCII), as lowercase bech32.
///
/// # Panics
/// If `hrp` is not a valid prefix or the string would pass the crate's
/// 1023-character limit: callers pass `npub`/`nsec` and 32 bytes.
pub fn encode(hrp: &str, data: &[u8]) -> String {
    let hrp = Hrp::parse(hrp).expect("callers pass a fixed, valid prefix");
    bech32::encode_lower::<Bech32>(hrp, data).expect("32-byte keys are far below the length limit")
}

/// Decodes a bech32 string into its (lowercased) human-readable part and its
/// 8-bit data. Every failure is `malformed`.
pub fn decode(input: &str) -> Result<(String, Vec<u8>)> {
    // Kept by hand: BIP-173's 90-character limit (see the module comment).
    if input.len() > MAX_LENGTH {
        return Err(Error::malformed(
            "bech32 string is longer than 90 characters",
        ));
    }
    let checked = CheckedHrpstring::new::<Bech32>(input).map_err(|e| match e {
        CheckedHrpstringError::Parse(_) => Error::malformed(
            "bech32 string has no separator, a bad prefix, mixed case or an invalid character",
        ),
        CheckedHrpstringError::Checksum(_) => {
            Error::malformed("bech32 checksum is short or does not match")
        }
        _ => Error::malformed("bech32 string is invalid"),
    })?;
    // Kept by hand: BIP-173's padding rule (see the module comment).
    checked
        .validate_segwit_padding()
        .map_err(|_| Error::malformed("bech32 data has non-zero or excess padding"))?;
    Ok((checked.hrp().to_lowercase(), checked.byte_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bip173_valid_checksums() {
        for s in [
            "A12UEL5L",
            "a12uel5l",
            "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
            "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
            "?1ezyfcl",
        ] {
            assert!(decode(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn bip173_invalid() {
        for s in [
            "\u{20}1nwldj5",
            "\u{7f}1axkwrx",
            "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
            "pzry9x0s0muk",
            "1pzry9x0s0muk",
            "x1b4n0q5v",
            "li1dgmt3",
            "de1lg7wt\u{ff}",
            "A1G7SGD8",
            "10a06t8",
            "1qzzfhee",
            "a12UEL5L",
        ] {
            assert!(decode(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn round_trip() {
        let data: Vec<u8> = (0u8..32).collect();
        let s = encode("npub", &data);
        let (hrp, back) = decode(&s).unwrap();
        assert_eq!(hrp, "npub");
        assert_eq!(back, data);
        assert_eq!(decode(&s.to_uppercase()).unwrap().1, data);
    }

    /// The rules the crate leaves to us, and the checksum choice.
    #[test]
    fn refuses_bech32m_and_bad_padding() {
        use bech32::primitives::iter::Fe32IterExt;
        use bech32::{Bech32m, Fe32};
        let with = |fes: &[Fe32], m: bool| -> String {
            let hrp = Hrp::parse("npub").unwrap();
            let it = fes.iter().copied();
            if m {
                it.with_checksum::<Bech32m>(&hrp).chars().collect()
            } else {
                it.with_checksum::<Bech32>(&hrp).chars().collect()
            }
        };
        // Two data characters (10 bits): one byte and two zero padding bits.
        assert!(decode(&with(&[Fe32::Q, Fe32::Q], false)).is_ok());
        // The same under Bech32m (BIP-350 "a1lqfn3a" is valid Bech32m).
        assert!(decode(&with(&[Fe32::Q, Fe32::Q], true)).is_err());
        assert!(decode("a1lqfn3a").is_err());
        // Non-zero padding bits.
        assert!(decode(&with(&[Fe32::Q, Fe32::P], false)).is_err());
        // One data character: five padding bits, more than four.
        assert!(decode(&with(&[Fe32::Q], false)).is_err());
    }
}
