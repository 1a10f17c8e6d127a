//! JWK and JWK Set parsing (public and private keys).
//!
//! Input: a selector byte (which parser, which pinned algorithm), then the
//! document. Properties: a parsed public key survives its own JWK
//! (same algorithm, kid and thumbprint); a parsed private key signs, and its
//! public half verifies what it signed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::Value;
use tessera_core::{KeySet, SigningKey, VerifyingKey};
use tessera_core::Algorithm;
use tessera_fuzz::{check_code, Reader};

const ALGS: [&str; 15] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "ES512", "ES256K", "EdDSA", "none",
];

fn pin(b: u8) -> Option<Algorithm> {
    ALGS.get(usize::from(b % 16))
        .and_then(|n| Algorithm::from_name(n))
}

fn public_round_trip(key: &VerifyingKey) {
    let Some(jwk) = key.to_public_jwk() else {
        assert!(key.is_secret(), "a public key has no public JWK");
        assert!(key.thumbprint().is_none());
        return;
    };
    let again = VerifyingKey::from_jwk(&Value::Object(jwk.clone()).to_json(), None)
        .unwrap_or_else(|e| panic!("own public JWK refused: {e:?}"));
    assert_eq!(again.algorithm(), key.algorithm());
    assert_eq!(again.kid(), key.kid());
    assert_eq!(again.thumbprint(), key.thumbprint());
    assert_eq!(again.to_public_jwk(), Some(jwk));
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let sel = r.byte();
    let Ok(text) = std::str::from_utf8(r.rest()) else {
        return;
    };
    let pin = pin(sel >> 2);
    match sel & 3 {
        0 => match VerifyingKey::from_jwk(text, pin) {
            Ok(k) => public_round_trip(&k),
            Err(e) => check_code(e.code()),
        },
        1 => match KeySet::from_jwks(text, pin) {
            Ok(set) => {
                let secrets = set.keys().iter().filter(|k| k.is_secret()).count();
                assert!(
                    secrets == 0 || secrets == set.keys().len(),
                    "mixed set accepted"
                );
                for k in set.keys() {
                    public_round_trip(k);
                }
                let published = set.to_public_jwks();
                let text = Value::Object(published).to_json();
                if secrets == 0 {
                    let again = KeySet::from_jwks(&text, None)
                        .unwrap_or_else(|e| panic!("own JWK Set refused: {e:?}"));
                    assert_eq!(again.keys().len(), set.keys().len());
                }
            }
            Err(e) => check_code(e.code()),
        },
        _ => match SigningKey::from_jwk(text, pin) {
            Ok(k) => {
                let public = k.verifying_key().expect("a signing key has a public half");
                assert_eq!(public.algorithm(), k.algorithm());
                let sig = k.sign(b"tessera fuzz").expect("signing");
                public
                    .verify(b"tessera fuzz", &sig)
                    .expect("own signature does not verify");
                public_round_trip(&public);
                if let Ok(private) = k.to_private_jwk() {
                    let again = SigningKey::from_jwk(&Value::Object(private).to_json(), None)
                        .unwrap_or_else(|e| panic!("own private JWK refused: {e:?}"));
                    assert_eq!(again.algorithm(), k.algorithm());
                }
            }
            Err(e) => check_code(e.code()),
        },
    }
});
