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
//! Writing goes through `serde_json` ([`to_string`], [`to_vec`]; `Value`
//! is `Serialize`), whose compact output has the NIP-01 escaping rules:
//! only `\n \" \\ \r \t \b \f` get short escapes, other control characters
//! become `\u00xx` (lowercase hex), everything else is written verbatim.
//! A [`Value`] is also a `serde::Deserializer` ([`from_value`]): the one
//! value type the verifier and the server's request bodies read.

mod deserialize;
mod flat;
mod parse;
mod serialize;
mod value;

pub use deserialize::from_value;
pub use flat::{flat_object, FlatNames, FlatValue, FLAT_MAX_MEMBERS};
pub use parse::{parse, parse_object, read_object, skim_object};
pub use serialize::{to_string, to_vec};
pub use value::{Number, Object, Value};

/// Maximum nesting of arrays and objects.
pub const MAX_DEPTH: usize = 32;

#[cfg(test)]
mod tests;
