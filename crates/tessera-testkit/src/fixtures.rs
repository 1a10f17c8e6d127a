//! Keys, credentials and numbers the suites build their inputs from.

use serde_json::{json, Value};
use tessera_core::internal::encoding::{b64url_encode, hex_encode};
use tessera_core::internal::ethereum::{eip191, EthereumSecretKey};
use tessera_core::internal::nostr::NostrSecretKey;
use tessera_core::Algorithm;
use tessera_core::{KeySet, SigningKey, VerifyingKey};

/// The HS256 secret of the rule suites.
pub const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

/// An HS256 signing key over [`SECRET`].
pub fn hs256() -> SigningKey {
    SigningKey::hmac(Algorithm::HS256, SECRET).expect("HS256 key")
}

/// The key set that verifies [`hs256`]'s tokens.
pub fn hs256_set() -> KeySet {
    KeySet::single(VerifyingKey::hmac(Algorithm::HS256, SECRET).expect("HS256 key"))
}

/// `b64(header).b64(payload).b64(sig)` from literal JSON text, signed by
/// `key` over exactly those bytes (the input of every rule test: what is
/// refused is visible in the test).
pub fn token_with(key: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        b64url_encode(header.as_bytes()),
        b64url_encode(payload.as_bytes())
    );
    let sig = key.sign(input.as_bytes()).expect("sign");
    format!("{input}.{}", b64url_encode(&sig))
}

/// `n - s` for big-endian numbers of the same length (`s <= n`): the other
/// S of an ECDSA signature, for the group order `n`.
pub fn sub_mod(n: &[u8], s: &[u8]) -> Vec<u8> {
    assert_eq!(n.len(), s.len(), "sub_mod: lengths differ");
    let mut out = vec![0u8; n.len()];
    let mut borrow = 0i16;
    for i in (0..n.len()).rev() {
        let mut d = i16::from(n[i]) - i16::from(s[i]) - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[i] = d as u8;
    }
    out
}

/// The secp256k1 group order.
pub const SECP256K1_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// The Nostr key whose secret is the number `n`.
pub fn nostr_key(n: u8) -> NostrSecretKey {
    let mut b = [0u8; 32];
    b[31] = n;
    NostrSecretKey::from_bytes(b).expect("a valid secret")
}

/// Nostr tags from string slices.
pub fn tags(list: &[&[&str]]) -> Vec<Vec<String>> {
    list.iter()
        .map(|t| t.iter().map(|s| (*s).to_owned()).collect())
        .collect()
}

/// `message` signed by `wallet` (EIP-191), as SIWE logins carry it:
/// `0x` and 130 hex digits.
pub fn siwe_signature(wallet: &EthereumSecretKey, message: &str) -> String {
    format!(
        "0x{}",
        hex_encode(&eip191::sign(wallet, message.as_bytes()))
    )
}

/// The SIWE login body for `message` signed by `wallet`, with `extra`
/// members.
pub fn siwe_body(wallet: &EthereumSecretKey, message: &str, extra: Value) -> Value {
    let mut body =
        json!({"method": "siwe", "message": message, "signature": siwe_signature(wallet, message)});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    body
}

/// `(r, n - s, v ^ 1)`: the high-S twin of a 65-byte recoverable secp256k1
/// signature (`v` 27 or 28), which recovers the same key.
pub fn high_s_twin(sig: &[u8; 65]) -> [u8; 65] {
    let mut out = *sig;
    out[32..64].copy_from_slice(&sub_mod(&SECP256K1_N, &sig[32..64]));
    out[64] = if sig[64] == 27 { 28 } else { 27 };
    out
}

/// A JSON file of the public test vectors (`shared/vectors/<rel>`, beside
/// the repository).
pub fn vector_json(rel: &str) -> Value {
    let path = format!(
        "{}/../../../shared/vectors/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The end of a run over a Wycheproof-style vector file: no case
/// disagreed, and every case of the file (`numberOfTests`) was run.
pub fn assert_vectors_agree(name: &str, wrong: &[String], cases: usize, doc: &Value) {
    assert!(
        wrong.is_empty(),
        "{name}: {} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(
        cases,
        doc["numberOfTests"].as_u64().expect("numberOfTests") as usize,
        "{name}: numberOfTests"
    );
}
