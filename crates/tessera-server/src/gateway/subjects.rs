//! The `subjects` a rule admits: Nostr keys (64-hex or `npub`), Ethereum
//! addresses (`0x` + 40 hex) and any other JWT `sub`.
//!
//! Keys and addresses compare as lower-case hex (an identity's subject is
//! the 64-hex key or the EIP-55 address, formats.md §6: addresses compare
//! case-insensitively). A mixed-case address in the configuration must be
//! a correct EIP-55 checksum, so a mistyped digit is caught at start-up
//! instead of admitting nobody. Other subjects compare exactly.

use sha3::{Digest, Keccak256};
use std::borrow::Cow;
use std::collections::HashSet;

/// A set of admitted subjects in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subjects(HashSet<String>);

impl Subjects {
    /// Checks and canonicalises the configured entries.
    pub(crate) fn parse(entries: &[String]) -> Result<Subjects, String> {
        if entries.is_empty() {
            return Err(
                "`subjects = []` admits nobody: list the subjects, or drop the key to admit any"
                    .into(),
            );
        }
        entries
            .iter()
            .map(|e| canonical(e))
            .collect::<Result<HashSet<_>, _>>()
            .map(Subjects)
    }

    /// Whether `subject` (an identity's) is admitted.
    pub(crate) fn admits(&self, subject: &str) -> bool {
        self.0.contains(key(subject).as_ref())
    }
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// 64-hex (a Nostr key) or `0x` + 40 hex (an address): compared lower-case.
fn key(subject: &str) -> Cow<'_, str> {
    let hexlike = (subject.len() == 64 && is_hex(subject))
        || (subject.len() == 42 && subject.starts_with("0x") && is_hex(&subject[2..]));
    if hexlike {
        Cow::Owned(subject.to_ascii_lowercase())
    } else {
        Cow::Borrowed(subject)
    }
}

fn canonical(entry: &str) -> Result<String, String> {
    if entry.is_empty() || entry.trim() != entry || entry.chars().any(char::is_control) {
        return Err(format!(
            "subject {entry:?} is empty or has surrounding spaces or control characters"
        ));
    }
    if entry.starts_with("npub1") {
        let (hrp, bytes) = bech32::decode(entry)
            .map_err(|e| format!("subject {entry:?} is not a valid npub: {e}"))?;
        if hrp.as_str() != "npub" || bytes.len() != 32 {
            return Err(format!("subject {entry:?} is not an npub of a 32-byte key"));
        }
        return Ok(bytes.iter().map(|b| format!("{b:02x}")).collect());
    }
    if let Some(hex) = entry.strip_prefix("0x") {
        if hex.len() != 40 || !is_hex(hex) {
            return Err(format!(
                "subject {entry:?} starts with 0x but is not an address (0x + 40 hex digits)"
            ));
        }
        let mixed = hex.bytes().any(|b| b.is_ascii_uppercase())
            && hex.bytes().any(|b| b.is_ascii_lowercase());
        if mixed && !eip55_ok(hex) {
            return Err(format!(
                "address {entry:?} has a wrong EIP-55 checksum (a mistyped digit?): copy it again, or write it all lower-case"
            ));
        }
    }
    Ok(key(entry).into_owned())
}

/// EIP-55: a letter is upper-case exactly when the matching nibble of
/// keccak256(lower-case hex) is 8 or more.
fn eip55_ok(hex: &str) -> bool {
    let lower = hex.to_ascii_lowercase();
    let hash = Keccak256::digest(lower.as_bytes());
    hex.bytes().enumerate().all(|(i, c)| {
        let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
        match c {
            b'a'..=b'f' => nibble < 8,
            b'A'..=b'F' => nibble >= 8,
            _ => true,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // EIP-55's own examples.
    const CHECKSUMMED: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

    fn set(entries: &[&str]) -> Result<Subjects, String> {
        Subjects::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn addresses_and_keys_compare_case_insensitively_others_exactly() {
        let key = "a".repeat(64);
        let s = set(&[CHECKSUMMED, &key, "user-7"]).unwrap();
        assert!(s.admits(CHECKSUMMED));
        assert!(s.admits(&CHECKSUMMED.to_ascii_lowercase()));
        assert!(s.admits(&key.to_ascii_uppercase()));
        assert!(s.admits("user-7"));
        assert!(!s.admits("User-7"));
        assert!(!s.admits("0x0000000000000000000000000000000000000001"));
    }

    #[test]
    fn npub_is_its_hex_key() {
        // NIP-19's example: this npub is the key below.
        let s = set(&["npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"]).unwrap();
        assert!(s.admits("7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"));
    }

    #[test]
    fn bad_entries_are_refused() {
        let wrong_checksum = CHECKSUMMED.replace("aAeb", "aAEb");
        for (bad, why) in [
            (&[][..], "admits nobody"),
            (&[wrong_checksum.as_str()][..], "EIP-55"),
            (&["0x1234"][..], "not an address"),
            (&["npub1xyz"][..], "npub"),
            (&[" alice"][..], "surrounding"),
            (&[""][..], "empty"),
        ] {
            let e = set(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        // All lower-case or all upper-case carries no checksum.
        assert!(set(&[&CHECKSUMMED.to_ascii_lowercase()]).is_ok());
    }
}
