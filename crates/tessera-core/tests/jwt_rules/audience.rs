//! Common rules: the audience (exact, case-sensitive, typed).

use super::*;

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

fn aud_policy_two() -> Policy {
    Policy {
        audiences: vec!["https://api.example".into(), "svc-b".into()],
        ..Policy::default()
    }
}

#[test]
fn empty_audience_array_fails_a_configured_audience() {
    let t = token(H, r#"{"aud":[],"exp":1800000600}"#);
    assert_eq!(
        code(&t, &hs256_set(), &aud_policy_two()),
        ErrorCode::AudienceMismatch
    );
}

#[test]
fn audience_match_is_exact_not_prefix_or_trimmed() {
    for aud in [
        r#""https://api.example/""#,
        r#""https://api.example.evil""#,
        r#"" svc-b""#,
        r#""svc-b ""#,
        r#""SVC-B""#,
        r#"["https://api","svc"]"#,
    ] {
        let t = token(H, &format!(r#"{{"aud":{aud},"exp":1800000600}}"#));
        assert_eq!(
            code(&t, &hs256_set(), &aud_policy_two()),
            ErrorCode::AudienceMismatch,
            "aud {aud}"
        );
    }
    // Any one configured audience suffices.
    assert!(accepted(
        &token(H, r#"{"aud":"svc-b","exp":1800000600}"#),
        &aud_policy_two()
    ));
}

#[test]
fn aud_of_wrong_type_is_invalid_claim_even_without_configured_audience() {
    for aud in ["null", "true", r#"{"a":"b"}"#, r#"[["a"]]"#, r#"[null]"#] {
        let t = token(H, &format!(r#"{{"aud":{aud},"exp":1800000600}}"#));
        assert_eq!(hs_code(&t), ErrorCode::InvalidClaim, "aud {aud}");
    }
}
