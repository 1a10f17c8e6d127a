//! The own base64url decoder, kept for the hot paths: JWS segments and NWTs
//! (`jws::compact`, `nostr::event`) decode through it.
//!
//! The `base64` 0.22 crate (strict URL-safe engine, `encoding.rs`) in its
//! place cost, per operation (callgrind, the `instructions` example, 1000
//! operations, measured 2026-12-06): HS256 verify +1,323 instructions
//! (22,217 to 23,540, +6.0 %), HS256 verify and claim read +1,352 (+4.6 %),
//! RS256 +2,321 (+0.8 %), ES256K +1,488 (+0.3 %), NWT +1,707 (+0.4 %).
//! Everything else (standard base64, encoding, hex) goes through the crates.
//! `differential.rs` checks this decoder against the crate's engine.

use crate::error::{Error, Result};

const URL_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

/// How many bytes `len` characters of unpadded base64 decode to (`None`:
/// no byte string has that length).
pub(super) fn decoded_len(len: usize) -> Option<usize> {
    match len % 4 {
        1 => None,
        r => Some(len / 4 * 3 + r.saturating_sub(1)),
    }
}

/// Decodes base64url `input` onto the end of `out`; on error `out` is left
/// as it was.
pub(super) fn decode_unpadded(input: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let n = decoded_len(input.len()).ok_or(Error::malformed("base64 length is impossible"))?;
    let before = out.len();
    out.resize(before + n, 0);
    let r = decode_unpadded_to(input, &mut out[before..]);
    if r.is_err() {
        out.truncate(before);
    }
    r
}

/// Decodes base64url `input` into `out`, which is exactly
/// `decoded_len(input.len())` bytes long.
pub(super) fn decode_unpadded_to(input: &[u8], out: &mut [u8]) -> Result<()> {
    let Tables { table, shifted } = &URL;
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
