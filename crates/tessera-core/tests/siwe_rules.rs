//! Sign-In with Ethereum: one test per verification and grammar rule of
//! formats.md §6.

use tessera_core::internal::encoding::hex_encode;
use tessera_core::internal::ethereum::siwe::{sign, verify, verify_siwe_message};
use tessera_core::internal::ethereum::{
    EthereumSecretKey, Rfc3339Time, SiweExpectations, SiweMessage,
};
use tessera_core::{ErrorCode, Format};

const DOMAIN: &str = "app.example.com";
const NONCE: &str = "k3Yp9QmA2x";
const ISSUED: i64 = 1_700_000_000;
const EXPIRES: i64 = 1_700_000_300;
const NOT_BEFORE: i64 = 1_700_000_010;

fn key() -> EthereumSecretKey {
    EthereumSecretKey::from_hex(
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    )
    .unwrap()
}

fn message() -> SiweMessage {
    SiweMessage::builder(
        DOMAIN,
        key().address(),
        "https://app.example.com/login",
        1,
        NONCE,
        Rfc3339Time::from_unix(ISSUED).unwrap(),
    )
    .scheme("https")
    .statement("Sign in to Example & agree to the terms.")
    .expiration_time(Rfc3339Time::from_unix(EXPIRES).unwrap())
    .not_before(Rfc3339Time::from_unix(NOT_BEFORE).unwrap())
    .request_id("req-42")
    .resource("https://app.example.com/terms")
    .resource("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")
    .build()
    .unwrap()
}

fn at(now: i64) -> SiweExpectations<'static> {
    SiweExpectations::new(DOMAIN, NONCE, now)
}

fn code(r: tessera_core::Result<tessera_core::Identity>) -> ErrorCode {
    r.unwrap_err().code()
}

#[test]
fn signed_message_verifies() {
    let msg = message();
    let sig = sign(&msg, &key());
    let id = verify(&msg, &sig, &at(ISSUED + 20)).unwrap();
    assert_eq!(id.format, Format::Siwe);
    assert_eq!(id.alg.name(), "EIP191");
    assert_eq!(id.subject, key().address().to_checksum());
    assert_eq!(id.expires_at, Some(EXPIRES));
    assert_eq!(id.not_before, Some(NOT_BEFORE));
    assert_eq!(id.issued_at, Some(ISSUED));
    assert_eq!(id.id.as_deref(), Some(NONCE));
    assert_eq!(
        id.claims.get("chainId"),
        Some(&tessera_core::Value::from(1i64))
    );
    // The text form, parsed back, verifies with the wallet's hex signature.
    let text = msg.to_string();
    let hex = format!("0x{}", hex_encode(&sig));
    assert_eq!(
        verify_siwe_message(&text, &hex, &at(ISSUED + 20)).unwrap(),
        id
    );
    assert_eq!(SiweMessage::parse(&text).unwrap(), msg);
}

#[test]
fn exact_text_of_a_built_message() {
    let text = message().to_string();
    let addr = key().address().to_checksum();
    assert_eq!(
        text,
        format!(
            "https://app.example.com wants you to sign in with your Ethereum account:\n\
             {addr}\n\
             \n\
             Sign in to Example & agree to the terms.\n\
             \n\
             URI: https://app.example.com/login\n\
             Version: 1\n\
             Chain ID: 1\n\
             Nonce: k3Yp9QmA2x\n\
             Issued At: 2023-11-14T22:13:20Z\n\
             Expiration Time: 2023-11-14T22:18:20Z\n\
             Not Before: 2023-11-14T22:13:30Z\n\
             Request ID: req-42\n\
             Resources:\n\
             - https://app.example.com/terms\n\
             - ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
        )
    );
}

#[test]
fn wrong_domain_is_domain_mismatch() {
    let msg = message();
    let sig = sign(&msg, &key());
    for other in [
        "evil.example.com",
        "APP.example.com",
        "app.example.com:443",
        "",
    ] {
        assert_eq!(
            code(verify(
                &msg,
                &sig,
                &SiweExpectations::new(other, NONCE, ISSUED + 20)
            )),
            ErrorCode::DomainMismatch,
            "{other}"
        );
    }
}

#[test]
fn wrong_nonce_is_nonce_mismatch() {
    let msg = message();
    let sig = sign(&msg, &key());
    for other in ["k3Yp9QmA2X", "k3Yp9QmA2x0", "00000000"] {
        assert_eq!(
            code(verify(
                &msg,
                &sig,
                &SiweExpectations::new(DOMAIN, other, ISSUED + 20)
            )),
            ErrorCode::NonceMismatch,
            "{other}"
        );
    }
}

#[test]
fn expiration_time_is_exclusive() {
    let msg = message();
    let sig = sign(&msg, &key());
    assert!(verify(&msg, &sig, &at(EXPIRES - 1)).is_ok());
    assert_eq!(code(verify(&msg, &sig, &at(EXPIRES))), ErrorCode::Expired);
    assert_eq!(
        code(verify(&msg, &sig, &at(EXPIRES + 1000))),
        ErrorCode::Expired
    );
}

#[test]
fn not_before_is_inclusive() {
    let msg = message();
    let sig = sign(&msg, &key());
    assert!(verify(&msg, &sig, &at(NOT_BEFORE)).is_ok());
    assert_eq!(
        code(verify(&msg, &sig, &at(NOT_BEFORE - 1))),
        ErrorCode::NotYetValid
    );
}

#[test]
fn fractional_times_compare_exactly() {
    let msg = SiweMessage::builder(
        DOMAIN,
        key().address(),
        "https://app.example.com",
        1,
        NONCE,
        Rfc3339Time::parse("2023-11-14T22:13:20.000Z").unwrap(),
    )
    .expiration_time(Rfc3339Time::parse("2023-11-14T22:18:20.500Z").unwrap())
    .not_before(Rfc3339Time::parse("2023-11-14T22:13:29.500Z").unwrap())
    .build()
    .unwrap();
    let sig = sign(&msg, &key());
    // Not Before 22:13:29.5: at :29 too early, at :30 valid.
    assert_eq!(
        code(verify(&msg, &sig, &at(NOT_BEFORE - 1))),
        ErrorCode::NotYetValid
    );
    assert!(verify(&msg, &sig, &at(NOT_BEFORE)).is_ok());
    // Expiration 22:18:20.5: at :20 still valid, at :21 expired.
    assert!(verify(&msg, &sig, &at(EXPIRES)).is_ok());
    assert_eq!(
        code(verify(&msg, &sig, &at(EXPIRES + 1))),
        ErrorCode::Expired
    );
}

#[test]
fn leeway_is_opt_in() {
    let msg = message();
    let sig = sign(&msg, &key());
    let lenient = SiweExpectations {
        leeway: 60,
        ..at(EXPIRES + 59)
    };
    assert!(verify(&msg, &sig, &lenient).is_ok());
    let lenient = SiweExpectations {
        leeway: 60,
        ..at(EXPIRES + 60)
    };
    assert_eq!(code(verify(&msg, &sig, &lenient)), ErrorCode::Expired);
}

#[test]
fn forged_signature_is_bad_signature() {
    let msg = message();
    // Another key signs a message naming our address.
    let forger = EthereumSecretKey::generate();
    let sig = sign(&msg, &forger);
    assert_eq!(
        code(verify(&msg, &sig, &at(ISSUED + 20))),
        ErrorCode::BadSignature
    );
    // Our key's signature over a different message.
    let other = SiweMessage::parse(&message().to_string().replace("req-42", "req-43")).unwrap();
    let sig = sign(&other, &key());
    assert_eq!(
        code(verify(&msg, &sig, &at(ISSUED + 20))),
        ErrorCode::BadSignature
    );
    // Garbage of the right length.
    assert_eq!(
        code(verify(&msg, &[7u8; 65], &at(ISSUED + 20))),
        ErrorCode::BadSignature
    );
}

#[test]
fn high_s_signature_is_bad_signature() {
    let msg = message();
    let sig = sign(&msg, &key());
    // (r, n - s, v ^ 1): the same key recovers from the high-S twin.
    let high = tessera_testkit::fixtures::high_s_twin(&sig);
    assert_eq!(
        code(verify(&msg, &high, &at(ISSUED + 20))),
        ErrorCode::BadSignature
    );
}

#[test]
fn newline_in_statement_is_malformed() {
    for statement in [
        "line one\nURI: https://evil.example",
        "carriage\rreturn",
        "tab\there",
        "line\u{2028}separator",
        "nel\u{85}x",
        "",
    ] {
        let built = SiweMessage::builder(
            DOMAIN,
            key().address(),
            "https://app.example.com",
            1,
            NONCE,
            Rfc3339Time::from_unix(ISSUED).unwrap(),
        )
        .statement(statement)
        .build();
        assert_eq!(
            built.unwrap_err().code(),
            ErrorCode::Malformed,
            "{statement:?}"
        );
    }
    // And in text: a statement broken over two lines.
    let text = message()
        .to_string()
        .replace("Sign in to Example & agree", "Sign in to Example\n& agree");
    assert_eq!(
        SiweMessage::parse(&text).unwrap_err().code(),
        ErrorCode::Malformed
    );
}

#[test]
fn unicode_statement_is_allowed() {
    let msg = SiweMessage::builder(
        DOMAIN,
        key().address(),
        "https://app.example.com",
        1,
        NONCE,
        Rfc3339Time::from_unix(ISSUED).unwrap(),
    )
    .statement("Connexion à l'application — ✓")
    .build()
    .unwrap();
    assert_eq!(SiweMessage::parse(&msg.to_string()).unwrap(), msg);
}

#[test]
fn grammar_violations_are_malformed() {
    let good = message().to_string();
    let addr = key().address().to_checksum();
    for (from, to) in [
        // lowercase address: EIP-4361 requires the EIP-55 form
        (addr.as_str(), addr.to_lowercase()),
        ("Version: 1", "Version: 2".to_owned()),
        ("Nonce: k3Yp9QmA2x", "Nonce: short1".to_owned()),
        ("Nonce: k3Yp9QmA2x", "Nonce: k3Yp9QmA-x".to_owned()),
        ("Chain ID: 1", "Chain ID: 01".to_owned()),
        ("Chain ID: 1", "Chain ID: -1".to_owned()),
        ("Chain ID: 1", "Chain ID: 99999999999999999999".to_owned()),
        (
            "Issued At: 2023-11-14T22:13:20Z",
            "Issued At: 2023-11-14 22:13:20Z".to_owned(),
        ),
        ("Request ID: req-42", "Request ID: req 42".to_owned()),
        (
            "\n- https://app.example.com/terms",
            "\n-https://app.example.com/terms".to_owned(),
        ),
        (
            "https://app.example.com wants",
            "https://app example.com wants".to_owned(),
        ),
        (
            "https://app.example.com wants",
            "ht tp://app.example.com wants".to_owned(),
        ),
        ("\nURI:", "\n\nURI:".to_owned()),
        ("\n", "\r\n".to_owned()),
    ] {
        let text = good.replacen(from, &to, 1);
        assert_ne!(text, good, "{from}");
        assert_eq!(
            SiweMessage::parse(&text).unwrap_err().code(),
            ErrorCode::Malformed,
            "{to:?}"
        );
    }
    for bad in [
        format!("{good}\n"),
        good.replace("\nResources:\n- https://app.example.com/terms\n- ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", "\nResources:"),
        good.replace("\nRequest ID: req-42", "\nRequest ID: req-42\nRequest ID: req-43"),
        good.replace("\nExpiration Time", "\nExpiration  Time"),
        String::new(),
    ] {
        assert_eq!(
            SiweMessage::parse(&bad).unwrap_err().code(),
            ErrorCode::Malformed,
            "{bad:?}"
        );
    }
}

#[test]
fn oversized_message_is_token_too_large() {
    let text = format!("{}{}", message(), "x".repeat(20_000));
    assert_eq!(
        SiweMessage::parse(&text).unwrap_err().code(),
        ErrorCode::TokenTooLarge
    );
}

#[test]
fn hex_signature_text_is_strict() {
    let msg = message();
    let sig = sign(&msg, &key());
    let text = msg.to_string();
    for bad in [
        hex_encode(&sig),
        format!("0x{}", &hex_encode(&sig)[1..]),
        format!("0x{}ab", hex_encode(&sig)),
        format!("0X{}", hex_encode(&sig)),
    ] {
        assert_eq!(
            code(verify_siwe_message(&text, &bad, &at(ISSUED + 20))),
            ErrorCode::Malformed,
            "{bad}"
        );
    }
    // Either case of hex digits.
    let upper = format!("0x{}", hex_encode(&sig).to_uppercase());
    assert!(verify_siwe_message(&text, &upper, &at(ISSUED + 20)).is_ok());
}

// ---- What a server knows about itself (issue 17, item 11) ----

#[test]
fn scheme_must_be_the_servers_when_the_message_names_one() {
    let msg = message(); // "https://app.example.com wants you to sign in..."
    let sig = sign(&msg, &key());
    let http = SiweExpectations {
        scheme: Some("http"),
        ..at(ISSUED + 20)
    };
    assert_eq!(code(verify(&msg, &sig, &http)), ErrorCode::DomainMismatch);
    let https = SiweExpectations {
        scheme: Some("https"),
        ..at(ISSUED + 20)
    };
    assert!(verify(&msg, &sig, &https).is_ok());
    // A message without a scheme says nothing to compare.
    let bare = SiweMessage::builder(
        DOMAIN,
        key().address(),
        "https://app.example.com/login",
        1,
        NONCE,
        Rfc3339Time::from_unix(ISSUED).unwrap(),
    )
    .build()
    .unwrap();
    assert!(verify(&bare, &sign(&bare, &key()), &http).is_ok());
}

#[test]
fn uri_must_be_the_servers_or_under_it() {
    let msg = message(); // URI: https://app.example.com/login
    let sig = sign(&msg, &key());
    for base in [
        "https://app.example.com",
        "https://app.example.com/",
        "https://app.example.com/login",
    ] {
        let e = SiweExpectations {
            uri: Some(base),
            ..at(ISSUED + 20)
        };
        assert!(verify(&msg, &sig, &e).is_ok(), "{base}");
    }
    for base in [
        "https://evil",
        "https://app.example",         // a longer host is not under it
        "http://app.example.com",      // nor another scheme
        "https://app.example.com/log", // nor a longer path segment
        "https://app.example.com/login/x",
    ] {
        let e = SiweExpectations {
            uri: Some(base),
            ..at(ISSUED + 20)
        };
        assert_eq!(
            code(verify(&msg, &sig, &e)),
            ErrorCode::UrlMismatch,
            "{base}"
        );
    }
}

#[test]
fn chain_id_must_be_one_the_server_accepts() {
    let msg = message(); // Chain ID: 1
    let sig = sign(&msg, &key());
    let other = SiweExpectations {
        chain_ids: &[999, 10],
        ..at(ISSUED + 20)
    };
    assert_eq!(code(verify(&msg, &sig, &other)), ErrorCode::InvalidClaim);
    let ok = SiweExpectations {
        chain_ids: &[10, 1],
        ..at(ISSUED + 20)
    };
    assert!(verify(&msg, &sig, &ok).is_ok());
}

#[test]
fn issued_at_must_fall_within_the_nonce_life() {
    let msg = message(); // Issued At: ISSUED
    let sig = sign(&msg, &key());
    let window = |now: i64| SiweExpectations {
        issued_at_max_age: Some(300),
        issued_at_max_future: Some(60),
        ..at(now)
    };
    assert!(verify(&msg, &sig, &window(ISSUED + 299)).is_ok());
    // Older than the nonce could be (no Expiration Time check involved:
    // the window is what refuses it).
    let old = SiweExpectations {
        issued_at_max_age: Some(5),
        ..at(ISSUED + 20)
    };
    assert_eq!(code(verify(&msg, &sig, &old)), ErrorCode::Stale);
    // Dated more than the skew ahead of the server's clock.
    assert_eq!(
        code(verify(&msg, &sig, &window(ISSUED - 61))),
        ErrorCode::Stale
    );
    assert_ne!(
        verify(&msg, &sig, &window(ISSUED - 60)).map_err(|e| e.code()),
        Err(ErrorCode::Stale)
    );
}
