//! §1: algorithms (`none`, unknown ones, the key's algorithm, HMAC keys from
//! public material, ECDSA signature shapes and both S halves).

use super::*;

#[test]
fn none_is_refused_in_any_case() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let t = format!(
            "{}.{}.",
            b64url_encode(format!(r#"{{"alg":"{alg}"}}"#).as_bytes()),
            b64url_encode(OK_PAYLOAD.as_bytes())
        );
        assert_eq!(hs_code(&t), ErrorCode::UnsupportedAlgorithm, "{alg}");
    }
}

#[test]
fn unknown_algorithm_is_unsupported() {
    assert_eq!(
        hs_code(&token(r#"{"alg":"HS1"}"#, OK_PAYLOAD)),
        ErrorCode::UnsupportedAlgorithm
    );
    assert_eq!(
        hs_code(&token(r#"{"alg":"hs256"}"#, OK_PAYLOAD)),
        ErrorCode::UnsupportedAlgorithm
    );
    assert_eq!(
        hs_code(&token(r#"{"alg":256}"#, OK_PAYLOAD)),
        ErrorCode::Malformed
    );
    assert_eq!(
        hs_code(&token(r#"{"typ":"JWT"}"#, OK_PAYLOAD)),
        ErrorCode::Malformed
    );
}

#[test]
fn header_alg_different_from_key_alg_is_not_allowed() {
    // The key is pinned to HS256; a token claiming HS512 is refused before any MAC.
    let hs512 = SigningKey::hmac(Algorithm::HS512, &[7u8; 64]).unwrap();
    let t = token_with(&hs512, r#"{"alg":"HS512"}"#, OK_PAYLOAD);
    assert_eq!(hs_code(&t), ErrorCode::AlgorithmNotAllowed);
}

#[test]
fn rsa_public_key_bytes_as_hmac_secret_fail() {
    // Classic algorithm confusion: sign HS256 with the RSA public key PEM as
    // the secret; the RSA key is pinned to RS256, so the header is refused.
    let rsa = SigningKey::generate(Algorithm::RS256).unwrap();
    let public_pem = rsa.to_public_pem().unwrap();
    let keys = KeySet::single(VerifyingKey::from_pem(&public_pem, Some(Algorithm::RS256)).unwrap());
    let forged = token_with(
        &SigningKey::hmac(Algorithm::HS256, public_pem.as_bytes()).unwrap(),
        H,
        OK_PAYLOAD,
    );
    assert_eq!(
        code(&forged, &keys, &Policy::default()),
        ErrorCode::AlgorithmNotAllowed
    );
}

#[test]
fn hmac_key_cannot_be_built_from_public_key_material() {
    let rsa = SigningKey::generate(Algorithm::RS256).unwrap();
    let public_jwk = rsa.verifying_key().unwrap().to_public_jwk().unwrap();
    let mut as_hs = public_jwk.clone();
    as_hs.insert("alg", "HS256".into());
    let text = tessera_core::Value::Object(as_hs).to_json();
    let err = VerifyingKey::from_jwk(&text, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlgorithmNotAllowed);
    // And a PEM public key pinned to an HMAC algorithm is refused too.
    let err =
        VerifyingKey::from_pem(&rsa.to_public_pem().unwrap(), Some(Algorithm::HS256)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlgorithmNotAllowed);
}

#[test]
fn policy_allow_list_narrows() {
    let p = Policy {
        algorithms: Some(vec![Algorithm::ES256]),
        ..Policy::default()
    };
    assert_eq!(
        code(&token(H, OK_PAYLOAD), &hs256_set(), &p),
        ErrorCode::AlgorithmNotAllowed
    );
}

#[test]
fn ecdsa_der_signature_is_refused() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let keys = KeySet::single(key.verifying_key().unwrap());
    let t = token_with(&key, r#"{"alg":"ES256"}"#, OK_PAYLOAD);
    // Re-encode r||s as an ASN.1 DER SEQUENCE of two INTEGERs.
    let der_t = with_segment(&t, 2, |s| {
        let raw = tessera_core::internal::encoding::b64url_decode(s.as_bytes()).unwrap();
        let int = |b: &[u8]| {
            let mut v = b.to_vec();
            while v.len() > 1 && v[0] == 0 && v[1] < 0x80 {
                v.remove(0);
            }
            if v[0] >= 0x80 {
                v.insert(0, 0);
            }
            let mut out = vec![0x02, v.len() as u8];
            out.extend(v);
            out
        };
        let body = [int(&raw[..32]), int(&raw[32..])].concat();
        let mut der = vec![0x30, body.len() as u8];
        der.extend(body);
        b64url_encode(&der)
    });
    assert_eq!(
        code(&der_t, &keys, &Policy::default()),
        ErrorCode::BadSignature
    );
}

/// formats.md §1: a standard-JWT ES256K signature is accepted with either
/// S (RFC 8812 has no low-S rule; OpenSSL-backed signers make both, see
/// es256k_s_halves.rs for real ones). Portal and Ethereum keep low S.
#[test]
fn es256k_accepts_either_s_in_a_standard_jwt() {
    let key = SigningKey::generate(Algorithm::ES256K).unwrap();
    let keys = KeySet::single(key.verifying_key().unwrap());
    let t = token_with(&key, r#"{"alg":"ES256K"}"#, OK_PAYLOAD);
    assert!(jwt::verify(&t, &keys, &Policy::default(), NOW).is_ok());
    let high = with_segment(&t, 2, |s| {
        let raw = tessera_core::internal::encoding::b64url_decode(s.as_bytes()).unwrap();
        let mut sig = raw[..32].to_vec();
        sig.extend(sub_mod(&SECP256K1_N, &raw[32..]));
        b64url_encode(&sig)
    });
    assert_ne!(high, t);
    assert!(jwt::verify(&high, &keys, &Policy::default(), NOW).is_ok());
    // S = n (never a valid scalar) is still refused.
    let s_is_n = with_segment(&t, 2, |s| {
        let raw = tessera_core::internal::encoding::b64url_decode(s.as_bytes()).unwrap();
        let mut sig = raw[..32].to_vec();
        sig.extend(SECP256K1_N);
        b64url_encode(&sig)
    });
    assert_eq!(
        code(&s_is_n, &keys, &Policy::default()),
        ErrorCode::BadSignature
    );
}

const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

#[test]
fn es256_accepts_either_s_as_jose_does() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let keys = KeySet::single(key.verifying_key().unwrap());
    let t = token_with(&key, r#"{"alg":"ES256"}"#, OK_PAYLOAD);
    let other_s = with_segment(&t, 2, |s| {
        let raw = tessera_core::internal::encoding::b64url_decode(s.as_bytes()).unwrap();
        let mut sig = raw[..32].to_vec();
        sig.extend(sub_mod(&P256_N, &raw[32..]));
        b64url_encode(&sig)
    });
    assert!(jwt::verify(&other_s, &keys, &Policy::default(), NOW).is_ok());
}

#[test]
fn none_with_a_signature_or_a_kid_is_still_unsupported() {
    let t = token(r#"{"alg":"none","kid":"k1"}"#, r#"{"exp":1800000600}"#);
    assert_eq!(hs_code(&t), ErrorCode::UnsupportedAlgorithm);
    let t = token(r#"{"alg":"NoNe"}"#, r#"{"exp":1800000600}"#);
    assert_eq!(hs_code(&t), ErrorCode::UnsupportedAlgorithm);
}

#[test]
fn algorithms_outside_the_list_are_unsupported() {
    for alg in [
        "ES256k",
        "EDDSA",
        "Ed25519",
        "RS1",
        "PS256 ",
        "ES521",
        "HS256\\u0000",
    ] {
        let t = token(&format!(r#"{{"alg":"{alg}"}}"#), r#"{"exp":1800000600}"#);
        assert_eq!(hs_code(&t), ErrorCode::UnsupportedAlgorithm, "{alg:?}");
    }
}

#[test]
fn ecdsa_signature_of_wrong_length_is_bad_signature() {
    for alg in [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::ES256K,
    ] {
        let key = SigningKey::generate(alg).unwrap();
        let keys = KeySet::single(key.verifying_key().unwrap());
        let t = token_with(
            &key,
            &format!(r#"{{"alg":"{alg}"}}"#),
            r#"{"exp":1800000600}"#,
        );
        assert!(jwt::verify(&t, &keys, &Policy::default(), NOW).is_ok());
        for change in [-1isize, 1] {
            let bad = with_segment(&t, 2, |s| {
                let mut sig = b64url_decode(s.as_bytes()).unwrap();
                if change < 0 {
                    sig.pop();
                } else {
                    sig.insert(0, 0);
                }
                b64url_encode(&sig)
            });
            assert_eq!(
                code(&bad, &keys, &Policy::default()),
                ErrorCode::BadSignature,
                "{alg} {change}"
            );
        }
    }
}

const P384_N: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";

const P521_N: &str = "01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409";

#[test]
fn es384_and_es512_accept_either_s_as_jose_does() {
    for (alg, n) in [(Algorithm::ES384, P384_N), (Algorithm::ES512, P521_N)] {
        let n = tessera_core::internal::encoding::hex_decode_lower(n).unwrap();
        let key = SigningKey::generate(alg).unwrap();
        let keys = KeySet::single(key.verifying_key().unwrap());
        let t = token_with(
            &key,
            &format!(r#"{{"alg":"{alg}"}}"#),
            r#"{"exp":1800000600}"#,
        );
        let other_s = with_segment(&t, 2, |s| {
            let raw = b64url_decode(s.as_bytes()).unwrap();
            let half = raw.len() / 2;
            let mut sig = raw[..half].to_vec();
            sig.extend(sub_mod(&n, &raw[half..]));
            b64url_encode(&sig)
        });
        assert_ne!(other_s, t);
        assert!(
            jwt::verify(&other_s, &keys, &Policy::default(), NOW).is_ok(),
            "{alg}"
        );
    }
}

#[test]
fn hmac_key_cannot_be_built_from_ec_or_okp_public_keys() {
    for alg in [Algorithm::ES256, Algorithm::ES256K, Algorithm::EdDSA] {
        let public = SigningKey::generate(alg)
            .unwrap()
            .verifying_key()
            .unwrap()
            .to_public_jwk()
            .unwrap();
        for hs in ["HS256", "HS384", "HS512"] {
            let mut jwk = public.clone();
            jwk.insert("alg", hs.into());
            let text = tessera_core::Value::Object(jwk).to_json();
            let err = VerifyingKey::from_jwk(&text, None).unwrap_err();
            assert_eq!(err.code(), ErrorCode::AlgorithmNotAllowed, "{alg} as {hs}");
        }
        // A PEM public key pinned to HMAC is refused as well.
        let pem = SigningKey::generate(alg).unwrap().to_public_pem().unwrap();
        let err = VerifyingKey::from_pem(&pem, Some(Algorithm::HS256)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::AlgorithmNotAllowed, "{alg} PEM");
    }
}

#[test]
fn ec_public_key_bytes_as_hmac_secret_fail() {
    // The attacker MACs with the verifier's EC public key as the secret.
    let ec = SigningKey::generate(Algorithm::ES256).unwrap();
    let pem = ec.to_public_pem().unwrap();
    let keys = KeySet::single(VerifyingKey::from_pem(&pem, None).unwrap());
    let forged = token_with(
        &SigningKey::hmac(Algorithm::HS256, pem.as_bytes()).unwrap(),
        H,
        r#"{"exp":1800000600}"#,
    );
    assert_eq!(
        code(&forged, &keys, &Policy::default()),
        ErrorCode::AlgorithmNotAllowed
    );
}
