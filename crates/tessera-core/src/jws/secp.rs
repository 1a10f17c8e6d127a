//! secp256k1 ECDSA primitives (libsecp256k1), shared by ES256K JWTs,
//! Portal wallet JWTs and Ethereum signatures.
//!
//! Two rules for S (formats.md §1): a standard-JWT ES256K signature is
//! accepted with either S, as for every other JOSE curve (RFC 8812 has no
//! low-S rule; Wycheproof's `ecdsa_secp256k1_sha256_p1363_test.json` is the
//! reference); a Portal JWT or an Ethereum signature must be low-S
//! (Portal's verifier, EIP-2; Wycheproof's bitcoin file is the reference).

use crate::error::{Error, ErrorCode, Result};
use crate::sha::sha256;
use secp256k1::{ecdsa, Message, PublicKey, SecretKey};

/// Verifies a 64-byte `r||s` ECDSA signature over SHA-256(`msg`), with
/// either S: the JWT ES256K rule (RFC 8812).
///
/// libsecp256k1 itself refuses high S, so S is normalised first; `(r, s)`
/// and `(r, n - s)` are the same signature to ECDSA.
pub fn es256k_verify(key: &PublicKey, msg: &[u8], sig: &[u8]) -> Result<()> {
    let mut parsed = parse(sig)?;
    parsed.normalize_s();
    verify_parsed(key, &sha256(msg), &parsed)
}

/// As [`es256k_verify`], but a high-S signature is refused
/// (`bad_signature`): the rule for Portal JWTs (formats.md §2).
pub fn es256k_verify_low_s(key: &PublicKey, msg: &[u8], sig: &[u8]) -> Result<()> {
    let parsed = parse_low_s(sig)?;
    verify_parsed(key, &sha256(msg), &parsed)
}

fn verify_parsed(key: &PublicKey, digest: &[u8; 32], sig: &ecdsa::Signature) -> Result<()> {
    ecdsa::verify(sig, Message::from_digest(*digest), key)
        .map_err(|_| Error::new(ErrorCode::BadSignature, "signature does not verify"))
}

fn parse(sig: &[u8]) -> Result<ecdsa::Signature> {
    if sig.len() != 64 {
        return Err(Error::new(
            ErrorCode::BadSignature,
            "ES256K signatures are 64 bytes (r||s)",
        ));
    }
    ecdsa::Signature::from_compact(sig)
        .map_err(|_| Error::new(ErrorCode::BadSignature, "invalid ECDSA signature"))
}

/// Parses a 64-byte compact signature and refuses high S (Portal JWTs,
/// EIP-2).
pub fn parse_low_s(sig: &[u8]) -> Result<ecdsa::Signature> {
    let parsed = parse(sig)?;
    let mut normalized = parsed;
    normalized.normalize_s();
    if normalized != parsed {
        return Err(Error::new(
            ErrorCode::BadSignature,
            "high-S ECDSA signature refused (this format requires low S)",
        ));
    }
    Ok(parsed)
}

/// Signs SHA-256(`msg`) deterministically (RFC 6979); the result is low-S.
pub fn es256k_sign(key: &SecretKey, msg: &[u8]) -> [u8; 64] {
    let digest = sha256(msg);
    ecdsa::sign(Message::from_digest(digest), key).serialize_compact()
}
