//! The strict reader: [`parse`], [`parse_object`], [`skim_object`],
//! [`read_object`] and the one [`Parser`] behind them.

use super::value::{Name, INLINE_NAME};
use super::{flat_object, FlatNames, Number, Object, Value, MAX_DEPTH};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::collections::HashSet;

/// Parses one JSON document strictly.
pub fn parse(input: &[u8]) -> Result<Value> {
    Parser::new(input, std::str::from_utf8(input).ok(), None).document()
}

/// Checks a JSON object text exactly as [`parse_object`] does (same rules,
/// same errors) but keeps only the *skeleton* of its top level: every
/// member name, in order, with its value built only when `keep(name)` is
/// true, and [`Value::Null`] in its place otherwise. Nothing below the top
/// level is kept, so a claims set can be validated and its registered
/// claims read without allocating its other values.
///
/// Whatever this accepts, [`parse_object`] accepts (one parser, one set of
/// checks; `skim_agrees_with_parse` holds them together).
pub fn skim_object(input: &[u8], keep: fn(&[u8]) -> bool) -> Result<Object> {
    // No whole-document UTF-8 pass: outside strings the grammar admits
    // only ASCII, and each string is checked on its own (the plain ASCII
    // ones that are not kept need no check at all).
    match Parser::new(input, None, Some(keep)).document()? {
        Value::Object(o) => Ok(o),
        _ => Err(Error::malformed("expected a JSON object")),
    }
}

/// Parses one JSON document that must be an object.
pub fn parse_object(input: &[u8]) -> Result<Object> {
    match parse(input)? {
        Value::Object(o) => Ok(o),
        _ => Err(Error::malformed("expected a JSON object")),
    }
}

/// Parses a JSON object that is usually flat (a claims set): by
/// [`flat_object`] when it can, else by the full reader; the same object,
/// or the same error, either way.
pub fn read_object(input: &[u8]) -> Result<Object> {
    let mut members = Vec::new();
    let read = flat_object(input, &mut FlatNames::new(), |name, value| {
        members.push((Name::new(name), value.to_value()))
    });
    if read {
        // `flat_object` declined duplicate names: the members are unique.
        Ok(Object { members })
    } else {
        parse_object(input)
    }
}

/// Whether `name` is already a member, for objects of 16 members or more:
/// from the 16th member on, names are kept in a set (built here once), so
/// hostile input cannot make the check quadratic. Out of line: the objects
/// tessera reads on its hot paths are smaller.
#[inline(never)]
fn indexed_duplicate(
    index: &mut Option<HashSet<Name>>,
    members: &[(Name, Value)],
    name: &Name,
) -> bool {
    let set = index.get_or_insert_with(|| members.iter().map(|(k, _)| k.clone()).collect());
    !set.insert(name.clone())
}

/// The first byte of `s` that ends a run of plain string characters: `"`,
/// `\\` or a control character (below 0x20).
#[inline]
pub(super) fn string_stop(s: &[u8]) -> Option<usize> {
    use crate::swar::{below, equal, position};
    position(
        s,
        |w| equal(w, b'"') | equal(w, b'\\') | below(w, 0x20),
        |c| c == b'"' || c == b'\\' || c < 0x20,
    )
}

struct Parser<'a> {
    s: &'a [u8],
    /// `s` as text when it is valid UTF-8 (the usual case): a string without
    /// escapes is then a slice of it, already validated. Otherwise each
    /// string is validated on its own, for a precise error.
    text: Option<&'a str>,
    pos: usize,
    /// `Some` for [`skim_object`]: which top-level members to build.
    keep: Option<fn(&[u8]) -> bool>,
    /// Whether values are being built (always, unless skimming outside a
    /// kept member).
    build: bool,
}

impl<'a> Parser<'a> {
    fn new(s: &'a [u8], text: Option<&'a str>, keep: Option<fn(&[u8]) -> bool>) -> Self {
        Parser {
            s,
            text,
            pos: 0,
            keep,
            build: keep.is_none(),
        }
    }

    /// The whole input as one value, with nothing after it.
    fn document(mut self) -> Result<Value> {
        self.skip_ws();
        let v = match (self.keep, self.peek()) {
            // A skimmed document's top level is kept as a skeleton whatever
            // `build` says.
            (Some(_), Some(b'{')) => self.object(1).map(Value::Object)?,
            _ => self.value(0)?,
        };
        self.skip_ws();
        if self.pos != self.s.len() {
            return Err(Error::malformed("trailing data after JSON value"));
        }
        Ok(v)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect_literal(&mut self, lit: &[u8]) -> Result<()> {
        if self.s.get(self.pos..self.pos + lit.len()) == Some(lit) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(Error::malformed("invalid JSON literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        if !self.build {
            return self.skip_value(depth).map(|()| Value::Null);
        }
        match self.peek() {
            Some(b'{') => self.object(depth + 1).map(Value::Object),
            Some(b'[') => self.array(depth + 1).map(Value::Array),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            _ => self.literal(),
        }
    }

    /// `true`, `false` or `null` (anything else here is an error).
    fn literal(&mut self) -> Result<Value> {
        match self.peek() {
            Some(b't') => self.expect_literal(b"true").map(|()| Value::Bool(true)),
            Some(b'f') => self.expect_literal(b"false").map(|()| Value::Bool(false)),
            Some(b'n') => self.expect_literal(b"null").map(|()| Value::Null),
            Some(_) => Err(Error::malformed("unexpected character in JSON")),
            None => Err(Error::malformed("unexpected end of JSON")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Object> {
        if depth > MAX_DEPTH {
            return Err(Error::malformed("JSON nested too deeply"));
        }
        self.pos += 1; // '{'

        // Most objects tessera reads (JOSE headers, claim sets, events) have
        // at most 8 members: one allocation, no regrowth.
        let mut members: Vec<(Name, Value)> = Vec::with_capacity(8);
        let mut index: Option<HashSet<Name>> = None;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Object { members });
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(Error::malformed("expected a JSON member name"));
            }
            let name = self.name()?;
            // Small objects (every JOSE header) compare linearly; large ones
            // switch to a set so hostile input cannot make this quadratic.
            let duplicate = match &mut index {
                None if members.len() < 16 => members.iter().any(|(k, _)| *k == name),
                _ => indexed_duplicate(&mut index, &members, &name),
            };
            if duplicate {
                return Err(Error::malformed("duplicate JSON member name"));
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(Error::malformed("expected ':' in JSON object"));
            }
            self.pos += 1;
            self.skip_ws();
            let skimmed_top = depth == 1 && !self.build;
            if skimmed_top && self.keep.is_some_and(|keep| keep(name.as_bytes())) {
                self.build = true;
            }
            // Scalars directly (the common case), containers recursively.
            let v = match self.peek() {
                _ if !self.build => self.skip_value(depth).map(|()| Value::Null)?,
                Some(b'"') => Value::String(self.string()?),
                Some(b'-' | b'0'..=b'9') => Value::Number(self.number()?),
                _ => self.value(depth)?,
            };
            if skimmed_top {
                self.build = false;
            }
            members.push((name, v));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Object { members });
                }
                _ => return Err(Error::malformed("expected ',' or '}' in JSON object")),
            }
        }
    }

    /// Checks one value exactly as [`Parser::value`] would, keeping nothing
    /// (an object's names are still gathered, to refuse duplicates).
    fn skip_value(&mut self, depth: usize) -> Result<()> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1).map(drop),
            Some(b'[') => self.array(depth + 1).map(drop),
            Some(b'"') => self.skip_string(),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            _ => self.literal().map(drop),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Value>> {
        if depth > MAX_DEPTH {
            return Err(Error::malformed("JSON nested too deeply"));
        }
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            self.skip_ws();
            let item = self.value(depth)?;
            if self.build {
                items.push(item);
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(Error::malformed("expected ',' or ']' in JSON array")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self
            .s
            .get(self.pos..self.pos + 4)
            .ok_or(Error::malformed("truncated \\u escape"))?;
        let mut v = 0u32;
        for &d in digits {
            let n = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(Error::malformed("invalid \\u escape")),
            };
            v = (v << 4) | u32::from(n);
        }
        self.pos += 4;
        Ok(v)
    }

    /// A member name. A short plain ASCII run (the usual name) is copied as
    /// it is, with no UTF-8 pass (ASCII is UTF-8); anything else is read by
    /// [`Parser::string_text`].
    fn name(&mut self) -> Result<Name> {
        match self.plain_run() {
            Some(plain) if plain.len() <= INLINE_NAME && plain.is_ascii() => {
                self.pos += plain.len() + 2;
                let mut bytes = [0u8; INLINE_NAME];
                bytes[..plain.len()].copy_from_slice(plain);
                Ok(Name::Inline {
                    len: plain.len() as u8,
                    bytes,
                })
            }
            _ => Ok(Name::new(&self.string_text()?)),
        }
    }

    /// Checks a string exactly as [`Parser::string_text`] would, keeping
    /// nothing: a plain run is only scanned, and checked as UTF-8 when it
    /// is not ASCII.
    fn skip_string(&mut self) -> Result<()> {
        // Escapes, control characters, no end: the full reader, for the
        // same result and the same error.
        let Some(plain) = self.plain_run() else {
            return self.string_text().map(drop);
        };
        if self.text.is_none() && !plain.is_ascii() && std::str::from_utf8(plain).is_err() {
            return Err(Error::malformed("JSON string is not valid UTF-8"));
        }
        self.pos += plain.len() + 2;
        Ok(())
    }

    /// The contents of the string whose opening quote is at `pos`, when it
    /// is a plain run: closed, with no escape and no control character.
    fn plain_run(&self) -> Option<&'a [u8]> {
        let rest = self.s.get(self.pos + 1..)?;
        let n = string_stop(rest)?;
        (rest[n] == b'"').then(|| &rest[..n])
    }

    fn string(&mut self) -> Result<String> {
        self.string_text().map(Cow::into_owned)
    }

    /// A string's text: borrowed from the input when it has no escapes.
    fn string_text(&mut self) -> Result<Cow<'a, str>> {
        self.pos += 1; // opening quote
        let start = self.pos;
        // Fast path: no escapes. Find the first byte that ends the run.
        let rest = self.s.get(start..).unwrap_or_default();
        let Some(n) = string_stop(rest) else {
            return Err(Error::malformed("unterminated JSON string"));
        };
        self.pos = start + n;
        match rest[n] {
            b'"' => {
                self.pos += 1;
                // `start` and `start + n` sit next to ASCII bytes: both are
                // character boundaries of a valid text.
                if let Some(s) = self.text.and_then(|t| t.get(start..start + n)) {
                    return Ok(Cow::Borrowed(s));
                }
                std::str::from_utf8(&rest[..n])
                    .map(Cow::Borrowed)
                    .map_err(|_| Error::malformed("JSON string is not valid UTF-8"))
            }
            b'\\' => self.escaped_string(start),
            _ => Err(Error::malformed("control character in JSON string")),
        }
    }

    /// The rest of `string_text` for a string with an escape at `pos`
    /// (`start`: its first character). Out of line: claim sets and headers
    /// rarely have one, and the common path stays small.
    #[inline(never)]
    fn escaped_string(&mut self, start: usize) -> Result<Cow<'a, str>> {
        let mut buf: Vec<u8> = self.s[start..self.pos].to_vec();
        loop {
            match self.peek() {
                None => return Err(Error::malformed("unterminated JSON string")),
                Some(b'"') => {
                    self.pos += 1;
                    return String::from_utf8(buf)
                        .map(Cow::Owned)
                        .map_err(|_| Error::malformed("JSON string is not valid UTF-8"));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let esc = self
                        .peek()
                        .ok_or(Error::malformed("unterminated JSON escape"))?;
                    self.pos += 1;
                    match esc {
                        b'"' => buf.push(b'"'),
                        b'\\' => buf.push(b'\\'),
                        b'/' => buf.push(b'/'),
                        b'b' => buf.push(0x08),
                        b'f' => buf.push(0x0c),
                        b'n' => buf.push(b'\n'),
                        b'r' => buf.push(b'\r'),
                        b't' => buf.push(b'\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xd800..0xdc00).contains(&hi) {
                                if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(Error::malformed("lone UTF-16 surrogate"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return Err(Error::malformed("lone UTF-16 surrogate"));
                                }
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else if (0xdc00..0xe000).contains(&hi) {
                                return Err(Error::malformed("lone UTF-16 surrogate"));
                            } else {
                                hi
                            };
                            let ch =
                                char::from_u32(cp).ok_or(Error::malformed("invalid \\u escape"))?;
                            let mut tmp = [0u8; 4];
                            buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        _ => return Err(Error::malformed("invalid JSON escape")),
                    }
                }
                Some(c) if c < 0x20 => {
                    return Err(Error::malformed("control character in JSON string"))
                }
                Some(c) => {
                    buf.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn number(&mut self) -> Result<Number> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        // The integer part's value, accumulated as it is scanned (None once
        // it leaves the i64 range): the common case needs no second pass.
        let mut int: Option<i64> = Some(0);
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                let first = self.pos;
                let mut magnitude = 0u64;
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    magnitude = magnitude.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                    self.pos += 1;
                }
                // 19 digits always fit in a u64; more may have wrapped.
                int = if self.pos - first > 19 {
                    None
                } else if negative {
                    0i64.checked_sub_unsigned(magnitude)
                } else {
                    i64::try_from(magnitude).ok()
                };
            }
            _ => return Err(Error::malformed("invalid JSON number")),
        }
        let mut is_int = true;
        if self.peek() == Some(b'.') {
            is_int = false;
            self.pos += 1;
            let digits = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if self.pos == digits {
                return Err(Error::malformed("invalid JSON number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            is_int = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            let digits = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if self.pos == digits {
                return Err(Error::malformed("invalid JSON number"));
            }
        }
        if is_int {
            if let Some(i) = int {
                return Ok(Number::Int(i));
            }
        }
        // Only ASCII digits, signs, '.', 'e' were consumed.
        let text = std::str::from_utf8(&self.s[start..self.pos])
            .map_err(|_| Error::malformed("invalid JSON number"))?;
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Number::Float(f)),
            _ => Err(Error::malformed("JSON number out of range")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_stop_finds_the_first_stop_byte() {
        let naive = |s: &[u8]| s.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        // Every length up to three words, every stop byte (and bytes next to
        // the stop ranges) at every position, behind plain and high bytes.
        for len in 0..24 {
            for fill in [b'a', 0x20, 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']'] {
                let mut s = vec![fill; len];
                assert_eq!(string_stop(&s), naive(&s), "{s:?}");
                for at in 0..len {
                    for stop in [b'"', b'\\', 0x00, 0x1f, 0x21, 0x5b, 0x5d, 0x20, 0xa2, 0xdc] {
                        s[at] = stop;
                        assert_eq!(string_stop(&s), naive(&s), "{s:?}");
                        // A second stop byte after the first never hides it.
                        if at + 1 < len {
                            s[at + 1] = b'"';
                            assert_eq!(string_stop(&s), naive(&s), "{s:?}");
                            s[at + 1] = fill;
                        }
                    }
                    s[at] = fill;
                }
            }
        }
    }

    #[test]
    fn integers_at_the_i64_bounds() {
        let int = |s: &str| parse(s.as_bytes()).unwrap().as_number().unwrap();
        assert_eq!(int("9223372036854775807"), Number::Int(i64::MAX));
        assert_eq!(int("-9223372036854775808"), Number::Int(i64::MIN));
        assert_eq!(
            int("9223372036854775808"),
            Number::Float(9_223_372_036_854_775_808.0)
        );
        assert_eq!(
            int("-9223372036854775809"),
            Number::Float(-9_223_372_036_854_775_808.0)
        );
        // 19 and 20 digits: the largest that cannot wrap, and ones that would.
        assert_eq!(int("9999999999999999999"), Number::Float(1e19));
        assert_eq!(
            int("18446744073709551617"),
            Number::Float(1.8446744073709552e19)
        );
        assert_eq!(int("100000000000000000000"), Number::Float(1e20));
        assert_eq!(int("-0"), Number::Int(0));
        assert_eq!(int("0"), Number::Int(0));
        assert_eq!(int("1234567890"), Number::Int(1_234_567_890));
    }
}
