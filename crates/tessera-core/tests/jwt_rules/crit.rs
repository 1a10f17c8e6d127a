//! §1: `crit` and `b64`.

use super::*;

#[test]
fn crit_is_refused() {
    assert_eq!(
        hs_code(&token(
            r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
            OK_PAYLOAD
        )),
        ErrorCode::CritUnsupported
    );
    assert_eq!(
        hs_code(&token(r#"{"alg":"HS256","crit":[]}"#, OK_PAYLOAD)),
        ErrorCode::Malformed
    );
    assert_eq!(
        hs_code(&token(r#"{"alg":"HS256","crit":"b64"}"#, OK_PAYLOAD)),
        ErrorCode::Malformed
    );
}

#[test]
fn unencoded_payload_is_refused() {
    assert_eq!(
        hs_code(&token(
            r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#,
            OK_PAYLOAD
        )),
        ErrorCode::CritUnsupported
    );
    assert_eq!(
        hs_code(&token(r#"{"alg":"HS256","b64":false}"#, OK_PAYLOAD)),
        ErrorCode::CritUnsupported
    );
}

#[test]
fn crit_naming_registered_or_unknown_headers_is_refused() {
    for crit in [
        r#"["kid"]"#,
        r#"["alg"]"#,
        r#"["x-custom"]"#,
        r#"["b64","exp"]"#,
    ] {
        let t = token(
            &format!(r#"{{"alg":"HS256","kid":"a","x-custom":1,"crit":{crit}}}"#),
            r#"{"exp":1800000600}"#,
        );
        assert_eq!(hs_code(&t), ErrorCode::CritUnsupported, "{crit}");
    }
    for crit in ["null", "[1]", r#"{"b64":true}"#] {
        let t = token(
            &format!(r#"{{"alg":"HS256","crit":{crit}}}"#),
            r#"{"exp":1800000600}"#,
        );
        assert_eq!(hs_code(&t), ErrorCode::Malformed, "{crit}");
    }
}

#[test]
fn b64_must_be_a_boolean_and_true_is_the_default() {
    let t = token(r#"{"alg":"HS256","b64":"false"}"#, r#"{"exp":1800000600}"#);
    assert_eq!(hs_code(&t), ErrorCode::Malformed);
    let t = token(r#"{"alg":"HS256","b64":true}"#, r#"{"exp":1800000600}"#);
    assert!(accepted(&t, &Policy::default()));
}
