//! formats.md §1, key selection: `kid` selects among the keys that *have*
//! a kid; a key without one (a PEM file, a JWK without `kid`, a secret) is
//! a candidate for any `kid`, still pinned to its one algorithm; at most
//! `MAX_CANDIDATES` (4) keys are tried per token; a real miss is
//! `unknown_key` and names the kid once.

use tessera_core::internal::keys::MAX_CANDIDATES;
use tessera_core::{jwt, Algorithm, ErrorCode, Policy};
use tessera_core::{KeySet, SigningKey, VerifyingKey};

const NOW: i64 = 1_800_000_000;
const PAYLOAD: &str = r#"{"sub":"alice","exp":1800000600}"#;

/// `b64(header).b64(PAYLOAD).b64(sig)` from literal JSON, signed by `key`.
fn token(key: &SigningKey, header: &str) -> String {
    tessera_testkit::fixtures::token_with(key, header, PAYLOAD)
}

fn with_kid(key: &SigningKey, kid: &str) -> String {
    token(
        key,
        &format!(r#"{{"alg":"{}","kid":"{kid}"}}"#, key.algorithm()),
    )
}

fn verify(t: &str, keys: &KeySet) -> tessera_core::Result<tessera_core::Identity> {
    jwt::verify(t, keys, &Policy::default(), NOW)
}

const ASYMMETRIC: [Algorithm; 11] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::ES512,
    Algorithm::ES256K,
    Algorithm::EdDSA,
];

#[test]
fn a_key_without_kid_verifies_a_token_with_a_kid_for_every_algorithm() {
    for alg in ASYMMETRIC {
        let signer = SigningKey::generate(alg).unwrap();
        let t = with_kid(&signer, "2024-rotation-7");
        // A PEM public key (SPKI): no kid. RSA keys are pinned by the caller.
        let pin = matches!(alg.name().as_bytes()[0], b'R' | b'P').then_some(alg);
        let pem = VerifyingKey::from_pem(&signer.to_public_pem().unwrap(), pin).unwrap();
        assert_eq!(pem.kid(), None);
        let id = verify(&t, &KeySet::single(pem)).unwrap_or_else(|e| panic!("{alg} PEM: {e}"));
        assert_eq!(id.subject, "alice");
        assert_eq!(id.kid, None, "{alg}: the key that verified has no kid");
        // A JWK without kid (as jose's exportJWK writes it, plus `alg`).
        let mut jwk = signer.verifying_key().unwrap().to_public_jwk().unwrap();
        assert!(!jwk.contains("kid"));
        jwk.insert("alg", alg.name().into());
        let jwk = tessera_core::Value::Object(jwk).to_json();
        let from_jwk = VerifyingKey::from_jwk(&jwk, None).unwrap();
        verify(&t, &KeySet::single(from_jwk)).unwrap_or_else(|e| panic!("{alg} JWK: {e}"));
        // The same JWK in a JWK Set.
        let set = KeySet::from_jwks(&format!(r#"{{"keys":[{jwk}]}}"#), None).unwrap();
        verify(&t, &set).unwrap_or_else(|e| panic!("{alg} JWK Set: {e}"));
        // Still pinned to its one algorithm: a token naming another is refused.
        let other = if alg == Algorithm::EdDSA {
            Algorithm::ES256
        } else {
            Algorithm::EdDSA
        };
        let forged = token(
            &signer,
            &format!(r#"{{"alg":"{other}","kid":"2024-rotation-7"}}"#),
        );
        assert_eq!(
            verify(&forged, &set).unwrap_err().code(),
            ErrorCode::UnknownKey,
            "{alg}: a kid-less key pinned to {alg} is no candidate for {other}"
        );
    }
}

#[test]
fn an_hmac_secret_without_kid_verifies_a_token_with_a_kid() {
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let secret = [7u8; 64];
        let signer = SigningKey::hmac(alg, &secret).unwrap();
        let keys = KeySet::single(VerifyingKey::hmac(alg, &secret).unwrap());
        assert!(verify(&with_kid(&signer, "k-9"), &keys).is_ok(), "{alg}");
        let wrong = SigningKey::hmac(alg, &[8u8; 64]).unwrap();
        assert_eq!(
            verify(&with_kid(&wrong, "k-9"), &keys).unwrap_err().code(),
            ErrorCode::BadSignature
        );
    }
}

#[test]
fn a_key_with_another_kid_is_never_a_candidate() {
    let signer = SigningKey::generate(Algorithm::ES256).unwrap();
    let named = KeySet::single(signer.verifying_key().unwrap().with_kid("a"));
    // The right key, but it names itself "a": a token naming "b" does not reach it.
    let e = verify(&with_kid(&signer, "b"), &named).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownKey);
    assert!(verify(&with_kid(&signer, "a"), &named).is_ok());
    // A token without kid still reaches every key of its algorithm.
    assert!(verify(&token(&signer, r#"{"alg":"ES256"}"#), &named).is_ok());
}

#[test]
fn a_miss_is_unknown_key_and_names_the_kid_once() {
    let es = SigningKey::generate(Algorithm::ES256).unwrap();
    // Keys without kid, none pinned to ES256; one with a kid.
    let mut keys = KeySet::new();
    keys.push(VerifyingKey::hmac(Algorithm::HS256, &[1u8; 32]).unwrap())
        .unwrap();
    keys.push(
        SigningKey::generate(Algorithm::EdDSA)
            .unwrap()
            .verifying_key()
            .unwrap()
            .with_kid("ed-1"),
    )
    .unwrap();
    let e = verify(&with_kid(&es, "rotated-2023"), &keys).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownKey);
    assert_eq!(
        e.message().matches("rotated-2023").count(),
        1,
        "{}",
        e.message()
    );
    assert!(e.message().contains("ES256"), "{}", e.message());
    // A long kid is cut (64 bytes shown), control characters are escaped.
    let long = "x".repeat(500);
    let e = verify(&with_kid(&es, &long), &keys).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownKey);
    assert!(e.message().contains(&"x".repeat(64)));
    assert!(!e.message().contains(&"x".repeat(65)), "{}", e.message());
    let e = verify(&with_kid(&es, r"a\nb\u0007"), &keys).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownKey);
    assert!(!e.message().contains('\n') && !e.message().contains('\u{7}'));
    assert!(e.message().contains(r#""a\nb\u{7}""#), "{}", e.message());
    // Printable ASCII only: the message may become an HTTP header.
    let e = verify(&with_kid(&es, "clé-ü"), &keys).unwrap_err();
    assert!(e.message().is_ascii(), "{}", e.message());
    assert!(
        e.message().contains(r#""cl\u{e9}-\u{fc}""#),
        "{}",
        e.message()
    );
    // No key at all.
    let e = verify(&with_kid(&es, "k"), &KeySet::new()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownKey);
}

#[test]
fn a_kid_naming_a_key_of_another_algorithm_falls_back_to_kid_less_keys() {
    let es = SigningKey::generate(Algorithm::ES256).unwrap();
    let mut keys = KeySet::new();
    keys.push(
        VerifyingKey::hmac(Algorithm::HS256, &[1u8; 32])
            .unwrap()
            .with_kid("k1"),
    )
    .unwrap();
    // Only the HS256 key has the kid: the ES256 token is not allowed.
    let t = with_kid(&es, "k1");
    let e = verify(&t, &keys).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlgorithmNotAllowed);
    assert_eq!(e.message().matches("k1").count(), 1, "{}", e.message());
    // A kid-less ES256 key is a candidate for any kid, "k1" included.
    keys.push(es.verifying_key().unwrap()).unwrap();
    assert!(verify(&t, &keys).is_ok());
}

/// A JWK Set document of eight ES256 keys without `kid`, `signer`'s at
/// `position`.
fn eight_kidless(signer: &SigningKey, position: usize) -> KeySet {
    let jwks: Vec<String> = (0..8)
        .map(|i| {
            let key = if i == position {
                signer.verifying_key().unwrap()
            } else {
                SigningKey::generate(Algorithm::ES256)
                    .unwrap()
                    .verifying_key()
                    .unwrap()
            };
            let jwk = key.to_public_jwk().unwrap();
            assert!(!jwk.contains("kid"));
            tessera_core::Value::Object(jwk).to_json()
        })
        .collect();
    let keys = KeySet::from_jwks(&format!(r#"{{"keys":[{}]}}"#, jwks.join(",")), None).unwrap();
    assert_eq!(keys.keys().len(), 8);
    keys
}

#[test]
fn at_most_four_candidates_are_tried_per_token() {
    assert_eq!(MAX_CANDIDATES, 4);
    let signer = SigningKey::generate(Algorithm::ES256).unwrap();
    let unknown_kid = with_kid(&signer, "not-in-the-set");
    let no_kid = token(&signer, r#"{"alg":"ES256"}"#);
    for position in 0..8 {
        let keys = eight_kidless(&signer, position);
        assert_eq!(
            keys.candidates(Algorithm::ES256, Some("x")).unwrap().len(),
            4
        );
        assert_eq!(keys.candidates(Algorithm::ES256, None).unwrap().len(), 4);
        for t in [&unknown_kid, &no_kid] {
            let got = verify(t, &keys);
            if position < MAX_CANDIDATES {
                // Tried: the key that signed is among the first four.
                assert!(got.is_ok(), "position {position}: {got:?}");
            } else {
                // Never tried: five signature checks would have found it.
                let e = got.unwrap_err();
                assert_eq!(e.code(), ErrorCode::BadSignature, "position {position}");
                assert!(e.message().contains("at most 4"), "{}", e.message());
            }
        }
    }
}

#[test]
fn a_matching_kid_is_tried_before_kid_less_keys() {
    let signer = SigningKey::generate(Algorithm::ES256).unwrap();
    let mut keys = eight_kidless(&SigningKey::generate(Algorithm::ES256).unwrap(), 0);
    keys.push(signer.verifying_key().unwrap().with_kid("current"))
        .unwrap();
    let got = keys.candidates(Algorithm::ES256, Some("current")).unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].kid(), Some("current"));
    let id = verify(&with_kid(&signer, "current"), &keys).unwrap();
    assert_eq!(id.kid.as_deref(), Some("current"));
}
