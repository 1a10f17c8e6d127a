//! Keys refused when they are loaded (issue 17, item 9): Ed25519 public keys
//! of small order or in a non-canonical encoding, and RSA public exponents
//! other than 65537 unless the caller opts in. Each test feeds the key the
//! way an operator would (a JWK Set), shows the token the key would let
//! through, and asserts the refusal at load.

use tessera_core::internal::encoding::{b64url_decode, b64url_encode};
use tessera_core::{jwt, Algorithm, ErrorCode, Policy};
use tessera_core::{KeySet, SigningKey, VerifyingKey};

const NOW: i64 = 1_800_000_000;

fn jwks_ed25519(x: &[u8; 32]) -> String {
    format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"k","x":"{}"}}]}}"#,
        b64url_encode(x)
    )
}

/// A token "signed" with R = identity (the encoding of the point (0, 1)),
/// S = 0: with a small-order key A, [S]B = R + [k]A holds for any message
/// whose k sends A to the identity (always for the identity key itself).
fn forged_token() -> String {
    let header = b64url_encode(br#"{"alg":"EdDSA","kid":"k"}"#);
    let payload = b64url_encode(br#"{"sub":"admin","exp":1900000000}"#);
    let mut sig = [0u8; 64];
    sig[0] = 1; // R = compressed identity: y = 1, sign bit 0; S = 0.
    format!("{header}.{payload}.{}", b64url_encode(&sig))
}

fn refused_at_load(jwks: &str, why: &str) {
    match KeySet::from_jwks(jwks, None) {
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::Malformed, "{}", e.message());
            assert!(e.message().contains(why), "{}", e.message());
        }
        Ok(keys) => {
            let r = jwt::verify(&forged_token(), &keys, &Policy::default(), NOW);
            panic!("the key loaded; the forged token then gives {r:?}");
        }
    }
}

#[test]
fn small_order_ed25519_keys_are_refused_at_load() {
    // The identity (order 1), (0, -1) (order 2) and (sqrt(-1), 0) (order 4),
    // each in its canonical encoding.
    let identity = {
        let mut x = [0u8; 32];
        x[0] = 1;
        x
    };
    let minus_one = {
        // y = p - 1 = 2^255 - 20, little-endian.
        let mut x = [0xffu8; 32];
        x[0] = 0xec;
        x[31] = 0x7f;
        x
    };
    let order_four = [0u8; 32];
    for x in [identity, minus_one, order_four] {
        refused_at_load(&jwks_ed25519(&x), "small order");
        assert_eq!(
            VerifyingKey::ed25519(&x).unwrap_err().code(),
            ErrorCode::Malformed
        );
    }
}

#[test]
fn non_canonical_ed25519_encodings_are_refused_at_load() {
    // y = p + 1 (a second spelling of y = 1), and the identity with the sign
    // bit set (x = "-0").
    let mut y_plus_p = [0xffu8; 32];
    y_plus_p[0] = 0xee;
    y_plus_p[31] = 0x7f;
    let mut negative_zero = [0u8; 32];
    negative_zero[0] = 1;
    negative_zero[31] = 0x80;
    for x in [y_plus_p, negative_zero] {
        refused_at_load(&jwks_ed25519(&x), "canonical");
    }
}

#[test]
fn an_honest_ed25519_key_still_loads_and_verifies() {
    let key = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let jwk = key.verifying_key().unwrap().to_public_jwk().unwrap();
    let x = b64url_decode(jwk.get("x").unwrap().as_str().unwrap().as_bytes()).unwrap();
    let x: [u8; 32] = x.try_into().unwrap();
    let keys = KeySet::from_jwks(&jwks_ed25519(&x), None).unwrap();
    let mut claims = tessera_core::Object::new();
    claims.insert("sub", "alice".into());
    claims.insert("exp", (NOW + 60).into());
    let mut header = tessera_core::Object::new();
    header.insert("kid", "k".into());
    let token = jwt::sign(&key, &header, &claims).unwrap();
    assert!(jwt::verify(&token, &keys, &Policy::default(), NOW).is_ok());
    // And the forged token is refused by the honest key.
    assert_eq!(
        jwt::verify(&forged_token(), &keys, &Policy::default(), NOW)
            .unwrap_err()
            .code(),
        ErrorCode::BadSignature
    );
}

/// An RSA key of 2048 bits (a generated one's modulus) with exponent `e`.
fn rsa_jwks(e: &[u8]) -> (String, Vec<u8>) {
    let key = SigningKey::generate(Algorithm::RS256).unwrap();
    let jwk = key.verifying_key().unwrap().to_public_jwk().unwrap();
    let n = jwk.get("n").unwrap().as_str().unwrap().to_owned();
    let text = format!(
        r#"{{"keys":[{{"kty":"RSA","alg":"RS256","n":"{n}","e":"{}"}}]}}"#,
        b64url_encode(e)
    );
    (text, b64url_decode(n.as_bytes()).unwrap())
}

#[test]
fn rsa_exponents_other_than_65537_are_refused_unless_allowed() {
    for e in [&[3u8][..], &[0x01, 0x00, 0x03], &[0x01, 0x00, 0x00, 0x01]] {
        let (jwks, n) = rsa_jwks(e);
        let err = KeySet::from_jwks(&jwks, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Malformed);
        assert!(err.message().contains("65537"), "{}", err.message());
        assert!(VerifyingKey::rsa(Algorithm::RS256, &n, e).is_err());
        // The explicit opt-in takes it.
        assert!(VerifyingKey::rsa_with_unusual_exponent(Algorithm::RS256, &n, e).is_ok());
    }
    let (jwks, _) = rsa_jwks(&[1, 0, 1]);
    assert!(KeySet::from_jwks(&jwks, None).is_ok());
}

/// A published set (an issuer's `jwks_uri`) holds encryption keys next to
/// the signing keys: `from_jwks` refuses such a set whole, while
/// `from_published_jwks` skips exactly the encryption keys and keeps the
/// rules for the rest.
#[test]
fn published_sets_skip_encryption_keys_only() {
    let signer = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("sig-1");
    let mut sig_jwk = signer.verifying_key().unwrap().to_public_jwk().unwrap();
    sig_jwk.insert("use", "sig".into());
    let sig_jwk = tessera_core::Value::Object(sig_jwk).to_json();
    let rsa = SigningKey::generate(Algorithm::RS256).unwrap();
    let rsa_jwk = rsa.verifying_key().unwrap().to_public_jwk().unwrap();
    let n = rsa_jwk.get("n").unwrap().as_str().unwrap().to_owned();
    let x = b64url_encode(&[7u8; 32]);
    let enc_members = [
        format!(r#"{{"kty":"RSA","use":"enc","kid":"enc-1","n":"{n}","e":"AQAB"}}"#),
        format!(r#"{{"kty":"RSA","alg":"RSA-OAEP-256","kid":"enc-2","n":"{n}","e":"AQAB"}}"#),
        format!(r#"{{"kty":"OKP","crv":"X25519","kid":"enc-3","x":"{x}"}}"#),
        format!(
            r#"{{"kty":"RSA","key_ops":["encrypt","wrapKey"],"kid":"enc-4","n":"{n}","e":"AQAB"}}"#
        ),
    ];
    for enc in &enc_members {
        let text = format!(r#"{{"keys":[{enc},{sig_jwk}]}}"#);
        assert!(KeySet::from_jwks(&text, None).is_err(), "{enc}");
        let (set, skipped) = KeySet::from_published_jwks(&text, None).unwrap();
        assert_eq!(skipped, 1, "{enc}");
        assert_eq!(set.keys().len(), 1);
        assert_eq!(set.keys()[0].kid(), Some("sig-1"));
    }
    let all = format!(r#"{{"keys":[{},{sig_jwk}]}}"#, enc_members.join(","));
    let (set, skipped) = KeySet::from_published_jwks(&all, None).unwrap();
    assert_eq!((set.keys().len(), skipped), (1, 4));
    // A broken signing key still refuses the set: only encryption keys are skipped.
    let broken = format!(
        r#"{{"keys":[{sig_jwk},{{"kty":"EC","crv":"P-256","use":"sig","x":"AA","y":"AA"}}]}}"#
    );
    assert_eq!(
        KeySet::from_published_jwks(&broken, None)
            .unwrap_err()
            .code(),
        ErrorCode::Malformed
    );
    let unknown_alg = format!(
        r#"{{"keys":[{sig_jwk},{{"kty":"EC","crv":"P-256","alg":"XS999","x":"AA","y":"AA"}}]}}"#
    );
    assert_eq!(
        KeySet::from_published_jwks(&unknown_alg, None)
            .unwrap_err()
            .code(),
        ErrorCode::UnsupportedAlgorithm
    );
}
