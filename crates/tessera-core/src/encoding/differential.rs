//! The own base64url decoder (`b64url.rs`, kept for the hot paths) against
//! the `base64` crate's strict URL-safe engine: same bytes out, same error
//! code, on arbitrary strings over a small alphabet that holds both
//! alphabets' special characters, `=`, whitespace and a non-ASCII byte, and
//! on valid encodings with one character changed.
//!
//! `PROPTEST_CASES` sets the number of cases (default 4096 per property).
//! Before the crates replaced the rest of the own code (standard base64,
//! encoding, hex), the same properties, with those, ran 1,000,000 cases
//! each against it (2026-12-06; git history of this file).

use super::{base64_error, URL};
use crate::error::Result;
use base64::Engine;
use proptest::prelude::*;

/// Characters that exercise every rule: the shared alphabet (a few letters
/// whose low bits differ), both alphabets' specials, padding, whitespace,
/// a character of neither alphabet and the bytes of a UTF-8 `é`.
const B64_CHARS: &[u8] = b"AQEgwz09-_+/=  \n\t*\xc3\xa9";

fn same<T: PartialEq + std::fmt::Debug>(own: Result<T>, krate: Result<T>) {
    match (own, krate) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code(), "{a:?} / {b:?}"),
        (a, b) => panic!("own {a:?}, crate {b:?}"),
    }
}

fn check(input: &[u8], room: usize) {
    let krate = URL.decode(input).map_err(base64_error);
    same(super::b64url_decode(input), krate.clone());

    let mut out = vec![5u8, 6];
    let r = super::b64url_decode_into(input, &mut out);
    match &krate {
        Ok(bytes) => assert_eq!(out[2..], bytes[..]),
        Err(_) => assert_eq!(out, [5, 6], "`out` left as it was"),
    }
    same(r, krate.clone().map(|_| ()));

    let mut buf = vec![7u8; room];
    let r = super::b64url_decode_to_slice(input, &mut buf);
    match (&r, &krate) {
        (Ok(n), _) => assert!(buf[*n..].iter().all(|&x| x == 7), "nothing past"),
        (Err(_), Ok(bytes)) if bytes.len() > room => {
            assert!(buf.iter().all(|&x| x == 7), "too short: nothing written");
        }
        _ => {}
    }
    // Too short a buffer is the one error the crate's `decode` cannot have.
    let fits = krate.map(|bytes| (bytes.len() <= room).then_some(bytes));
    match (r, fits) {
        (Ok(n), Ok(Some(bytes))) => assert_eq!(buf[..n], bytes[..]),
        (Err(_), Ok(None)) => {}
        (r, fits) => same(r.map(|_| ()), fits.map(|_| ())),
    }
}

fn config() -> ProptestConfig {
    // `ProptestConfig::default()` reads `PROPTEST_CASES`.
    let default = ProptestConfig::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        default.cases
    } else {
        4096
    };
    ProptestConfig { cases, ..default }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn base64url_over_a_small_alphabet(
        input in prop::collection::vec(prop::sample::select(B64_CHARS), 0..40),
        room in 0usize..40,
    ) {
        check(&input, room);
    }

    #[test]
    fn base64url_valid_encodings_with_one_change(
        bytes in prop::collection::vec(any::<u8>(), 0..120),
        at in any::<prop::sample::Index>(),
        to in prop::sample::select(B64_CHARS),
        change in any::<bool>(),
        room in 0usize..130,
    ) {
        let mut text = URL.encode(&bytes).into_bytes();
        if change && !text.is_empty() {
            let i = at.index(text.len());
            text[i] = to;
        }
        check(&text, room);
    }
}
