//! Common rules: strict JSON (duplicate members, bounded nesting, objects,
//! UTF-8).

use super::*;

#[test]
fn duplicate_header_member_is_malformed() {
    assert_eq!(
        hs_code(&token(r#"{"alg":"HS256","alg":"none"}"#, OK_PAYLOAD)),
        ErrorCode::Malformed
    );
}

#[test]
fn duplicate_payload_member_is_malformed() {
    assert_eq!(
        hs_code(&token(
            H,
            r#"{"exp":1800000600,"sub":"alice","sub":"admin"}"#
        )),
        ErrorCode::Malformed
    );
}

#[test]
fn nesting_is_bounded() {
    let deep = format!(
        r#"{{"exp":1800000600,"x":{}1{}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    assert_eq!(hs_code(&token(H, &deep)), ErrorCode::Malformed);
}

#[test]
fn duplicate_member_spelled_with_an_escape_is_malformed() {
    // "s\u0075b" is "sub": one name, two values.
    assert_eq!(
        hs_code(&token(
            H,
            r#"{"exp":1800000600,"sub":"alice","s\u0075b":"admin"}"#
        )),
        ErrorCode::Malformed
    );
    assert_eq!(
        hs_code(&token(
            r#"{"alg":"HS256","\u0061lg":"none"}"#,
            r#"{"exp":1800000600}"#
        )),
        ErrorCode::Malformed
    );
}

#[test]
fn duplicate_member_in_a_nested_object_is_malformed() {
    assert_eq!(
        hs_code(&token(
            H,
            r#"{"exp":1800000600,"ctx":{"role":"user","role":"admin"}}"#
        )),
        ErrorCode::Malformed
    );
}

#[test]
fn header_nesting_is_bounded() {
    let deep_header = format!(
        r#"{{"alg":"HS256","x":{}1{}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    assert_eq!(
        hs_code(&token(&deep_header, r#"{"exp":1800000600}"#)),
        ErrorCode::Malformed
    );
}

#[test]
fn header_and_payload_must_be_json_objects() {
    for (header, payload) in [
        (r#"["HS256"]"#, r#"{"exp":1800000600}"#),
        (r#""HS256""#, r#"{"exp":1800000600}"#),
        (H, r#"[{"exp":1800000600}]"#),
        (H, r#""exp""#),
        (H, r#"{"exp":1800000600} trailing"#),
        (H, r#"{"exp":1800000600,}"#),
        (H, "{\"exp\":1800000600,\"s\":\"\u{1}\"}"),
    ] {
        assert_eq!(
            hs_code(&token(header, payload)),
            ErrorCode::Malformed,
            "{header} {payload:?}"
        );
    }
}

#[test]
fn invalid_utf8_payload_is_malformed() {
    let input = format!(
        "{}.{}",
        b64url_encode(H.as_bytes()),
        b64url_encode(b"{\"exp\":1800000600,\"s\":\"\xff\"}")
    );
    let sig = hs256().sign(input.as_bytes()).unwrap();
    let t = format!("{input}.{}", b64url_encode(&sig));
    assert_eq!(hs_code(&t), ErrorCode::Malformed);
}
