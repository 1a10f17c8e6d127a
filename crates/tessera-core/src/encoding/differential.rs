//! The crate-based decoders and encoders against the own code they replaced
//! (`own.rs`): same bytes out, same error code, same partial-output rules,
//! on arbitrary strings over a small alphabet that holds both alphabets'
//! special characters, `=`, whitespace and a non-ASCII byte, on valid
//! encodings with one character changed, and on arbitrary bytes.
//!
//! `PROPTEST_CASES` sets the number of cases (default 4096 per property);
//! 1,000,000 per property passed when the crates went in (2026-12-06).

use super::own;
use crate::error::Result;
use proptest::prelude::*;

/// Characters that exercise every rule: the shared alphabet (a few letters
/// whose low bits differ), both alphabets' specials, padding, whitespace,
/// a character of neither alphabet and the bytes of a UTF-8 `é`.
const B64_CHARS: &[u8] = b"AQEgwz09-_+/=  \n\t*\xc3\xa9";
const HEX_CHARS: &[u8] = b"0a9fFAgz \n";

fn same<T: PartialEq + std::fmt::Debug>(new: Result<T>, old: Result<T>) {
    match (new, old) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code(), "{a:?} / {b:?}"),
        (a, b) => panic!("crate {a:?}, own {b:?}"),
    }
}

fn check_base64(input: &[u8], room: usize) {
    same(super::b64url_decode(input), own::b64url_decode(input));
    same(super::b64std_decode(input), own::b64std_decode(input));
    same(super::b64_either_decode(input), own::b64_either_decode(input));
    same(super::b64_any_decode(input), own::b64_any_decode(input));

    let (mut a, mut b) = (vec![5u8, 6], vec![5u8, 6]);
    same(
        super::b64url_decode_into(input, &mut a),
        own::b64url_decode_into(input, &mut b),
    );
    assert_eq!(a, b, "appended output, or `out` left as it was");

    let (mut a, mut b) = (vec![7u8; room], vec![7u8; room]);
    let (ra, rb) = (
        super::b64url_decode_to_slice(input, &mut a),
        own::b64url_decode_to_slice(input, &mut b),
    );
    if let Ok(n) = ra {
        // After an error the start of the buffer is unspecified; after a
        // success, and past the output, both must agree.
        assert_eq!(a, b, "{n} bytes decoded into {room}");
    } else if decoded_len_fits(input.len(), room) == Some(false) {
        assert!(a.iter().all(|&x| x == 7), "too short: nothing written");
    }
    same(ra, rb);
}

fn decoded_len_fits(len: usize, room: usize) -> Option<bool> {
    super::decoded_len(len).map(|n| n <= room)
}

fn check_hex(input: &str) {
    same(super::hex_decode_lower(input), own::hex_decode_lower(input));
    same(
        super::hex_decode_any_case(input),
        own::hex_decode_any_case(input),
    );
    same(
        super::hex_decode_lower_array::<3>(input),
        own::hex_decode_lower_array::<3>(input),
    );
    same(
        super::hex_decode_lower_array::<32>(input),
        own::hex_decode_lower_array::<32>(input),
    );
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
    fn base64_over_a_small_alphabet(
        input in prop::collection::vec(prop::sample::select(B64_CHARS), 0..40),
        room in 0usize..40,
    ) {
        check_base64(&input, room);
    }

    #[test]
    fn base64_valid_encodings_with_one_change(
        bytes in prop::collection::vec(any::<u8>(), 0..120),
        at in any::<prop::sample::Index>(),
        to in prop::sample::select(B64_CHARS),
        change in any::<bool>(),
        room in 0usize..130,
    ) {
        for text in [own::b64url_encode(&bytes), own::b64std_encode(&bytes)] {
            let mut text = text.into_bytes();
            if change && !text.is_empty() {
                let i = at.index(text.len());
                text[i] = to;
            }
            check_base64(&text, room);
        }
    }

    #[test]
    fn hex_over_a_small_alphabet(
        input in prop::collection::vec(prop::sample::select(HEX_CHARS), 0..70),
    ) {
        // The alphabet is ASCII, so the text is a `str`.
        check_hex(std::str::from_utf8(&input).unwrap_or_default());
    }

    #[test]
    fn hex_valid_encodings_with_one_change(
        bytes in prop::collection::vec(any::<u8>(), 0..40),
        at in any::<prop::sample::Index>(),
        to in prop::sample::select(HEX_CHARS),
        upper in any::<bool>(),
    ) {
        let mut text = own::hex_encode(&bytes).into_bytes();
        if !text.is_empty() {
            let i = at.index(text.len());
            text[i] = to;
        }
        if upper {
            text.make_ascii_uppercase();
        }
        check_hex(std::str::from_utf8(&text).unwrap_or_default());
    }

    #[test]
    fn encoding_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(super::b64url_encode(&bytes), own::b64url_encode(&bytes));
        prop_assert_eq!(super::b64std_encode(&bytes), own::b64std_encode(&bytes));
        prop_assert_eq!(super::hex_encode(&bytes), own::hex_encode(&bytes));
    }
}
