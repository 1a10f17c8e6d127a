//! The compact writer, with the NIP-01 escaping rules.

use super::{Number, Value};

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
    use super::super::parse;
    use super::*;

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

/// The writer above against `serde_json`, byte for byte, before this
/// writer is removed (issue 18).
#[cfg(test)]
mod against_serde_json {
    use super::*;
    use crate::json::Object;
    use proptest::prelude::*;

    /// Strings weighted towards what needs escaping: every control
    /// character, quotes, backslashes, DEL, `/`, U+2028/2029, non-ASCII of
    /// every UTF-8 length; and any `char` at all.
    fn text() -> impl Strategy<Value = String> {
        let special = prop_oneof![
            (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or('?')),
            Just('"'),
            Just('\\'),
            Just('/'),
            Just('\u{7f}'),
            Just('\u{2028}'),
            Just('\u{2029}'),
            Just('\u{e9}'),
            Just('\u{fffd}'),
            Just('\u{1f600}'),
            Just('a'),
        ];
        let ch = prop_oneof![3 => special, 1 => any::<char>()];
        proptest::collection::vec(ch, 0..24).prop_map(|v| v.into_iter().collect())
    }

    /// Floats of every magnitude, and the edges of `{:?}`'s exponent form.
    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>(),
            (-1e6f64..1e6),
            (-1e-3f64..1e-3),
            (-1e30f64..1e30),
            Just(0.0),
            Just(-0.0),
            Just(1e16),
            Just(9_999_999_999_999_998.0),
            Just(1e-4),
            Just(1e-5),
            Just(f64::MIN_POSITIVE),
            Just(f64::MAX),
        ]
        .prop_filter("finite", |f| f.is_finite())
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| Value::Number(Number::Int(i))),
            float().prop_map(|f| Value::Number(Number::Float(f))),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((text(), inner), 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect::<Object>())),
            ]
        })
    }

    proptest! {
        #[test]
        fn strings_are_written_alike(s in text()) {
            let mut old = String::new();
            write_string(&s, &mut old);
            prop_assert_eq!(&old, &serde_json::to_string(&s).unwrap());
            prop_assert_eq!(old, crate::json::to_string(&s));
        }

        #[test]
        fn integers_are_written_alike(i in any::<i64>()) {
            let mut old = String::new();
            write_int(i, &mut old);
            prop_assert_eq!(old, crate::json::to_string(&i));
        }

        #[test]
        fn floats_are_written_alike(f in float()) {
            let mut old = String::new();
            write_value(&Value::Number(Number::Float(f)), &mut old);
            prop_assert_eq!(old, crate::json::to_string(&f));
        }

        #[test]
        fn values_are_written_alike(v in value()) {
            let mut old = String::new();
            write_value(&v, &mut old);
            prop_assert_eq!(old, crate::json::to_string(&v));
        }
    }
}
