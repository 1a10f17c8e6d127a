//! Compact JWS decoding and JWT verification with a fixed key set.
//!
//! Input: a mode byte, then
//! - mode even: the rest is a token, decoded and verified as received;
//! - mode odd: a header piece and the payload; the target signs them with
//!   one of its keys (so the header, key-selection and claim rules behind
//!   the signature are reached) and verifies the result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::internal::encoding::{b64url_decode, b64url_encode};
use tessera_core::{internal::jws, jwt, Policy};
use tessera_fuzz::{assert_b64_len, check_code, key_set, sign_raw, signers, Reader, NOW};

fn policy(flags: u8) -> Policy {
    let mut p = Policy::default();
    if flags & 1 != 0 {
        p.audiences = vec!["https://api.example".into(), "tessera".into()];
    }
    if flags & 2 != 0 {
        p.issuer = Some("https://issuer.example".into());
    }
    if flags & 4 != 0 {
        p.require_exp = false;
    }
    if flags & 8 != 0 {
        p.required_typ = Some("at+jwt".into());
    }
    if flags & 16 != 0 {
        p.max_lifetime = Some(3600);
    }
    if flags & 32 != 0 {
        p.required_claims = vec!["jti".into()];
    }
    if flags & 64 != 0 {
        p.leeway = 0;
    }
    if flags & 128 != 0 {
        p.accept_any_audience = true;
    }
    p
}

fn check(token: &str, flags: u8) {
    // Strict base64url: what decodes re-encodes to the same text.
    for seg in token.split('.') {
        if let Ok(bytes) = b64url_decode(seg.as_bytes()) {
            assert_b64_len(seg.len(), bytes.len());
            assert_eq!(
                b64url_encode(&bytes),
                seg,
                "non-canonical base64url accepted"
            );
        }
    }
    let p = policy(flags);
    match jws::decode(token, p.max_token_size) {
        Ok(d) => {
            assert!(token.len() <= p.max_token_size);
            assert!(token.as_bytes().starts_with(d.signing_input));
            assert_b64_len(token.len(), d.payload.len() + d.signature.len());
            if let Err(e) = d.verify(key_set(), &p) {
                check_code(e.code());
            }
        }
        Err(e) => check_code(e.code()),
    }
    match jwt::verify(token, key_set(), &p, NOW) {
        Ok(id) => {
            if let Some(exp) = id.expires_at {
                assert!(NOW < exp.saturating_add(p.leeway), "expired token accepted");
            } else {
                assert!(!p.require_exp, "token without exp accepted");
            }
            if !p.audiences.is_empty() {
                assert!(id.audience.iter().any(|a| p.audiences.contains(a)));
            } else if !p.accept_any_audience {
                // RFC 7519 §4.1.3: no expected audience, no audience named.
                assert!(id.audience.is_empty(), "unexpected audience accepted");
            }
        }
        Err(e) => check_code(e.code()),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let mode = r.byte();
    let flags = r.byte();
    if mode & 1 == 0 {
        if let Ok(token) = std::str::from_utf8(r.rest()) {
            check(token, flags);
        }
    } else {
        let header = r.piece();
        let payload = r.rest();
        let token = sign_raw(signers().pick(mode >> 1), header, payload);
        check(&token, flags);
    }
});
