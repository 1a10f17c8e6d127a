//! One test per rejection rule of formats.md ("Common rules" and §1), one
//! file per rule, with the bad input visible and the exact error code
//! asserted (and a near-identical good input accepted where that makes the
//! rule's edge visible).

mod algorithms;
mod audience;
mod base64url;
mod claims;
mod crit;
mod json;
mod kid;
mod robustness;
mod signature;
mod size;
mod time;
mod typ;

use tessera_core::internal::encoding::{b64url_decode, b64url_encode};
use tessera_core::{jwt, Algorithm, ErrorCode, Policy};
use tessera_core::{KeySet, SigningKey, VerifyingKey};
use tessera_testkit::fixtures::{hs256, hs256_set, sub_mod, token_with, SECP256K1_N, SECRET};

const NOW: i64 = 1_800_000_000;

/// An HS256 token over exactly `header` and `payload`.
fn token(header: &str, payload: &str) -> String {
    token_with(&hs256(), header, payload)
}

fn code(token: &str, keys: &KeySet, policy: &Policy) -> ErrorCode {
    jwt::verify(token, keys, policy, NOW)
        .expect_err("the token must be refused")
        .code()
}

fn hs_code(token: &str) -> ErrorCode {
    code(token, &hs256_set(), &Policy::default())
}

fn accepted(token: &str, policy: &Policy) -> bool {
    jwt::verify(token, &hs256_set(), policy, NOW).is_ok()
}

/// `t` with its segment `index` replaced by `f(segment)`.
fn with_segment(t: &str, index: usize, f: impl Fn(&str) -> String) -> String {
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    parts[index] = f(&parts[index]);
    parts.join(".")
}

const H: &str = r#"{"alg":"HS256"}"#;
const OK_PAYLOAD: &str = r#"{"sub":"alice","exp":1800000600}"#;

#[test]
fn valid_baseline_is_accepted() {
    let id = jwt::verify(&token(H, OK_PAYLOAD), &hs256_set(), &Policy::default(), NOW).unwrap();
    assert_eq!(id.subject, "alice");
    assert_eq!(id.expires_at, Some(1_800_000_600));
}
