//! The own base64 and hex code that the `base64` and `base16ct` crates
//! replaced, kept as the oracle of the differential test (`differential.rs`).

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

/// Marks an invalid character in the shifted tables: above every 24-bit
/// value a quantum can take.
const SHIFTED_INVALID: u32 = 0xff00_0000;

/// For each of the four positions of a quantum, the character's 6 bits
/// already shifted into place (or `SHIFTED_INVALID`): a quantum is then four
/// loads and three ORs, and one test of the accumulated high byte at the end
/// finds any invalid character.
const fn shifted_tables(table: &[u8; 256]) -> [[u32; 256]; 4] {
    let mut t = [[SHIFTED_INVALID; 256]; 4];
    let mut c = 0;
    while c < 256 {
        let v = table[c];
        if v != INVALID {
            let v = v as u32;
            t[0][c] = v << 18;
            t[1][c] = v << 12;
            t[2][c] = v << 6;
            t[3][c] = v;
        }
        c += 1;
    }
    t
}

/// One alphabet's decoding tables: per character (the tail) and per
/// character and position (whole quanta).
struct Tables {
    table: [u8; 256],
    shifted: [[u32; 256]; 4],
}

const fn tables(alphabet: &[u8; 64]) -> Tables {
    let table = decode_table(alphabet);
    Tables {
        table,
        shifted: shifted_tables(&table),
    }
}

static URL: Tables = tables(URL_ALPHABET);
static STD: Tables = tables(STD_ALPHABET);

/// How many bytes `len` characters of unpadded base64 decode to (`None`:
/// no byte string has that length).
fn decoded_len(len: usize) -> Option<usize> {
    match len % 4 {
        1 => None,
        r => Some(len / 4 * 3 + r.saturating_sub(1)),
    }
}

/// Decodes `input` onto the end of `out`; on error `out` is left as it was.
fn decode_unpadded(input: &[u8], tables: &Tables, out: &mut Vec<u8>) -> Result<()> {
    let n = decoded_len(input.len()).ok_or(Error::malformed("base64 length is impossible"))?;
    let before = out.len();
    out.resize(before + n, 0);
    let r = decode_unpadded_to(input, tables, &mut out[before..]);
    if r.is_err() {
        out.truncate(before);
    }
    r
}

/// Decodes `input` into `out`, which is exactly `decoded_len(input.len())`
/// bytes long.
fn decode_unpadded_to(input: &[u8], tables: &Tables, out: &mut [u8]) -> Result<()> {
    let Tables { table, shifted } = tables;
    let mut seen = 0u32;
    let quad = |q: &[u8]| {
        shifted[0][q[0] as usize]
            | shifted[1][q[1] as usize]
            | shifted[2][q[2] as usize]
            | shifted[3][q[3] as usize]
    };
    // Four quanta per step (16 characters to 12 bytes: one 8-byte and one
    // 4-byte store), then whole quanta one at a time.
    let whole = input.len() / 4 * 4;
    let (quanta, tail) = out.split_at_mut(whole / 4 * 3);
    let mut steps = input[..whole].chunks_exact(16);
    let mut outs = quanta.chunks_exact_mut(12);
    for (q, o) in (&mut steps).zip(&mut outs) {
        let (a, b, c, d) = (
            quad(&q[..4]),
            quad(&q[4..8]),
            quad(&q[8..12]),
            quad(&q[12..]),
        );
        seen |= a | b | c | d;
        // 24 bits each: a, b and the top 16 bits of c; then c's low 8 and d.
        let high = (u64::from(a) << 40) | (u64::from(b) << 16) | (u64::from(c) >> 8);
        let low = (c << 24) | d;
        o[..8].copy_from_slice(&high.to_be_bytes());
        o[8..].copy_from_slice(&low.to_be_bytes());
    }
    for (q, o) in steps
        .remainder()
        .chunks_exact(4)
        .zip(outs.into_remainder().chunks_exact_mut(3))
    {
        let n = quad(q);
        seen |= n;
        o.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    if seen & SHIFTED_INVALID != 0 {
        return Err(Error::malformed("invalid base64 character"));
    }
    let rest = &input[whole..];
    let mut vals = [0u8; 3];
    for (i, &ch) in rest.iter().enumerate() {
        let v = table[ch as usize];
        if v > 63 {
            return Err(Error::malformed("invalid base64 character"));
        }
        vals[i] = v;
    }
    match (rest.len(), tail) {
        (0, []) => {}
        (2, [a]) => {
            // 12 bits carry 8: the low 4 bits of the second character must be zero.
            if vals[1] & 0x0f != 0 {
                return Err(Error::malformed("non-canonical base64 (unused bits set)"));
            }
            *a = (vals[0] << 2) | (vals[1] >> 4);
        }
        (3, [a, b]) => {
            // 18 bits carry 16: the low 2 bits of the third character must be zero.
            if vals[2] & 0x03 != 0 {
                return Err(Error::malformed("non-canonical base64 (unused bits set)"));
            }
            *a = (vals[0] << 2) | (vals[1] >> 4);
            *b = (vals[1] << 4) | (vals[2] >> 2);
        }
        _ => return Err(Error::malformed("base64 length is impossible")),
    }
    Ok(())
}

/// Decodes canonical unpadded base64url into the start of `out`, returning
/// the number of bytes written. `out` too short for the result is an error
/// before anything is written; after any other error the start of `out`
/// may hold part of the output.
pub fn b64url_decode_to_slice(input: &[u8], out: &mut [u8]) -> Result<usize> {
    let n = decoded_len(input.len()).ok_or(Error::malformed("base64 length is impossible"))?;
    let room = out
        .get_mut(..n)
        .ok_or(Error::malformed("base64 text longer than its buffer"))?;
    decode_unpadded_to(input, &URL, room)?;
    Ok(n)
}

/// Decodes canonical unpadded base64url.
pub fn b64url_decode(input: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    decode_unpadded(input, &URL, &mut out)?;
    Ok(out)
}

/// Decodes canonical unpadded base64url, appending to `out`.
pub fn b64url_decode_into(input: &[u8], out: &mut Vec<u8>) -> Result<()> {
    decode_unpadded(input, &URL, out)
}

/// Decodes canonical standard base64 with the padding RFC 4648 requires.
pub fn b64std_decode(input: &[u8]) -> Result<Vec<u8>> {
    if !input.len().is_multiple_of(4) {
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
    decode_unpadded(body, &STD, &mut out)?;
    Ok(out)
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
    // and the error are the rule's either way (three memchr scans are much
    // faster than one byte-by-byte test).
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
        let mut out = Vec::new();
        decode_unpadded(input, &STD, &mut out)?;
        return Ok(out);
    }
    b64url_decode(input)
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
    // Written into a buffer of the final length: no capacity check per byte.
    let mut out = vec![0u8; input.len() * 2];
    for (pair, &b) in out.chunks_exact_mut(2).zip(input) {
        pair[0] = HEX[(b >> 4) as usize];
        pair[1] = HEX[(b & 0x0f) as usize];
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
    if !bytes.len().is_multiple_of(2) {
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

