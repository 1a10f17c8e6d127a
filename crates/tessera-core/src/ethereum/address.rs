//! Ethereum addresses and their EIP-55 mixed-case checksum.

use crate::encoding::hex_encode;
use crate::error::{Error, Result};
use crate::sha::keccak256;
use std::fmt;
use std::str::FromStr;

/// A 20-byte Ethereum address. Equality is on the bytes, so the letter case
/// an address was written in never matters once it is parsed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(pub [u8; 20]);

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Address {
    /// Parses `0x` followed by 40 hex digits. All-lowercase and
    /// all-uppercase digits are accepted as they are; mixed case must be the
    /// correct EIP-55 checksum. Anything else is `malformed`.
    pub fn parse(text: &str) -> Result<Address> {
        let digits = text
            .strip_prefix("0x")
            .ok_or(Error::malformed("an Ethereum address starts with `0x`"))?
            .as_bytes();
        if digits.len() != 40 {
            return Err(Error::malformed("an Ethereum address has 40 hex digits"));
        }
        let mut bytes = [0u8; 20];
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(h), Some(l)) => bytes[i] = (h << 4) | l,
                _ => return Err(Error::malformed("an Ethereum address is hex")),
            }
        }
        let addr = Address(bytes);
        let has_lower = digits.iter().any(u8::is_ascii_lowercase);
        let has_upper = digits.iter().any(u8::is_ascii_uppercase);
        if has_lower && has_upper && addr.to_checksum().as_bytes()[2..] != *digits {
            return Err(Error::malformed(
                "the mixed-case address is not a valid EIP-55 checksum",
            ));
        }
        Ok(addr)
    }

    /// Parses only the exact EIP-55 form (as EIP-4361 requires): the text
    /// must equal [`Address::to_checksum`] of its value.
    pub fn parse_checksummed(text: &str) -> Result<Address> {
        let addr = Address::parse(text)?;
        if addr.to_checksum() != text {
            return Err(Error::malformed(
                "the address must be written in its EIP-55 checksum form",
            ));
        }
        Ok(addr)
    }

    /// The EIP-55 form: `0x` and hex digits whose letters are uppercase where
    /// the matching nibble of keccak256(lowercase hex) is 8 or more.
    pub fn to_checksum(&self) -> String {
        let lower = hex_encode(&self.0);
        let hash = keccak256(lower.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nib = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f;
            out.push(if nib >= 8 { c.to_ascii_uppercase() } else { c });
        }
        out
    }

    /// `0x` and lowercase hex.
    pub fn to_lower_hex(&self) -> String {
        format!("0x{}", hex_encode(&self.0))
    }

    /// The address of an uncompressed secp256k1 public key: the last 20 bytes
    /// of keccak256 of its 64 coordinate bytes.
    pub fn from_public_key(key: &secp256k1::PublicKey) -> Address {
        let uncompressed = key.serialize_uncompressed();
        let hash = keccak256(&uncompressed[1..]);
        let mut out = [0u8; 20];
        out.copy_from_slice(&hash[12..]);
        Address(out)
    }
}

/// EIP-55 form.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_checksum())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.to_checksum())
    }
}

impl FromStr for Address {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Address::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // EIP-55's own examples.
    const EIP55: [&str; 4] = [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ];

    #[test]
    fn eip55_examples() {
        for s in EIP55 {
            let a = Address::parse(s).unwrap();
            assert_eq!(a.to_checksum(), s);
            assert_eq!(Address::parse(&s.to_lowercase()).unwrap(), a);
            assert_eq!(
                Address::parse(&format!("0x{}", s[2..].to_uppercase())).unwrap(),
                a
            );
            assert!(Address::parse_checksummed(s).is_ok());
            assert!(Address::parse_checksummed(&s.to_lowercase()).is_err());
        }
    }

    #[test]
    fn bad_checksum_and_shapes() {
        // One letter's case flipped.
        assert!(Address::parse("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").is_err());
        for bad in [
            "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg",
            "0x",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
    }
}
