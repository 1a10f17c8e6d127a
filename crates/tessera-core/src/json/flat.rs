//! The strict reader's fast path for flat objects: the claims sets of
//! JWTs, whose members are strings, integers, literals and arrays of
//! strings.
//!
//! [`flat_object`] either answers with exactly what [`super::parse_object`]
//! would read, or declines (`false`) and leaves the document to the full
//! reader. It never rejects: whatever it does not recognise (an escape, a
//! fraction, a nested object, a duplicate name, a syntax error, invalid
//! UTF-8, more than [`FLAT_MAX_MEMBERS`] members) it declines, so every
//! error, and the exact message of every error, still comes from the one
//! full reader. What it accepts, the full reader accepts with the same
//! members in the same order (`flat_agrees_with_parse` and the `json` fuzz
//! target hold the two together).
//!
//! Why: a claims set is read on every verification. Read by the full
//! reader it costs about a third of tessera's own work around an RSA check
//! (BENCHMARKS.md); this reader builds nothing, allocates nothing, and
//! finds duplicate names by comparing one machine word per name. Measured
//! again for issue 18 (this path, `skim_object` and the lazily built
//! claims against the full reader and eager claims): without them a JWT
//! verification costs about 5.3k instructions more (HS256 22,223 ->
//! 27,541) and the paired RSA overhead over the primitive goes from
//! +5.1..6.6 % to +9.9..12.3 %, above the 6 % the issue allows: kept (see
//! `CheckedClaims::parse` in `jwt.rs`).

use super::parse::string_stop;
use super::{Number, Value};

/// Members a flat object may have; a larger one goes to the full reader
/// (whose duplicate index keeps large objects linear).
pub const FLAT_MAX_MEMBERS: usize = 16;

/// A member value of a flat object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FlatValue<'a> {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer of at most 18 digits (anything longer: the full reader).
    Int(i64),
    /// A string without escapes.
    Str(&'a str),
    /// An array of strings without escapes: the text between its brackets
    /// (read the strings with [`FlatValue::strings`]).
    Strings(&'a str),
}

impl<'a> FlatValue<'a> {
    /// The strings of a [`FlatValue::Strings`] array, in order (none for
    /// any other value).
    pub fn strings(self) -> impl Iterator<Item = &'a str> {
        let inner = match self {
            FlatValue::Strings(inner) => inner,
            _ => "",
        };
        // The strings hold no '"' (no escapes): between the brackets, every
        // second piece between quotes is one of them.
        inner.split('"').skip(1).step_by(2)
    }

    /// The value as the full reader builds it.
    pub fn to_value(self) -> Value {
        match self {
            FlatValue::Null => Value::Null,
            FlatValue::Bool(b) => Value::Bool(b),
            FlatValue::Int(i) => Value::Number(Number::Int(i)),
            FlatValue::Str(s) => Value::String(s.to_owned()),
            FlatValue::Strings(_) => Value::Array(
                self.strings()
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            ),
        }
    }
}

/// The member names of an object read by [`flat_object`].
pub struct FlatNames<'a> {
    text: &'a str,
    /// Where each name is in `text`: `start << 32 | len`.
    spans: [u64; FLAT_MAX_MEMBERS],
    /// [`name_key`] of each name: names with distinct keys are distinct.
    keys: [u64; FLAT_MAX_MEMBERS],
    len: usize,
}

/// The first eight bytes of `name`, zero-padded, as one word. Names read
/// here hold no zero byte (a control character), so two names of at most
/// eight bytes are equal exactly when their keys are; longer names with
/// equal keys are compared whole.
fn name_key(name: &[u8]) -> u64 {
    let mut key = 0u64;
    for (i, &b) in name.iter().take(8).enumerate() {
        key |= u64::from(b) << (8 * i);
    }
    key
}

/// [`name_key`] of the `len` bytes at `start` of `s`, by one load when
/// eight bytes are there to read.
#[inline]
fn name_key_at(s: &[u8], start: usize, len: usize) -> u64 {
    match s.get(start..start + 8) {
        Some(word) => {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let mask = if len >= 8 {
                u64::MAX
            } else {
                (1u64 << (8 * len)) - 1
            };
            u64::from_le_bytes(w) & mask
        }
        None => name_key(&s[start..start + len]),
    }
}

impl<'a> FlatNames<'a> {
    /// An empty list of names, to be filled by [`flat_object`].
    pub fn new() -> Self {
        FlatNames {
            text: "",
            spans: [0; FLAT_MAX_MEMBERS],
            keys: [0; FLAT_MAX_MEMBERS],
            len: 0,
        }
    }

    fn name(&self, i: usize) -> &'a str {
        let span = self.spans[i];
        let (start, len) = ((span >> 32) as usize, (span & 0xffff_ffff) as usize);
        self.text.get(start..start + len).unwrap_or_default()
    }

    fn position(&self, key: u64, name: &str) -> Option<usize> {
        (0..self.len).find(|&i| self.keys[i] == key && self.name(i) == name)
    }

    /// Adds `name`, the text at `start`; `None` when it is already there or
    /// there is no room.
    #[inline]
    fn add(&mut self, name: &str, start: usize) -> Option<()> {
        let len = name.len();
        let key = name_key_at(self.text.as_bytes(), start, len);
        if self.len == FLAT_MAX_MEMBERS {
            return None;
        }
        // Names are compared whole only when their keys are equal (rare: a
        // duplicate, or a shared 8-byte prefix).
        let mut from = 0;
        while let Some(i) = self.keys[from..self.len].iter().position(|&k| k == key) {
            if self.name(from + i) == name {
                return None;
            }
            from += i + 1;
        }
        self.spans[self.len] = (start as u64) << 32 | len as u64;
        self.keys[self.len] = key;
        self.len += 1;
        Some(())
    }

    /// Whether the object has a member called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.position(name_key(name.as_bytes()), name).is_some()
    }

    /// The names, in document order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        (0..self.len).map(|i| self.name(i))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the object has no member.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Default for FlatNames<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// The byte at `i`, or 0 past the end (0 is never valid outside a string,
/// so the end declines wherever a byte is expected).
#[inline(always)]
fn byte(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// The first index at or after `i` that is not JSON white space.
#[inline(always)]
fn skip_ws(s: &[u8], mut i: usize) -> usize {
    // Every structural byte is above 0x20, white space is not: compact
    // JSON takes one comparison.
    while byte(s, i) <= b' ' && matches!(byte(s, i), b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The index of the closing quote of the string whose contents start at
/// `start`, when it has no escape and no control character.
#[inline(always)]
fn plain_end(s: &[u8], start: usize) -> Option<usize> {
    let end = start + string_stop(s.get(start..)?)?;
    (s[end] == b'"').then_some(end)
}

/// An integer of at most 18 digits (always within `i64`) at `i`, and the
/// index after it. What follows is checked by the caller: a fraction, an
/// exponent or a digit after a leading zero leaves a byte there that is
/// not `,`, `}` or white space.
#[inline(always)]
fn int(s: &[u8], mut i: usize) -> Option<(i64, usize)> {
    let negative = byte(s, i) == b'-';
    i += usize::from(negative);
    let first = i;
    let mut magnitude = 0i64;
    match byte(s, i) {
        b'0' => i += 1,
        b'1'..=b'9' => {
            while let d @ b'0'..=b'9' = byte(s, i) {
                magnitude = magnitude.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
                i += 1;
            }
            if i - first > 18 {
                return None;
            }
        }
        _ => return None,
    }
    Some((if negative { -magnitude } else { magnitude }, i))
}

/// The value at `i` (not white space), and the index after it.
#[inline(always)]
fn value<'a>(s: &[u8], text: &'a str, i: usize) -> Option<(FlatValue<'a>, usize)> {
    let literal =
        |word: &[u8], v| (s.get(i..i + word.len()) == Some(word)).then_some((v, i + word.len()));
    match byte(s, i) {
        b'"' => {
            let end = plain_end(s, i + 1)?;
            // Both ends sit next to an ASCII quote: character boundaries.
            Some((FlatValue::Str(text.get(i + 1..end)?), end + 1))
        }
        b'-' | b'0'..=b'9' => int(s, i).map(|(n, next)| (FlatValue::Int(n), next)),
        b't' => literal(b"true", FlatValue::Bool(true)),
        b'f' => literal(b"false", FlatValue::Bool(false)),
        b'n' => literal(b"null", FlatValue::Null),
        b'[' => strings(s, text, i),
        _ => None,
    }
}

/// An array of plain strings, `[` at `i`, and the index after it.
#[inline(never)]
fn strings<'a>(s: &[u8], text: &'a str, i: usize) -> Option<(FlatValue<'a>, usize)> {
    let start = i + 1;
    let mut j = skip_ws(s, start);
    if byte(s, j) != b']' {
        loop {
            if byte(s, j) != b'"' {
                return None;
            }
            j = skip_ws(s, plain_end(s, j + 1)? + 1);
            match byte(s, j) {
                b',' => j = skip_ws(s, j + 1),
                b']' => break,
                _ => return None,
            }
        }
    }
    Some((FlatValue::Strings(text.get(start..j)?), j + 1))
}

/// Reads `input` when it is a flat JSON object (see the module
/// documentation) into `names`, calling `visit` with each member in
/// document order. `false`: not read here, give it to the full reader;
/// `visit` may have seen some members by then, and what it made of them is
/// to be dropped (and `names` with them).
pub fn flat_object<'a>(
    input: &'a [u8],
    names: &mut FlatNames<'a>,
    mut visit: impl FnMut(&'a str, FlatValue<'a>),
) -> bool {
    // One UTF-8 check of the whole text (outside strings only ASCII is
    // read, so this is the check of every string at once).
    let Ok(text) = std::str::from_utf8(input) else {
        return false;
    };
    names.text = text;
    names.len = 0;
    members(input, text, names, &mut visit).is_some()
}

fn members<'a>(
    s: &'a [u8],
    text: &'a str,
    names: &mut FlatNames<'a>,
    visit: &mut impl FnMut(&'a str, FlatValue<'a>),
) -> Option<()> {
    let mut i = skip_ws(s, 0);
    if byte(s, i) != b'{' {
        return None;
    }
    i = skip_ws(s, i + 1);
    if byte(s, i) == b'}' {
        i += 1;
    } else {
        loop {
            if byte(s, i) != b'"' {
                return None;
            }
            let end = plain_end(s, i + 1)?;
            let name = text.get(i + 1..end)?;
            names.add(name, i + 1)?;
            i = skip_ws(s, end + 1);
            if byte(s, i) != b':' {
                return None;
            }
            let (v, next) = value(s, text, skip_ws(s, i + 1))?;
            visit(name, v);
            i = skip_ws(s, next);
            match byte(s, i) {
                b',' => i = skip_ws(s, i + 1),
                b'}' => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    (skip_ws(s, i) == s.len()).then_some(())
}

#[cfg(test)]
mod tests {
    use super::super::{parse_object, Object};
    use super::*;

    /// Reads `doc` with both readers: when the flat one answers, the full
    /// one must accept with the same names, in order, and the same values.
    /// Returns whether the flat reader answered.
    pub(crate) fn agrees(doc: &[u8]) -> bool {
        let mut members: Vec<(&str, Value)> = Vec::new();
        let mut names = FlatNames::new();
        if !flat_object(doc, &mut names, |n, v| members.push((n, v.to_value()))) {
            return false;
        }
        let text = String::from_utf8_lossy(doc);
        let full: Object = parse_object(doc)
            .unwrap_or_else(|e| panic!("{text}: flat read it, the full reader says {e:?}"));
        assert_eq!(names.len(), full.len(), "{text}");
        assert!(names.iter().eq(full.iter().map(|(k, _)| k)), "{text}");
        for ((name, value), (fname, fvalue)) in members.iter().zip(full.iter()) {
            assert_eq!((*name, value), (fname, fvalue), "{text}");
            assert!(names.contains(fname), "{text}: {fname}");
        }
        true
    }

    #[test]
    fn flat_agrees_with_parse() {
        let read = [
            r#"{"sub":"user-1234","iat":1767225600,"exp":4102444800,"role":"admin"}"#,
            r#"{}"#,
            " { } ",
            "\t{ \"a\" :\r\n1 ,\"b\":\"x\" }\n",
            r#"{"aud":["a","b"],"n":null,"t":true,"f":false,"z":0,"m":-0,"k":-12}"#,
            r#"{"aud":[],"x":[ ],"y":[ "a" , "b" ]}"#,
            r#"{"café":"naïve","emoji":"😀"}"#,
            r#"{"big":999999999999999999,"neg":-999999999999999999}"#,
            // Names that share their first eight bytes, or differ in length.
            r#"{"abcdefgh":1,"abcdefghi":2,"abcdefghj":3,"abc":4,"ab":5}"#,
        ];
        for doc in read {
            assert!(agrees(doc.as_bytes()), "the flat reader declined {doc}");
        }
        // Declined: the full reader decides (and gives every error).
        let declined: [&[u8]; 30] = [
            br#"{"a":1,"a":2}"#,
            br#"{"abcdefghi":1,"abcdefghi":2}"#,
            br#"{"a":"x\ny"}"#,
            br#"{"a\u0062":1}"#,
            br#"{"a":1.5}"#,
            br#"{"a":1e3}"#,
            br#"{"a":01}"#,
            br#"{"a":-}"#,
            br#"{"a":1234567890123456789}"#,
            br#"{"a":{"b":1}}"#,
            br#"{"a":[1,2]}"#,
            br#"{"a":["x",]}"#,
            br#"{"a":["x" "y"]}"#,
            br#"{"a":[["x"]]}"#,
            br#"{"a":tru}"#,
            br#"{"a":nul}"#,
            br#"{"a":1,}"#,
            br#"{"a" 1}"#,
            br#"{"a":1} x"#,
            br#"{"a":1"#,
            br#"{"a":"#,
            br#"{"a""#,
            br#"{"#,
            b"",
            br#"[]"#,
            br#""text""#,
            b"{\"a\":\"\xc3\"}",
            b"{\"\xff\":1}",
            b"{\"a\":\"\x01\"}",
            b"\xef\xbb\xbf{}",
        ];
        for doc in declined {
            assert!(
                !agrees(doc),
                "the flat reader read {}",
                String::from_utf8_lossy(doc)
            );
        }
        // Sixteen members are read, seventeen declined.
        let members = |n: usize| {
            let body: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            format!("{{{}}}", body.join(","))
        };
        assert!(agrees(members(FLAT_MAX_MEMBERS).as_bytes()));
        assert!(!agrees(members(FLAT_MAX_MEMBERS + 1).as_bytes()));
    }

    #[test]
    fn names_are_found_by_their_whole_text() {
        let doc = br#"{"abcdefgh":1,"abcdefghij":2,"x":3}"#;
        let mut names = FlatNames::new();
        assert!(flat_object(doc, &mut names, |_, _| {}));
        for present in ["abcdefgh", "abcdefghij", "x"] {
            assert!(names.contains(present), "{present}");
        }
        for absent in ["abcdefghi", "abcdefg", "abcdefghijk", "", "y", "X"] {
            assert!(!names.contains(absent), "{absent}");
        }
    }

    /// Documents assembled from the pieces that matter to the flat reader
    /// (quotes, escapes, digits, signs, brackets, separators, white space,
    /// bytes outside ASCII): whatever it reads, the full reader reads the
    /// same.
    #[test]
    fn flat_agrees_with_parse_on_assembled_documents() {
        const PIECES: [&[u8]; 24] = [
            b"{",
            b"}",
            b"[",
            b"]",
            b"\"",
            b"\"a\"",
            b"\"ab\"",
            b":",
            b",",
            b" ",
            b"\n",
            b"0",
            b"7",
            b"-",
            b".5",
            b"e",
            b"true",
            b"null",
            b"\\",
            b"\xc3\xa9",
            b"\xc3",
            b"\"a\":",
            b"\"abcdefghi\":",
            b"\"k\":\"v\"",
        ];
        // A small deterministic generator (xorshift): no dependency, the
        // same documents on every run.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut read = 0;
        for _ in 0..200_000 {
            let mut doc = b"{".to_vec();
            for _ in 0..next() % 12 {
                doc.extend_from_slice(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            if next() % 4 != 0 {
                doc.push(b'}');
            }
            read += usize::from(agrees(&doc));
        }
        // The generator must reach the accepting path, not only declines.
        assert!(read > 1_000, "only {read} documents were read");
    }
}
