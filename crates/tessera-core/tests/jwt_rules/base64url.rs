//! §1: base64url in every segment (no padding, no standard alphabet, no
//! whitespace, zero trailing bits), and exactly three parts.

use super::*;

#[test]
fn padding_is_malformed() {
    // 15-byte header -> 20 chars, no padding needed; a 16-byte one needs "==".
    let t = token(r#"{"alg":"HS256"} "#, OK_PAYLOAD);
    assert_eq!(
        hs_code(&with_segment(&t, 0, |s| format!("{s}=="))),
        ErrorCode::Malformed
    );
}

#[test]
fn standard_alphabet_is_malformed() {
    // A signature containing '-' or '_' re-spelled with '+' or '/'.
    let mut t = token(H, OK_PAYLOAD);
    let mut n = 0;
    while !t.split('.').nth(2).unwrap().contains(['-', '_']) {
        n += 1;
        t = token(H, &format!(r#"{{"exp":1800000600,"n":{n}}}"#));
    }
    let bad = with_segment(&t, 2, |s| s.replace('-', "+").replace('_', "/"));
    assert_eq!(hs_code(&bad), ErrorCode::Malformed);
}

#[test]
fn whitespace_is_malformed() {
    let t = token(H, OK_PAYLOAD);
    assert_eq!(
        hs_code(&with_segment(&t, 1, |s| format!(" {s}"))),
        ErrorCode::Malformed
    );
    assert_eq!(
        hs_code(&with_segment(&t, 2, |s| format!(
            "{}\n{}",
            &s[..10],
            &s[10..]
        ))),
        ErrorCode::Malformed
    );
}

#[test]
fn non_zero_trailing_bits_are_malformed() {
    // HS256 signatures are 32 bytes = 43 chars; the last char carries 2 unused bits.
    let t = token(H, OK_PAYLOAD);
    let bad = with_segment(&t, 2, |s| {
        let last = s.chars().last().unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.find(last).unwrap();
        let flipped = alphabet.chars().nth(idx ^ 1).unwrap();
        format!("{}{}", &s[..s.len() - 1], flipped)
    });
    assert_eq!(hs_code(&bad), ErrorCode::Malformed);
}

#[test]
fn wrong_number_of_parts_is_malformed() {
    let t = token(H, OK_PAYLOAD);
    assert_eq!(hs_code(&format!("{t}.")), ErrorCode::Malformed);
    assert_eq!(hs_code(t.rsplit_once('.').unwrap().0), ErrorCode::Malformed);
    assert_eq!(hs_code(""), ErrorCode::Malformed);
    assert_eq!(
        hs_code(r#"{"payload":"e30","signatures":[]}"#),
        ErrorCode::Malformed
    );
}

/// A token whose `index` segment has unused trailing bits (length % 4 != 0).
fn token_with_trailing_bits(index: usize) -> String {
    for pad in 0..8 {
        let payload = format!(r#"{{"exp":1800000600,"p":"{}"}}"#, "x".repeat(pad));
        let header = format!(r#"{{"alg":"HS256","p":"{}"}}"#, "y".repeat(pad));
        let t = token(&header, &payload);
        if !t.split('.').nth(index).unwrap().len().is_multiple_of(4) {
            return t;
        }
    }
    unreachable!()
}

#[test]
fn non_zero_trailing_bits_in_header_and_payload_are_malformed() {
    for index in [0, 1] {
        let t = token_with_trailing_bits(index);
        assert!(accepted(&t, &Policy::default()));
        let bad = with_segment(&t, index, |s| {
            let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let last = s.chars().last().unwrap();
            let flipped = alphabet
                .chars()
                .nth(alphabet.find(last).unwrap() ^ 1)
                .unwrap();
            format!("{}{}", &s[..s.len() - 1], flipped)
        });
        // Same bytes as before when decoded leniently; refused here.
        assert_eq!(hs_code(&bad), ErrorCode::Malformed, "segment {index}");
    }
}

#[test]
fn padding_and_std_alphabet_in_payload_and_signature_are_malformed() {
    let t = token_with_trailing_bits(1);
    let pad = 4 - t.split('.').nth(1).unwrap().len() % 4;
    assert_eq!(
        hs_code(&with_segment(&t, 1, |s| format!("{s}{}", "=".repeat(pad)))),
        ErrorCode::Malformed
    );
    // HS256 signatures are 43 characters: one '=' would make them padded.
    let t = token(H, r#"{"exp":1800000600}"#);
    assert_eq!(
        hs_code(&with_segment(&t, 2, |s| format!("{s}="))),
        ErrorCode::Malformed
    );
    // '+' and '/' anywhere (here in the payload, where the JSON makes them).
    let mut n = 0;
    let t = loop {
        let t = token(H, &format!(r#"{{"exp":1800000600,"k":"??>>{n}"}}"#));
        if t.split('.').nth(1).unwrap().contains(['-', '_']) {
            break t;
        }
        n += 1;
    };
    let bad = with_segment(&t, 1, |s| s.replace('-', "+").replace('_', "/"));
    assert_eq!(hs_code(&bad), ErrorCode::Malformed);
}

#[test]
fn whitespace_and_other_bytes_in_the_header_are_malformed() {
    let t = token(H, r#"{"exp":1800000600}"#);
    for bad in [
        with_segment(&t, 0, |s| format!("{s} ")),
        with_segment(&t, 0, |s| format!("{}\t{}", &s[..4], &s[4..])),
        with_segment(&t, 0, |s| format!("{}\r\n{}", &s[..4], &s[4..])),
        with_segment(&t, 2, |s| format!("{s}\n")),
        with_segment(&t, 1, |s| format!("{}%3D", &s[..s.len()])),
    ] {
        assert_eq!(hs_code(&bad), ErrorCode::Malformed, "{bad:?}");
    }
}

#[test]
fn empty_segments_are_refused() {
    let t = token(H, r#"{"exp":1800000600}"#);
    let (h, rest) = t.split_once('.').unwrap();
    let (p, _s) = rest.split_once('.').unwrap();
    // No header at all.
    assert_eq!(hs_code(&format!(".{p}.{_s}")), ErrorCode::Malformed);
    // No signature (the shape of an unsigned token with a real alg).
    assert_eq!(hs_code(&format!("{h}.{p}.")), ErrorCode::BadSignature);
    assert_eq!(hs_code(".."), ErrorCode::Malformed);
}

/// A valid token is not scanned for a third '.'; the parts error must
/// still win over whatever else is wrong, wherever the extra part is.
#[test]
fn a_fourth_part_is_the_error_reported_first() {
    let parts_error = |t: &str| {
        let e = jwt::verify(t, &hs256_set(), &Policy::default(), NOW).unwrap_err();
        (e.code(), e.message().contains("exactly three"))
    };
    let good = token(H, r#"{"sub":"a","exp":1800000100}"#);
    let (input, sig) = good.rsplit_once('.').unwrap();
    let bad_header = format!("e30.{}", input.split_once('.').unwrap().1);
    let bad_payload = format!("{}.!!!", input.split_once('.').unwrap().0);
    for t in [
        // An extra part after a good signature, or in the middle of it.
        format!("{good}.x"),
        format!("{good}."),
        format!("{input}.{}.{}", &sig[..10], &sig[10..]),
        // And with the header (no `alg`), the payload or the signature
        // also wrong: the parts error still comes first.
        format!("{bad_header}.{sig}.x"),
        format!("{bad_payload}.{sig}.x"),
        format!("{input}.!!.x"),
        format!(".{}.{sig}.x", input.split_once('.').unwrap().1),
    ] {
        assert_eq!(parts_error(&t), (ErrorCode::Malformed, true), "{t}");
    }
    // Without the extra part each of those is refused for its own reason.
    assert!(!parts_error(&format!("{bad_header}.{sig}")).1);
    assert!(!parts_error(&format!("{input}.!!")).1);
    assert!(jwt::verify(&good, &hs256_set(), &Policy::default(), NOW).is_ok());
}
