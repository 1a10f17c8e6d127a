//! A strict JSON reader and a canonical writer.
//!
//! tessera parses every untrusted JSON document exactly once, into
//! [`Value`], and validates that one representation. (A JWT's claims set
//! is first tried by [`flat_object`], a fast path that builds nothing and
//! either reads exactly what this reader would or leaves the document to
//! it.) The reader refuses what RFC 8259 leaves open and attackers like to
//! use:
//! duplicate member names (RFC 7515 §5.2 lets a verifier refuse them, and we
//! do: `{"alg":"RS256","alg":"none"}` must not mean two things), lone UTF-16
//! surrogates in `\u` escapes, invalid UTF-8, nesting deeper than
//! [`MAX_DEPTH`], and trailing data.
//!
//! The writer produces compact JSON with the NIP-01 escaping rules: only
//! `\n \" \\ \r \t \b \f` get short escapes, other control characters become
//! `\u00xx` (lowercase hex), everything else is written verbatim.

use crate::error::{Error, Result};
use std::borrow::Cow;
use std::collections::HashSet;

mod flat;
pub use flat::{flat_object, FlatNames, FlatValue, FLAT_MAX_MEMBERS};

/// Maximum nesting of arrays and objects.
pub const MAX_DEPTH: usize = 32;

/// A JSON number, kept as an exact integer when the text is one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// Written without fraction or exponent and fits in `i64`.
    Int(i64),
    /// Anything else: a fraction, an exponent, or an integer outside `i64`.
    Float(f64),
}

impl Number {
    /// The value as an integer when it is exactly one: `Int`, or a `Float`
    /// whose fraction is zero and which fits in `i64`.
    pub fn as_exact_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            Number::Float(f) => {
                if f.fract() == 0.0
                    && (-9.007_199_254_740_992e15..=9.007_199_254_740_992e15).contains(&f)
                {
                    Some(f as i64)
                } else {
                    None
                }
            }
        }
    }

    /// The value as a float (lossy for large integers).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in document order, names unique.
    Object(Object),
}

/// Member names up to this many bytes are kept inline.
const INLINE_NAME: usize = 22;

/// A member name. Short names (every registered JWT claim and JOSE header
/// parameter, most custom claims) are kept inline: parsing a claims set
/// then allocates nothing for its names.
#[derive(Clone)]
enum Name {
    Inline { len: u8, bytes: [u8; INLINE_NAME] },
    Heap(Box<str>),
}

impl Name {
    fn new(s: &str) -> Name {
        if s.len() <= INLINE_NAME {
            let mut bytes = [0u8; INLINE_NAME];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            Name::Inline {
                len: s.len() as u8,
                bytes,
            }
        } else {
            Name::Heap(s.into())
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Name::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Name::Heap(s) => s.as_bytes(),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // Copied whole from a `&str`: always valid UTF-8.
            Name::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Name::Heap(s) => s,
        }
    }
}

impl PartialEq for Name {
    #[inline]
    fn eq(&self, other: &Name) -> bool {
        match (self, other) {
            // Unused inline bytes are zero: whole arrays compare, no call.
            (Name::Inline { len: a, bytes: x }, Name::Inline { len: b, bytes: y }) => {
                a == b && x == y
            }
            _ => self.as_bytes() == other.as_bytes(),
        }
    }
}

impl Eq for Name {}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

/// A JSON object with unique member names, in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    members: Vec<(Name, Value)>,
}

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Object::default()
    }

    /// The member called `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let name = name.as_bytes();
        self.members
            .iter()
            .find(|(k, _)| k.as_bytes() == name)
            .map(|(_, v)| v)
    }

    /// Whether a member called `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name`, replacing an existing member of that name in place.
    pub fn insert(&mut self, name: impl AsRef<str>, value: Value) {
        let name = name.as_ref();
        if let Some(slot) = self
            .members
            .iter_mut()
            .find(|(k, _)| k.as_bytes() == name.as_bytes())
        {
            slot.1 = value;
        } else {
            self.members.push((Name::new(name), value));
        }
    }

    /// Removes and returns the member called `name`.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let pos = self
            .members
            .iter()
            .position(|(k, _)| k.as_bytes() == name.as_bytes())?;
        Some(self.members.remove(pos).1)
    }

    /// Members in document order, names as bytes, values mutable.
    pub(crate) fn iter_bytes_mut(&mut self) -> impl Iterator<Item = (&[u8], &mut Value)> {
        self.members.iter_mut().map(|(k, v)| (k.as_bytes(), v))
    }

    /// Members in document order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.members.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Bytes this object holds on the heap (see `heap.rs`).
    pub(crate) fn heap_bytes(&self) -> usize {
        let slots = crate::heap::alloc_bytes(
            self.members.capacity() * std::mem::size_of::<(Name, Value)>(),
        );
        self.members.iter().fold(slots, |sum, (name, value)| {
            let name = match name {
                Name::Inline { .. } => 0,
                Name::Heap(s) => crate::heap::alloc_bytes(s.len()),
            };
            sum + name + value.heap_bytes()
        })
    }

    /// Gives back the unused capacity of an object built member by member.
    /// An empty object with room for `n` members.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Object {
            members: Vec::with_capacity(n),
        }
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.members.shrink_to_fit();
    }
}

impl Value {
    /// Bytes this value holds on the heap (see `heap.rs`).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
            Value::String(s) => crate::heap::string_bytes(s),
            Value::Array(items) => items.iter().fold(
                crate::heap::alloc_bytes(items.capacity() * std::mem::size_of::<Value>()),
                |sum, v| sum + v.heap_bytes(),
            ),
            Value::Object(o) => o.heap_bytes(),
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Compact JSON text (NIP-01 escaping).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        write_value(self, &mut out);
        out
    }

    /// Converts into a `serde_json::Value` for output.
    pub fn to_serde(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(Number::Int(i)) => serde_json::Value::from(*i),
            Value::Number(Number::Float(f)) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Value::to_serde).collect()),
            Value::Object(o) => serde_json::Value::Object(
                o.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_serde()))
                    .collect(),
            ),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Number(Number::Int(i))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Object> for Value {
    fn from(o: Object) -> Self {
        Value::Object(o)
    }
}

impl FromIterator<(String, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut o = Object::new();
        for (k, v) in iter {
            o.insert(k, v);
        }
        o
    }
}

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
fn string_stop(s: &[u8]) -> Option<usize> {
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

/// Appends the decimal digits of `i` (no formatter, no allocation).
pub fn write_int(i: i64, out: &mut String) {
    let mut digits = [0u8; 20];
    let mut n = i.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.push('-');
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// Appends `s` as a JSON string literal with NIP-01 escaping.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    // Most strings need no escape at all: one scan, one copy.
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0x00..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[run..i]);
        run = i + 1;
        match esc {
            Some(e) => out.push_str(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// Appends `v` as compact JSON with NIP-01 escaping.
pub fn write_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(Number::Int(i)) => write_int(*i, out),
        Value::Number(Number::Float(f)) => out.push_str(&format!("{f:?}")),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_value(v, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn bad(s: &str) -> ErrorCode {
        parse(s.as_bytes()).unwrap_err().code()
    }

    #[test]
    fn parses_documents() {
        let v =
            parse(br#" {"a":[1,-2,3.5,"x\u00e9\ud83d\ude00",true,false,null],"b":{}} "#).unwrap();
        let o = v.as_object().unwrap();
        let a = o.get("a").unwrap().as_array().unwrap();
        assert_eq!(a[0], Value::Number(Number::Int(1)));
        assert_eq!(a[1], Value::Number(Number::Int(-2)));
        assert_eq!(a[2], Value::Number(Number::Float(3.5)));
        assert_eq!(a[3].as_str().unwrap(), "x\u{e9}\u{1f600}");
        assert!(o.get("b").unwrap().as_object().unwrap().is_empty());
    }

    #[test]
    fn duplicate_member_names_are_malformed() {
        assert_eq!(bad(r#"{"alg":"RS256","alg":"none"}"#), ErrorCode::Malformed);
        // The same name spelled with an escape is the same name.
        assert_eq!(bad(r#"{"alg":"a","\u0061lg":"b"}"#), ErrorCode::Malformed);
        // Large objects switch to a set; duplicates are still found.
        let mut doc = String::from("{");
        for i in 0..40 {
            doc.push_str(&format!("\"k{i}\":{i},"));
        }
        doc.push_str("\"k3\":0}");
        assert_eq!(bad(&doc), ErrorCode::Malformed);
        // Names on both sides of the inline limit (22 bytes), small and large
        // objects alike.
        let long = "n".repeat(INLINE_NAME + 1);
        let short = "n".repeat(INLINE_NAME);
        for name in [&long, &short] {
            assert_eq!(
                bad(&format!(r#"{{"{name}":1,"{name}":2}}"#)),
                ErrorCode::Malformed
            );
            let mut doc = String::from("{");
            for i in 0..40 {
                doc.push_str(&format!("\"{name}{i}\":{i},"));
            }
            doc.push_str(&format!("\"{name}7\":0}}"));
            assert_eq!(bad(&doc), ErrorCode::Malformed);
        }
        // A long name and its 22-byte prefix are two names.
        let doc = format!(r#"{{"{short}":1,"{long}":2}}"#);
        let o = parse_object(doc.as_bytes()).unwrap();
        assert_eq!(o.get(&short), Some(&Value::from(1i64)));
        assert_eq!(o.get(&long), Some(&Value::from(2i64)));
    }

    #[test]
    fn member_names_read_back_whatever_their_length() {
        // Multi-byte characters across the inline limit, escapes, the empty
        // name: each is found, iterated and written as it was read.
        let names = [
            String::new(),
            "sub".to_owned(),
            "é".repeat(11),                 // 22 bytes: inline
            format!("{}x", "é".repeat(11)), // 23 bytes: heap
            "ü".repeat(40),
            "tab\\there".to_owned(),
        ];
        let mut doc = String::from("{");
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                doc.push(',');
            }
            doc.push_str(&format!("\"{n}\":{i}"));
        }
        doc.push('}');
        let o = parse_object(doc.as_bytes()).unwrap();
        let decoded: Vec<String> = names.iter().map(|n| n.replace("\\t", "\t")).collect();
        let read: Vec<&str> = o.iter().map(|(k, _)| k).collect();
        assert_eq!(read, decoded.iter().map(String::as_str).collect::<Vec<_>>());
        for (i, n) in decoded.iter().enumerate() {
            assert_eq!(o.get(n), Some(&Value::from(i as i64)), "{n:?}");
        }
        let mut built = Object::new();
        for (i, n) in decoded.iter().enumerate() {
            built.insert(n, Value::from(i as i64));
        }
        assert_eq!(built, o);
        assert_eq!(Value::Object(o).to_json(), doc);
    }

    /// What `skim_object` must give for `doc`: `parse_object`'s verdict and
    /// error, and on success the same names in order, kept values equal to
    /// the parsed ones and every other value `Null`.
    fn skim_agrees(doc: &str, keep: fn(&[u8]) -> bool) {
        skim_agrees_bytes(doc.as_bytes(), keep)
    }

    fn skim_agrees_bytes(bytes: &[u8], keep: fn(&[u8]) -> bool) {
        let doc = String::from_utf8_lossy(bytes);
        let full = parse_object(bytes);
        let skim = skim_object(bytes, keep);
        match (&full, &skim) {
            (Ok(full), Ok(skim)) => {
                let names = |o: &Object| o.iter().map(|(k, _)| k.to_owned()).collect::<Vec<_>>();
                assert_eq!(names(full), names(skim), "{doc}");
                for ((name, f), (_, s)) in full.iter().zip(skim.iter()) {
                    let want = if keep(name.as_bytes()) {
                        f.clone()
                    } else {
                        Value::Null
                    };
                    assert_eq!(*s, want, "{doc}: member {name}");
                }
            }
            (Err(a), Err(b)) => {
                assert_eq!((a.code(), a.message()), (b.code(), b.message()), "{doc}")
            }
            _ => panic!("{doc}: parse {full:?}, skim {skim:?}"),
        }
    }

    #[test]
    fn skim_agrees_with_parse() {
        let docs = [
            r#"{"sub":"u","aud":["a","b"],"exp":1,"role":"admin","n":{"x":[1,{"y":null}]}}"#,
            r#" { "a" : "x\u00e9\ud83d\ude00" , "b" : [ true , false , null , -0.5e3 ] } "#,
            r#"{}"#,
            r#"[]"#,
            r#""text""#,
            r#"{"sub":"a","sub":"b"}"#,
            // Duplicates below the top level, in skimmed and kept members.
            r#"{"n":{"x":1,"x":2}}"#,
            r#"{"aud":[{"x":1,"x":2}]}"#,
            r#"{"n":{"\u0078":1,"x":2}}"#,
            // Errors inside skimmed values are found as in parsed ones.
            r#"{"n":"\ud800"}"#,
            r#"{"n":"a\qb"}"#,
            "{\"n\":\"a\u{1}b\"}",
            r#"{"n":01}"#,
            r#"{"n":1e999}"#,
            r#"{"n":[1,]}"#,
            r#"{"n":tru}"#,
            r#"{"n":{"a":1}"#,
            r#"{"n":1} x"#,
            r#"{"sub":"u",}"#,
            r#"{"sub" "u"}"#,
        ];
        let keep_registered: fn(&[u8]) -> bool = |n| [&b"sub"[..], b"aud", b"exp"].contains(&n);
        for doc in docs {
            skim_agrees(doc, keep_registered);
            skim_agrees(doc, |_| true);
            skim_agrees(doc, |_| false);
        }
        // Nesting is bounded the same way inside a skimmed member.
        for depth in [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1] {
            let doc = format!(
                r#"{{"n":{}1{}}}"#,
                "[".repeat(depth - 1),
                "]".repeat(depth - 1)
            );
            skim_agrees(&doc, keep_registered);
            skim_agrees(&doc, |_| true);
        }
        // UTF-8: valid and invalid, in skimmed and kept strings, in names,
        // outside strings, in plain runs and after an escape.
        let utf8: [&[u8]; 8] = [
            b"{\"n\":\"caf\xc3\xa9\"}",
            b"{\"n\":\"caf\xc3\"}",
            b"{\"sub\":\"caf\xc3\"}",
            b"{\"n\xff\":1}",
            b"{\"n\":1\xff}",
            b"{\"n\":\"\\n\xc3\"}",
            b"{\"n\":\"\xed\xa0\x80\"}",
            b"{\"n\":\"12345678\xf0\x9f\x98\x80\"}",
        ];
        for doc in utf8 {
            skim_agrees_bytes(doc, keep_registered);
            skim_agrees_bytes(doc, |_| true);
            skim_agrees_bytes(doc, |_| false);
        }
        // A large object (the duplicate index).
        let mut doc = String::from("{");
        for i in 0..40 {
            doc.push_str(&format!("\"k{i}\":{{\"v\":{i}}},"));
        }
        doc.push_str("\"k3\":0}");
        skim_agrees(&doc, keep_registered);
    }

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

    #[test]
    fn nesting_is_bounded() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(bad(&deep), ErrorCode::Malformed);
        let hostile = "[".repeat(100_000);
        assert_eq!(bad(&hostile), ErrorCode::Malformed);
    }

    #[test]
    fn lone_surrogates_are_refused() {
        assert_eq!(bad(r#""\ud800""#), ErrorCode::Malformed);
        assert_eq!(bad(r#""\udc00""#), ErrorCode::Malformed);
        assert_eq!(bad(r#""\ud800\u0041""#), ErrorCode::Malformed);
    }

    #[test]
    fn rejects_invalid_syntax() {
        for doc in [
            "",
            "{",
            "{\"a\"}",
            "{\"a\":1,}",
            "[1,]",
            "01",
            "1.",
            ".5",
            "1e",
            "+1",
            "tru",
            "\"a\u{1}\"",
            "{} {}",
            "NaN",
            "\"\\x\"",
            "{'a':1}",
            "1e999",
        ] {
            assert_eq!(bad(doc), ErrorCode::Malformed, "{doc:?}");
        }
        assert_eq!(parse(b"\"\xff\"").unwrap_err().code(), ErrorCode::Malformed);
    }

    #[test]
    fn exact_integers() {
        assert_eq!(Number::Int(5).as_exact_i64(), Some(5));
        assert_eq!(Number::Float(5.0).as_exact_i64(), Some(5));
        assert_eq!(Number::Float(5.5).as_exact_i64(), None);
        assert_eq!(Number::Float(1e300).as_exact_i64(), None);
    }

    #[test]
    fn writer_uses_nip01_escaping() {
        let s = "a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{1}i\u{1f}j\u{7f}k/l&m\u{2028}n\u{e9}";
        let mut out = String::new();
        write_string(s, &mut out);
        assert_eq!(
            out,
            "\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u001fj\u{7f}k/l&m\u{2028}n\u{e9}\""
        );
        // And it reads back to the same string.
        assert_eq!(parse(out.as_bytes()).unwrap().as_str().unwrap(), s);
    }

    #[test]
    fn write_int_matches_display() {
        for i in [
            0,
            1,
            -1,
            9,
            10,
            -10,
            1_767_225_600,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ] {
            let mut out = String::from("x");
            write_int(i, &mut out);
            assert_eq!(out, format!("x{i}"));
        }
    }
}
