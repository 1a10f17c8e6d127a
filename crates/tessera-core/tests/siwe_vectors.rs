//! Every file of spruceid's SIWE test vectors (`shared/vectors/siwe/`).
//!
//! EIP-1271 / EIP-6492 (smart-contract wallet) cases: none of the
//! verification cases in these files need a chain — every positive case
//! recovers its address with EIP-191 — so none is skipped (0 skipped).

use serde_json::Value as Json;
use tessera_core::internal::ethereum::eip191::parse_signature_hex;
use tessera_core::internal::ethereum::{Rfc3339Time, SiweExpectations, SiweMessage};
use tessera_core::Address;
use tessera_core::{ErrorCode, Format, Result};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/siwe/");

/// "Now" for verification cases without a `time`: the snapshot date of the
/// vectors, 2024-05-04T00:00:00Z.
const SNAPSHOT_NOW: i64 = 1_714_780_800;

fn load(name: &str) -> serde_json::Map<String, Json> {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).unwrap();
    match serde_json::from_str(&text).unwrap() {
        Json::Object(o) => o,
        _ => panic!("{name} is not an object"),
    }
}

fn s<'a>(f: &'a Json, k: &str) -> Option<&'a str> {
    f.get(k).and_then(Json::as_str)
}

/// Builds a message from a spruceid `fields` object through the builder.
/// Values the builder's types cannot hold (a non-integer chain id, an
/// address not in EIP-55 form, an unparseable time) are refused here, by
/// tessera's own parsers.
fn build(f: &Json) -> Result<SiweMessage> {
    let missing = || tessera_core::Error::new(ErrorCode::Malformed, "missing field");
    let address = Address::parse_checksummed(s(f, "address").ok_or_else(missing)?)?;
    let chain_id = f
        .get("chainId")
        .and_then(Json::as_u64)
        .ok_or(tessera_core::Error::new(
            ErrorCode::Malformed,
            "chainId is not an integer",
        ))?;
    if s(f, "version") != Some("1") {
        return Err(tessera_core::Error::new(ErrorCode::Malformed, "version"));
    }
    let mut b = SiweMessage::builder(
        s(f, "domain").ok_or_else(missing)?,
        address,
        s(f, "uri").ok_or_else(missing)?,
        chain_id,
        s(f, "nonce").ok_or_else(missing)?,
        Rfc3339Time::parse(s(f, "issuedAt").ok_or_else(missing)?)?,
    );
    if let Some(v) = s(f, "scheme") {
        b = b.scheme(v);
    }
    if let Some(v) = s(f, "statement") {
        b = b.statement(v);
    }
    if let Some(v) = s(f, "expirationTime") {
        b = b.expiration_time(Rfc3339Time::parse(v)?);
    }
    if let Some(v) = s(f, "notBefore") {
        b = b.not_before(Rfc3339Time::parse(v)?);
    }
    if let Some(v) = s(f, "requestId") {
        b = b.request_id(v);
    }
    if let Some(list) = f.get("resources").and_then(Json::as_array) {
        for r in list {
            b = b.resource(r.as_str().unwrap());
        }
    }
    b.build()
}

#[test]
fn positive_messages_parse_and_rebuild_byte_for_byte() {
    let cases = load("parsing_positive.json");
    assert_eq!(cases.len(), 19);
    for (name, case) in &cases {
        let text = case["message"].as_str().unwrap();
        let f = &case["fields"];
        let msg = SiweMessage::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Every field as parsed.
        assert_eq!(msg.scheme(), s(f, "scheme"), "{name}");
        assert_eq!(msg.domain(), s(f, "domain").unwrap(), "{name}");
        assert_eq!(
            msg.address().to_checksum(),
            s(f, "address").unwrap(),
            "{name}"
        );
        assert_eq!(msg.statement(), s(f, "statement"), "{name}");
        assert_eq!(msg.uri(), s(f, "uri").unwrap(), "{name}");
        assert_eq!(msg.version(), s(f, "version").unwrap(), "{name}");
        assert_eq!(Some(msg.chain_id()), f["chainId"].as_u64(), "{name}");
        assert_eq!(msg.nonce(), s(f, "nonce").unwrap(), "{name}");
        assert_eq!(
            msg.issued_at().as_str(),
            s(f, "issuedAt").unwrap(),
            "{name}"
        );
        assert_eq!(
            msg.expiration_time().map(Rfc3339Time::as_str),
            s(f, "expirationTime"),
            "{name}"
        );
        assert_eq!(
            msg.not_before().map(Rfc3339Time::as_str),
            s(f, "notBefore"),
            "{name}"
        );
        assert_eq!(msg.request_id(), s(f, "requestId"), "{name}");
        let resources: Vec<&str> = f
            .get("resources")
            .and_then(Json::as_array)
            .map(|a| a.iter().map(|r| r.as_str().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(msg.resources(), resources.as_slice(), "{name}");
        // Display of the parsed message, and of one built from the fields,
        // is the original text byte for byte.
        assert_eq!(msg.to_string(), text, "{name}");
        let built = build(f).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(built.to_string(), text, "{name}");
        assert_eq!(built, msg, "{name}");
    }
}

#[test]
fn negative_messages_are_malformed() {
    let cases = load("parsing_negative.json");
    assert_eq!(cases.len(), 29);
    for (name, text) in &cases {
        let text = text.as_str().unwrap();
        let err = SiweMessage::parse(text).expect_err(name);
        assert_eq!(err.code(), ErrorCode::Malformed, "{name}: {err}");
    }
}

#[test]
fn negative_field_objects_cannot_be_built() {
    let cases = load("parsing_negative_objects.json");
    assert_eq!(cases.len(), 18);
    for (name, f) in &cases {
        let err = build(f).expect_err(name);
        assert_eq!(err.code(), ErrorCode::Malformed, "{name}: {err}");
    }
}

fn verify_case(f: &Json, domain: &str, nonce: &str) -> Result<tessera_core::Identity> {
    let msg = build(f)?;
    let now = match s(f, "time") {
        Some(t) => Rfc3339Time::parse(t).unwrap().unix_seconds(),
        None => SNAPSHOT_NOW,
    };
    let sig = parse_signature_hex(s(f, "signature").unwrap())?;
    msg.verify(&sig, &SiweExpectations::new(domain, nonce, now))
}

#[test]
fn positive_verification_cases_verify() {
    let cases = load("verification_positive.json");
    assert_eq!(cases.len(), 4);
    for (name, f) in &cases {
        let id = verify_case(f, s(f, "domain").unwrap(), s(f, "nonce").unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(id.format, Format::Siwe);
        assert_eq!(id.alg.name(), "EIP191");
        assert_eq!(id.subject, s(f, "address").unwrap(), "{name}");
        assert_eq!(id.audience, [s(f, "domain").unwrap()]);
    }
}

#[test]
fn negative_verification_cases_reach_their_verdict() {
    let cases = load("verification_negative.json");
    assert_eq!(cases.len(), 10);
    for (name, f) in &cases {
        let expected = match name.as_str() {
            "expired message" | "custom time" => ErrorCode::Expired,
            "domain binding" => ErrorCode::DomainMismatch,
            "custom nonce" => ErrorCode::NonceMismatch,
            // 0x + 131 hex digits: not a signature at all.
            "malformed signature" => ErrorCode::Malformed,
            "wrong signature" => ErrorCode::BadSignature,
            "not yet valid" => ErrorCode::NotYetValid,
            // 31 February: not an RFC 3339 date.
            "invalid issuedAt" | "invalid notBefore" | "invalid expirationTime" => {
                ErrorCode::Malformed
            }
            other => panic!("unknown case {other:?}"),
        };
        let domain = s(f, "domainBinding").or(s(f, "domain")).unwrap();
        let nonce = s(f, "matchNonce").or(s(f, "nonce")).unwrap();
        let err = verify_case(f, domain, nonce).expect_err(name);
        assert_eq!(err.code(), expected, "{name}: {err}");
    }
}
