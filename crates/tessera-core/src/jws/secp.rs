//! secp256k1 ECDSA primitives (libsecp256k1), shared by ES256K JWTs and
//! Portal wallet JWTs.

use crate::error::{Error, ErrorCode, Result};
use crate::sha::sha256;
use secp256k1::{ecdsa, Message, PublicKey, SecretKey, SECP256K1};

/// Verifies a 64-byte `r||s` ECDSA signature over SHA-256(`msg`).
///
/// High-S signatures are refused: ES256K follows Bitcoin and Ethereum
/// (Wycheproof's `ecdsa_secp256k1_sha256_bitcoin_test.json`).
pub fn es256k_verify(key: &PublicKey, msg: &[u8], sig: &[u8]) -> Result<()> {
    es256k_verify_digest(key, &sha256(msg), sig)
}

/// As [`es256k_verify`], over a precomputed 32-byte digest.
pub fn es256k_verify_digest(key: &PublicKey, digest: &[u8; 32], sig: &[u8]) -> Result<()> {
    let sig = parse_low_s(sig)?;
    SECP256K1
        .verify_ecdsa(Message::from_digest(*digest), &sig, key)
        .map_err(|_| Error::new(ErrorCode::BadSignature, "signature does not verify"))
}

/// Parses a 64-byte compact signature and refuses high S.
pub fn parse_low_s(sig: &[u8]) -> Result<ecdsa::Signature> {
    if sig.len() != 64 {
        return Err(Error::new(
            ErrorCode::BadSignature,
            "ES256K signatures are 64 bytes (r||s)",
        ));
    }
    let parsed = ecdsa::Signature::from_compact(sig)
        .map_err(|_| Error::new(ErrorCode::BadSignature, "invalid ECDSA signature"))?;
    let mut normalized = parsed;
    normalized.normalize_s();
    if normalized != parsed {
        return Err(Error::new(
            ErrorCode::BadSignature,
            "high-S ECDSA signature refused (secp256k1 requires low S)",
        ));
    }
    Ok(parsed)
}

/// Signs SHA-256(`msg`) deterministically (RFC 6979); the result is low-S.
pub fn es256k_sign(key: &SecretKey, msg: &[u8]) -> [u8; 64] {
    let digest = sha256(msg);
    SECP256K1
        .sign_ecdsa(Message::from_digest(digest), key)
        .serialize_compact()
}
