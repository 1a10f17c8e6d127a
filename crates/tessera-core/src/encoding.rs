//! Strict, canonical encodings: base64url (RFC 4648 §5, no padding),
//! standard base64 (RFC 4648 §4, padded) and lowercase hex, through the
//! maintained `base64` and `base16ct` crates; base64url decoding through the
//! own decoder in `b64url.rs`, which the crate was slower than on the hot
//! paths (the figures are there).
//!
//! "Strict" means one string per byte sequence: padding where the alphabet
//! forbids it, characters of the other alphabet, whitespace, and non-zero
//! unused trailing bits are all refused.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{DecodeError, Engine};

use crate::error::{Error, Result};

mod b64url;
#[cfg(test)]
mod differential;

/// The strict configuration: canonical (non-zero unused bits refused), and
/// padding either required exactly or refused.
const fn strict(padding: bool) -> GeneralPurposeConfig {
    GeneralPurposeConfig::new()
        .with_encode_padding(padding)
        .with_decode_allow_trailing_bits(false)
        .with_decode_padding_mode(if padding {
            DecodePaddingMode::RequireCanonical
        } else {
            DecodePaddingMode::RequireNone
        })
}

/// base64url without padding: encoding, and the differential test's
/// reference for the own decoder.
const URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, strict(false));
/// Standard base64 with its padding (NIP-98).
const STD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, strict(true));
/// Standard base64 without padding (the older thirdweb wallet JWTs).
const STD_NO_PAD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, strict(false));

fn base64_error(e: DecodeError) -> Error {
    Error::malformed(match e {
        DecodeError::InvalidByte(..) => "invalid base64 character",
        DecodeError::InvalidLength(_) => "base64 length is impossible",
        DecodeError::InvalidLastSymbol(..) => "non-canonical base64 (unused bits set)",
        DecodeError::InvalidPadding => "wrong base64 padding",
    })
}

/// Decodes canonical unpadded base64url into the start of `out`, returning
/// the number of bytes written. `out` too short for the result is an error
/// before anything is written; after any other error the start of `out`
/// may hold part of the output.
pub fn b64url_decode_to_slice(input: &[u8], out: &mut [u8]) -> Result<usize> {
    let n =
        b64url::decoded_len(input.len()).ok_or(Error::malformed("base64 length is impossible"))?;
    let room = out
        .get_mut(..n)
        .ok_or(Error::malformed("base64 text longer than its buffer"))?;
    b64url::decode_unpadded_to(input, room)?;
    Ok(n)
}

/// Decodes canonical unpadded base64url.
pub fn b64url_decode(input: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    b64url::decode_unpadded(input, &mut out)?;
    Ok(out)
}

/// Decodes canonical unpadded base64url, appending to `out`.
pub fn b64url_decode_into(input: &[u8], out: &mut Vec<u8>) -> Result<()> {
    b64url::decode_unpadded(input, out)
}

/// Decodes canonical standard base64 with the padding RFC 4648 requires.
pub fn b64std_decode(input: &[u8]) -> Result<Vec<u8>> {
    STD.decode(input).map_err(base64_error)
}

/// Decodes either alphabet, each strictly: input with `+`, `/` or `=` must be
/// canonical padded standard base64; anything else canonical unpadded base64url.
///
/// The two readings cannot disagree: a string of neither alphabet's special
/// characters that needs no padding decodes the same in both.
pub fn b64_either_decode(input: &[u8]) -> Result<Vec<u8>> {
    // base64url first, with no scan before it (NWTs, the usual input, are
    // base64url): it refuses any `+`, `/` or `=`, so when it decodes, the
    // input has none of them, which is when the rule above picks it. On
    // its error the input is scanned to pick the alphabet, so the result
    // and the error are the rule's either way.
    match b64url_decode(input) {
        Ok(out) => Ok(out),
        Err(_) if input.contains(&b'+') || input.contains(&b'/') || input.contains(&b'=') => {
            b64std_decode(input)
        }
        Err(e) => Err(e),
    }
}

/// Decodes base64url, or standard base64 with or without its padding, each
/// canonical: the segments of the older thirdweb package's wallet JWTs
/// (standard base64; Node's build stripped the `=`, browsers' `btoa` kept
/// it). Input with `=` must be exactly padded standard base64; input with
/// `+` or `/` and no `=` is unpadded standard base64; anything else is
/// unpadded base64url. Characters of both alphabets in one input, wrong
/// padding and non-zero unused bits are refused.
pub fn b64_any_decode(input: &[u8]) -> Result<Vec<u8>> {
    if input.contains(&b'=') {
        return b64std_decode(input);
    }
    if input.contains(&b'+') || input.contains(&b'/') {
        return STD_NO_PAD.decode(input).map_err(base64_error);
    }
    b64url_decode(input)
}

/// Encodes unpadded base64url.
pub fn b64url_encode(input: &[u8]) -> String {
    URL.encode(input)
}

/// Encodes padded standard base64.
pub fn b64std_encode(input: &[u8]) -> String {
    STD.encode(input)
}

/// Encodes lowercase hex.
pub fn hex_encode(input: &[u8]) -> String {
    base16ct::lower::encode_string(input)
}

fn hex_error(e: base16ct::Error) -> Error {
    Error::malformed(match e {
        base16ct::Error::InvalidLength => "hex has an odd length",
        base16ct::Error::InvalidEncoding => "invalid hex character",
    })
}

/// Decodes lowercase-only hex (Nostr ids, keys and signatures).
pub fn hex_decode_lower(input: &str) -> Result<Vec<u8>> {
    base16ct::lower::decode_vec(input).map_err(hex_error)
}

/// Decodes hex of either case (Ethereum signatures and addresses).
pub fn hex_decode_any_case(input: &str) -> Result<Vec<u8>> {
    base16ct::mixed::decode_vec(input).map_err(hex_error)
}

/// Decodes exactly `N` bytes of lowercase hex.
pub fn hex_decode_lower_array<const N: usize>(input: &str) -> Result<[u8; N]> {
    if input.len() != 2 * N {
        return Err(Error::malformed("hex has the wrong length"));
    }
    let mut out = [0u8; N];
    base16ct::lower::decode(input, &mut out).map_err(hex_error)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn every_length_round_trips_and_every_position_checks_its_character() {
        // Lengths 0..100 cover the 8-character steps, a trailing whole
        // quantum and both partial tails.
        for len in 0..100usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            let url = b64url_encode(&bytes);
            assert_eq!(b64url_decode(url.as_bytes()).unwrap(), bytes, "{url}");
            let std = b64std_encode(&bytes);
            assert_eq!(b64std_decode(std.as_bytes()).unwrap(), bytes, "{std}");
            // Appending keeps what was there.
            let mut out = vec![9u8];
            b64url_decode_into(url.as_bytes(), &mut out).unwrap();
            assert_eq!(out[0], 9);
            assert_eq!(&out[1..], &bytes[..]);
            // Into a slice: exactly long enough, longer, and one byte short.
            let mut room = vec![7u8; len + 3];
            assert_eq!(b64url_decode_to_slice(url.as_bytes(), &mut room), Ok(len));
            assert_eq!(&room[..len], &bytes[..]);
            assert_eq!(&room[len..], [7, 7, 7], "nothing written past the output");
            assert_eq!(
                b64url_decode_to_slice(url.as_bytes(), &mut room[..len]),
                Ok(len)
            );
            if len > 0 {
                let mut short = vec![7u8; len - 1];
                let e = b64url_decode_to_slice(url.as_bytes(), &mut short).unwrap_err();
                assert_eq!(e.code(), ErrorCode::Malformed);
                assert!(short.iter().all(|&b| b == 7), "too short: nothing written");
            }
            // A character of neither alphabet, at every position.
            for pos in 0..url.len() {
                let mut bad = url.clone().into_bytes();
                bad[pos] = b'*';
                let e = b64url_decode(&bad).unwrap_err();
                assert_eq!(e.code(), ErrorCode::Malformed, "len {len} pos {pos}");
                let mut out = vec![1u8, 2];
                assert!(b64url_decode_into(&bad, &mut out).is_err());
                assert_eq!(out, [1, 2], "a failed decode leaves `out` as it was");
                let mut room = vec![0u8; len + 3];
                assert_eq!(
                    b64url_decode_to_slice(&bad, &mut room).unwrap_err().code(),
                    ErrorCode::Malformed
                );
            }
        }
    }

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
