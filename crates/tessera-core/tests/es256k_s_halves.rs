//! ES256K and the two halves of S (formats.md §1, §2, §6), on signatures
//! made by OpenSSL, which signs high-S about half the time
//! (`data/es256k_openssl.json`, made by `data/es256k_openssl.py` with the
//! `cryptography` package PyJWT and jwcrypto sign with).
//!
//! The same token text (a Portal-shaped ES256K JWT) is signed twice over
//! the same input, once with a high S and once with a low S:
//! - as a standard JWT both verify (RFC 8812 has no low-S rule);
//! - as a Portal JWT the high-S one is `bad_signature` (Portal refuses it);
//! - an EIP-191 signature by the same key with a high S is `bad_signature`
//!   (EIP-2), while the low-S one, and the high one with S replaced by
//!   n - S, recover the key's address.

use serde_json::Value;
use tessera_core::internal::encoding::{b64url_decode, hex_decode_any_case};
use tessera_core::internal::ethereum::eip191;
use tessera_core::internal::nostr::verify_portal;
use tessera_core::Address;
use tessera_core::NostrPublicKey;
use tessera_core::{jwt, Algorithm, ErrorCode, Format, KeySet, Policy, Verifier, VerifyingKey};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/es256k_openssl.json"
);

fn data() -> Value {
    serde_json::from_str(&std::fs::read_to_string(DATA).unwrap()).unwrap()
}

fn s(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap().to_owned()
}

/// Whether the 64-byte `r||s` has S above n/2 (libsecp256k1's own test:
/// normalising changes it).
fn is_high(rs: &[u8]) -> bool {
    let parsed = secp256k1::ecdsa::Signature::from_compact(rs).unwrap();
    let mut low = parsed;
    low.normalize_s();
    low != parsed
}

/// `r||s` with S replaced by n - S.
fn negated(rs: &[u8]) -> Vec<u8> {
    let mut sig = secp256k1::ecdsa::Signature::from_compact(rs).unwrap();
    assert!(is_high(rs));
    sig.normalize_s();
    sig.serialize_compact().to_vec()
}

fn signature(token: &str) -> Vec<u8> {
    b64url_decode(token.rsplit('.').next().unwrap().as_bytes()).unwrap()
}

#[test]
fn the_pair_is_one_high_and_one_low_s_over_the_same_input() {
    let d = data();
    let (high, low) = (s(&d["tokens"], "high_s"), s(&d["tokens"], "low_s"));
    assert!(is_high(&signature(&high)));
    assert!(!is_high(&signature(&low)));
    assert_eq!(
        high.rsplit_once('.').unwrap().0,
        low.rsplit_once('.').unwrap().0
    );
    let eth = &d["eip191"];
    assert!(is_high(&hex_decode_any_case(&s(eth, "high_s")).unwrap()));
    assert!(!is_high(&hex_decode_any_case(&s(eth, "low_s")).unwrap()));
}

#[test]
fn a_standard_jwt_accepts_either_s() {
    let d = data();
    let key = VerifyingKey::from_jwk(&d["jwk"].to_string(), None).unwrap();
    assert_eq!(key.algorithm(), Algorithm::ES256K);
    let keys = KeySet::single(key);
    let now = d["valid_at"].as_i64().unwrap();
    for half in ["high_s", "low_s"] {
        let token = s(&d["tokens"], half);
        let id = jwt::verify(&token, &keys, &Policy::default(), now)
            .unwrap_or_else(|e| panic!("{half}: {e}"));
        assert_eq!(id.alg.name(), "ES256K");
        let v = Verifier::new(Policy::default(), keys.clone())
            .with_clock(std::sync::Arc::new(tessera_core::FixedClock(now)));
        assert_eq!(v.verify_jwt(&token).unwrap().format, Format::Jwt);
    }
    // Still a signature check: another input with the high-S signature fails.
    let high = s(&d["tokens"], "high_s");
    let (input, sig) = high.rsplit_once('.').unwrap();
    let other = format!("{}x.{sig}", &input[..input.len() - 1]);
    assert_eq!(
        jwt::verify(&other, &keys, &Policy::default(), now)
            .unwrap_err()
            .code(),
        ErrorCode::BadSignature
    );
}

#[test]
fn a_portal_jwt_refuses_high_s() {
    let d = data();
    let signer = NostrPublicKey::parse(&s(&d, "nostr_xonly")).unwrap();
    let now = d["valid_at"].as_i64().unwrap();
    let low = s(&d["tokens"], "low_s");
    let id = verify_portal(&low, &signer, &Policy::default(), now).unwrap();
    assert_eq!(id.format, Format::Portal);
    let high = s(&d["tokens"], "high_s");
    let e = verify_portal(&high, &signer, &Policy::default(), now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadSignature);
    assert!(e.message().contains("high-S"), "{}", e.message());
    // Through the verifier (auto-detected as Portal) too.
    let v = Verifier::new(Policy::default(), KeySet::new())
        .with_nostr_keys(vec![signer])
        .with_clock(std::sync::Arc::new(tessera_core::FixedClock(now)));
    assert!(v.verify_portal(&low).is_ok());
    assert_eq!(
        v.verify_authorization(&format!("Bearer {high}"), None, Default::default(), false)
            .unwrap_err()
            .code(),
        ErrorCode::BadSignature
    );
}

#[test]
fn an_eip191_signature_refuses_high_s() {
    let d = data();
    let eth = &d["eip191"];
    let message = s(eth, "message");
    assert_eq!(
        tessera_core::internal::encoding::hex_encode(&eip191::personal_sign_hash(
            message.as_bytes()
        )),
        s(eth, "digest")
    );
    let jwk = &d["jwk"];
    let mut point = vec![4u8];
    point.extend(b64url_decode(s(jwk, "x").as_bytes()).unwrap());
    point.extend(b64url_decode(s(jwk, "y").as_bytes()).unwrap());
    let address = Address::from_public_key(&secp256k1::PublicKey::from_slice(&point).unwrap());
    let with_v = |rs: &[u8], v: u8| {
        let mut sig = rs.to_vec();
        sig.push(v);
        sig
    };
    // The low-S signature recovers the key's address with one of the two v.
    let low = hex_decode_any_case(&s(eth, "low_s")).unwrap();
    let recovered: Vec<u8> = [27u8, 28]
        .into_iter()
        .filter(|v| eip191::recover(message.as_bytes(), &with_v(&low, *v)).ok() == Some(address))
        .collect();
    assert_eq!(recovered.len(), 1);
    // The high-S one is refused whatever v says...
    let high = hex_decode_any_case(&s(eth, "high_s")).unwrap();
    for v in [27u8, 28, 0, 1] {
        let e = eip191::recover(message.as_bytes(), &with_v(&high, v)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadSignature);
        assert!(e.message().contains("high-S"), "{}", e.message());
    }
    // ...though it is genuine: with S replaced by n - S (and v flipped,
    // which one of the two is right) it recovers the address.
    let normalised = negated(&high);
    assert!([27u8, 28].into_iter().any(|v| eip191::recover(
        message.as_bytes(),
        &with_v(&normalised, v)
    )
    .ok()
        == Some(address)));
}
