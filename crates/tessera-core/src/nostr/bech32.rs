//! Bech32 (BIP-173) as NIP-19 uses it for `npub` / `nsec`.
//!
//! Written here rather than pulled in: the two uses are 32-byte payloads, and
//! the rules worth being strict about are few. The checksum is always
//! verified; a string must be all lowercase or all uppercase (BIP-173
//! "Uppercase/lowercase"); the data part's padding must be zero bits and at
//! most four of them (BIP-173 "convertbits"). Bech32m is not accepted: NIP-19
//! entities use the original constant.

use crate::error::{Error, Result};

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// BIP-173's length limit for a whole string.
pub const MAX_LENGTH: usize = 90;

fn charset_rev(c: u8) -> Option<u8> {
    CHARSET.iter().position(|&x| x == c).map(|p| p as u8)
}

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk: u32 = 1;
    for v in values {
        let b = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (b >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn hrp_expand(hrp: &[u8]) -> impl Iterator<Item = u8> + '_ {
    hrp.iter()
        .map(|c| c >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|c| c & 0x1f))
}

/// Encodes `data` (8-bit bytes) under the human-readable part `hrp`
/// (lowercase ASCII), as lowercase bech32.
pub fn encode(hrp: &str, data: &[u8]) -> String {
    let hrp_bytes = hrp.as_bytes();
    let mut five = Vec::with_capacity(data.len() * 8 / 5 + 1);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            five.push(((acc >> bits) & 0x1f) as u8);
        }
    }
    if bits > 0 {
        five.push(((acc << (5 - bits)) & 0x1f) as u8);
    }
    let pm = polymod(
        hrp_expand(hrp_bytes)
            .chain(five.iter().copied())
            .chain([0u8; 6]),
    ) ^ 1;
    let mut out = String::with_capacity(hrp.len() + 1 + five.len() + 6);
    out.push_str(hrp);
    out.push('1');
    for v in five {
        out.push(CHARSET[v as usize] as char);
    }
    for i in 0..6 {
        out.push(CHARSET[((pm >> (5 * (5 - i))) & 0x1f) as usize] as char);
    }
    out
}

/// Decodes a bech32 string into its (lowercased) human-readable part and its
/// 8-bit data. Every failure is `malformed`.
pub fn decode(input: &str) -> Result<(String, Vec<u8>)> {
    let bytes = input.as_bytes();
    if bytes.len() > MAX_LENGTH {
        return Err(Error::malformed(
            "bech32 string is longer than 90 characters",
        ));
    }
    if bytes.iter().any(|&c| !(33..=126).contains(&c)) {
        return Err(Error::malformed(
            "bech32 string has a character outside US-ASCII 33-126",
        ));
    }
    let has_lower = bytes.iter().any(u8::is_ascii_lowercase);
    let has_upper = bytes.iter().any(u8::is_ascii_uppercase);
    if has_lower && has_upper {
        return Err(Error::malformed("bech32 string mixes upper and lower case"));
    }
    let lower: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
    let sep = lower
        .iter()
        .rposition(|&c| c == b'1')
        .ok_or(Error::malformed("bech32 string has no separator"))?;
    if sep == 0 || sep + 7 > lower.len() {
        return Err(Error::malformed(
            "bech32 string has an empty prefix or a short checksum",
        ));
    }
    let hrp = &lower[..sep];
    let mut values = Vec::with_capacity(lower.len() - sep - 1);
    for &c in &lower[sep + 1..] {
        values.push(charset_rev(c).ok_or(Error::malformed("invalid bech32 character"))?);
    }
    if polymod(hrp_expand(hrp).chain(values.iter().copied())) != 1 {
        return Err(Error::malformed("bech32 checksum does not match"));
    }
    let payload = &values[..values.len() - 6];
    let mut out = Vec::with_capacity(payload.len() * 5 / 8);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &v in payload {
        acc = ((acc << 5) | u32::from(v)) & 0xfff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    // BIP-173: at most 4 padding bits, and they must be zero.
    if bits >= 5 || (acc & ((1 << bits) - 1)) != 0 {
        return Err(Error::malformed(
            "bech32 data has non-zero or excess padding",
        ));
    }
    // The prefix is ASCII 33..=126 (checked above).
    let hrp = String::from_utf8(hrp.to_vec())
        .map_err(|_| Error::malformed("bech32 prefix is not ASCII"))?;
    Ok((hrp, out))
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
}
