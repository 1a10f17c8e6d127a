//! Tests of the reader as a whole, through its public functions: syntax,
//! duplicates, nesting, member names read back and written out, and the
//! skim reader held to the full one.

use super::value::INLINE_NAME;
use super::*;
use crate::ErrorCode;

fn bad(s: &str) -> ErrorCode {
    parse(s.as_bytes()).unwrap_err().code()
}

#[test]
fn parses_documents() {
    let v = parse(br#" {"a":[1,-2,3.5,"x\u00e9\ud83d\ude00",true,false,null],"b":{}} "#).unwrap();
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
