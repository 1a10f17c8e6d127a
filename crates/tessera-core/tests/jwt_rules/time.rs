//! Common rules: `exp`, `nbf`, `iat` (typed, never "absent" when malformed),
//! leeway, the lifetime cap.

use super::*;

#[test]
fn dead_at_exp_with_zero_leeway() {
    let p = Policy {
        leeway: 0,
        ..Policy::default()
    };
    let t = token(H, r#"{"exp":1800000000}"#);
    assert_eq!(code(&t, &hs256_set(), &p), ErrorCode::Expired);
    let t = token(H, r#"{"exp":1800000001}"#);
    assert!(jwt::verify(&t, &hs256_set(), &p, NOW).is_ok());
}

#[test]
fn expired_beyond_default_leeway() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1799999940}"#)),
        ErrorCode::Expired
    );
    // Within the 60 s leeway it still passes.
    assert!(jwt::verify(
        &token(H, r#"{"exp":1799999941}"#),
        &hs256_set(),
        &Policy::default(),
        NOW
    )
    .is_ok());
}

#[test]
fn not_yet_valid_before_nbf_minus_leeway() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1800000600,"nbf":1800000061}"#)),
        ErrorCode::NotYetValid
    );
    assert!(jwt::verify(
        &token(H, r#"{"exp":1800000600,"nbf":1800000060}"#),
        &hs256_set(),
        &Policy::default(),
        NOW
    )
    .is_ok());
}

#[test]
fn string_exp_is_invalid_claim_not_absent() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":"1800000600"}"#)),
        ErrorCode::InvalidClaim
    );
    // Even when exp is not required, a string exp is never "absent".
    let p = Policy {
        require_exp: false,
        ..Policy::default()
    };
    assert_eq!(
        code(&token(H, r#"{"exp":"1"}"#), &hs256_set(), &p),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn fractional_exp_is_invalid_claim() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1800000600.5}"#)),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn negative_exp_is_invalid_claim() {
    assert_eq!(hs_code(&token(H, r#"{"exp":-1}"#)), ErrorCode::InvalidClaim);
}

#[test]
fn exp_past_year_9999_is_invalid_claim() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":253402300800}"#)),
        ErrorCode::InvalidClaim
    );
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1e300}"#)),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn typed_nbf_and_iat() {
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1800000600,"nbf":"0"}"#)),
        ErrorCode::InvalidClaim
    );
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1800000600,"iat":true}"#)),
        ErrorCode::InvalidClaim
    );
    assert_eq!(
        hs_code(&token(H, r#"{"exp":1800000600,"iat":null}"#)),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn missing_exp_is_refused_by_default() {
    assert_eq!(
        hs_code(&token(H, r#"{"sub":"alice"}"#)),
        ErrorCode::MissingClaim
    );
    let p = Policy {
        require_exp: false,
        ..Policy::default()
    };
    assert!(jwt::verify(&token(H, r#"{"sub":"alice"}"#), &hs256_set(), &p, NOW).is_ok());
}

#[test]
fn lifetime_cap() {
    let p = Policy {
        max_lifetime: Some(900),
        ..Policy::default()
    };
    let t = token(H, r#"{"iat":1800000000,"exp":1800000901}"#);
    assert_eq!(code(&t, &hs256_set(), &p), ErrorCode::InvalidClaim);
    let t = token(H, r#"{"iat":1800000000,"exp":1800000900}"#);
    assert!(jwt::verify(&t, &hs256_set(), &p, NOW).is_ok());
}

#[test]
fn nbf_of_wrong_shape_is_invalid_claim() {
    for nbf in ["1.5", "-1", "253402300800", "1e-3", "true", "null", "[1]"] {
        let t = token(H, &format!(r#"{{"exp":1800000600,"nbf":{nbf}}}"#));
        assert_eq!(hs_code(&t), ErrorCode::InvalidClaim, "nbf {nbf}");
    }
}

#[test]
fn iat_of_wrong_shape_is_invalid_claim() {
    for iat in [r#""1800000000""#, "1.5", "-1", "253402300800", "{}"] {
        let t = token(H, &format!(r#"{{"exp":1800000600,"iat":{iat}}}"#));
        assert_eq!(hs_code(&t), ErrorCode::InvalidClaim, "iat {iat}");
    }
}

#[test]
fn exp_of_other_wrong_shapes_is_invalid_claim() {
    // Never "absent": each of these, with exp not required, is still refused.
    let lax = Policy {
        require_exp: false,
        ..Policy::default()
    };
    for exp in [
        "null",
        "true",
        "[1800000600]",
        r#"{"t":1}"#,
        "18000006005e-1",
    ] {
        let t = token(H, &format!(r#"{{"exp":{exp}}}"#));
        assert_eq!(
            code(&t, &hs256_set(), &lax),
            ErrorCode::InvalidClaim,
            "exp {exp}"
        );
    }
    // The last valid second of year 9999 is a timestamp.
    assert!(accepted(&token(H, r#"{"exp":253402300799}"#), &lax));
    // A number without a fraction is an integer however it is spelled
    // (formats.md refuses "a float with a fraction"); this is a choice.
    assert!(accepted(&token(H, r#"{"exp":1800000600.0}"#), &lax));
    assert!(accepted(&token(H, r#"{"exp":18000006e2}"#), &lax));
}

#[test]
fn leeway_is_configurable() {
    let p = Policy {
        leeway: 300,
        ..Policy::default()
    };
    // exp 299 s ago: alive with 300 s leeway, dead with the default 60 s.
    let t = token(H, r#"{"exp":1799999701}"#);
    assert!(accepted(&t, &p));
    assert_eq!(hs_code(&t), ErrorCode::Expired);
    let t = token(H, r#"{"exp":1799999700}"#);
    assert_eq!(code(&t, &hs256_set(), &p), ErrorCode::Expired);
    // nbf 300 s ahead: valid with 300 s leeway, not yet with 60 s.
    let t = token(H, r#"{"exp":1800000600,"nbf":1800000300}"#);
    assert!(accepted(&t, &p));
    assert_eq!(hs_code(&t), ErrorCode::NotYetValid);
}

#[test]
fn lifetime_cap_without_iat_counts_from_now() {
    let p = Policy {
        max_lifetime: Some(900),
        ..Policy::default()
    };
    let t = token(H, r#"{"exp":1800000901}"#);
    assert_eq!(code(&t, &hs256_set(), &p), ErrorCode::InvalidClaim);
    assert!(accepted(&token(H, r#"{"exp":1800000900}"#), &p));
}
