//! EIP-191 `personal_sign` (version 0x45): hashing, signing and recovery.

use super::address::Address;
use super::keys::EthereumSecretKey;
use crate::encoding::hex_decode_any_case;
use crate::error::{Error, ErrorCode, Result};
use crate::jws::secp::parse_low_s;
use crate::sha::keccak256;
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::{Message, PublicKey};

/// `keccak256("\x19Ethereum Signed Message:\n" || decimal length || message)`.
pub fn personal_sign_hash(message: &[u8]) -> [u8; 32] {
    let prefix = format!("\x19Ethereum Signed Message:\n{}", message.len());
    let mut data = Vec::with_capacity(prefix.len() + message.len());
    data.extend_from_slice(prefix.as_bytes());
    data.extend_from_slice(message);
    keccak256(&data)
}

fn bad(message: &'static str) -> Error {
    Error::new(ErrorCode::BadSignature, message)
}

/// Recovers the public key that made the 65-byte `r||s||v` signature over
/// `message`. `v` is 27/28 or 0/1; S must be low (EIP-2). Every failure is
/// `bad_signature`.
pub fn recover_public_key(message: &[u8], sig65: &[u8]) -> Result<PublicKey> {
    let [rs @ .., v] = sig65 else {
        return Err(bad("an EIP-191 signature is 65 bytes (r||s||v)"));
    };
    if rs.len() != 64 {
        return Err(bad("an EIP-191 signature is 65 bytes (r||s||v)"));
    }
    let recid = match v {
        27 | 28 => v - 27,
        0 | 1 => *v,
        _ => return Err(bad("the recovery byte v must be 27, 28, 0 or 1")),
    };
    parse_low_s(rs)?;
    let recid = RecoveryId::try_from(i32::from(recid)).map_err(|_| bad("invalid recovery id"))?;
    let sig =
        RecoverableSignature::from_compact(rs, recid).map_err(|_| bad("invalid signature"))?;
    sig.recover_ecdsa(Message::from_digest(personal_sign_hash(message)))
        .map_err(|_| bad("no public key recovers from this signature"))
}

/// Recovers the address that signed `message` (see [`recover_public_key`]).
pub fn recover(message: &[u8], sig65: &[u8]) -> Result<Address> {
    recover_public_key(message, sig65).map(|k| Address::from_public_key(&k))
}

/// Checks that `expected` made `sig65` over `message`: `bad_signature` when
/// the signature is invalid or recovers another address.
pub fn verify(message: &[u8], sig65: &[u8], expected: &Address) -> Result<()> {
    if recover(message, sig65)? == *expected {
        Ok(())
    } else {
        Err(bad("the signature was made by another address"))
    }
}

/// Signs `message` the way wallets' `personal_sign` does: RFC 6979, low S,
/// `v` = 27 or 28.
pub fn sign(secret: &EthereumSecretKey, message: &[u8]) -> [u8; 65] {
    let sig = RecoverableSignature::sign_ecdsa_recoverable(
        Message::from_digest(personal_sign_hash(message)),
        secret.secret_key(),
    );
    let (recid, rs) = sig.serialize_compact();
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&rs);
    // libsecp256k1 signs low-S, so the id is 0 or 1.
    out[64] = 27 + recid.to_u8();
    out
}

/// Parses the textual form wallets return: `0x` and 130 hex digits of either
/// case. Anything else is `malformed`.
pub fn parse_signature_hex(text: &str) -> Result<[u8; 65]> {
    let digits = text
        .strip_prefix("0x")
        .ok_or(Error::malformed("a hex signature starts with `0x`"))?;
    if digits.len() != 130 {
        return Err(Error::malformed(
            "a hex signature is `0x` and 130 hex digits (r||s||v)",
        ));
    }
    let v = hex_decode_any_case(digits)?;
    let mut out = [0u8; 65];
    out.copy_from_slice(&v);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_recover() {
        let k = EthereumSecretKey::generate();
        let sig = sign(&k, b"hello");
        assert!(sig[64] == 27 || sig[64] == 28);
        assert_eq!(recover(b"hello", &sig).unwrap(), k.address());
        let mut zero_one = sig;
        zero_one[64] -= 27;
        assert_eq!(recover(b"hello", &zero_one).unwrap(), k.address());
        assert_ne!(recover(b"hellO", &sig).ok(), Some(k.address()));
    }
}
