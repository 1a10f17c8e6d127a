//! Ethereum secret keys: generation, hex form, and the address they control.

use super::address::Address;
use crate::encoding::{hex_decode_any_case, hex_encode};
use crate::error::{Error, Result};
use secp256k1::{PublicKey, SecretKey};
use std::fmt;

/// A secp256k1 secret key used as an Ethereum account key. `Debug` shows
/// only the address.
#[derive(Clone, PartialEq, Eq)]
pub struct EthereumSecretKey {
    key: SecretKey,
}

impl EthereumSecretKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        EthereumSecretKey {
            key: SecretKey::new(&mut secp256k1::rand::rng()),
        }
    }

    /// From 32 bytes; `malformed` when zero or not below the group order.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self> {
        SecretKey::from_secret_bytes(bytes)
            .map(|key| EthereumSecretKey { key })
            .map_err(|_| Error::malformed("not a valid secp256k1 secret key"))
    }

    /// From 64 hex digits of either case, with or without a `0x` prefix.
    pub fn from_hex(text: &str) -> Result<Self> {
        let digits = text.strip_prefix("0x").unwrap_or(text);
        if digits.len() != 64 {
            return Err(Error::malformed("an Ethereum secret key is 64 hex digits"));
        }
        let v = hex_decode_any_case(digits)?;
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&v);
        Self::from_bytes(bytes)
    }

    /// `0x` and 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex_encode(&self.key.to_secret_bytes()))
    }

    /// The libsecp256k1 secret key.
    pub fn secret_key(&self) -> &SecretKey {
        &self.key
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_secret_key(&self.key)
    }

    /// The address this key controls.
    pub fn address(&self) -> Address {
        Address::from_public_key(&self.public_key())
    }
}

impl fmt::Debug for EthereumSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EthereumSecretKey(address {})", self.address())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardhat_account_zero() {
        // The well-known first development account of Hardhat/Anvil.
        let k = EthereumSecretKey::from_hex(
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        )
        .unwrap();
        assert_eq!(
            k.address().to_checksum(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        assert_eq!(EthereumSecretKey::from_hex(&k.to_hex()).unwrap(), k);
    }
}
