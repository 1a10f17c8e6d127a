//! Nostr keys: BIP-340 x-only public keys and secp256k1 secret keys, in
//! 64-character lowercase hex or NIP-19 bech32 (`npub1…`, `nsec1…`).

use super::bech32;
use crate::encoding::{hex_decode_lower_array, hex_encode};
use crate::error::{Error, ErrorCode, Result};
use secp256k1::{schnorr, Keypair, Parity, PublicKey, SecretKey, XOnlyPublicKey};
use std::fmt;
use std::str::FromStr;

/// A Nostr public key: the 32-byte x coordinate of a secp256k1 point
/// (BIP-340). Construction checks that the coordinate is on the curve.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NostrPublicKey {
    bytes: [u8; 32],
    key: XOnlyPublicKey,
}

impl NostrPublicKey {
    /// From the 32 x-only bytes; `malformed` unless they name a curve point.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self> {
        let key = XOnlyPublicKey::from_byte_array(bytes)
            .map_err(|_| Error::malformed("not a valid x-only secp256k1 public key"))?;
        Ok(NostrPublicKey { bytes, key })
    }

    /// From 64 lowercase hex characters (NIP-01 `pubkey`).
    pub fn from_hex(hex: &str) -> Result<Self> {
        Self::from_bytes(hex_decode_lower_array::<32>(hex)?)
    }

    /// From a NIP-19 `npub1…` string.
    pub fn from_npub(npub: &str) -> Result<Self> {
        let (hrp, data) = bech32::decode(npub)?;
        if hrp != "npub" {
            return Err(Error::malformed("expected an `npub` bech32 key"));
        }
        let bytes: [u8; 32] = data
            .try_into()
            .map_err(|_| Error::malformed("an `npub` carries exactly 32 bytes"))?;
        Self::from_bytes(bytes)
    }

    /// From either form: 64 lowercase hex characters or `npub1…` (either case).
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > 4 && text.as_bytes()[..4].eq_ignore_ascii_case(b"npub") {
            Self::from_npub(text)
        } else {
            Self::from_hex(text)
        }
    }

    /// The 32 x-only bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex_encode(&self.bytes)
    }

    /// NIP-19 `npub1…`.
    pub fn to_npub(&self) -> String {
        bech32::encode("npub", &self.bytes)
    }

    /// The x-only key as libsecp256k1 holds it.
    pub fn x_only(&self) -> &XOnlyPublicKey {
        &self.key
    }

    /// The full point with even Y (`02 || x`): how an x-only key verifies
    /// ECDSA (Portal wallet JWTs, formats.md §2).
    pub fn even_y_point(&self) -> PublicKey {
        self.key.public_key(Parity::Even)
    }

    /// Verifies a BIP-340 Schnorr signature over `msg` (any length; Nostr
    /// events sign the 32 id bytes). Failure is `bad_signature`.
    pub fn verify_schnorr(&self, msg: &[u8], sig: &[u8; 64]) -> Result<()> {
        let sig = schnorr::Signature::from_byte_array(*sig);
        schnorr::verify(&sig, msg, &self.key)
            .map_err(|_| Error::new(ErrorCode::BadSignature, "BIP-340 signature does not verify"))
    }
}

impl fmt::Debug for NostrPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NostrPublicKey({})", self.to_hex())
    }
}

/// Hex form.
impl fmt::Display for NostrPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for NostrPublicKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// Verifies a BIP-340 signature given as raw bytes: the public key (32
/// bytes), the message, and the signature (64 bytes). A key that is not a
/// valid x coordinate, or a signature of the wrong length, is simply "does
/// not verify" (`bad_signature`), as BIP-340's `Verify` returns false.
///
/// This is the function Nostr event verification uses (through
/// [`NostrPublicKey::verify_schnorr`]), exposed for the BIP-340 test vectors.
pub fn verify_bip340(pubkey: &[u8], msg: &[u8], sig: &[u8]) -> Result<()> {
    let bad = || Error::new(ErrorCode::BadSignature, "BIP-340 signature does not verify");
    let pk: [u8; 32] = pubkey.try_into().map_err(|_| bad())?;
    let sig: &[u8; 64] = sig.try_into().map_err(|_| bad())?;
    let key = NostrPublicKey::from_bytes(pk).map_err(|_| bad())?;
    key.verify_schnorr(msg, sig)
}

/// A bounded memo of x-only keys already lifted to curve points.
///
/// Reading a BIP-340 public key takes a field square root (about a tenth
/// of the signature check); a client sends many events with one key, so
/// the [`crate::Verifier`] remembers the keys it has read. This is pure
/// memoization: the entry for 32 bytes is exactly what
/// [`NostrPublicKey::from_bytes`] returns for them, whoever signed what, so
/// it carries no trust. Only valid points are kept; when `capacity` keys
/// are held the memo is emptied and starts again (a flood of distinct keys
/// costs each of them the square root, nothing more).
pub struct KeyMemo(crate::memo::Memo<[u8; 32], NostrPublicKey>);

impl KeyMemo {
    /// An empty memo of at most `capacity` keys (0 remembers nothing).
    pub fn new(capacity: usize) -> Self {
        KeyMemo(crate::memo::Memo::new(capacity))
    }

    /// As [`NostrPublicKey::from_bytes`], remembering the result.
    pub fn lift(&self, bytes: [u8; 32]) -> Result<NostrPublicKey> {
        self.0
            .get_or_compute(&bytes, || NostrPublicKey::from_bytes(bytes))
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for KeyMemo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMemo")
            .field("capacity", &self.0.capacity())
            .field("len", &self.len())
            .finish()
    }
}

/// A Nostr secret key. `Debug` never shows the key.
#[derive(Clone)]
pub struct NostrSecretKey {
    keypair: Keypair,
}

impl NostrSecretKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        let sk = SecretKey::new(&mut secp256k1::rand::rng());
        Self::from_secret(sk)
    }

    /// From 32 bytes; `malformed` when zero or not below the group order.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self> {
        let sk = SecretKey::from_secret_bytes(bytes)
            .map_err(|_| Error::malformed("not a valid secp256k1 secret key"))?;
        Ok(Self::from_secret(sk))
    }

    /// From a libsecp256k1 secret key.
    pub fn from_secret(sk: SecretKey) -> Self {
        NostrSecretKey {
            keypair: Keypair::from_secret_key(&sk),
        }
    }

    /// From 64 lowercase hex characters.
    pub fn from_hex(hex: &str) -> Result<Self> {
        Self::from_bytes(hex_decode_lower_array::<32>(hex)?)
    }

    /// From a NIP-19 `nsec1…` string.
    pub fn from_nsec(nsec: &str) -> Result<Self> {
        let (hrp, data) = bech32::decode(nsec)?;
        if hrp != "nsec" {
            return Err(Error::malformed("expected an `nsec` bech32 key"));
        }
        let bytes: [u8; 32] = data
            .try_into()
            .map_err(|_| Error::malformed("an `nsec` carries exactly 32 bytes"))?;
        Self::from_bytes(bytes)
    }

    /// From either form: 64 lowercase hex characters or `nsec1…`.
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > 4 && text.as_bytes()[..4].eq_ignore_ascii_case(b"nsec") {
            Self::from_nsec(text)
        } else {
            Self::from_hex(text)
        }
    }

    /// The 32 secret bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.keypair.secret_key().to_secret_bytes()
    }

    /// 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex_encode(&self.to_bytes())
    }

    /// NIP-19 `nsec1…`.
    pub fn to_nsec(&self) -> String {
        bech32::encode("nsec", &self.to_bytes())
    }

    /// The matching x-only public key.
    pub fn public_key(&self) -> NostrPublicKey {
        let (key, _) = self.keypair.x_only_public_key();
        NostrPublicKey {
            bytes: key.to_byte_array(),
            key,
        }
    }

    /// The secret normalised so that its public point has even Y (the secret
    /// is negated for odd Y), as BIP-340 and Portal do: an ECDSA signature
    /// made with it verifies against `02 || x`.
    pub fn even_y_secret(&self) -> SecretKey {
        let sk = self.keypair.secret_key();
        match self.keypair.x_only_public_key().1 {
            Parity::Even => sk,
            Parity::Odd => sk.negate(),
        }
    }

    /// A BIP-340 signature over `msg` with fresh auxiliary randomness.
    pub fn sign_schnorr(&self, msg: &[u8]) -> [u8; 64] {
        schnorr::sign(msg, &self.keypair).to_byte_array()
    }

    /// A BIP-340 signature over `msg` with the given auxiliary data
    /// (deterministic; for tests and reproducible fixtures).
    pub fn sign_schnorr_with_aux(&self, msg: &[u8], aux_rand: &[u8; 32]) -> [u8; 64] {
        schnorr::sign_with_aux_rand(msg, &self.keypair, aux_rand).to_byte_array()
    }
}

impl fmt::Debug for NostrSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NostrSecretKey(pubkey {})", self.public_key().to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_memo_answers_as_from_bytes_and_stays_bounded() {
        let memo = KeyMemo::new(8);
        let keys: Vec<NostrPublicKey> = (0..20)
            .map(|_| NostrSecretKey::generate().public_key())
            .collect();
        for k in &keys {
            assert_eq!(memo.lift(*k.as_bytes()).unwrap(), *k);
            // Again, from the memo when it is still there.
            assert_eq!(memo.lift(*k.as_bytes()).unwrap(), *k);
            assert!(memo.len() <= 8, "{}", memo.len());
        }
        // Not an x coordinate on the curve (x = 5 has no point): refused
        // every time, never remembered.
        let mut not_on_curve = [0u8; 32];
        not_on_curve[31] = 5;
        let before = memo.len();
        for _ in 0..3 {
            assert_eq!(
                memo.lift(not_on_curve).unwrap_err().code(),
                NostrPublicKey::from_bytes(not_on_curve).unwrap_err().code()
            );
        }
        assert_eq!(memo.len(), before);
        // Capacity 0 remembers nothing.
        let off = KeyMemo::new(0);
        assert_eq!(off.lift(*keys[0].as_bytes()).unwrap(), keys[0]);
        assert!(off.is_empty());
    }

    // NIP-19's own examples.
    const NPUB: &str = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg";
    const NPUB_HEX: &str = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e";
    const NSEC: &str = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5";
    const NSEC_HEX: &str = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa";

    #[test]
    fn nip19_examples() {
        let pk = NostrPublicKey::parse(NPUB).unwrap();
        assert_eq!(pk.to_hex(), NPUB_HEX);
        assert_eq!(NostrPublicKey::parse(NPUB_HEX).unwrap().to_npub(), NPUB);
        let sk = NostrSecretKey::parse(NSEC).unwrap();
        assert_eq!(sk.to_hex(), NSEC_HEX);
        assert_eq!(NostrSecretKey::parse(NSEC_HEX).unwrap().to_nsec(), NSEC);
    }

    #[test]
    fn wrong_prefix_or_case_or_checksum() {
        assert!(NostrPublicKey::parse(NSEC).is_err());
        assert!(NostrSecretKey::parse(NPUB).is_err());
        assert!(NostrPublicKey::parse(&NPUB_HEX.to_uppercase()).is_err());
        let mut bad = NPUB.to_owned();
        bad.pop();
        bad.push('q');
        assert!(NostrPublicKey::parse(&bad).is_err());
        assert!(NostrPublicKey::parse(&NPUB.to_uppercase()).is_ok());
    }

    #[test]
    fn even_y_secret_signs_for_the_lifted_point() {
        for _ in 0..8 {
            let sk = NostrSecretKey::generate();
            let lifted = sk.public_key().even_y_point();
            assert_eq!(PublicKey::from_secret_key(&sk.even_y_secret()), lifted);
        }
    }
}
