//! RFC 7520 ("JOSE Cookbook") JWS examples, `shared/vectors/jose-cookbook/`.
//!
//! Every example's compact serialization verifies through tessera's public
//! JWS verification path (`jws::decode` + `UnverifiedJws::verify`, the two
//! calls `jwt::verify` makes before it reads claims) with the key of
//! `jwk/` that RFC 7520 §3 names, pinned to the example's algorithm.
//!
//! What tessera refuses on purpose, each with its exact code (see
//! `docs/conformance.md`):
//! - the JWS JSON serializations (`output.json`, `output.json_flat`) of every
//!   example: tessera speaks the compact form only -> `malformed`;
//! - the examples as *JWTs*: their payloads are plain text, not a claims set
//!   -> `malformed`;
//! - detached content (RFC 7515 App. F, RFC 7520 §4.5 shape): tessera has no
//!   way to be handed a detached payload, the empty payload segment is taken
//!   as an empty payload -> `bad_signature`;
//! - RFC 7797 unencoded payloads (`b64:false` with `crit:["b64"]`): the
//!   cookbook snapshot has no such example, so RFC 7797 §4's own pair (same
//!   payload, encoded and unencoded, RFC 7515 A.1's HMAC key) is inlined
//!   below; the unencoded one -> `crit_unsupported`.

use serde_json::Value as Json;
use tessera_core::internal::encoding::{b64url_decode, b64url_encode};
use tessera_core::internal::jws;
use tessera_core::{jwt, Algorithm, ErrorCode, Policy};
use tessera_core::{KeySet, SigningKey, VerifyingKey};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/jose-cookbook/"
);

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json(name: &str) -> Json {
    serde_json::from_str(&read(name)).unwrap()
}

/// One RFC 7520 JWS example and the key (file) that verifies it.
struct Example {
    file: &'static str,
    alg: Algorithm,
    /// The `jwk/` file with the public (or, for HMAC, the secret) key.
    key_file: Option<&'static str>,
    /// Whether RFC 7520 marks the signature reproducible (deterministic).
    reproducible: bool,
}

const EXAMPLES: [Example; 5] = [
    Example {
        file: "jws/4_1.rsa_v15_signature.json",
        alg: Algorithm::RS256,
        key_file: Some("jwk/3_3.rsa_public_key.json"),
        reproducible: true,
    },
    Example {
        file: "jws/4_2.rsa-pss_signature.json",
        alg: Algorithm::PS384,
        key_file: Some("jwk/3_3.rsa_public_key.json"),
        reproducible: false,
    },
    Example {
        file: "jws/4_3.ecdsa_signature.json",
        alg: Algorithm::ES512,
        key_file: Some("jwk/3_1.ec_public_key.json"),
        reproducible: false,
    },
    Example {
        file: "jws/4_4.hmac-sha2_integrity_protection.json",
        alg: Algorithm::HS256,
        key_file: Some("jwk/3_5.symmetric_key_mac_computation.json"),
        reproducible: true,
    },
    // RFC 8037 §A.4, kept with the cookbook; its key is inline (input.key).
    Example {
        file: "curve25519/jws.json",
        alg: Algorithm::EdDSA,
        key_file: None,
        reproducible: true,
    },
];

/// Every JWS example file present, so a new file cannot be silently skipped.
#[test]
fn every_example_file_is_covered() {
    let mut present: Vec<String> = std::fs::read_dir(format!("{DIR}jws"))
        .unwrap()
        .map(|e| format!("jws/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    present.push("curve25519/jws.json".into());
    present.sort();
    let mut covered: Vec<String> = EXAMPLES.iter().map(|e| e.file.to_owned()).collect();
    covered.sort();
    assert_eq!(present, covered);
    assert_eq!(covered.len(), 5);
}

fn key_text(ex: &Example) -> String {
    match ex.key_file {
        Some(f) => read(f),
        None => json(ex.file)["input"]["key"].to_string(),
    }
}

/// The verifying key, pinned to the example's algorithm (RFC 7520's RSA key
/// has no `alg`, so the caller names it, as a configured key would be).
fn verifying_key(ex: &Example) -> VerifyingKey {
    VerifyingKey::from_jwk(&key_text(ex), Some(ex.alg))
        .unwrap_or_else(|e| panic!("{}: key refused: {e}", ex.file))
}

fn compact(ex: &Example) -> String {
    json(ex.file)["output"]["compact"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn compact_examples_verify_with_the_right_key() {
    let policy = Policy::default();
    let mut verified = 0;
    for ex in &EXAMPLES {
        let doc = json(ex.file);
        assert_eq!(
            doc["input"]["alg"].as_str(),
            Some(ex.alg.name()),
            "{}",
            ex.file
        );
        let token = compact(ex);
        let keys = KeySet::single(verifying_key(ex));
        let decoded = jws::decode(&token, policy.max_token_size)
            .unwrap_or_else(|e| panic!("{}: {e}", ex.file));
        assert_eq!(decoded.header.alg, ex.alg, "{}", ex.file);
        let key = decoded
            .verify(&keys, &policy)
            .unwrap_or_else(|e| panic!("{}: {e}", ex.file));
        // The kid in the header is the key's kid (when RFC 7520 gives one).
        assert_eq!(
            key.kid(),
            doc["input"]["key"]["kid"].as_str(),
            "{}",
            ex.file
        );
        // The payload is the example's input, byte for byte.
        assert_eq!(
            decoded.payload,
            doc["input"]["payload"].as_str().unwrap().as_bytes(),
            "{}",
            ex.file
        );
        // The pieces RFC 7520 lists agree with the compact form.
        let signing = &doc["signing"];
        assert_eq!(
            signing["sig-input"].as_str().unwrap().as_bytes(),
            decoded.signing_input,
            "{}",
            ex.file
        );
        assert_eq!(
            b64url_decode(signing["sig"].as_str().unwrap().as_bytes()).unwrap(),
            decoded.signature,
            "{}",
            ex.file
        );
        verified += 1;
    }
    assert_eq!(verified, 5);
}

#[test]
fn examples_fail_with_a_wrong_or_tampered_input() {
    let policy = Policy::default();
    for ex in &EXAMPLES {
        let token = compact(ex);
        let keys = KeySet::single(verifying_key(ex));
        // Flip one payload character: the signature no longer covers it.
        let (head, rest) = token.split_once('.').unwrap();
        let (payload, sig) = rest.split_once('.').unwrap();
        let mut p = payload.as_bytes().to_vec();
        p[0] = if p[0] == b'S' { b'T' } else { b'S' };
        let tampered = format!("{head}.{}.{sig}", String::from_utf8(p).unwrap());
        let err = jws::decode(&tampered, policy.max_token_size)
            .unwrap()
            .verify(&keys, &policy)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadSignature, "{}", ex.file);
    }
    // The right key material pinned to another algorithm is refused before
    // any signature check: the key, not the header, chooses the algorithm.
    let rs256 = &EXAMPLES[0];
    let as_ps384 =
        KeySet::single(VerifyingKey::from_jwk(&key_text(rs256), Some(Algorithm::PS384)).unwrap());
    let err = jws::decode(&compact(rs256), policy.max_token_size)
        .unwrap()
        .verify(&as_ps384, &policy)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlgorithmNotAllowed);
    // Another example's key (same kid, other type) does not verify it either.
    let ec_key = KeySet::single(verifying_key(&EXAMPLES[2]));
    let err = jws::decode(&compact(rs256), policy.max_token_size)
        .unwrap()
        .verify(&ec_key, &policy)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlgorithmNotAllowed);
}

/// The reproducible examples are re-signed byte for byte by tessera's
/// signing keys built from the private JWKs of RFC 7520 §3.
#[test]
fn reproducible_examples_resign_identically() {
    let private = |ex: &Example| -> String {
        match ex.alg {
            Algorithm::RS256 => read("jwk/3_4.rsa_private_key.json"),
            Algorithm::HS256 => read("jwk/3_5.symmetric_key_mac_computation.json"),
            _ => json(ex.file)["input"]["key"].to_string(),
        }
    };
    let mut resigned = 0;
    for ex in EXAMPLES.iter().filter(|e| e.reproducible) {
        let key = SigningKey::from_jwk(&private(ex), Some(ex.alg)).unwrap();
        let doc = json(ex.file);
        let input = doc["signing"]["sig-input"].as_str().unwrap();
        let sig = key.sign(input.as_bytes()).unwrap();
        assert_eq!(
            b64url_encode(&sig),
            doc["signing"]["sig"].as_str().unwrap(),
            "{}",
            ex.file
        );
        resigned += 1;
    }
    assert_eq!(resigned, 3);
    // The private JWKs of §3.2 and §3.4 carry the same public keys as §3.1 and §3.3.
    for (private, public, alg) in [
        (
            "jwk/3_2.ec_private_key.json",
            "jwk/3_1.ec_public_key.json",
            Algorithm::ES512,
        ),
        (
            "jwk/3_4.rsa_private_key.json",
            "jwk/3_3.rsa_public_key.json",
            Algorithm::RS256,
        ),
    ] {
        let from_private = SigningKey::from_jwk(&read(private), Some(alg))
            .unwrap()
            .verifying_key()
            .unwrap();
        let from_public = VerifyingKey::from_jwk(&read(public), Some(alg)).unwrap();
        assert_eq!(
            from_private.thumbprint(),
            from_public.thumbprint(),
            "{private}"
        );
    }
}

/// tessera speaks compact JWS only (formats.md §1): both JSON serializations
/// of every example are `malformed`.
#[test]
fn json_serializations_are_refused() {
    let policy = Policy::default();
    let mut refused = 0;
    for ex in &EXAMPLES {
        let doc = json(ex.file);
        let keys = KeySet::single(verifying_key(ex));
        for form in ["json", "json_flat"] {
            let text = doc["output"][form].to_string();
            assert_eq!(
                jws::decode(&text, policy.max_token_size)
                    .unwrap_err()
                    .code(),
                ErrorCode::Malformed,
                "{} {form}",
                ex.file
            );
            assert_eq!(
                jwt::verify(&text, &keys, &policy, 0).unwrap_err().code(),
                ErrorCode::Malformed,
                "{} {form}",
                ex.file
            );
            refused += 1;
        }
    }
    assert_eq!(refused, 10);
}

/// RFC 7520's payloads are text, not JWT claims sets: the signature is
/// good, yet as a JWT each example is `malformed`.
#[test]
fn examples_are_not_jwts() {
    let policy = Policy {
        require_exp: false,
        ..Policy::default()
    };
    for ex in &EXAMPLES {
        let keys = KeySet::single(verifying_key(ex));
        let err = jwt::verify(&compact(ex), &keys, &policy, 0).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Malformed, "{}: {err}", ex.file);
    }
}

/// Detached content: the payload segment left empty. tessera has no API
/// to supply the payload out of band, so the signature is checked over an
/// empty payload and fails.
#[test]
fn detached_content_is_refused() {
    let policy = Policy::default();
    for ex in &EXAMPLES {
        let token = compact(ex);
        let mut parts = token.split('.');
        let (h, _, s) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let detached = format!("{h}..{s}");
        let keys = KeySet::single(verifying_key(ex));
        let err = jws::decode(&detached, policy.max_token_size)
            .unwrap()
            .verify(&keys, &policy)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadSignature, "{}", ex.file);
    }
}

/// RFC 7797 §4 signs "$.02" with the HMAC key of RFC 7515 Appendix A.1,
/// once with the ordinary encoding (§4.1, accepted) and once unencoded
/// (§4.2, refused). Not in `shared/vectors/`: RFC text, quoted.
#[test]
fn unencoded_payload_rfc7797_is_refused() {
    const RFC7515_A1_KEY: &str = r#"{"kty":"oct","alg":"HS256","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#;
    const ENCODED: &str = "eyJhbGciOiJIUzI1NiJ9.JC4wMg.5mvfOroL-g7HyqJoozehmsaqmvTYGEq5jTI1gVvoEoQ";
    const UNENCODED_HEADER: &str = "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19";
    const UNENCODED_SIG: &str = "A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY";
    let policy = Policy::default();
    let key = VerifyingKey::from_jwk(RFC7515_A1_KEY, None).unwrap();
    let keys = KeySet::single(key.clone());
    let ok = jws::decode(ENCODED, policy.max_token_size).unwrap();
    assert_eq!(ok.payload, b"$.02");
    ok.verify(&keys, &policy).unwrap();
    // The §4.2 signature is genuine: it is the MAC of the unencoded input.
    let unencoded_input = format!("{UNENCODED_HEADER}.$.02");
    key.verify(
        unencoded_input.as_bytes(),
        &b64url_decode(UNENCODED_SIG.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        b64url_decode(UNENCODED_HEADER.as_bytes()).unwrap(),
        br#"{"alg":"HS256","b64":false,"crit":["b64"]}"#
    );
    // Detached (RFC 7797 §4.2's own form) and attached: both refused.
    let detached = format!("{UNENCODED_HEADER}..{UNENCODED_SIG}");
    assert_eq!(
        jws::decode(&detached, policy.max_token_size)
            .unwrap_err()
            .code(),
        ErrorCode::CritUnsupported
    );
    assert_eq!(
        jwt::verify(&detached, &keys, &policy, 0)
            .unwrap_err()
            .code(),
        ErrorCode::CritUnsupported
    );
    // Attached, "$.02" adds a fourth dot-separated part.
    let attached = format!("{UNENCODED_HEADER}.$.02.{UNENCODED_SIG}");
    assert_eq!(
        jws::decode(&attached, policy.max_token_size)
            .unwrap_err()
            .code(),
        ErrorCode::Malformed
    );
}
