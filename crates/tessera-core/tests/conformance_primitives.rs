//! Wycheproof primitive files (`shared/vectors/wycheproof/`) through the
//! primitive tessera's JWS verifier calls: a [`VerifyingKey`] built from the
//! group's public key with the constructor a JWK would reach
//! (`VerifyingKey::ec_point`, `::rsa`, `::ed25519`, `::hmac`), then
//! `VerifyingKey::verify(message, signature)` — exactly what
//! `UnverifiedJws::verify` runs on `header.payload` and the decoded
//! signature. A key tessera refuses to build is a rejection of every case of
//! its group.
//!
//! Each file: case count asserted, 0 unexplained disagreements. Where
//! tessera's JWS rules (formats.md, RFC 7518) say no to something the
//! primitive file calls valid, the case is a *deviation*: counted per reason,
//! the count asserted, and the reason proved on the case itself (for
//! example a high-S secp256k1 signature must verify once S is negated).
//! "acceptable" cases: tessera's verdict is recorded in [`ACCEPTABLE`].
//! docs/conformance.md lists all of it.

use serde_json::Value as Json;
use std::collections::BTreeMap;
use tessera_core::internal::encoding::hex_decode_any_case;
use tessera_core::internal::jws::{secp, Curve};
use tessera_core::{Algorithm, Error, ErrorCode};
use tessera_core::{SigningKey, VerifyingKey};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/wycheproof/"
);

/// "acceptable" cases: (file, tcId, tessera accepts).
///
/// The four PKCS#1 v1.5 files each have one: a DigestInfo whose
/// AlgorithmIdentifier omits the NULL parameters (flag `MissingNull`).
/// tessera (aws-lc's RSA_PKCS1_*) rejects: RFC 8017 §9.2 note 2 makes the
/// NULL the encoding to produce, and one accepted encoding per signature
/// keeps verification a byte comparison.
const ACCEPTABLE: &[(&str, u64, bool)] = &[
    ("rsa_signature_2048_sha256_test.json", 8, false),
    ("rsa_signature_2048_sha384_test.json", 8, false),
    ("rsa_signature_2048_sha512_test.json", 8, false),
    ("rsa_signature_3072_sha256_test.json", 8, false),
];

fn load(name: &str) -> Json {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn hex(v: &Json) -> Vec<u8> {
    hex_decode_any_case(v.as_str().expect("a hex string")).expect("hex")
}

/// The counts of one file.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    cases: usize,
    valid: usize,
    invalid: usize,
    acceptable: usize,
    /// Verdict equals the file's valid/invalid.
    agree: usize,
    /// acceptable cases tessera accepts / rejects.
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    /// Deviations by reason.
    deviations: BTreeMap<&'static str, usize>,
}

/// A deviation explainer: given a case tessera disagrees with, returns the
/// documented reason after checking it on the case, or `None`.
type Explain<'a> = &'a dyn Fn(&Json, &Json) -> Option<&'static str>;

/// Runs every case of `name`; `verdict(group, case)` is tessera's answer.
fn run(
    name: &str,
    verdict: &dyn Fn(&Json, &Json) -> Result<(), Error>,
    explain: Explain<'_>,
) -> Tally {
    let doc = load(name);
    let mut t = Tally::default();
    let mut wrong = Vec::new();
    for group in doc["testGroups"].as_array().unwrap() {
        for case in group["tests"].as_array().unwrap() {
            t.cases += 1;
            let id = case["tcId"].as_u64().unwrap();
            let ok = verdict(group, case).is_ok();
            let expected = match case["result"].as_str().unwrap() {
                "valid" => {
                    t.valid += 1;
                    true
                }
                "invalid" => {
                    t.invalid += 1;
                    false
                }
                "acceptable" => {
                    t.acceptable += 1;
                    match ACCEPTABLE.iter().find(|a| a.0 == name && a.1 == id) {
                        Some(&(_, _, choice)) if choice == ok => {
                            if ok {
                                t.acceptable_accepted += 1;
                            } else {
                                t.acceptable_rejected += 1;
                            }
                        }
                        Some(_) => wrong.push(format!("{id}: acceptable, recorded choice differs")),
                        None => wrong.push(format!(
                            "{id}: acceptable ({:?}), no recorded choice; tessera says {ok}",
                            case["flags"]
                        )),
                    }
                    continue;
                }
                other => panic!("{name} {id}: result {other}"),
            };
            if ok == expected {
                t.agree += 1;
            } else if let Some(reason) = explain(group, case) {
                *t.deviations.entry(reason).or_default() += 1;
            } else {
                wrong.push(format!(
                    "{id} ({}, {:?}, expected {expected}): tessera says {ok}",
                    case["comment"].as_str().unwrap_or(""),
                    case["flags"]
                ));
            }
        }
    }
    tessera_testkit::fixtures::assert_vectors_agree(name, &wrong, t.cases, &doc);
    eprintln!("{name}: {t:?}");
    t
}

fn no_deviation(_: &Json, _: &Json) -> Option<&'static str> {
    None
}

// ---- ECDSA, r||s (P1363) ----

fn ec_key(group: &Json, alg: Algorithm, curve: Curve) -> Result<VerifyingKey, Error> {
    VerifyingKey::ec_point(alg, curve, &hex(&group["publicKey"]["uncompressed"]))
}

fn ecdsa_p1363(
    alg: Algorithm,
    curve: Curve,
    sha: &'static str,
) -> impl Fn(&Json, &Json) -> Result<(), Error> {
    move |group, case| {
        assert_eq!(group["sha"], sha);
        ec_key(group, alg, curve)?.verify(&hex(&case["msg"]), &hex(&case["sig"]))
    }
}

#[test]
fn ecdsa_secp256r1_sha256_p1363() {
    let t = run(
        "ecdsa_secp256r1_sha256_p1363_test.json",
        &ecdsa_p1363(Algorithm::ES256, Curve::P256, "SHA-256"),
        &no_deviation,
    );
    assert_eq!(t.cases, 262);
    assert_eq!((t.valid, t.invalid, t.acceptable), (173, 89, 0));
    assert_eq!(t.agree, 262);
    assert!(t.deviations.is_empty());
}

#[test]
fn ecdsa_secp384r1_sha384_p1363() {
    let t = run(
        "ecdsa_secp384r1_sha384_p1363_test.json",
        &ecdsa_p1363(Algorithm::ES384, Curve::P384, "SHA-384"),
        &no_deviation,
    );
    assert_eq!(t.cases, 280);
    assert_eq!((t.valid, t.invalid, t.acceptable), (193, 87, 0));
    assert_eq!(t.agree, 280);
    assert!(t.deviations.is_empty());
}

#[test]
fn ecdsa_secp521r1_sha512_p1363() {
    let t = run(
        "ecdsa_secp521r1_sha512_p1363_test.json",
        &ecdsa_p1363(Algorithm::ES512, Curve::P521, "SHA-512"),
        &no_deviation,
    );
    assert_eq!(t.cases, 318);
    assert_eq!((t.valid, t.invalid, t.acceptable), (231, 87, 0));
    assert_eq!(t.agree, 318);
    assert!(t.deviations.is_empty());
}

/// Standard-JWT ES256K accepts either S (formats.md §1, RFC 8812): the
/// plain secp256k1 file is its reference, with no deviation.
#[test]
fn ecdsa_secp256k1_sha256_p1363() {
    let t = run(
        "ecdsa_secp256k1_sha256_p1363_test.json",
        &ecdsa_p1363(Algorithm::ES256K, Curve::Secp256k1, "SHA-256"),
        &no_deviation,
    );
    assert_eq!(t.cases, 252);
    assert_eq!((t.valid, t.invalid, t.acceptable), (167, 85, 0));
    assert_eq!(t.agree, 252);
    assert!(t.deviations.is_empty());
    // The file's valid high-S signatures (72) are among those accepted.
    let doc = load("ecdsa_secp256k1_sha256_p1363_test.json");
    let high_s_valid = doc["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap())
        .filter(|c| c["result"] == "valid" && is_high_s(&hex(&c["sig"])))
        .count();
    assert_eq!(high_s_valid, 72);
}

fn is_high_s(compact: &[u8]) -> bool {
    let Ok(parsed) = secp256k1::ecdsa::Signature::from_compact(compact) else {
        return false;
    };
    let mut low = parsed;
    low.normalize_s();
    low != parsed
}

/// The bitcoin file's high-S cases whose only fault is S.
const ONLY_S: usize = 2;

/// Portal JWTs (and Ethereum signatures) are low-S only (formats.md §1,
/// §2): the bitcoin file is their reference, run through the primitive
/// Portal verification calls (`secp::es256k_verify_low_s`).
#[test]
fn ecdsa_secp256k1_sha256_bitcoin() {
    let t = run(
        "ecdsa_secp256k1_sha256_bitcoin_test.json",
        &|group, case| {
            assert_eq!(group["sha"], "SHA-256");
            // DER is this file's transport only (JOSE never uses it):
            // libsecp256k1's strict DER parser turns it into r||s.
            let der = hex(&case["sig"]);
            let sig = secp256k1::ecdsa::Signature::from_der(&der)
                .map_err(|_| Error::new(ErrorCode::BadSignature, "not strict DER"))?;
            let point = hex(&group["publicKey"]["uncompressed"]);
            let key = secp256k1::PublicKey::from_slice(&point)
                .map_err(|_| Error::new(ErrorCode::Malformed, "invalid point"))?;
            secp::es256k_verify_low_s(&key, &hex(&case["msg"]), &sig.serialize_compact())
        },
        &no_deviation,
    );
    assert_eq!(t.cases, 463);
    assert_eq!((t.valid, t.invalid, t.acceptable), (162, 301, 0));
    assert_eq!(t.agree, 463);
    assert!(t.deviations.is_empty());
    // How many verdicts the DER transport decided (all "invalid" in the
    // file); the rest reached tessera's primitive. The high-S cases are
    // all "invalid" here (Bitcoin's rule is Portal's); the standard-JWT
    // rule decides each as the low-S rule decides it with S replaced by
    // n - S, so it accepts those whose only fault is S.
    let doc = load("ecdsa_secp256k1_sha256_bitcoin_test.json");
    let (mut not_der, mut high_s, mut only_s) = (0, 0, 0);
    for g in doc["testGroups"].as_array().unwrap() {
        for c in g["tests"].as_array().unwrap() {
            match secp256k1::ecdsa::Signature::from_der(&hex(&c["sig"])) {
                Err(_) => {
                    assert_eq!(c["result"], "invalid");
                    not_der += 1;
                }
                Ok(sig) if is_high_s(&sig.serialize_compact()) => {
                    assert_eq!(c["result"], "invalid", "{}", c["tcId"]);
                    let msg = hex(&c["msg"]);
                    let jwt_rule = ec_key(g, Algorithm::ES256K, Curve::Secp256k1)
                        .and_then(|k| k.verify(&msg, &sig.serialize_compact()));
                    let mut low = sig;
                    low.normalize_s();
                    let point = hex(&g["publicKey"]["uncompressed"]);
                    let key = secp256k1::PublicKey::from_slice(&point).unwrap();
                    let low_rule = secp::es256k_verify_low_s(&key, &msg, &low.serialize_compact());
                    assert_eq!(jwt_rule.is_ok(), low_rule.is_ok(), "tcId {}", c["tcId"]);
                    high_s += 1;
                    only_s += usize::from(jwt_rule.is_ok());
                }
                Ok(_) => {}
            }
        }
    }
    assert_eq!((not_der, high_s, only_s), (190, 10, ONLY_S));
}

// ---- Ed25519 ----

#[test]
fn ed25519() {
    let t = run(
        "ed25519_test.json",
        &|group, case| {
            VerifyingKey::ed25519(&hex(&group["publicKey"]["pk"]))?
                .verify(&hex(&case["msg"]), &hex(&case["sig"]))
        },
        &no_deviation,
    );
    assert_eq!(t.cases, 151);
    assert_eq!((t.valid, t.invalid, t.acceptable), (88, 63, 0));
    assert_eq!(t.agree, 151);
    assert!(t.deviations.is_empty());
}

// ---- RSA ----

fn rsa(alg: Algorithm, sha: &'static str) -> impl Fn(&Json, &Json) -> Result<(), Error> {
    move |group, case| {
        assert_eq!(group["sha"], sha);
        let pk = &group["publicKey"];
        let (n, e) = (hex(&pk["modulus"]), hex(&pk["publicExponent"]));
        // A few groups use e = 3: the loaders refuse exponents other than
        // 65537 unless the caller opts in, and these vectors test the
        // signature primitive, so they opt in.
        let key = if e == [1, 0, 1] {
            VerifyingKey::rsa(alg, &n, &e)?
        } else {
            VerifyingKey::rsa_with_unusual_exponent(alg, &n, &e)?
        };
        key.verify(&hex(&case["msg"]), &hex(&case["sig"]))
    }
}

/// Runs one PKCS#1 v1.5 file: every case agrees except its one
/// "acceptable" case, which tessera rejects (see [`ACCEPTABLE`]).
fn rsa_pkcs1_file(name: &str, alg: Algorithm, sha: &'static str, counts: [usize; 4]) {
    let [cases, valid, invalid, acceptable] = counts;
    let t = run(name, &rsa(alg, sha), &no_deviation);
    assert_eq!(t.cases, cases);
    assert_eq!(
        (t.valid, t.invalid, t.acceptable),
        (valid, invalid, acceptable)
    );
    assert_eq!(t.agree, valid + invalid);
    assert!(t.deviations.is_empty());
    assert_eq!((t.acceptable_accepted, t.acceptable_rejected), (0, 1));
}

#[test]
fn rsa_signature_2048_sha256() {
    rsa_pkcs1_file(
        "rsa_signature_2048_sha256_test.json",
        Algorithm::RS256,
        "SHA-256",
        [259, 9, 249, 1],
    );
}

#[test]
fn rsa_signature_2048_sha384() {
    rsa_pkcs1_file(
        "rsa_signature_2048_sha384_test.json",
        Algorithm::RS384,
        "SHA-384",
        [258, 7, 250, 1],
    );
}

#[test]
fn rsa_signature_2048_sha512() {
    rsa_pkcs1_file(
        "rsa_signature_2048_sha512_test.json",
        Algorithm::RS512,
        "SHA-512",
        [259, 8, 250, 1],
    );
}

#[test]
fn rsa_signature_3072_sha256() {
    rsa_pkcs1_file(
        "rsa_signature_3072_sha256_test.json",
        Algorithm::RS256,
        "SHA-256",
        [259, 8, 250, 1],
    );
}

#[test]
fn rsa_pss_2048_sha256_mgf1_32() {
    let t = run(
        "rsa_pss_2048_sha256_mgf1_32_test.json",
        &|group: &Json, case: &Json| {
            assert_eq!(group["mgf"], "MGF1");
            assert_eq!(group["mgfSha"], "SHA-256");
            assert_eq!(group["sLen"], 32);
            rsa(Algorithm::PS256, "SHA-256")(group, case)
        },
        &no_deviation,
    );
    assert_eq!(t.cases, 108);
    assert_eq!((t.valid, t.invalid, t.acceptable), (63, 45, 0));
    assert_eq!(t.agree, 108);
    assert!(t.deviations.is_empty());
}

// ---- HMAC ----

const SHORT_KEY: &str = "key shorter than the hash output (RFC 7518 §3.2)";
const TRUNCATED_TAG: &str = "truncated tag (a JWS HMAC is the full output)";

fn hash_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS256 => 32,
        Algorithm::HS384 => 48,
        _ => 64,
    }
}

fn aws_hmac(alg: Algorithm) -> aws_lc_rs::hmac::Algorithm {
    match alg {
        Algorithm::HS256 => aws_lc_rs::hmac::HMAC_SHA256,
        Algorithm::HS384 => aws_lc_rs::hmac::HMAC_SHA384,
        _ => aws_lc_rs::hmac::HMAC_SHA512,
    }
}

fn hmac(alg: Algorithm) -> impl Fn(&Json, &Json) -> Result<(), Error> {
    move |_group, case| {
        VerifyingKey::hmac(alg, &hex(&case["key"]))?.verify(&hex(&case["msg"]), &hex(&case["tag"]))
    }
}

/// A valid case tessera rejects must be one JWS rules exclude, proven on
/// the case: a key below the hash size (refused at key construction, yet
/// the tag is the HMAC, checked with aws-lc directly), or a truncated tag
/// (refused by the verifier, yet the prefix of tessera's own full MAC).
fn hmac_rule(alg: Algorithm) -> impl Fn(&Json, &Json) -> Option<&'static str> {
    move |_group, case| {
        let (key, msg, tag) = (hex(&case["key"]), hex(&case["msg"]), hex(&case["tag"]));
        if key.len() < hash_len(alg) {
            let err = VerifyingKey::hmac(alg, &key).err()?;
            assert_eq!(err.code(), ErrorCode::Malformed);
            let full = aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(aws_hmac(alg), &key), &msg);
            return full.as_ref().starts_with(&tag).then_some(SHORT_KEY);
        }
        if tag.len() < hash_len(alg) {
            let err = VerifyingKey::hmac(alg, &key)
                .ok()?
                .verify(&msg, &tag)
                .err()?;
            assert_eq!(err.code(), ErrorCode::BadSignature);
            let full = SigningKey::hmac(alg, &key).ok()?.sign(&msg).ok()?;
            return full.starts_with(&tag).then_some(TRUNCATED_TAG);
        }
        None
    }
}

/// For every case with a key tessera accepts, tessera's MAC computation
/// (its signing key) agrees with the file: the tag is a prefix of the full
/// MAC exactly when the case is valid, truncated tags included.
fn hmac_computation_agrees(name: &str, alg: Algorithm) -> usize {
    let mut checked = 0;
    for group in load(name)["testGroups"].as_array().unwrap() {
        for case in group["tests"].as_array().unwrap() {
            let (key, msg, tag) = (hex(&case["key"]), hex(&case["msg"]), hex(&case["tag"]));
            let Ok(signer) = SigningKey::hmac(alg, &key) else {
                assert!(key.len() < hash_len(alg));
                continue;
            };
            let full = signer.sign(&msg).unwrap();
            assert_eq!(
                !tag.is_empty() && full.starts_with(&tag),
                case["result"] == "valid",
                "{name} {}",
                case["tcId"]
            );
            checked += 1;
        }
    }
    checked
}

fn hmac_file(name: &str, alg: Algorithm) {
    let t = run(name, &hmac(alg), &hmac_rule(alg));
    assert_eq!(t.cases, 174);
    assert_eq!((t.valid, t.invalid, t.acceptable), (66, 108, 0));
    // Full-length tags with full-size keys: 27 valid + 54 invalid + 3 valid
    // (long key); every invalid case; that is all agreement.
    assert_eq!(t.agree, 138);
    assert_eq!(
        t.deviations,
        BTreeMap::from([(SHORT_KEY, 6), (TRUNCATED_TAG, 30)])
    );
    assert_eq!(hmac_computation_agrees(name, alg), 168);
}

#[test]
fn hmac_sha256() {
    hmac_file("hmac_sha256_test.json", Algorithm::HS256);
}

#[test]
fn hmac_sha384() {
    hmac_file("hmac_sha384_test.json", Algorithm::HS384);
}

#[test]
fn hmac_sha512() {
    hmac_file("hmac_sha512_test.json", Algorithm::HS512);
}
