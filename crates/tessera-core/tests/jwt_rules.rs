//! One test per rejection rule of formats.md ("Common rules" and §1), with
//! the bad input visible and the exact error code asserted.

use tessera_core::encoding::b64url_encode;
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

/// Builds `b64(header).b64(payload).b64(sig)` from literal JSON text, signed
/// with `key` over exactly those bytes.
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

fn code(token: &str, keys: &KeySet, policy: &Policy) -> ErrorCode {
    jwt::verify(token, keys, policy, NOW)
        .expect_err("the token must be refused")
        .code()
}

fn hs_code(token: &str) -> ErrorCode {
    code(token, &hs256_set(), &Policy::default())
}

const H: &str = r#"{"alg":"HS256"}"#;
const OK_PAYLOAD: &str = r#"{"sub":"alice","exp":1800000600}"#;

#[test]
fn valid_baseline_is_accepted() {
    let id = jwt::verify(&token(H, OK_PAYLOAD), &hs256_set(), &Policy::default(), NOW).unwrap();
    assert_eq!(id.subject, "alice");
    assert_eq!(id.expires_at, Some(1_800_000_600));
}

// ---- Common rules: time ----

#[test]
fn dead_at_exp_with_zero_leeway() {
    let p = Policy {
        leeway: 0,
        ..Policy::default()
    };
    let t = token(H, r#"{"exp":1800000000}"#);
    assert_eq!(code(&t, &hs256_set(), &p), ErrorCode::Expired);
    let t = token(H, r#"{"exp":1800000001}"#);
    assert!(jwt::verify(&t, &hs256_set(), &p, NOW).is_ok());
}

#[test]
fn expired_beyond_default_leeway() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1799999940}"#)),
        ErrorCode::Expired
    );
    // Within the 60 s leeway it still passes.
    assert!(jwt::verify(
        &token(H, r#"{"exp":1799999941}"#),
        &hs256_set(),
        &Policy::default(),
        NOW
    )
    .is_ok());
}

#[test]
fn not_yet_valid_before_nbf_minus_leeway() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1800000600,"nbf":1800000061}"#)),
        ErrorCode::NotYetValid
    );
    assert!(jwt::verify(
        &token(H, r#"{"exp":1800000600,"nbf":1800000060}"#),
        &hs256_set(),
        &Policy::default(),
        NOW
    )
    .is_ok());
}

#[test]
fn string_exp_is_invalid_claim_not_absent() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":"1800000600"}"#)),
        ErrorCode::InvalidClaim
    );
    // Even when exp is not required, a string exp is never "absent".
    let p = Policy {
        require_exp: false,
        ..Policy::default()
    };
    assert_eq!(
        code(&token(H, r#"{"exp":"1"}"#), &hs256_set(), &p),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn fractional_exp_is_invalid_claim() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1800000600.5}"#)),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn negative_exp_is_invalid_claim() {
    assert_eq!(hs_code(&token(H, r#"{"exp":-1}"#)), ErrorCode::InvalidClaim);
}

#[test]
fn exp_past_year_9999_is_invalid_claim() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":253402300800}"#)),
        ErrorCode::InvalidClaim
    );
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1e300}"#)),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn typed_nbf_and_iat() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1800000600,"nbf":"0"}"#)),
        ErrorCode::InvalidClaim
    );
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1800000600,"iat":true}"#)),
        ErrorCode::InvalidClaim
    );
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1800000600,"iat":null}"#)),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn missing_exp_is_refused_by_default() {
    assert_eq!(
        hs_code(&token(H, r#"{"sub":"alice"}"#)),
        ErrorCode::MissingClaim
    );
    let p = Policy {
        require_exp: false,
        ..Policy::default()
    };
    assert!(jwt::verify(&token(H, r#"{"sub":"alice"}"#), &hs256_set(), &p, NOW).is_ok());
}

#[test]
fn lifetime_cap() {
    let p = Policy {
        max_lifetime: Some(900),
        ..Policy::default()
    };
    let t = token(H, r#"{"iat":1800000000,"exp":1800000901}"#);
    assert_eq!(code(&t, &hs256_set(), &p), ErrorCode::InvalidClaim);
    let t = token(H, r#"{"iat":1800000000,"exp":1800000900}"#);
    assert!(jwt::verify(&t, &hs256_set(), &p, NOW).is_ok());
}

// ---- Common rules: audience, issuer, required claims ----

fn aud_policy() -> Policy {
    Policy {
        audiences: vec!["https://api.example".into()],
        ..Policy::default()
    }
}

#[test]
fn configured_audience_requires_an_aud() {
    let t = token(H, OK_PAYLOAD);
    assert_eq!(
        code(&t, &hs256_set(), &aud_policy()),
        ErrorCode::AudienceMismatch
    );
}

#[test]
fn audience_is_exact_and_case_sensitive() {
    let t = token(H, r#"{"aud":"https://API.example","exp":1800000600}"#);
    assert_eq!(
        code(&t, &hs256_set(), &aud_policy()),
        ErrorCode::AudienceMismatch
    );
    let t = token(
        H,
        r#"{"aud":["other","https://api.example"],"exp":1800000600}"#,
    );
    assert!(jwt::verify(&t, &hs256_set(), &aud_policy(), NOW).is_ok());
}

#[test]
fn aud_of_wrong_type_is_invalid_claim() {
    assert_eq!(
        hs_code(&token(H, r#"{"aud":5,"exp":1800000600}"#)),
        ErrorCode::InvalidClaim
    );
    assert_eq!(
        hs_code(&token(H, r#"{"aud":["a",1],"exp":1800000600}"#)),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn issuer_must_match_when_configured() {
    let p = Policy {
        issuer: Some("https://issuer.example".into()),
        ..Policy::default()
    };
    let t = token(H, r#"{"iss":"https://evil.example","exp":1800000600}"#);
    assert_eq!(code(&t, &hs256_set(), &p), ErrorCode::IssuerMismatch);
    assert_eq!(
        code(&token(H, OK_PAYLOAD), &hs256_set(), &p),
        ErrorCode::IssuerMismatch
    );
    assert_eq!(
        hs_code(&token(H, r#"{"iss":7,"exp":1800000600}"#)),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn required_claims() {
    let p = Policy {
        required_claims: vec!["jti".into()],
        ..Policy::default()
    };
    assert_eq!(
        code(&token(H, OK_PAYLOAD), &hs256_set(), &p),
        ErrorCode::MissingClaim
    );
}

// ---- Common rules: size and JSON ----

#[test]
fn oversized_token_refused_before_parsing() {
    let garbage = "!".repeat(8 * 1024 + 1);
    assert_eq!(hs_code(&garbage), ErrorCode::TokenTooLarge);
    let big_claim = format!(r#"{{"exp":1800000600,"pad":"{}"}}"#, "x".repeat(7000));
    assert_eq!(hs_code(&token(H, &big_claim)), ErrorCode::TokenTooLarge);
}

#[test]
fn duplicate_header_member_is_malformed() {
    assert_eq!(
        hs_code(&token(r#"{"alg":"HS256","alg":"none"}"#, OK_PAYLOAD)),
        ErrorCode::Malformed
    );
}

#[test]
fn duplicate_payload_member_is_malformed() {
    assert_eq!(
        hs_code(&token(
            H,
            r#"{"exp":1800000600,"sub":"alice","sub":"admin"}"#
        )),
        ErrorCode::Malformed
    );
}

#[test]
fn nesting_is_bounded() {
    let deep = format!(
        r#"{{"exp":1800000600,"x":{}1{}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    assert_eq!(hs_code(&token(H, &deep)), ErrorCode::Malformed);
}

// ---- §1: base64url ----

fn with_segment(t: &str, index: usize, f: impl Fn(&str) -> String) -> String {
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    parts[index] = f(&parts[index]);
    parts.join(".")
}

#[test]
fn padding_is_malformed() {
    // 15-byte header -> 20 chars, no padding needed; a 16-byte one needs "==".
    let t = token(r#"{"alg":"HS256"} "#, OK_PAYLOAD);
    assert_eq!(
        hs_code(&with_segment(&t, 0, |s| format!("{s}=="))),
        ErrorCode::Malformed
    );
}

#[test]
fn standard_alphabet_is_malformed() {
    // A signature containing '-' or '_' re-spelled with '+' or '/'.
    let mut t = token(H, OK_PAYLOAD);
    let mut n = 0;
    while !t.split('.').nth(2).unwrap().contains(['-', '_']) {
        n += 1;
        t = token(H, &format!(r#"{{"exp":1800000600,"n":{n}}}"#));
    }
    let bad = with_segment(&t, 2, |s| s.replace('-', "+").replace('_', "/"));
    assert_eq!(hs_code(&bad), ErrorCode::Malformed);
}

#[test]
fn whitespace_is_malformed() {
    let t = token(H, OK_PAYLOAD);
    assert_eq!(
        hs_code(&with_segment(&t, 1, |s| format!(" {s}"))),
        ErrorCode::Malformed
    );
    assert_eq!(
        hs_code(&with_segment(&t, 2, |s| format!(
            "{}\n{}",
            &s[..10],
            &s[10..]
        ))),
        ErrorCode::Malformed
    );
}

#[test]
fn non_zero_trailing_bits_are_malformed() {
    // HS256 signatures are 32 bytes = 43 chars; the last char carries 2 unused bits.
    let t = token(H, OK_PAYLOAD);
    let bad = with_segment(&t, 2, |s| {
        let last = s.chars().last().unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.find(last).unwrap();
        let flipped = alphabet.chars().nth(idx ^ 1).unwrap();
        format!("{}{}", &s[..s.len() - 1], flipped)
    });
    assert_eq!(hs_code(&bad), ErrorCode::Malformed);
}

#[test]
fn wrong_number_of_parts_is_malformed() {
    let t = token(H, OK_PAYLOAD);
    assert_eq!(hs_code(&format!("{t}.")), ErrorCode::Malformed);
    assert_eq!(hs_code(t.rsplit_once('.').unwrap().0), ErrorCode::Malformed);
    assert_eq!(hs_code(""), ErrorCode::Malformed);
    assert_eq!(
        hs_code(r#"{"payload":"e30","signatures":[]}"#),
        ErrorCode::Malformed
    );
}

// ---- §1: algorithms ----

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
    let text = tessera_core::json::Value::Object(as_hs).to_json();
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
        let raw = tessera_core::encoding::b64url_decode(s.as_bytes()).unwrap();
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

const SECP256K1_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

fn negate_mod(n: &[u8; 32], s: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
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
        let raw = tessera_core::encoding::b64url_decode(s.as_bytes()).unwrap();
        let mut sig = raw[..32].to_vec();
        sig.extend(negate_mod(&SECP256K1_N, &raw[32..]));
        b64url_encode(&sig)
    });
    assert_ne!(high, t);
    assert!(jwt::verify(&high, &keys, &Policy::default(), NOW).is_ok());
    // S = n (never a valid scalar) is still refused.
    let s_is_n = with_segment(&t, 2, |s| {
        let raw = tessera_core::encoding::b64url_decode(s.as_bytes()).unwrap();
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
        let raw = tessera_core::encoding::b64url_decode(s.as_bytes()).unwrap();
        let mut sig = raw[..32].to_vec();
        sig.extend(negate_mod(&P256_N, &raw[32..]));
        b64url_encode(&sig)
    });
    assert!(jwt::verify(&other_s, &keys, &Policy::default(), NOW).is_ok());
}

// ---- §1: kid and key sources ----

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
    let jwk = tessera_core::json::Value::Object(
        attacker.verifying_key().unwrap().to_public_jwk().unwrap(),
    )
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

// ---- §1: crit and b64 ----

#[test]
fn crit_is_refused() {
    assert_eq!(
        hs_code(&token(
            r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
            OK_PAYLOAD
        )),
        ErrorCode::CritUnsupported
    );
    assert_eq!(
        hs_code(&token(r#"{"alg":"HS256","crit":[]}"#, OK_PAYLOAD)),
        ErrorCode::Malformed
    );
    assert_eq!(
        hs_code(&token(r#"{"alg":"HS256","crit":"b64"}"#, OK_PAYLOAD)),
        ErrorCode::Malformed
    );
}

#[test]
fn unencoded_payload_is_refused() {
    assert_eq!(
        hs_code(&token(
            r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#,
            OK_PAYLOAD
        )),
        ErrorCode::CritUnsupported
    );
    assert_eq!(
        hs_code(&token(r#"{"alg":"HS256","b64":false}"#, OK_PAYLOAD)),
        ErrorCode::CritUnsupported
    );
}

// ---- §1: typ ----

#[test]
fn required_typ() {
    let p = Policy {
        required_typ: Some("at+jwt".into()),
        ..Policy::default()
    };
    assert_eq!(
        code(&token(H, OK_PAYLOAD), &hs256_set(), &p),
        ErrorCode::InvalidClaim
    );
    assert_eq!(
        code(
            &token(r#"{"alg":"HS256","typ":"JWT"}"#, OK_PAYLOAD),
            &hs256_set(),
            &p
        ),
        ErrorCode::InvalidClaim
    );
    for ok in ["at+jwt", "AT+JWT", "application/at+jwt"] {
        let t = token(&format!(r#"{{"alg":"HS256","typ":"{ok}"}}"#), OK_PAYLOAD);
        assert!(jwt::verify(&t, &hs256_set(), &p, NOW).is_ok(), "{ok}");
    }
}

// ---- §1: signature ----

#[test]
fn tampered_payload_is_bad_signature() {
    let t = token(H, OK_PAYLOAD);
    let forged = with_segment(&t, 1, |_| {
        b64url_encode(br#"{"sub":"admin","exp":1800000600}"#)
    });
    assert_eq!(hs_code(&forged), ErrorCode::BadSignature);
}

#[test]
fn short_hmac_secret_is_refused() {
    let err = VerifyingKey::hmac(Algorithm::HS256, b"secret").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Malformed);
}
