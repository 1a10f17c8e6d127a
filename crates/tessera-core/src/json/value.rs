//! The parsed representation: [`Value`], [`Number`], [`Object`] and the
//! inline member [`Name`].

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
pub(super) const INLINE_NAME: usize = 22;

/// A member name. Short names (every registered JWT claim and JOSE header
/// parameter, most custom claims) are kept inline: parsing a claims set
/// then allocates nothing for its names.
#[derive(Clone)]
pub(super) enum Name {
    Inline { len: u8, bytes: [u8; INLINE_NAME] },
    Heap(Box<str>),
}

impl Name {
    // The parser, in another module, calls this per member name.
    #[inline]
    pub(super) fn new(s: &str) -> Name {
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

    // The parser, in another module, calls this per member name.
    #[inline]
    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            Name::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Name::Heap(s) => s.as_bytes(),
        }
    }

    pub(super) fn as_str(&self) -> &str {
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
    pub(super) members: Vec<(Name, Value)>,
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

    /// Compact JSON text (NIP-01 escaping), written by `serde_json`.
    pub fn to_json(&self) -> String {
        super::to_string(self)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_integers() {
        assert_eq!(Number::Int(5).as_exact_i64(), Some(5));
        assert_eq!(Number::Float(5.0).as_exact_i64(), Some(5));
        assert_eq!(Number::Float(5.5).as_exact_i64(), None);
        assert_eq!(Number::Float(1e300).as_exact_i64(), None);
    }
}
