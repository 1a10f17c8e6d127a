//! Reading a [`Value`] as the caller's own type: `Value` is a
//! `serde::Deserializer`, so a document read once by the strict reader
//! (duplicate members refused, nesting bounded, numbers exact) becomes a
//! request body, a claims struct or anything else `Deserialize` without a
//! second JSON value type in between.
//!
//! It follows `serde_json::from_value` (what the server used before):
//! non-negative integers are offered as `u64`, negative ones as `i64`,
//! other numbers as `f64`; `null` is `None`; an enum is a string (a unit
//! variant) or an object of one member; the error messages are serde's
//! own, as `serde_json`'s are for a value.

use super::{Number, Object, Value};
use serde::de::value::{Error, MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

/// `value` as a `T`.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    T::deserialize(value)
}

impl Object {
    fn into_deserializer_map(
        self,
    ) -> MapDeserializer<'static, impl Iterator<Item = (String, Value)>, Error> {
        MapDeserializer::new(
            self.members
                .into_iter()
                .map(|(name, value)| (name.as_str().to_owned(), value)),
        )
    }
}

impl IntoDeserializer<'_, Error> for Value {
    type Deserializer = Value;

    fn into_deserializer(self) -> Value {
        self
    }
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(Number::Int(i)) => match u64::try_from(i) {
                Ok(u) => visitor.visit_u64(u),
                Err(_) => visitor.visit_i64(i),
            },
            Value::Number(Number::Float(f)) => visitor.visit_f64(f),
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter());
                let out = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(out)
            }
            Value::Object(o) => {
                let mut map = o.into_deserializer_map();
                let out = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(out)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            Value::Object(o) if o.len() == 1 => visitor.visit_enum(
                de::value::MapAccessDeserializer::new(o.into_deserializer_map()),
            ),
            other => Err(de::Error::invalid_type(
                other.unexpected(),
                &"string or map",
            )),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl Value {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match self {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Number(Number::Int(i)) => match u64::try_from(*i) {
                Ok(u) => de::Unexpected::Unsigned(u),
                Err(_) => de::Unexpected::Signed(*i),
            },
            Value::Number(Number::Float(f)) => de::Unexpected::Float(*f),
            Value::String(s) => de::Unexpected::Str(s),
            Value::Array(_) => de::Unexpected::Seq,
            Value::Object(_) => de::Unexpected::Map,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Body {
        name: Option<String>,
        #[serde(default)]
        flag: bool,
        n: Option<u16>,
        list: Option<Vec<i64>>,
        kind: Option<Kind>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Siwe,
        Portal,
    }

    /// The same document through `serde_json::from_value`: the same
    /// result, the same error text.
    fn both(doc: &str) -> (Result<Body, String>, Result<Body, String>) {
        let ours = from_value::<Body>(parse(doc.as_bytes()).unwrap()).map_err(|e| e.to_string());
        let theirs = serde_json::from_value::<Body>(serde_json::from_str(doc).unwrap())
            .map_err(|e| e.to_string());
        (ours, theirs)
    }

    #[test]
    fn reads_as_serde_json_does() {
        for doc in [
            r#"{}"#,
            r#"{"name":"a\u00e9","flag":true,"n":65535,"list":[1,-2],"kind":"portal"}"#,
            r#"{"name":null,"n":null}"#,
            r#"{"other":1}"#,
            r#"{"name":5}"#,
            r#"{"name":-5}"#,
            r#"{"name":1.5}"#,
            r#"{"flag":"yes"}"#,
            r#"{"n":65536}"#,
            r#"{"n":-1}"#,
            r#"{"list":{}}"#,
            r#"{"kind":"other"}"#,
            r#"{"kind":{"siwe":null}}"#,
            r#"{"kind":3}"#,
            r#"[]"#,
            r#"[null]"#,
            r#""text""#,
        ] {
            let (ours, theirs) = both(doc);
            assert_eq!(ours, theirs, "{doc}");
        }
    }
}
