//! Rejection rules of formats.md ("Common rules" and §1) that
//! `jwt_rules.rs` does not cover yet, or covers only for one segment, one
//! claim or one key type. Same style: the bad input visible, the exact
//! error code asserted, and a near-identical good input accepted where that
//! makes the rule's edge visible.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tessera_core::encoding::{b64url_decode, b64url_encode};
use tessera_core::keys::{KeySet, SigningKey, VerifyingKey};
use tessera_core::{jwt, Algorithm, ErrorCode, Policy};

const NOW: i64 = 1_800_000_000;
const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

fn hs256() -> SigningKey {
    SigningKey::hmac(Algorithm::HS256, SECRET).unwrap()
}

fn hs256_set() -> KeySet {
    KeySet::single(VerifyingKey::hmac(Algorithm::HS256, SECRET).unwrap())
}

/// `b64(header).b64(payload).b64(sig)` from literal JSON text, signed over
/// exactly those bytes.
fn token_with(key: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        b64url_encode(header.as_bytes()),
        b64url_encode(payload.as_bytes())
    );
    let sig = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64url_encode(&sig))
}

fn token(header: &str, payload: &str) -> String {
    token_with(&hs256(), header, payload)
}

fn code_with(token: &str, keys: &KeySet, policy: &Policy) -> ErrorCode {
    jwt::verify(token, keys, policy, NOW)
        .expect_err("the token must be refused")
        .code()
}

fn hs_code(token: &str) -> ErrorCode {
    code_with(token, &hs256_set(), &Policy::default())
}

fn accepted(token: &str, policy: &Policy) -> bool {
    jwt::verify(token, &hs256_set(), policy, NOW).is_ok()
}

const H: &str = r#"{"alg":"HS256"}"#;

// ---- Common rules: time claims of every kind are typed ----

#[test]
fn nbf_of_wrong_shape_is_invalid_claim() {
    for nbf in ["1.5", "-1", "253402300800", "1e-3", "true", "null", "[1]"] {
        let t = token(H, &format!(r#"{{"exp":1800000600,"nbf":{nbf}}}"#));
        assert_eq!(hs_code(&t), ErrorCode::InvalidClaim, "nbf {nbf}");
    }
}

#[test]
fn iat_of_wrong_shape_is_invalid_claim() {
    for iat in [r#""1800000000""#, "1.5", "-1", "253402300800", "{}"] {
        let t = token(H, &format!(r#"{{"exp":1800000600,"iat":{iat}}}"#));
        assert_eq!(hs_code(&t), ErrorCode::InvalidClaim, "iat {iat}");
    }
}

#[test]
fn exp_of_other_wrong_shapes_is_invalid_claim() {
    // Never "absent": each of these, with exp not required, is still refused.
    let lax = Policy {
        require_exp: false,
        ..Policy::default()
    };
    for exp in [
        "null",
        "true",
        "[1800000600]",
        r#"{"t":1}"#,
        "18000006005e-1",
    ] {
        let t = token(H, &format!(r#"{{"exp":{exp}}}"#));
        assert_eq!(
            code_with(&t, &hs256_set(), &lax),
            ErrorCode::InvalidClaim,
            "exp {exp}"
        );
    }
    // The last valid second of year 9999 is a timestamp.
    assert!(accepted(&token(H, r#"{"exp":253402300799}"#), &lax));
    // A number without a fraction is an integer however it is spelled
    // (formats.md refuses "a float with a fraction"); this is a choice.
    assert!(accepted(&token(H, r#"{"exp":1800000600.0}"#), &lax));
    assert!(accepted(&token(H, r#"{"exp":18000006e2}"#), &lax));
}

#[test]
fn leeway_is_configurable() {
    let p = Policy {
        leeway: 300,
        ..Policy::default()
    };
    // exp 299 s ago: alive with 300 s leeway, dead with the default 60 s.
    let t = token(H, r#"{"exp":1799999701}"#);
    assert!(accepted(&t, &p));
    assert_eq!(hs_code(&t), ErrorCode::Expired);
    let t = token(H, r#"{"exp":1799999700}"#);
    assert_eq!(code_with(&t, &hs256_set(), &p), ErrorCode::Expired);
    // nbf 300 s ahead: valid with 300 s leeway, not yet with 60 s.
    let t = token(H, r#"{"exp":1800000600,"nbf":1800000300}"#);
    assert!(accepted(&t, &p));
    assert_eq!(hs_code(&t), ErrorCode::NotYetValid);
}

#[test]
fn lifetime_cap_without_iat_counts_from_now() {
    let p = Policy {
        max_lifetime: Some(900),
        ..Policy::default()
    };
    let t = token(H, r#"{"exp":1800000901}"#);
    assert_eq!(code_with(&t, &hs256_set(), &p), ErrorCode::InvalidClaim);
    assert!(accepted(&token(H, r#"{"exp":1800000900}"#), &p));
}

// ---- Common rules: audience ----

fn aud_policy() -> Policy {
    Policy {
        audiences: vec!["https://api.example".into(), "svc-b".into()],
        ..Policy::default()
    }
}

#[test]
fn empty_audience_array_fails_a_configured_audience() {
    let t = token(H, r#"{"aud":[],"exp":1800000600}"#);
    assert_eq!(
        code_with(&t, &hs256_set(), &aud_policy()),
        ErrorCode::AudienceMismatch
    );
}

#[test]
fn audience_match_is_exact_not_prefix_or_trimmed() {
    for aud in [
        r#""https://api.example/""#,
        r#""https://api.example.evil""#,
        r#"" svc-b""#,
        r#""svc-b ""#,
        r#""SVC-B""#,
        r#"["https://api","svc"]"#,
    ] {
        let t = token(H, &format!(r#"{{"aud":{aud},"exp":1800000600}}"#));
        assert_eq!(
            code_with(&t, &hs256_set(), &aud_policy()),
            ErrorCode::AudienceMismatch,
            "aud {aud}"
        );
    }
    // Any one configured audience suffices.
    assert!(accepted(
        &token(H, r#"{"aud":"svc-b","exp":1800000600}"#),
        &aud_policy()
    ));
}

#[test]
fn aud_of_wrong_type_is_invalid_claim_even_without_configured_audience() {
    for aud in ["null", "true", r#"{"a":"b"}"#, r#"[["a"]]"#, r#"[null]"#] {
        let t = token(H, &format!(r#"{{"aud":{aud},"exp":1800000600}}"#));
        assert_eq!(hs_code(&t), ErrorCode::InvalidClaim, "aud {aud}");
    }
}

// ---- §1: registered claims are typed ----

#[test]
fn sub_jti_iss_of_wrong_type_are_invalid_claim() {
    for payload in [
        r#"{"sub":1,"exp":1800000600}"#,
        r#"{"sub":null,"exp":1800000600}"#,
        r#"{"sub":["alice"],"exp":1800000600}"#,
        r#"{"jti":42,"exp":1800000600}"#,
        r#"{"jti":{"id":"x"},"exp":1800000600}"#,
        r#"{"iss":["https://issuer.example"],"exp":1800000600}"#,
    ] {
        assert_eq!(
            hs_code(&token(H, payload)),
            ErrorCode::InvalidClaim,
            "{payload}"
        );
    }
}

// ---- Common rules: size ----

#[test]
fn size_limit_is_configurable_and_exact() {
    let t = token(H, r#"{"exp":1800000600}"#);
    let at_limit = Policy {
        max_token_size: t.len(),
        ..Policy::default()
    };
    assert!(accepted(&t, &at_limit));
    let below = Policy {
        max_token_size: t.len() - 1,
        ..Policy::default()
    };
    assert_eq!(
        code_with(&t, &hs256_set(), &below),
        ErrorCode::TokenTooLarge
    );
}

#[test]
fn oversized_input_is_refused_before_parsing_whatever_it_holds() {
    // 8 KiB + 1 of dots, of valid base64url, of a valid-looking header:
    // all `token_too_large`, never `malformed`.
    for filler in [".", "A", "eyJhbGciOiJIUzI1NiJ9."] {
        let big: String = filler.repeat(8 * 1024 / filler.len() + 1);
        assert!(big.len() > 8 * 1024);
        assert_eq!(hs_code(&big), ErrorCode::TokenTooLarge, "{filler}");
    }
    // Exactly 8 KiB is parsed (and here refused for what it is).
    let exact = "A".repeat(8 * 1024);
    assert_eq!(hs_code(&exact), ErrorCode::Malformed);
}

// ---- Common rules: JSON ----

#[test]
fn duplicate_member_spelled_with_an_escape_is_malformed() {
    // "s\u0075b" is "sub": one name, two values.
    assert_eq!(
        hs_code(&token(
            H,
            r#"{"exp":1800000600,"sub":"alice","s\u0075b":"admin"}"#
        )),
        ErrorCode::Malformed
    );
    assert_eq!(
        hs_code(&token(
            r#"{"alg":"HS256","\u0061lg":"none"}"#,
            r#"{"exp":1800000600}"#
        )),
        ErrorCode::Malformed
    );
}

#[test]
fn duplicate_member_in_a_nested_object_is_malformed() {
    assert_eq!(
        hs_code(&token(
            H,
            r#"{"exp":1800000600,"ctx":{"role":"user","role":"admin"}}"#
        )),
        ErrorCode::Malformed
    );
}

#[test]
fn header_nesting_is_bounded() {
    let deep_header = format!(
        r#"{{"alg":"HS256","x":{}1{}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    assert_eq!(
        hs_code(&token(&deep_header, r#"{"exp":1800000600}"#)),
        ErrorCode::Malformed
    );
}

#[test]
fn header_and_payload_must_be_json_objects() {
    for (header, payload) in [
        (r#"["HS256"]"#, r#"{"exp":1800000600}"#),
        (r#""HS256""#, r#"{"exp":1800000600}"#),
        (H, r#"[{"exp":1800000600}]"#),
        (H, r#""exp""#),
        (H, r#"{"exp":1800000600} trailing"#),
        (H, r#"{"exp":1800000600,}"#),
        (H, "{\"exp\":1800000600,\"s\":\"\u{1}\"}"),
    ] {
        assert_eq!(
            hs_code(&token(header, payload)),
            ErrorCode::Malformed,
            "{header} {payload:?}"
        );
    }
}

#[test]
fn invalid_utf8_payload_is_malformed() {
    let input = format!(
        "{}.{}",
        b64url_encode(H.as_bytes()),
        b64url_encode(b"{\"exp\":1800000600,\"s\":\"\xff\"}")
    );
    let sig = hs256().sign(input.as_bytes()).unwrap();
    let t = format!("{input}.{}", b64url_encode(&sig));
    assert_eq!(hs_code(&t), ErrorCode::Malformed);
}

// ---- §1: base64url, every segment ----

fn with_segment(t: &str, index: usize, f: impl Fn(&str) -> String) -> String {
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    parts[index] = f(&parts[index]);
    parts.join(".")
}

/// A token whose `index` segment has unused trailing bits (length % 4 != 0).
fn token_with_trailing_bits(index: usize) -> String {
    for pad in 0..8 {
        let payload = format!(r#"{{"exp":1800000600,"p":"{}"}}"#, "x".repeat(pad));
        let header = format!(r#"{{"alg":"HS256","p":"{}"}}"#, "y".repeat(pad));
        let t = token(&header, &payload);
        if t.split('.').nth(index).unwrap().len() % 4 != 0 {
            return t;
        }
    }
    unreachable!()
}

#[test]
fn non_zero_trailing_bits_in_header_and_payload_are_malformed() {
    for index in [0, 1] {
        let t = token_with_trailing_bits(index);
        assert!(accepted(&t, &Policy::default()));
        let bad = with_segment(&t, index, |s| {
            let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let last = s.chars().last().unwrap();
            let flipped = alphabet
                .chars()
                .nth(alphabet.find(last).unwrap() ^ 1)
                .unwrap();
            format!("{}{}", &s[..s.len() - 1], flipped)
        });
        // Same bytes as before when decoded leniently; refused here.
        assert_eq!(hs_code(&bad), ErrorCode::Malformed, "segment {index}");
    }
}

#[test]
fn padding_and_std_alphabet_in_payload_and_signature_are_malformed() {
    let t = token_with_trailing_bits(1);
    let pad = 4 - t.split('.').nth(1).unwrap().len() % 4;
    assert_eq!(
        hs_code(&with_segment(&t, 1, |s| format!("{s}{}", "=".repeat(pad)))),
        ErrorCode::Malformed
    );
    // HS256 signatures are 43 characters: one '=' would make them padded.
    let t = token(H, r#"{"exp":1800000600}"#);
    assert_eq!(
        hs_code(&with_segment(&t, 2, |s| format!("{s}="))),
        ErrorCode::Malformed
    );
    // '+' and '/' anywhere (here in the payload, where the JSON makes them).
    let mut n = 0;
    let t = loop {
        let t = token(H, &format!(r#"{{"exp":1800000600,"k":"??>>{n}"}}"#));
        if t.split('.').nth(1).unwrap().contains(['-', '_']) {
            break t;
        }
        n += 1;
    };
    let bad = with_segment(&t, 1, |s| s.replace('-', "+").replace('_', "/"));
    assert_eq!(hs_code(&bad), ErrorCode::Malformed);
}

#[test]
fn whitespace_and_other_bytes_in_the_header_are_malformed() {
    let t = token(H, r#"{"exp":1800000600}"#);
    for bad in [
        with_segment(&t, 0, |s| format!("{s} ")),
        with_segment(&t, 0, |s| format!("{}\t{}", &s[..4], &s[4..])),
        with_segment(&t, 0, |s| format!("{}\r\n{}", &s[..4], &s[4..])),
        with_segment(&t, 2, |s| format!("{s}\n")),
        with_segment(&t, 1, |s| format!("{}%3D", &s[..s.len()])),
    ] {
        assert_eq!(hs_code(&bad), ErrorCode::Malformed, "{bad:?}");
    }
}

#[test]
fn empty_segments_are_refused() {
    let t = token(H, r#"{"exp":1800000600}"#);
    let (h, rest) = t.split_once('.').unwrap();
    let (p, _s) = rest.split_once('.').unwrap();
    // No header at all.
    assert_eq!(hs_code(&format!(".{p}.{_s}")), ErrorCode::Malformed);
    // No signature (the shape of an unsigned token with a real alg).
    assert_eq!(hs_code(&format!("{h}.{p}.")), ErrorCode::BadSignature);
    assert_eq!(hs_code(".."), ErrorCode::Malformed);
}

// ---- §1: algorithms ----

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
                code_with(&bad, &keys, &Policy::default()),
                ErrorCode::BadSignature,
                "{alg} {change}"
            );
        }
    }
}

const P384_N: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";
const P521_N: &str = "01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409";

fn sub_mod(n: &[u8], s: &[u8]) -> Vec<u8> {
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

#[test]
fn es384_and_es512_accept_either_s_as_jose_does() {
    for (alg, n) in [(Algorithm::ES384, P384_N), (Algorithm::ES512, P521_N)] {
        let n = tessera_core::encoding::hex_decode_lower(n).unwrap();
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
            let text = tessera_core::json::Value::Object(jwk).to_json();
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
        code_with(&forged, &keys, &Policy::default()),
        ErrorCode::AlgorithmNotAllowed
    );
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
        code_with(&t, &set, &Policy::default()),
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
            code_with(&t, &set, &Policy::default()),
            ErrorCode::UnknownKey,
            "{kid:?}"
        );
    }
}

#[test]
fn no_keys_configured_is_unknown_key() {
    let t = token(H, r#"{"exp":1800000600}"#);
    assert_eq!(
        code_with(&t, &KeySet::new(), &Policy::default()),
        ErrorCode::UnknownKey
    );
}

// ---- §1: crit and b64 ----

#[test]
fn crit_naming_registered_or_unknown_headers_is_refused() {
    for crit in [
        r#"["kid"]"#,
        r#"["alg"]"#,
        r#"["x-custom"]"#,
        r#"["b64","exp"]"#,
    ] {
        let t = token(
            &format!(r#"{{"alg":"HS256","kid":"a","x-custom":1,"crit":{crit}}}"#),
            r#"{"exp":1800000600}"#,
        );
        assert_eq!(hs_code(&t), ErrorCode::CritUnsupported, "{crit}");
    }
    for crit in ["null", "[1]", r#"{"b64":true}"#] {
        let t = token(
            &format!(r#"{{"alg":"HS256","crit":{crit}}}"#),
            r#"{"exp":1800000600}"#,
        );
        assert_eq!(hs_code(&t), ErrorCode::Malformed, "{crit}");
    }
}

#[test]
fn b64_must_be_a_boolean_and_true_is_the_default() {
    let t = token(r#"{"alg":"HS256","b64":"false"}"#, r#"{"exp":1800000600}"#);
    assert_eq!(hs_code(&t), ErrorCode::Malformed);
    let t = token(r#"{"alg":"HS256","b64":true}"#, r#"{"exp":1800000600}"#);
    assert!(accepted(&t, &Policy::default()));
}

// ---- §1: typ ----

#[test]
fn typ_must_be_a_string_and_match_exactly_when_required() {
    let p = Policy {
        required_typ: Some("at+jwt".into()),
        ..Policy::default()
    };
    for typ in [
        r#""at+jwt ""#,
        r#""at+jwt2""#,
        r#""application/jwt""#,
        r#""application/at+jwt+x""#,
        r#""""#,
    ] {
        let t = token(
            &format!(r#"{{"alg":"HS256","typ":{typ}}}"#),
            r#"{"exp":1800000600}"#,
        );
        assert_eq!(
            code_with(&t, &hs256_set(), &p),
            ErrorCode::InvalidClaim,
            "{typ}"
        );
    }
    let t = token(r#"{"alg":"HS256","typ":7}"#, r#"{"exp":1800000600}"#);
    assert_eq!(hs_code(&t), ErrorCode::Malformed);
}

// ---- Common rules: no panic on untrusted input ----

#[test]
fn arbitrary_input_never_panics() {
    let keys = hs256_set();
    let good = token(H, r#"{"sub":"alice","exp":1800000600}"#);
    let mut runner = TestRunner::new(Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..64),
        any::<prop::sample::Index>(),
        0usize..4,
    );
    runner
        .run(&strategy, |(text, noise, at, mode)| {
            let candidate = match mode {
                0 => text,
                // Splice arbitrary bytes into a valid token.
                1 => {
                    let mut bytes = good.as_bytes().to_vec();
                    let i = at.index(bytes.len() + 1);
                    bytes.splice(i..i, noise);
                    String::from_utf8_lossy(&bytes).into_owned()
                }
                // Arbitrary segments, each valid base64url of random bytes.
                2 => format!(
                    "{}.{}.{}",
                    b64url_encode(text.as_bytes()),
                    b64url_encode(&noise),
                    b64url_encode(&noise)
                ),
                // A real header with an arbitrary payload.
                _ => format!(
                    "{}.{}.{}",
                    good.split('.').next().unwrap(),
                    b64url_encode(text.as_bytes()),
                    b64url_encode(&noise)
                ),
            };
            let result = jwt::verify(&candidate, &keys, &Policy::default(), NOW);
            prop_assert!(result.is_err() || candidate == good);
            Ok(())
        })
        .unwrap();
}

// ---- Common rules: a fourth part is reported before anything else ----

/// A valid token is not scanned for a third '.'; the parts error must
/// still win over whatever else is wrong, wherever the extra part is.
#[test]
fn a_fourth_part_is_the_error_reported_first() {
    let parts_error = |t: &str| {
        let e = jwt::verify(t, &hs256_set(), &Policy::default(), NOW).unwrap_err();
        (e.code(), e.message().contains("exactly three"))
    };
    let good = token(H, r#"{"sub":"a","exp":1800000100}"#);
    let (input, sig) = good.rsplit_once('.').unwrap();
    let bad_header = format!("e30.{}", input.split_once('.').unwrap().1);
    let bad_payload = format!("{}.!!!", input.split_once('.').unwrap().0);
    for t in [
        // An extra part after a good signature, or in the middle of it.
        format!("{good}.x"),
        format!("{good}."),
        format!("{input}.{}.{}", &sig[..10], &sig[10..]),
        // And with the header (no `alg`), the payload or the signature
        // also wrong: the parts error still comes first.
        format!("{bad_header}.{sig}.x"),
        format!("{bad_payload}.{sig}.x"),
        format!("{input}.!!.x"),
        format!(".{}.{sig}.x", input.split_once('.').unwrap().1),
    ] {
        assert_eq!(parts_error(&t), (ErrorCode::Malformed, true), "{t}");
    }
    // Without the extra part each of those is refused for its own reason.
    assert!(!parts_error(&format!("{bad_header}.{sig}")).1);
    assert!(!parts_error(&format!("{input}.!!")).1);
    assert!(jwt::verify(&good, &hs256_set(), &Policy::default(), NOW).is_ok());
}

/// Signatures are decoded on the stack up to 512 bytes and on the heap
/// beyond: both are decoded strictly and checked.
#[test]
fn long_signatures_are_decoded_and_checked() {
    let good = token(H, r#"{"sub":"a","exp":1800000100}"#);
    let input = good.rsplit_once('.').unwrap().0;
    for len in [509, 510, 511, 512, 513, 514, 1024, 1400, 4096] {
        let sig = b64url_encode(&vec![0x5a; len]);
        assert_eq!(
            hs_code(&format!("{input}.{sig}")),
            ErrorCode::BadSignature,
            "{len}"
        );
        // Not canonical base64url (unused bits set, or a bad character):
        // malformed on either side of the buffer size.
        let mut bad = sig.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = b'*';
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(
            hs_code(&format!("{input}.{bad}")),
            ErrorCode::Malformed,
            "{len}"
        );
    }
}
