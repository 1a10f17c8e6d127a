//! Common rules: the size limit, checked before parsing.

use super::*;

#[test]
fn oversized_token_refused_before_parsing() {
    let garbage = "!".repeat(8 * 1024 + 1);
    assert_eq!(hs_code(&garbage), ErrorCode::TokenTooLarge);
    let big_claim = format!(r#"{{"exp":1800000600,"pad":"{}"}}"#, "x".repeat(7000));
    assert_eq!(hs_code(&token(H, &big_claim)), ErrorCode::TokenTooLarge);
}

#[test]
fn size_limit_is_configurable_and_exact() {
    let t = token(H, r#"{"exp":1800000600}"#);
    let at_limit = Policy {
        max_token_size: t.len(),
        ..Policy::default()
    };
    assert!(accepted(&t, &at_limit));
    let below = Policy {
        max_token_size: t.len() - 1,
        ..Policy::default()
    };
    assert_eq!(code(&t, &hs256_set(), &below), ErrorCode::TokenTooLarge);
}

#[test]
fn oversized_input_is_refused_before_parsing_whatever_it_holds() {
    // 8 KiB + 1 of dots, of valid base64url, of a valid-looking header:
    // all `token_too_large`, never `malformed`.
    for filler in [".", "A", "eyJhbGciOiJIUzI1NiJ9."] {
        let big: String = filler.repeat(8 * 1024 / filler.len() + 1);
        assert!(big.len() > 8 * 1024);
        assert_eq!(hs_code(&big), ErrorCode::TokenTooLarge, "{filler}");
    }
    // Exactly 8 KiB is parsed (and here refused for what it is).
    let exact = "A".repeat(8 * 1024);
    assert_eq!(hs_code(&exact), ErrorCode::Malformed);
}
