//! Wycheproof's JOSE files (`shared/vectors/wycheproof/`):
//! `json_web_signature_test.json` and `json_web_key_test.json`.
//!
//! For each case: the group's key (its `public` JWK or JWK Set, or its
//! `private` one for HMAC secrets) is loaded with tessera's JWK readers, with
//! no algorithm pin (a key must name its own algorithm), and the case's
//! `jws` goes through tessera's JWS verification path (`jws::decode` then
//! `UnverifiedJws::verify`, what `jwt::verify` does before claims; the
//! payloads here are not JWT claims sets). Any error, at key loading or at
//! verification, is a rejection.
//!
//! The verdict must equal the file's `result`, except for the cases in
//! [`DEVIATIONS`], where formats.md decides against the file. Neither file
//! has `acceptable` cases; the test fails if one appears without a choice
//! recorded in [`ACCEPTABLE`].

use serde_json::Value as Json;
use std::collections::BTreeMap;
use tessera_core::{internal::jws, Error, ErrorCode, Policy};
use tessera_core::{KeySet, VerifyingKey};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/wycheproof/"
);

/// tessera's verdict on a deviating case.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    Accept,
    Reject(ErrorCode),
}
use Verdict::{Accept, Reject};

/// Cases where tessera's verdict differs from the file's on purpose, with
/// the verdict tessera gives. Each is listed in docs/conformance.md.
const DEVIATIONS: &[(&str, u64, Verdict, &str)] = &[
    // The file contradicts itself: these two "invalid" cases are byte for
    // byte the JWS of tcId 357 ("ValidMac", valid): canonical base64url, no
    // padding, a correct MAC (their comments say "invalidBase64Padding",
    // but no padding is left in the string). tessera accepts, as for 357;
    // `identical_cases_contradict` below checks the identity.
    (
        "json_web_signature_test.json",
        367,
        Accept,
        "invalidBase64Padding: identical to valid tcId 357",
    ),
    (
        "json_web_signature_test.json",
        370,
        Accept,
        "invalidBase64PaddingInPayload: identical to valid tcId 357",
    ),
    // Header base64url with a '?' inserted: Wycheproof calls it valid
    // because the MAC is over the text as sent and a lenient decoder skips
    // the stray character. formats.md §1: base64url is canonical; any
    // character outside the alphabet is `malformed`.
    (
        "json_web_signature_test.json",
        372,
        Reject(ErrorCode::Malformed),
        "InvalidCharacterInsertedInHeader: non-canonical base64url",
    ),
    (
        "json_web_signature_test.json",
        373,
        Reject(ErrorCode::Malformed),
        "InvalidCharacterInsertedInPayload: non-canonical base64url",
    ),
    // RFC 7520 Figure 20 is a PS384 token; Wycheproof's key for it is a JWK
    // with "alg":"PS256". formats.md §1: each key is pinned to its JWK `alg`;
    // a header `alg` that differs is `algorithm_not_allowed`.
    (
        "json_web_signature_test.json",
        346,
        Reject(ErrorCode::AlgorithmNotAllowed),
        "Figure20: PS384 token, key pinned to PS256",
    ),
    (
        "json_web_signature_test.json",
        350,
        Reject(ErrorCode::AlgorithmNotAllowed),
        "Figure20 (key_ops): PS384 token, key pinned to PS256",
    ),
    // RFC 7520 Figure 27's key carries "alg":"ES521", which is no JOSE
    // algorithm (ES512 is). tessera refuses a JWK naming an unknown `alg`
    // rather than ignoring the pin (the same file's json_web_key_test tcId 19
    // expects the same "ES521" to be refused).
    (
        "json_web_signature_test.json",
        347,
        Reject(ErrorCode::UnsupportedAlgorithm),
        "Figure27: key JWK alg \"ES521\" is not an algorithm",
    ),
    (
        "json_web_signature_test.json",
        351,
        Reject(ErrorCode::UnsupportedAlgorithm),
        "Figure27 (key_ops): key JWK alg \"ES521\" is not an algorithm",
    ),
];

/// "acceptable" cases and tessera's verdict (true = accepts). Neither file
/// has any today; a new one makes `cases_agree` fail until it is recorded.
const ACCEPTABLE: &[(&str, u64, bool)] = &[];

fn load(name: &str) -> Json {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn keyset(doc: &Json) -> Result<KeySet, Error> {
    let text = doc.to_string();
    if doc.get("keys").is_some() {
        KeySet::from_jwks(&text, None)
    } else {
        VerifyingKey::from_jwk(&text, None).map(KeySet::single)
    }
}

/// tessera's verdict on one case.
fn verdict(group: &Json, case: &Json) -> Result<(), Error> {
    let key_doc = group
        .get("public")
        .or_else(|| group.get("private"))
        .expect("a group has a key");
    let keys = keyset(key_doc)?;
    let token = match &case["jws"] {
        Json::String(s) => s.clone(),
        // JSON serialization: handed over as its JSON text.
        other => other.to_string(),
    };
    let policy = Policy::default();
    jws::decode(&token, policy.max_token_size)?.verify(&keys, &policy)?;
    Ok(())
}

#[derive(Default, Debug, PartialEq)]
struct Tally {
    cases: usize,
    groups: usize,
    agree: usize,
    valid: usize,
    invalid: usize,
    acceptable: usize,
    deviations: usize,
    codes: BTreeMap<&'static str, usize>,
}

fn run(name: &str) -> Tally {
    let doc = load(name);
    let mut t = Tally::default();
    let mut wrong = Vec::new();
    for group in doc["testGroups"].as_array().unwrap() {
        t.groups += 1;
        for case in group["tests"].as_array().unwrap() {
            t.cases += 1;
            let id = case["tcId"].as_u64().unwrap();
            let result = case["result"].as_str().unwrap();
            let got = verdict(group, case);
            if let Err(e) = &got {
                *t.codes.entry(e.code().as_str()).or_default() += 1;
            }
            let deviation = DEVIATIONS.iter().find(|d| d.0 == name && d.1 == id);
            let expected_ok = match result {
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
                        Some(a) => a.2,
                        None => {
                            wrong.push(format!("{id}: acceptable case without a recorded choice"));
                            continue;
                        }
                    }
                }
                other => panic!("{name} {id}: unknown result {other}"),
            };
            if let Some(&(_, _, documented, why)) = deviation {
                // A deviation must really deviate, with the documented verdict.
                let actual = match &got {
                    Ok(()) => Accept,
                    Err(e) => Reject(e.code()),
                };
                if actual == documented && got.is_ok() != expected_ok {
                    t.deviations += 1;
                } else {
                    wrong.push(format!(
                        "{id}: listed deviation ({why}) no longer deviates as documented: {got:?}"
                    ));
                }
                continue;
            }
            if got.is_ok() == expected_ok {
                t.agree += 1;
            } else {
                wrong.push(format!(
                    "{id} ({}, {result}): tessera says {got:?}",
                    case["comment"].as_str().unwrap_or("")
                ));
            }
        }
    }
    tessera_testkit::fixtures::assert_vectors_agree(name, &wrong, t.cases, &doc);
    eprintln!("{name}: {t:?}");
    t
}

#[test]
fn json_web_signature_cases_agree() {
    let t = run("json_web_signature_test.json");
    assert_eq!(t.cases, 401);
    assert_eq!(t.groups, 23);
    assert_eq!((t.valid, t.invalid, t.acceptable), (46, 355, 0));
    assert_eq!(t.deviations, 8);
    assert_eq!(t.agree, 393);
    // Why tessera refuses, over all 359 rejections.
    assert_eq!(
        t.codes,
        BTreeMap::from([
            ("algorithm_not_allowed", 8),
            ("bad_signature", 299),
            ("malformed", 42),
            ("unknown_key", 3),
            ("unsupported_algorithm", 7),
        ])
    );
}

#[test]
fn json_web_key_cases_agree() {
    let t = run("json_web_key_test.json");
    assert_eq!(t.cases, 26);
    assert_eq!(t.groups, 25);
    assert_eq!((t.valid, t.invalid, t.acceptable), (5, 21, 0));
    assert_eq!(t.deviations, 0);
    assert_eq!(t.agree, 26);
    assert_eq!(
        t.codes,
        BTreeMap::from([
            ("algorithm_not_allowed", 2),
            ("bad_signature", 1),
            ("malformed", 14),
            ("unsupported_algorithm", 4),
        ])
    );
}

/// Every listed deviation names a case that exists.
#[test]
fn deviation_table_is_exact() {
    for (file, id, _, why) in DEVIATIONS {
        let doc = load(file);
        let found = doc["testGroups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["tests"].as_array().unwrap())
            .any(|c| c["tcId"].as_u64() == Some(*id));
        assert!(found, "{file} {id} ({why}) is not a case");
    }
}

fn case(file: &str, id: u64) -> Json {
    load(file)["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap())
        .find(|c| c["tcId"].as_u64() == Some(id))
        .unwrap()
        .clone()
}

/// tcIds 367 and 370 carry exactly the JWS of tcId 357 with the opposite
/// result: no verifier can agree with all three.
#[test]
fn identical_cases_contradict() {
    let f = "json_web_signature_test.json";
    let valid = case(f, 357);
    assert_eq!(valid["result"], "valid");
    for id in [367, 370] {
        let c = case(f, id);
        assert_eq!(c["result"], "invalid");
        assert_eq!(c["jws"], valid["jws"], "tcId {id}");
    }
}

/// json_web_key_test tcId 4 ("rejectsDuplicateKid") is refused before the
/// duplicate is seen: its second key's `k` is not canonical base64url
/// (non-zero unused bits). With that `k` made canonical, the set is still
/// refused, now for the duplicate kid itself.
#[test]
fn duplicate_kid_is_refused_for_its_own_reason() {
    let c = case("json_web_key_test.json", 4);
    assert_eq!(c["result"], "invalid");
    let group = load("json_web_key_test.json")["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["tests"][0]["tcId"] == 4)
        .unwrap()
        .clone();
    let mut set = group["private"].clone();
    let err = keyset(&set).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Malformed);
    assert!(err.message().contains("base64url"), "{err}");
    let k = set["keys"][1]["k"].as_str().unwrap().to_owned();
    // 43 characters carry 32 bytes: the last one keeps 4 bits, 2 unused.
    let canonical = format!("{}{}", &k[..42], "c");
    assert!(tessera_core::internal::encoding::b64url_decode(canonical.as_bytes()).is_ok());
    set["keys"][1]["k"] = Json::String(canonical);
    assert_eq!(set["keys"][0]["kid"], set["keys"][1]["kid"]);
    let err = keyset(&set).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Malformed);
    assert!(err.message().contains("kid"), "{err}");
}
