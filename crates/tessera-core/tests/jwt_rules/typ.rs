//! §1: `typ`.

use super::*;

#[test]
fn required_typ() {
    let p = Policy {
        required_typ: Some("at+jwt".into()),
        ..Policy::default()
    };
    assert_eq!(
        code(&token(H, OK_PAYLOAD), &hs256_set(), &p),
        ErrorCode::InvalidClaim
    );
    assert_eq!(
        code(
            &token(r#"{"alg":"HS256","typ":"JWT"}"#, OK_PAYLOAD),
            &hs256_set(),
            &p
        ),
        ErrorCode::InvalidClaim
    );
    for ok in ["at+jwt", "AT+JWT", "application/at+jwt"] {
        let t = token(&format!(r#"{{"alg":"HS256","typ":"{ok}"}}"#), OK_PAYLOAD);
        assert!(jwt::verify(&t, &hs256_set(), &p, NOW).is_ok(), "{ok}");
    }
}

#[test]
fn typ_must_be_a_string_and_match_exactly_when_required() {
    let p = Policy {
        required_typ: Some("at+jwt".into()),
        ..Policy::default()
    };
    for typ in [
        r#""at+jwt ""#,
        r#""at+jwt2""#,
        r#""application/jwt""#,
        r#""application/at+jwt+x""#,
        r#""""#,
    ] {
        let t = token(
            &format!(r#"{{"alg":"HS256","typ":{typ}}}"#),
            r#"{"exp":1800000600}"#,
        );
        assert_eq!(code(&t, &hs256_set(), &p), ErrorCode::InvalidClaim, "{typ}");
    }
    let t = token(r#"{"alg":"HS256","typ":7}"#, r#"{"exp":1800000600}"#);
    assert_eq!(hs_code(&t), ErrorCode::Malformed);
}
