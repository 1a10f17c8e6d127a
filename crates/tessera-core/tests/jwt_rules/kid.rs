//! §1: `kid` and key sources (configured keys only, exact `kid`, never a
//! path or a URL, never the token's own key).

use super::*;

fn two_kid_set() -> KeySet {
    let mut set = KeySet::new();
    set.push(
        VerifyingKey::hmac(Algorithm::HS256, SECRET)
            .unwrap()
            .with_kid("k1"),
    )
    .unwrap();
    set.push(
        VerifyingKey::hmac(Algorithm::HS256, &[9u8; 32])
            .unwrap()
            .with_kid("k2"),
    )
    .unwrap();
    set
}

#[test]
fn kid_selects_among_configured_keys() {
    let t = token(r#"{"alg":"HS256","kid":"k1"}"#, OK_PAYLOAD);
    assert!(jwt::verify(&t, &two_kid_set(), &Policy::default(), NOW).is_ok());
    // Naming the other key makes the MAC fail: kid selects, it does not rescue.
    let t = token(r#"{"alg":"HS256","kid":"k2"}"#, OK_PAYLOAD);
    assert_eq!(
        code(&t, &two_kid_set(), &Policy::default()),
        ErrorCode::BadSignature
    );
}

#[test]
fn kid_is_never_a_path_or_url() {
    for kid in [
        "../../../../etc/passwd",
        "https://evil.example/key",
        "k1' OR '1'='1",
        "/dev/null",
    ] {
        let t = token(&format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#), OK_PAYLOAD);
        assert_eq!(
            code(&t, &two_kid_set(), &Policy::default()),
            ErrorCode::UnknownKey,
            "{kid}"
        );
    }
}

#[test]
fn kid_must_be_a_string() {
    assert_eq!(
        hs_code(&token(r#"{"alg":"HS256","kid":1}"#, OK_PAYLOAD)),
        ErrorCode::Malformed
    );
}

#[test]
fn embedded_jwk_jku_x5u_x5c_never_supply_the_key() {
    // The attacker signs with its own key and points at it every way JOSE allows.
    let attacker = SigningKey::generate(Algorithm::ES256).unwrap();
    let jwk =
        tessera_core::Value::Object(attacker.verifying_key().unwrap().to_public_jwk().unwrap())
            .to_json();
    let victim = SigningKey::generate(Algorithm::ES256).unwrap();
    let keys = KeySet::single(victim.verifying_key().unwrap());
    for header in [
        format!(r#"{{"alg":"ES256","jwk":{jwk}}}"#),
        r#"{"alg":"ES256","jku":"https://evil.example/jwks.json"}"#.to_owned(),
        r#"{"alg":"ES256","x5u":"https://evil.example/cert.pem"}"#.to_owned(),
        r#"{"alg":"ES256","x5c":["MIIB"]}"#.to_owned(),
    ] {
        let t = token_with(&attacker, &header, OK_PAYLOAD);
        assert_eq!(
            code(&t, &keys, &Policy::default()),
            ErrorCode::BadSignature,
            "{header}"
        );
    }
}

#[test]
fn kid_naming_a_key_of_another_algorithm_is_not_allowed() {
    let mut set = KeySet::new();
    set.push(
        VerifyingKey::hmac(Algorithm::HS512, &[5u8; 64])
            .unwrap()
            .with_kid("k1"),
    )
    .unwrap();
    set.push(
        VerifyingKey::hmac(Algorithm::HS256, SECRET)
            .unwrap()
            .with_kid("k2"),
    )
    .unwrap();
    // HS256 token naming the HS512 key: the header cannot re-pin the key.
    let t = token(r#"{"alg":"HS256","kid":"k1"}"#, r#"{"exp":1800000600}"#);
    assert_eq!(
        code(&t, &set, &Policy::default()),
        ErrorCode::AlgorithmNotAllowed
    );
    let t = token(r#"{"alg":"HS256","kid":"k2"}"#, r#"{"exp":1800000600}"#);
    assert!(jwt::verify(&t, &set, &Policy::default(), NOW).is_ok());
}

#[test]
fn kid_is_compared_exactly() {
    let set = KeySet::single(
        VerifyingKey::hmac(Algorithm::HS256, SECRET)
            .unwrap()
            .with_kid("k1"),
    );
    for kid in ["K1", "k1 ", " k1", "k1\u{0}", "k", "k1k1"] {
        let t = token(
            &format!(
                r#"{{"alg":"HS256","kid":"{}"}}"#,
                kid.replace('\0', "\\u0000")
            ),
            r#"{"exp":1800000600}"#,
        );
        assert_eq!(
            code(&t, &set, &Policy::default()),
            ErrorCode::UnknownKey,
            "{kid:?}"
        );
    }
}

#[test]
fn no_keys_configured_is_unknown_key() {
    let t = token(H, r#"{"exp":1800000600}"#);
    assert_eq!(
        code(&t, &KeySet::new(), &Policy::default()),
        ErrorCode::UnknownKey
    );
}
