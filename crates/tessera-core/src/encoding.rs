//! Strict, canonical encodings: base64url (RFC 4648 §5, no padding),
//! standard base64 (RFC 4648 §4, padded) and lowercase hex.
//!
//! "Strict" means one string per byte sequence: padding where the alphabet
//! forbids it, characters of the other alphabet, whitespace, and non-zero
//! unused trailing bits are all refused.

use crate::error::{Error, Result};

const URL_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const STD_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const INVALID: u8 = 0xff;

const fn decode_table(alphabet: &[u8; 64]) -> [u8; 256] {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
}

static URL_TABLE: [u8; 256] = decode_table(URL_ALPHABET);
static STD_TABLE: [u8; 256] = decode_table(STD_ALPHABET);

fn decode_unpadded(input: &[u8], table: &[u8; 256], out: &mut Vec<u8>) -> Result<()> {
    if input.len() % 4 == 1 {
        return Err(Error::malformed("base64 length is impossible"));
    }
    out.reserve(input.len() / 4 * 3 + 2);
    // Whole quanta are written into zeroed room, then the tail is pushed.
    let start = out.len();
    out.resize(start + input.len() / 4 * 3, 0);
    let mut chunks = input.chunks_exact(4);
    // Invalid characters map to 0xff: OR-ing every value shows one at the end.
    let mut seen = 0u8;
    for (chunk, o) in (&mut chunks).zip(out[start..].chunks_exact_mut(3)) {
        let a = table[chunk[0] as usize];
        let b = table[chunk[1] as usize];
        let c = table[chunk[2] as usize];
        let d = table[chunk[3] as usize];
        seen |= a | b | c | d;
        let n = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(d);
        o[0] = (n >> 16) as u8;
        o[1] = (n >> 8) as u8;
        o[2] = n as u8;
    }
    if seen > 63 {
        out.truncate(start);
        return Err(Error::malformed("invalid base64 character"));
    }
    let rest = chunks.remainder();
    let mut vals = [0u8; 3];
    for (i, &ch) in rest.iter().enumerate() {
        let v = table[ch as usize];
        if v > 63 {
            return Err(Error::malformed("invalid base64 character"));
        }
        vals[i] = v;
    }
    match rest.len() {
        0 => {}
        2 => {
            // 12 bits carry 8: the low 4 bits of the second character must be zero.
            if vals[1] & 0x0f != 0 {
                return Err(Error::malformed("non-canonical base64 (unused bits set)"));
            }
            out.push((vals[0] << 2) | (vals[1] >> 4));
        }
        3 => {
            // 18 bits carry 16: the low 2 bits of the third character must be zero.
            if vals[2] & 0x03 != 0 {
                return Err(Error::malformed("non-canonical base64 (unused bits set)"));
            }
            out.push((vals[0] << 2) | (vals[1] >> 4));
            out.push((vals[1] << 4) | (vals[2] >> 2));
        }
        _ => return Err(Error::malformed("base64 length is impossible")),
    }
    Ok(())
}

/// Decodes canonical unpadded base64url.
pub fn b64url_decode(input: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    decode_unpadded(input, &URL_TABLE, &mut out)?;
    Ok(out)
}

/// Decodes canonical unpadded base64url, appending to `out`.
pub fn b64url_decode_into(input: &[u8], out: &mut Vec<u8>) -> Result<()> {
    decode_unpadded(input, &URL_TABLE, out)
}

/// Decodes canonical standard base64 with the padding RFC 4648 requires.
pub fn b64std_decode(input: &[u8]) -> Result<Vec<u8>> {
    if input.len() % 4 != 0 {
        return Err(Error::malformed(
            "padded base64 length must be a multiple of 4",
        ));
    }
    let pad = input.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return Err(Error::malformed("too much base64 padding"));
    }
    let body = &input[..input.len() - pad];
    if pad > 0 && body.len() % 4 != 4 - pad {
        return Err(Error::malformed("wrong base64 padding"));
    }
    let mut out = Vec::new();
    decode_unpadded(body, &STD_TABLE, &mut out)?;
    Ok(out)
}

/// Decodes either alphabet, each strictly: input with `+`, `/` or `=` must be
/// canonical padded standard base64; anything else canonical unpadded base64url.
///
/// The two readings cannot disagree: a string of neither alphabet's special
/// characters that needs no padding decodes the same in both.
pub fn b64_either_decode(input: &[u8]) -> Result<Vec<u8>> {
    // Three memchr scans are much faster than one byte-by-byte test.
    if input.contains(&b'+') || input.contains(&b'/') || input.contains(&b'=') {
        b64std_decode(input)
    } else {
        b64url_decode(input)
    }
}

fn encode(input: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = Vec::with_capacity(input.len().div_ceil(3) * 4);
    let mut chunks = input.chunks_exact(3);
    for c in &mut chunks {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        out.extend_from_slice(&[
            alphabet[(n >> 18) as usize & 63],
            alphabet[(n >> 12) as usize & 63],
            alphabet[(n >> 6) as usize & 63],
            alphabet[n as usize & 63],
        ]);
    }
    match *chunks.remainder() {
        [a] => {
            out.push(alphabet[(a >> 2) as usize]);
            out.push(alphabet[((a & 0x03) << 4) as usize]);
            if pad {
                out.extend_from_slice(b"==");
            }
        }
        [a, b] => {
            out.push(alphabet[(a >> 2) as usize]);
            out.push(alphabet[(((a & 0x03) << 4) | (b >> 4)) as usize]);
            out.push(alphabet[((b & 0x0f) << 2) as usize]);
            if pad {
                out.push(b'=');
            }
        }
        _ => {}
    }
    // Only ASCII alphabet characters were pushed.
    String::from_utf8(out).unwrap_or_default()
}

/// Encodes unpadded base64url.
pub fn b64url_encode(input: &[u8]) -> String {
    encode(input, URL_ALPHABET, false)
}

/// Encodes padded standard base64.
pub fn b64std_encode(input: &[u8]) -> String {
    encode(input, STD_ALPHABET, true)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Encodes lowercase hex.
pub fn hex_encode(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len() * 2);
    for &b in input {
        out.extend_from_slice(&[HEX[(b >> 4) as usize], HEX[(b & 0x0f) as usize]]);
    }
    // Only ASCII hex digits were pushed.
    String::from_utf8(out).unwrap_or_default()
}

fn hex_val(c: u8, allow_upper: bool) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' if allow_upper => Some(c - b'A' + 10),
        _ => None,
    }
}

fn hex_decode_impl(input: &str, allow_upper: bool) -> Result<Vec<u8>> {
    let bytes = input.as_bytes();
    if bytes.len() % 2 != 0 {
        return Err(Error::malformed("hex has an odd length"));
    }
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks_exact(2) {
        match (hex_val(pair[0], allow_upper), hex_val(pair[1], allow_upper)) {
            (Some(h), Some(l)) => out.push((h << 4) | l),
            _ => return Err(Error::malformed("invalid hex character")),
        }
    }
    Ok(out)
}

/// Decodes lowercase-only hex (Nostr ids, keys and signatures).
pub fn hex_decode_lower(input: &str) -> Result<Vec<u8>> {
    hex_decode_impl(input, false)
}

/// Decodes hex of either case (Ethereum signatures and addresses).
pub fn hex_decode_any_case(input: &str) -> Result<Vec<u8>> {
    hex_decode_impl(input, true)
}

/// Decodes exactly `N` bytes of lowercase hex.
pub fn hex_decode_lower_array<const N: usize>(input: &str) -> Result<[u8; N]> {
    if input.len() != 2 * N {
        return Err(Error::malformed("hex has the wrong length"));
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(input.as_bytes().chunks_exact(2)) {
        match (hex_val(pair[0], false), hex_val(pair[1], false)) {
            (Some(h), Some(l)) => *o = (h << 4) | l,
            _ => return Err(Error::malformed("invalid hex character")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn base64url_round_trip() {
        for len in 0..70 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let enc = b64url_encode(&data);
            assert_eq!(b64url_decode(enc.as_bytes()).unwrap(), data);
            let enc = b64std_encode(&data);
            assert_eq!(b64std_decode(enc.as_bytes()).unwrap(), data);
            assert_eq!(b64_either_decode(enc.as_bytes()).unwrap(), data);
        }
    }

    #[test]
    fn base64url_rejects_non_canonical_forms() {
        for bad in [
            "eyJ=",   // padding
            "ey+J",   // standard alphabet
            "ey/J",   // standard alphabet
            "ey J",   // whitespace
            "eyJ\n",  // newline
            "a",      // impossible length
            "QR",     // unused bits set (canonical is QQ)
            "QUF",    // unused bits set (canonical is QUE)
            "\u{e9}", // non-ASCII
        ] {
            let err = b64url_decode(bad.as_bytes()).unwrap_err();
            assert_eq!(err.code(), ErrorCode::Malformed, "{bad:?}");
        }
        assert_eq!(b64url_decode(b"QQ").unwrap(), b"A");
        assert_eq!(b64url_decode(b"QUE").unwrap(), b"AA");
    }

    #[test]
    fn standard_base64_requires_canonical_padding() {
        assert_eq!(b64std_decode(b"QQ==").unwrap(), b"A");
        for bad in [
            "QQ", "QQ=", "QQ===", "Q===", "QR==", "QUF=", "QQ==QQ==", "-_8=",
        ] {
            assert!(b64std_decode(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hex_is_strict() {
        assert_eq!(hex_decode_lower("00ff").unwrap(), vec![0, 255]);
        assert!(hex_decode_lower("00FF").is_err());
        assert_eq!(hex_decode_any_case("00FF").unwrap(), vec![0, 255]);
        assert!(hex_decode_lower("0").is_err());
        assert!(hex_decode_lower("zz").is_err());
        assert!(hex_decode_lower_array::<2>("00").is_err());
        assert_eq!(hex_encode(&[0xab, 0x01]), "ab01");
    }
}
