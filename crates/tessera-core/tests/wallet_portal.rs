//! Portal wallet JWTs (formats.md §2): the vector, and one test per rule.

use tessera_core::internal::encoding::{b64url_decode, b64url_encode};
use tessera_core::internal::jws::secp::es256k_sign;
use tessera_core::internal::nostr::{issue_portal, verify_portal, NostrSecretKey};
use tessera_core::NostrPublicKey;
use tessera_core::{Algorithm, ErrorCode, Format, Policy};

const PORTAL_JSON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/wallet-jwt/portal.json"
);

/// n - s: the other, high-S signature for the same (r, message, key).
fn negate_s(s: &[u8]) -> Vec<u8> {
    tessera_testkit::fixtures::sub_mod(&tessera_testkit::fixtures::SECP256K1_N, s)
}

struct Vector {
    signer: NostrPublicKey,
    token: String,
    target_key: String,
    valid_at: i64,
    expired_at: i64,
}

fn vector() -> Vector {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(PORTAL_JSON).unwrap()).unwrap();
    let t = &doc["tokens"][0];
    Vector {
        signer: NostrPublicKey::parse(t["signer_xonly"].as_str().unwrap()).unwrap(),
        token: t["token"].as_str().unwrap().to_owned(),
        target_key: t["target_key"].as_str().unwrap().to_owned(),
        valid_at: t["valid_at"].as_i64().unwrap(),
        expired_at: t["expired_at"].as_i64().unwrap(),
    }
}

fn exact() -> Policy {
    Policy {
        leeway: 0,
        ..Policy::default()
    }
}

fn sk(n: u8) -> NostrSecretKey {
    let mut b = [0u8; 32];
    b[31] = n;
    NostrSecretKey::from_bytes(b).unwrap()
}

/// A Portal-shaped token with any header and payload, signed like Portal.
fn forge(secret: &NostrSecretKey, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        b64url_encode(header.as_bytes()),
        b64url_encode(payload.as_bytes())
    );
    let sig = es256k_sign(&secret.even_y_secret(), input.as_bytes());
    format!("{input}.{}", b64url_encode(&sig))
}

fn code(r: tessera_core::Result<tessera_core::Identity>) -> ErrorCode {
    r.unwrap_err().code()
}

#[test]
fn vector_is_valid_at_valid_at() {
    let v = vector();
    let id = verify_portal(&v.token, &v.signer, &exact(), v.valid_at).unwrap();
    assert_eq!(id.format, Format::Portal);
    assert_eq!(id.alg.name(), "ES256K");
    assert_eq!(id.subject, v.signer.to_hex());
    assert_eq!(id.issuer, Some(v.signer.to_hex()));
    assert_eq!(id.audience, std::slice::from_ref(&v.target_key));
    assert_eq!(id.expires_at, Some(v.expired_at));
    // The signer may be given as npub.
    let npub = NostrPublicKey::parse(&v.signer.to_npub()).unwrap();
    assert!(verify_portal(&v.token, &npub, &exact(), v.valid_at).is_ok());
}

#[test]
fn vector_is_expired_at_expired_at() {
    let v = vector();
    // With leeway 0 the token is dead at exp (= expired_at).
    assert_eq!(
        code(verify_portal(&v.token, &v.signer, &exact(), v.expired_at)),
        ErrorCode::Expired
    );
    // The default 60 s leeway moves the edge to exp + 60.
    assert!(verify_portal(&v.token, &v.signer, &Policy::default(), v.expired_at).is_ok());
    assert_eq!(
        code(verify_portal(
            &v.token,
            &v.signer,
            &Policy::default(),
            v.expired_at + 60
        )),
        ErrorCode::Expired
    );
}

#[test]
fn nbf_is_enforced_unlike_portals_own_verifier() {
    let v = vector();
    // nbf = 1795388625 in the vector.
    assert_eq!(
        code(verify_portal(&v.token, &v.signer, &exact(), 1_795_388_624)),
        ErrorCode::NotYetValid
    );
}

#[test]
fn another_signer_is_bad_signature() {
    let v = vector();
    assert_eq!(
        code(verify_portal(
            &v.token,
            &sk(7).public_key(),
            &exact(),
            v.valid_at
        )),
        ErrorCode::BadSignature
    );
}

#[test]
fn high_s_is_bad_signature() {
    let v = vector();
    let (input, sig) = v.token.rsplit_once('.').unwrap();
    let sig = b64url_decode(sig.as_bytes()).unwrap();
    let mut high = sig[..32].to_vec();
    high.extend(negate_s(&sig[32..]));
    // The same signature, mathematically valid with S negated...
    let normalized = {
        let mut s = secp256k1::ecdsa::Signature::from_compact(&high).unwrap();
        s.normalize_s();
        s.serialize_compact().to_vec()
    };
    assert_eq!(normalized, sig);
    // ...is refused in its high-S form.
    let token = format!("{input}.{}", b64url_encode(&high));
    assert_eq!(
        code(verify_portal(&token, &v.signer, &exact(), v.valid_at)),
        ErrorCode::BadSignature
    );
}

#[test]
fn expected_audience_is_checked_against_target_key() {
    let v = vector();
    let ok = Policy {
        audiences: vec![v.target_key.clone()],
        ..exact()
    };
    assert!(verify_portal(&v.token, &v.signer, &ok, v.valid_at).is_ok());
    let other = Policy {
        audiences: vec![sk(9).public_key().to_hex()],
        ..exact()
    };
    assert_eq!(
        code(verify_portal(&v.token, &v.signer, &other, v.valid_at)),
        ErrorCode::AudienceMismatch
    );
}

#[test]
fn header_must_be_exactly_alg_es256k() {
    let s = sk(3);
    let payload = r#"{"exp":2000,"nbf":1000,"iat":1000,"target_key":"79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"}"#;
    // Insignificant whitespace is the same header.
    let spaced = forge(&s, r#"{ "alg" : "ES256K" }"#, payload);
    assert!(verify_portal(&spaced, &s.public_key(), &exact(), 1500).is_ok());
    for (header, expected) in [
        (r#"{"alg":"ES256K","typ":"JWT"}"#, ErrorCode::Malformed),
        (r#"{"alg":"ES256K","kid":"k"}"#, ErrorCode::Malformed),
        (r#"{"alg":"ES256K","alg":"ES256K"}"#, ErrorCode::Malformed),
        (r#"{"typ":"JWT"}"#, ErrorCode::Malformed),
        (r#"{"alg":"ES256"}"#, ErrorCode::AlgorithmNotAllowed),
        (r#"{"alg":"none"}"#, ErrorCode::AlgorithmNotAllowed),
        (r#"{"alg":"es256k"}"#, ErrorCode::AlgorithmNotAllowed),
    ] {
        let token = forge(&s, header, payload);
        assert_eq!(
            code(verify_portal(&token, &s.public_key(), &exact(), 1500)),
            expected,
            "{header}"
        );
    }
}

#[test]
fn policy_algorithm_list_can_exclude_es256k() {
    let v = vector();
    let p = Policy {
        algorithms: Some(vec![Algorithm::ES256]),
        ..exact()
    };
    assert_eq!(
        code(verify_portal(&v.token, &v.signer, &p, v.valid_at)),
        ErrorCode::AlgorithmNotAllowed
    );
}

#[test]
fn payload_claims_are_typed() {
    let s = sk(3);
    let tk = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    for (payload, expected) in [
        (
            format!(r#"{{"exp":"2000","target_key":"{tk}"}}"#),
            ErrorCode::InvalidClaim,
        ),
        (
            format!(r#"{{"exp":2000.5,"target_key":"{tk}"}}"#),
            ErrorCode::InvalidClaim,
        ),
        (
            format!(r#"{{"exp":-1,"target_key":"{tk}"}}"#),
            ErrorCode::InvalidClaim,
        ),
        (
            format!(r#"{{"exp":2000,"nbf":"1000","target_key":"{tk}"}}"#),
            ErrorCode::InvalidClaim,
        ),
        (
            format!(r#"{{"exp":2000,"iat":true,"target_key":"{tk}"}}"#),
            ErrorCode::InvalidClaim,
        ),
        (
            format!(r#"{{"target_key":"{tk}"}}"#),
            ErrorCode::MissingClaim,
        ),
        (r#"{"exp":2000}"#.to_owned(), ErrorCode::MissingClaim),
        (
            r#"{"exp":2000,"target_key":"npub1"}"#.to_owned(),
            ErrorCode::InvalidClaim,
        ),
        (
            format!(r#"{{"exp":2000,"target_key":"{}"}}"#, tk.to_uppercase()),
            ErrorCode::InvalidClaim,
        ),
        (
            format!(r#"{{"exp":2000,"exp":3000,"target_key":"{tk}"}}"#),
            ErrorCode::Malformed,
        ),
    ] {
        let token = forge(&s, r#"{"alg":"ES256K"}"#, &payload);
        assert_eq!(
            code(verify_portal(&token, &s.public_key(), &exact(), 1500)),
            expected,
            "{payload}"
        );
    }
}

#[test]
fn compact_form_is_strict() {
    let v = vector();
    let policy = exact();
    for bad in [
        format!("{}.", v.token),
        v.token.replacen('.', "..", 1),
        format!("{}=", v.token),
        v.token.replace('-', "+"),
        v.token.split('.').take(2).collect::<Vec<_>>().join("."),
    ] {
        assert_ne!(bad, v.token);
        let c = code(verify_portal(&bad, &v.signer, &policy, v.valid_at));
        assert!(
            c == ErrorCode::Malformed || c == ErrorCode::BadSignature,
            "{bad}: {c}"
        );
    }
    let small = Policy {
        max_token_size: 64,
        ..exact()
    };
    assert_eq!(
        code(verify_portal(&v.token, &v.signer, &small, v.valid_at)),
        ErrorCode::TokenTooLarge
    );
}

#[test]
fn issue_then_verify_for_even_and_odd_y_keys() {
    let target = sk(1).public_key();
    let mut parities = [false; 2];
    for _ in 0..64 {
        let secret = NostrSecretKey::generate();
        let odd = secp256k1::PublicKey::from_secret_key(
            &secp256k1::SecretKey::from_secret_bytes(secret.to_bytes()).unwrap(),
        )
        .serialize()[0]
            == 0x03;
        parities[usize::from(odd)] = true;
        let token = issue_portal(&secret, &target, 1_000_000, 3600).unwrap();
        let id = verify_portal(&token, &secret.public_key(), &exact(), 1_000_100).unwrap();
        assert_eq!(id.audience, [target.to_hex()]);
        assert_eq!(id.expires_at, Some(1_003_600));
        assert_eq!(id.issued_at, Some(1_000_000));
        assert!(token.starts_with("eyJhbGciOiJFUzI1NksifQ."));
        if parities == [true, true] {
            break;
        }
    }
    assert_eq!(parities, [true, true], "both parities exercised");
}

#[test]
fn issue_matches_portal_payload_shape() {
    let token = issue_portal(&sk(2), &sk(1).public_key(), 1_795_388_625, 3600).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    assert_eq!(
        String::from_utf8(b64url_decode(payload.as_bytes()).unwrap()).unwrap(),
        r#"{"exp":1795392225,"nbf":1795388625,"iat":1795388625,"target_key":"79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"}"#
    );
}
