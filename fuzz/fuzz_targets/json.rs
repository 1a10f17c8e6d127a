//! tessera's strict JSON reader, against serde_json as a reference.
//!
//! Properties: whatever tessera accepts, serde_json accepts too, with the
//! same value (tessera refuses more: duplicate names, lone surrogates, deep
//! nesting); tessera's own output reads back to the same value; an object
//! reader agrees with the value reader, and so does the skimming reader
//! (`skim_object`: same verdict and error; names in order, kept values as
//! parsed, the others `Null`); whatever the flat reader (`flat_object`, the
//! claims-set fast path) reads, the full reader reads the same, and
//! `read_object` gives `parse_object`'s result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::{Number, Value};
use tessera_core::internal::json;
use tessera_fuzz::check_code;

fn same(ours: &Value, theirs: &serde_json::Value) -> bool {
    use serde_json::Value as S;
    match (ours, theirs) {
        (Value::Null, S::Null) => true,
        (Value::Bool(a), S::Bool(b)) => a == b,
        // serde_json reads `-0` as the float -0.0; tessera as the integer 0.
        (Value::Number(Number::Int(a)), S::Number(b)) => {
            b.as_i64() == Some(*a) || (b.is_f64() && b.as_f64() == Some(*a as f64))
        }
        (Value::Number(Number::Float(a)), S::Number(b)) => {
            // serde_json reads big integers as u64 or f64, and its default
            // float reader may be off by one unit in the last place.
            b.as_f64()
                .is_some_and(|b| b == *a || (a - b).abs() <= a.abs() * 4.0 * f64::EPSILON)
        }
        (Value::String(a), S::String(b)) => a == b,
        (Value::Array(a), S::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), S::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => false,
    }
}

/// Keeps the members whose name starts with a letter before `n`.
fn keep(name: &[u8]) -> bool {
    name.first().is_some_and(|c| (b'a'..b'n').contains(c))
}

fn skim_agrees(data: &[u8]) {
    let full = json::parse_object(data);
    let skim = json::skim_object(data, keep);
    match (&full, &skim) {
        (Ok(full), Ok(skim)) => {
            assert_eq!(full.len(), skim.len());
            for ((name, f), (sname, s)) in full.iter().zip(skim.iter()) {
                assert_eq!(name, sname);
                let want = if keep(name.as_bytes()) {
                    f.clone()
                } else {
                    Value::Null
                };
                assert_eq!(*s, want);
            }
        }
        (Err(a), Err(b)) => assert_eq!((a.code(), a.message()), (b.code(), b.message())),
        _ => panic!("parse_object and skim_object disagree"),
    }
}

const RAW_VALUE_MARKER: &[u8] = b"$serde_json::private::RawValue";

fn contains(data: &[u8], needle: &[u8]) -> bool {
    data.windows(needle.len()).any(|w| w == needle)
}

/// The flat reader declines or reads exactly what the full reader reads.
fn flat_agrees(data: &[u8]) {
    let mut members = Vec::new();
    let mut names = json::FlatNames::new();
    let read = json::flat_object(data, &mut names, |n, v| members.push((n, v.to_value())));
    let full = json::parse_object(data);
    if read {
        let full = full.expect("the flat reader read what the full reader refuses");
        assert_eq!(full.len(), members.len());
        assert_eq!(names.len(), members.len());
        for ((name, value), (fname, fvalue)) in members.iter().zip(full.iter()) {
            assert_eq!((*name, value), (fname, fvalue));
            assert!(names.contains(fname));
        }
    }
    match (json::read_object(data), json::parse_object(data)) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!((a.code(), a.message()), (b.code(), b.message())),
        _ => panic!("read_object and parse_object disagree"),
    }
}

fuzz_target!(|data: &[u8]| {
    skim_agrees(data);
    flat_agrees(data);
    match json::parse(data) {
        Ok(v) => {
            let theirs: serde_json::Value = match serde_json::from_slice(data) {
                Ok(t) => t,
                // serde_json gives one member name a meaning of its own (its
                // `RawValue` marker, with the `raw_value` feature that other
                // crates of this build turn on): not a JSON rule, so no
                // reference for such a document.
                Err(_) if contains(data, RAW_VALUE_MARKER) => return,
                // serde_json stops at its own recursion limit (128), above ours.
                Err(e) => panic!("tessera accepted what serde_json refuses: {e}"),
            };
            assert!(same(&v, &theirs), "tessera and serde_json disagree");
            let out = v.to_json();
            let again = json::parse(out.as_bytes()).expect("own output refused");
            assert_eq!(again.to_json(), out, "output is not stable");
            assert_eq!(
                json::parse_object(data).is_ok(),
                matches!(v, Value::Object(_))
            );
        }
        Err(e) => {
            check_code(e.code());
            assert!(json::parse_object(data).is_err());
        }
    }
});
