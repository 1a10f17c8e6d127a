//! formats.md "Common rules", audience: a JWT that names an audience is
//! refused (`audience_mismatch`) by a verifier that expects none, unless it
//! opts out with `Policy::accept_any_audience` (RFC 7519 §4.1.3). The NWT
//! and thirdweb cases are in nostr_nwt.rs and wallet_thirdweb.rs; Portal's
//! `target_key` keeps its own rule (wallet_portal.rs).

use std::sync::Arc;
use tessera_core::internal::encoding::b64url_encode;
use tessera_core::internal::nostr::{issue_portal, verify_portal, NostrSecretKey};
use tessera_core::{jwt, Algorithm, ErrorCode, FixedClock, Policy, Verifier};
use tessera_core::{KeySet, SigningKey, VerifyingKey};

const NOW: i64 = 1_800_000_000;
const SECRET: &[u8] = &[3u8; 32];

fn token(payload: &str) -> String {
    let key = SigningKey::hmac(Algorithm::HS256, SECRET).unwrap();
    let input = format!(
        "{}.{}",
        b64url_encode(br#"{"alg":"HS256"}"#),
        b64url_encode(payload.as_bytes())
    );
    format!(
        "{input}.{}",
        b64url_encode(&key.sign(input.as_bytes()).unwrap())
    )
}

fn keys() -> KeySet {
    KeySet::single(VerifyingKey::hmac(Algorithm::HS256, SECRET).unwrap())
}

fn any() -> Policy {
    Policy {
        accept_any_audience: true,
        ..Policy::default()
    }
}

#[test]
fn a_named_audience_is_refused_when_none_is_expected() {
    for payload in [
        r#"{"sub":"a","exp":1800000600,"aud":"https://api.example"}"#,
        r#"{"sub":"a","exp":1800000600,"aud":["https://api.example","https://other.example"]}"#,
    ] {
        let t = token(payload);
        let e = jwt::verify(&t, &keys(), &Policy::default(), NOW).unwrap_err();
        assert_eq!(e.code(), ErrorCode::AudienceMismatch, "{payload}");
        // The message says how to opt out, and never echoes the token's aud.
        for hint in ["--aud", "--any-aud", "Policy::accept_any_audience"] {
            assert!(e.message().contains(hint), "{}", e.message());
        }
        assert!(!e.message().contains("api.example"));
        // Printable ASCII: it becomes a WWW-Authenticate error_description.
        assert!(e.message().is_ascii(), "{}", e.message());
        // Opting out, or expecting one of its audiences, accepts it.
        let id = jwt::verify(&t, &keys(), &any(), NOW).unwrap();
        assert_eq!(id.audience[0], "https://api.example");
        let expected = Policy {
            audiences: vec!["https://api.example".into()],
            ..Policy::default()
        };
        assert!(jwt::verify(&t, &keys(), &expected, NOW).is_ok());
    }
}

#[test]
fn a_token_without_audience_needs_no_opt_out() {
    for payload in [
        r#"{"sub":"a","exp":1800000600}"#,
        r#"{"sub":"a","exp":1800000600,"aud":[]}"#,
    ] {
        assert!(jwt::verify(&token(payload), &keys(), &Policy::default(), NOW).is_ok());
    }
}

#[test]
fn the_opt_out_never_loosens_an_expected_audience() {
    let t = token(r#"{"sub":"a","exp":1800000600,"aud":"https://other.example"}"#);
    let p = Policy {
        audiences: vec!["https://api.example".into()],
        accept_any_audience: true,
        ..Policy::default()
    };
    assert_eq!(
        jwt::verify(&t, &keys(), &p, NOW).unwrap_err().code(),
        ErrorCode::AudienceMismatch
    );
}

#[test]
fn the_verifier_and_its_cache_apply_the_same_rule() {
    let t = token(r#"{"sub":"a","exp":1800000600,"aud":"https://api.example"}"#);
    let clock = Arc::new(FixedClock(NOW));
    let strict = Verifier::new(Policy::default(), keys())
        .with_clock(clock.clone())
        .with_cache(Default::default());
    for _ in 0..2 {
        assert_eq!(
            strict.verify_jwt(&t).unwrap_err().code(),
            ErrorCode::AudienceMismatch
        );
    }
    let lax = Verifier::new(any(), keys())
        .with_clock(clock)
        .with_cache(Default::default());
    for _ in 0..2 {
        assert!(lax.verify_jwt(&t).is_ok());
    }
}

#[test]
fn portal_target_key_is_only_checked_against_an_expected_audience() {
    // formats.md §2: every Portal JWT names a `target_key`; with no
    // expected audience it is accepted without an opt-out.
    let signer = NostrSecretKey::generate();
    let target = NostrSecretKey::generate().public_key();
    let t = issue_portal(&signer, &target, NOW, 600).unwrap();
    let id = verify_portal(&t, &signer.public_key(), &Policy::default(), NOW).unwrap();
    assert_eq!(id.audience, [target.to_hex()]);
    let other = Policy {
        audiences: vec![NostrSecretKey::generate().public_key().to_hex()],
        ..Policy::default()
    };
    assert_eq!(
        verify_portal(&t, &signer.public_key(), &other, NOW)
            .unwrap_err()
            .code(),
        ErrorCode::AudienceMismatch
    );
}
