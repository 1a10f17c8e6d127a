//! Common rules and §1: issuer, required claims, registered claims typed.

use super::*;

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
