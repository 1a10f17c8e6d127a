//! Shared fixtures for the fuzz targets: fixed keys, a fixed clock, and a
//! small reader that splits one fuzz input into the pieces a target needs.
//!
//! Every key here is test material (RFC 7520 cookbook keys, or secrets made
//! of repeated bytes); none protects anything.

use std::sync::OnceLock;
use tessera_core::internal::encoding::b64url_encode;
use tessera_core::internal::ethereum::EthereumSecretKey;
use tessera_core::{KeySet, SigningKey, VerifyingKey};
use tessera_core::NostrPublicKey;
use tessera_core::internal::nostr::NostrSecretKey;
use tessera_core::{Algorithm, ErrorCode};

/// The instant every target evaluates time at (2026-11-21T...; inside the
/// validity window of several vectors, outside others).
pub const NOW: i64 = 1_795_390_000;

/// RFC 7520 §3.2: the P-521 private key (ES512).
pub const COOKBOOK_EC_PRIVATE: &str = r#"{"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521","x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt","y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1","d":"AAhRON2r9cqXX1hg-RoI6R1tX5p2rUAYdmpHZoC1XNM56KtscrX6zbKipQrCW9CGZH3T4ubpnoTKLDYJ_fF3_rJt"}"#;

/// RFC 7520 §3.3: the RSA public key (pinned to RS256 here).
pub const COOKBOOK_RSA_PUBLIC: &str = r#"{"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw","e":"AQAB"}"#;

/// RFC 7520 §3.5: the HMAC key (HS256).
pub const COOKBOOK_HMAC: &str = r#"{"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","use":"sig","alg":"HS256","k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"}"#;

/// The signing keys a target can sign fuzzed headers/payloads with, so that
/// the claim checks behind the signature are reached.
pub struct Signers {
    /// HS256 with a fixed secret, kid `hs`.
    pub hs256: SigningKey,
    /// RFC 7520 P-521 key, ES512.
    pub es512: SigningKey,
    /// Ed25519 from a fixed seed, kid `ed`.
    pub eddsa: SigningKey,
    /// ES256K from a fixed secret, kid `k1`.
    pub es256k: SigningKey,
}

impl Signers {
    /// The signer picked by `selector`.
    pub fn pick(&self, selector: u8) -> &SigningKey {
        match selector % 4 {
            0 => &self.hs256,
            1 => &self.es512,
            2 => &self.eddsa,
            _ => &self.es256k,
        }
    }
}

/// The fixed signing keys.
pub fn signers() -> &'static Signers {
    static S: OnceLock<Signers> = OnceLock::new();
    S.get_or_init(|| Signers {
        hs256: SigningKey::hmac(Algorithm::HS256, &[0x42; 32])
            .expect("hmac key")
            .with_kid("hs"),
        es512: SigningKey::from_jwk(COOKBOOK_EC_PRIVATE, None).expect("cookbook EC key"),
        eddsa: SigningKey::ed25519_seed(&[0x07; 32])
            .expect("ed25519 seed")
            .with_kid("ed"),
        es256k: SigningKey::secp256k1(nostr_secret().even_y_secret()).with_kid("k1"),
    })
}

/// The verifying half of every signer, plus the cookbook RSA and HMAC keys
/// (so the cookbook's compact tokens pass their signature check).
pub fn key_set() -> &'static KeySet {
    static K: OnceLock<KeySet> = OnceLock::new();
    K.get_or_init(|| {
        let s = signers();
        let mut set = KeySet::new();
        for k in [&s.hs256, &s.es512, &s.eddsa, &s.es256k] {
            set.push(k.verifying_key().expect("public half"))
                .expect("push");
        }
        set.push(VerifyingKey::from_jwk(COOKBOOK_RSA_PUBLIC, Some(Algorithm::RS256)).expect("rsa"))
            .expect("push");
        set.push(VerifyingKey::from_jwk(COOKBOOK_HMAC, None).expect("hmac"))
            .expect("push");
        set
    })
}

/// Nostr secret key 3 (the fuzz targets' own signer).
pub fn nostr_secret() -> &'static NostrSecretKey {
    static N: OnceLock<NostrSecretKey> = OnceLock::new();
    N.get_or_init(|| {
        let mut b = [0u8; 32];
        b[31] = 3;
        NostrSecretKey::from_bytes(b).expect("nostr key")
    })
}

/// Trusted Nostr keys: the targets' own signer, secret key 1 (the vectors'
/// NWTs), and the Portal vector's signer.
pub fn nostr_trusted() -> &'static [NostrPublicKey] {
    static T: OnceLock<Vec<NostrPublicKey>> = OnceLock::new();
    T.get_or_init(|| {
        let mut one = [0u8; 32];
        one[31] = 1;
        vec![
            nostr_secret().public_key(),
            NostrSecretKey::from_bytes(one).expect("sk1").public_key(),
            NostrPublicKey::from_hex(
                "531fe6068134503d2723133227c867ac8fa6c83c537e9a44c3c5bdbdcb1fe337",
            )
            .expect("portal signer"),
        ]
    })
}

/// The targets' own Ethereum key (secret 0x11 repeated).
pub fn eth_secret() -> &'static EthereumSecretKey {
    static E: OnceLock<EthereumSecretKey> = OnceLock::new();
    E.get_or_init(|| EthereumSecretKey::from_bytes([0x11; 32]).expect("eth key"))
}

/// Builds a compact JWS over arbitrary header and payload bytes, signed by
/// `key` (the header is *not* forced to name `key`'s algorithm, so the
/// algorithm-pinning rules are reached too).
pub fn sign_raw(key: &SigningKey, header: &[u8], payload: &[u8]) -> String {
    let mut token = b64url_encode(header);
    token.push('.');
    token.push_str(&b64url_encode(payload));
    let sig = key.sign(token.as_bytes()).expect("signing cannot fail");
    token.push('.');
    token.push_str(&b64url_encode(&sig));
    token
}

/// Splits fuzz input into pieces: each piece but the last is preceded by
/// one length byte.
pub struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    /// One byte (0 when exhausted).
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    /// A piece of at most 255 bytes, its length given by the next byte.
    pub fn piece(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte()).min(self.0.len());
        let (p, rest) = self.0.split_at(n);
        self.0 = rest;
        p
    }

    /// Everything left.
    pub fn rest(self) -> &'a [u8] {
        self.0
    }
}

/// Every code an error may carry is one of contracts.md's list; a fuzz
/// target calls this on each error it sees (the check is that the code
/// round-trips through its stable name).
pub fn check_code(code: ErrorCode) {
    assert_eq!(
        ErrorCode::from_name(code.as_str()),
        Some(code),
        "error code {code:?} has no stable name"
    );
}

/// `decoded_len` bytes can only come from `encoded_len` base64 characters
/// when the lengths agree (no decoder invents bytes).
pub fn assert_b64_len(encoded_len: usize, decoded_len: usize) {
    assert!(
        decoded_len <= encoded_len * 3 / 4,
        "{decoded_len} bytes decoded from {encoded_len} base64 characters"
    );
}
