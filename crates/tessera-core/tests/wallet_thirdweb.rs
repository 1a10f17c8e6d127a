//! thirdweb-format wallet JWTs and EIP-191 (formats.md §6).

use tessera_core::internal::encoding::{b64std_encode, b64url_decode, b64url_encode, hex_encode};
use tessera_core::internal::ethereum::eip191;
use tessera_core::internal::ethereum::{
    issue_thirdweb, verify_thirdweb, EthereumSecretKey, ThirdwebClaims,
};
use tessera_core::Address;
use tessera_core::{ErrorCode, Format, Policy};
use tessera_testkit::fixtures::high_s_twin;

const THIRDWEB_JSON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/wallet-jwt/thirdweb.json"
);
const HEADER: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9";
/// Hardhat/Anvil development accounts 0 and 1 (public test keys).
const ADMIN_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const USER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

struct Vector {
    token: String,
    issuer: Address,
    subject: String,
    aud: String,
    valid_at: i64,
    expired_at: i64,
}

fn vector() -> Vector {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(THIRDWEB_JSON).unwrap()).unwrap();
    let t = &doc["tokens"][0];
    Vector {
        token: t["token"].as_str().unwrap().to_owned(),
        issuer: Address::parse(t["issuer_address"].as_str().unwrap()).unwrap(),
        subject: t["subject_address"].as_str().unwrap().to_owned(),
        aud: t["aud"].as_str().unwrap().to_owned(),
        valid_at: t["valid_at"].as_i64().unwrap(),
        expired_at: t["expired_at"].as_i64().unwrap(),
    }
}

fn policy(aud: &str) -> Policy {
    Policy {
        leeway: 0,
        audiences: vec![aud.to_owned()],
        ..Policy::default()
    }
}

fn admin() -> EthereumSecretKey {
    EthereumSecretKey::from_hex(ADMIN_KEY).unwrap()
}

/// A thirdweb-shaped token over `payload`, signed by `signer`.
fn forge(signer: &EthereumSecretKey, payload: &str) -> String {
    let sig = eip191::sign(signer, payload.as_bytes());
    format!(
        "{HEADER}.{}.{}",
        b64url_encode(payload.as_bytes()),
        b64url_encode(format!("0x{}", hex_encode(&sig)).as_bytes())
    )
}

fn payload(iss: &Address) -> String {
    format!(
        r#"{{"iss":"{iss}","sub":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","aud":"example.com","exp":86400,"nbf":0,"iat":0,"jti":"x","ctx":{{}}}}"#
    )
}

fn code(r: tessera_core::Result<tessera_core::Identity>) -> ErrorCode {
    r.unwrap_err().code()
}

#[test]
fn vector_is_valid_at_valid_at() {
    let v = vector();
    let id = verify_thirdweb(&v.token, &[v.issuer], &policy(&v.aud), v.valid_at).unwrap();
    assert_eq!(id.format, Format::Thirdweb);
    assert_eq!(id.alg.name(), "EIP191");
    assert_eq!(id.issuer, Some(v.issuer.to_checksum()));
    assert_eq!(id.subject, v.subject);
    assert_eq!(id.audience, std::slice::from_ref(&v.aud));
    assert_eq!(id.expires_at, Some(86_400));
    // thirdweb writes nbf = iat - 600, negative at clock 0.
    assert_eq!(id.not_before, Some(-600));
    assert_eq!(
        id.id.as_deref(),
        Some("8bceec0d-37f7-48b4-a440-7be334b4dfd3")
    );
}

#[test]
fn vector_is_expired_at_expired_at() {
    let v = vector();
    assert_eq!(
        code(verify_thirdweb(
            &v.token,
            &[v.issuer],
            &policy(&v.aud),
            v.expired_at
        )),
        ErrorCode::Expired
    );
    // tessera follows the common rule: dead at exp itself (thirdweb accepts at exp).
    assert_eq!(
        code(verify_thirdweb(
            &v.token,
            &[v.issuer],
            &policy(&v.aud),
            86_400
        )),
        ErrorCode::Expired
    );
}

#[test]
fn issue_reproduces_thirdwebs_own_token_byte_for_byte() {
    let v = vector();
    let claims = ThirdwebClaims {
        nbf: Some(-600),
        jti: Some("8bceec0d-37f7-48b4-a440-7be334b4dfd3".into()),
        ..ThirdwebClaims::new(v.subject.clone(), v.aud.clone())
    };
    assert_eq!(issue_thirdweb(&admin(), &claims, 0).unwrap(), v.token);
}

#[test]
fn issue_then_verify() {
    let secret = EthereumSecretKey::generate();
    let user = EthereumSecretKey::generate().address();
    let claims = ThirdwebClaims::new(user.to_lower_hex(), "app.example");
    let token = issue_thirdweb(&secret, &claims, 1_000).unwrap();
    let id = verify_thirdweb(&token, &[secret.address()], &policy("app.example"), 1_001).unwrap();
    assert_eq!(id.subject, user.to_checksum());
    assert_eq!(id.expires_at, Some(87_400));
    assert_eq!(id.id.as_ref().map(String::len), Some(36));
}

#[test]
fn signature_segment_is_read_in_either_base64_alphabet() {
    let v = vector();
    let parts: Vec<&str> = v.token.split('.').collect();
    let sig_text = b64url_decode(parts[2].as_bytes()).unwrap();
    // `0x` + 130 hex digits is 132 bytes (no padding), and ASCII hex never
    // yields the 6-bit groups 62/63, so the older package's standard base64
    // is the same text; it is read through the either-alphabet decoder.
    assert_eq!(sig_text.len(), 132);
    assert_eq!(b64std_encode(&sig_text), parts[2]);
    assert!(verify_thirdweb(&v.token, &[v.issuer], &policy(&v.aud), v.valid_at).is_ok());
    // Padding where none belongs is malformed.
    let token = format!("{}=", v.token);
    assert_eq!(
        code(verify_thirdweb(
            &token,
            &[v.issuer],
            &policy(&v.aud),
            v.valid_at
        )),
        ErrorCode::Malformed
    );
}

/// A payload as the older package (@thirdweb-dev/auth 4) could carry: its
/// `ctx` holds text whose standard base64 has `+` or `/`, and whose length
/// needs padding.
fn legacy_payload(a: &EthereumSecretKey) -> String {
    for pad in 0.. {
        let json = format!(
            r#"{{"iss":"{}","sub":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","aud":"example.com","exp":86400,"nbf":0,"iat":0,"jti":"x","ctx":{{"name":"Zoë?","note":"a>b~{}"}}}}"#,
            a.address().to_checksum(),
            "x".repeat(pad)
        );
        let std = b64std_encode(json.as_bytes());
        if (std.contains('+') || std.contains('/')) && std.ends_with('=') {
            return json;
        }
    }
    unreachable!()
}

/// The older package wrote every segment in standard base64: its Node build
/// stripped the `=` (`Buffer#toString("base64").replace(/=/g, "")`), browsers'
/// `btoa` kept it. Both are read, in the payload and signature segments of
/// this format only; each strictly.
#[test]
fn older_package_standard_base64_segments_verify() {
    let a = admin();
    let json = legacy_payload(&a);
    let sig_text = format!("0x{}", hex_encode(&eip191::sign(&a, json.as_bytes())));
    let padded = b64std_encode(json.as_bytes());
    let stripped = padded.trim_end_matches('=').to_owned();
    let sig = b64std_encode(sig_text.as_bytes());
    for payload in [&stripped, &padded] {
        let token = format!("{HEADER}.{payload}.{sig}");
        let id = verify_thirdweb(&token, &[a.address()], &policy("example.com"), 100)
            .unwrap_or_else(|e| panic!("{token}: {e}"));
        let ctx = id.claims.get("ctx").and_then(|c| c.as_object()).unwrap();
        assert_eq!(ctx.get("name").and_then(|n| n.as_str()), Some("Zoë?"));
    }
    // Each alphabet strictly: mixed alphabets, wrong padding, unused bits.
    let mixed = format!("{}-{}", &stripped[..4], &stripped[5..]);
    assert!(mixed.contains(['+', '/']) && !stripped[4..5].contains(['+', '/']));
    let too_much = format!("{padded}=");
    // One `=` where two belong, or two where one does.
    let wrong_pad = match padded.len() - stripped.len() {
        2 => format!("{stripped}="),
        _ => format!("{stripped}=="),
    };
    let mut bits = stripped.clone().into_bytes();
    let last = bits.len() - 1;
    bits[last] = if bits[last] == b'B' { b'C' } else { b'B' };
    let bits = String::from_utf8(bits).unwrap();
    for bad in [&mixed, &too_much, &wrong_pad, &bits] {
        let token = format!("{HEADER}.{bad}.{sig}");
        assert_eq!(
            code(verify_thirdweb(
                &token,
                &[a.address()],
                &policy("example.com"),
                100
            )),
            ErrorCode::Malformed,
            "{bad}"
        );
    }
    // Standard JWTs stay base64url only: the same payload text is malformed there.
    let hs = tessera_core::SigningKey::hmac(tessera_core::Algorithm::HS256, &[1u8; 32]).unwrap();
    let input = format!("{}.{stripped}", b64url_encode(br#"{"alg":"HS256"}"#));
    let jwt = format!(
        "{input}.{}",
        b64url_encode(&hs.sign(input.as_bytes()).unwrap())
    );
    let keys = tessera_core::KeySet::single(
        tessera_core::VerifyingKey::hmac(tessera_core::Algorithm::HS256, &[1u8; 32]).unwrap(),
    );
    assert_eq!(
        tessera_core::jwt::verify(&jwt, &keys, &Policy::default(), 100)
            .unwrap_err()
            .code(),
        ErrorCode::Malformed
    );
}

#[test]
fn an_aud_without_an_expected_domain_is_audience_mismatch() {
    let v = vector();
    let none = Policy {
        leeway: 0,
        ..Policy::default()
    };
    let e = verify_thirdweb(&v.token, &[v.issuer], &none, v.valid_at).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AudienceMismatch);
    assert!(e.message().contains("--any-aud"), "{}", e.message());
    let any = Policy {
        accept_any_audience: true,
        ..none
    };
    assert!(verify_thirdweb(&v.token, &[v.issuer], &any, v.valid_at).is_ok());
}

#[test]
fn signer_not_the_issuer_is_bad_signature() {
    // The user signs a token that names the admin as issuer.
    let user = EthereumSecretKey::from_hex(USER_KEY).unwrap();
    let token = forge(&user, &payload(&admin().address()));
    assert_eq!(
        code(verify_thirdweb(
            &token,
            &[admin().address()],
            &policy("example.com"),
            100
        )),
        ErrorCode::BadSignature
    );
}

#[test]
fn issuer_not_a_trusted_admin_is_untrusted_signer() {
    let user = EthereumSecretKey::from_hex(USER_KEY).unwrap();
    let token = forge(&user, &payload(&user.address()));
    assert_eq!(
        code(verify_thirdweb(
            &token,
            &[admin().address()],
            &policy("example.com"),
            100
        )),
        ErrorCode::UntrustedSigner
    );
    // No trusted admin configured: fail closed.
    assert_eq!(
        code(verify_thirdweb(&token, &[], &policy("example.com"), 100)),
        ErrorCode::UntrustedSigner
    );
    assert!(verify_thirdweb(&token, &[user.address()], &policy("example.com"), 100).is_ok());
}

#[test]
fn issuer_address_case_does_not_matter() {
    let a = admin();
    let lower =
        payload(&a.address()).replace(&a.address().to_checksum(), &a.address().to_lower_hex());
    let token = forge(&a, &lower);
    let id = verify_thirdweb(&token, &[a.address()], &policy("example.com"), 100).unwrap();
    assert_eq!(id.issuer, Some(a.address().to_checksum()));
}

#[test]
fn bad_eip55_issuer_is_invalid_claim() {
    let a = admin();
    let text = a.address().to_checksum();
    // Flip the case of one letter: no longer a valid checksum.
    let flipped: String = text
        .char_indices()
        .map(|(i, c)| {
            if i == 2 {
                if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            } else {
                c
            }
        })
        .collect();
    assert_ne!(flipped, text);
    let token = forge(&a, &payload(&a.address()).replace(&text, &flipped));
    assert_eq!(
        code(verify_thirdweb(
            &token,
            &[a.address()],
            &policy("example.com"),
            100
        )),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn audience_must_be_the_expected_domain() {
    let v = vector();
    assert_eq!(
        code(verify_thirdweb(
            &v.token,
            &[v.issuer],
            &policy("evil.com"),
            v.valid_at
        )),
        ErrorCode::AudienceMismatch
    );
    let a = admin();
    let no_aud = payload(&a.address()).replace(r#""aud":"example.com","#, "");
    let token = forge(&a, &no_aud);
    assert_eq!(
        code(verify_thirdweb(
            &token,
            &[a.address()],
            &policy("example.com"),
            100
        )),
        ErrorCode::AudienceMismatch
    );
}

#[test]
fn header_must_be_the_fixed_string() {
    let v = vector();
    let (_, rest) = v.token.split_once('.').unwrap();
    for header in [
        b64url_encode(br#"{"alg":"ES256","typ":"JWT"} "#),
        b64url_encode(br#"{"typ":"JWT","alg":"ES256"}"#),
        b64url_encode(br#"{"alg":"ES256K"}"#),
        String::new(),
    ] {
        let token = format!("{header}.{rest}");
        assert_eq!(
            code(verify_thirdweb(
                &token,
                &[v.issuer],
                &policy(&v.aud),
                v.valid_at
            )),
            ErrorCode::Malformed,
            "{header}"
        );
    }
}

#[test]
fn signature_is_over_the_exact_payload_bytes() {
    let v = vector();
    let parts: Vec<&str> = v.token.split('.').collect();
    // Same JSON meaning, one extra space: the signature no longer matches.
    let payload = String::from_utf8(b64url_decode(parts[1].as_bytes()).unwrap()).unwrap();
    let spaced = payload.replacen(',', ", ", 1);
    let token = format!(
        "{}.{}.{}",
        parts[0],
        b64url_encode(spaced.as_bytes()),
        parts[2]
    );
    assert_eq!(
        code(verify_thirdweb(
            &token,
            &[v.issuer],
            &policy(&v.aud),
            v.valid_at
        )),
        ErrorCode::BadSignature
    );
}

#[test]
fn high_s_eip191_is_bad_signature() {
    let a = admin();
    let p = payload(&a.address());
    let sig = eip191::sign(&a, p.as_bytes());
    let high = high_s_twin(&sig);
    // The twin is the same signature with S negated: libsecp256k1 would
    // recover the same key from its normalised form...
    let mut normalized = secp256k1::ecdsa::Signature::from_compact(&high[..64]).unwrap();
    normalized.normalize_s();
    assert_eq!(normalized.serialize_compact(), sig[..64]);
    // ...but EIP-191 here requires low S.
    assert_eq!(
        eip191::recover(p.as_bytes(), &high).unwrap_err().code(),
        ErrorCode::BadSignature
    );
    let token = format!(
        "{HEADER}.{}.{}",
        b64url_encode(p.as_bytes()),
        b64url_encode(format!("0x{}", hex_encode(&high)).as_bytes())
    );
    assert_eq!(
        code(verify_thirdweb(
            &token,
            &[a.address()],
            &policy("example.com"),
            100
        )),
        ErrorCode::BadSignature
    );
}

#[test]
fn signature_segment_shape_is_strict() {
    let a = admin();
    let p = payload(&a.address());
    let sig = eip191::sign(&a, p.as_bytes());
    for text in [
        hex_encode(&sig),                            // no 0x
        format!("0x{}", &hex_encode(&sig)[..128]),   // 64 bytes
        format!("0x{}00", hex_encode(&sig)),         // 66 bytes
        format!("0x{}zz", &hex_encode(&sig)[..128]), // not hex
    ] {
        let token = format!(
            "{HEADER}.{}.{}",
            b64url_encode(p.as_bytes()),
            b64url_encode(text.as_bytes())
        );
        assert_eq!(
            code(verify_thirdweb(
                &token,
                &[a.address()],
                &policy("example.com"),
                100
            )),
            ErrorCode::Malformed,
            "{text}"
        );
    }
}

#[test]
fn time_claims_follow_the_common_rules() {
    let a = admin();
    for (from, to, expected) in [
        (
            r#""exp":86400"#,
            r#""exp":"86400""#,
            ErrorCode::InvalidClaim,
        ),
        (
            r#""exp":86400"#,
            r#""exp":86400.5"#,
            ErrorCode::InvalidClaim,
        ),
        (r#""exp":86400"#, r#""exp":-1"#, ErrorCode::InvalidClaim),
        (r#""exp":86400,"#, "", ErrorCode::MissingClaim),
        (r#""nbf":0"#, r#""nbf":1000"#, ErrorCode::NotYetValid),
        (r#""nbf":0"#, r#""nbf":"0""#, ErrorCode::InvalidClaim),
    ] {
        let p = payload(&a.address()).replace(from, to);
        let token = forge(&a, &p);
        assert_eq!(
            code(verify_thirdweb(
                &token,
                &[a.address()],
                &policy("example.com"),
                100
            )),
            expected,
            "{to}"
        );
    }
}

#[test]
fn eip191_hash_and_v_values() {
    // ethers' documented hashMessage("Hello World").
    assert_eq!(
        hex_encode(&eip191::personal_sign_hash(b"Hello World")),
        "a1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2"
    );
    let a = admin();
    let sig = eip191::sign(&a, b"Hello World");
    assert_eq!(eip191::recover(b"Hello World", &sig).unwrap(), a.address());
    let mut v01 = sig;
    v01[64] -= 27;
    assert_eq!(eip191::recover(b"Hello World", &v01).unwrap(), a.address());
    for v in [2u8, 3, 26, 29, 35, 255] {
        let mut bad = sig;
        bad[64] = v;
        assert_eq!(
            eip191::recover(b"Hello World", &bad).unwrap_err().code(),
            ErrorCode::BadSignature,
            "v={v}"
        );
    }
    assert_eq!(
        eip191::recover(b"Hello World", &sig[..64])
            .unwrap_err()
            .code(),
        ErrorCode::BadSignature
    );
}
