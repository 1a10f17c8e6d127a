//! Claim headers: safe names, and no value can inject a header.

use super::*;
use percent_encoding::percent_decode_str;
use serde_json::json;

fn headers(names: &[&str]) -> ClaimHeaders {
    ClaimHeaders::new(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

fn values(names: &[&str], claims: serde_json::Value) -> ClaimHeaderValues {
    headers(names).values(&test_identity("s", &[], claims))
}

fn sent(v: &ClaimHeaderValues) -> Vec<(String, String)> {
    v.headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn scope_and_role_become_x_auth_claim_headers() {
    let v = values(
        &["scope", "Role", "amr", "n", "ok"],
        json!({"scope": "upload delete", "Role": "admin", "amr": ["siwe", "nostr"], "n": 7, "ok": true}),
    );
    assert_eq!(
        sent(&v),
        [
            ("x-auth-claim-scope".into(), "upload delete".into()),
            ("x-auth-claim-role".into(), "admin".into()),
            ("x-auth-claim-amr".into(), "siwe nostr".into()),
            ("x-auth-claim-n".into(), "7".into()),
            ("x-auth-claim-ok".into(), "true".into()),
        ]
    );
    assert!(v.skipped.is_empty());
    // An absent claim sends nothing.
    assert!(values(&["scope"], json!({})).headers.is_empty());
}

#[test]
fn header_names_are_refused_unless_letters_digits_and_dashes() {
    for bad in [
        "email_verified",
        "",
        "a b",
        "-x",
        "x-",
        "x\r\nSet-Cookie",
        "caf\u{e9}",
        "a.b",
        "a:b",
        &"a".repeat(65),
    ] {
        let e = ClaimHeaders::new(&[bad.to_string()]).unwrap_err();
        assert!(e.0.contains("claim_headers"), "{bad:?}: {e}");
    }
    let e = ClaimHeaders::new(&["Role".into(), "role".into()]).unwrap_err();
    assert!(e.0.contains("x-auth-claim-role"), "{e}");
    let many: Vec<String> = (0..33).map(|i| format!("c{i}")).collect();
    assert!(ClaimHeaders::new(&many).is_err());
    assert_eq!(
        headers(&["tenant-id"])
            .names()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["x-auth-claim-tenant-id"]
    );
}

#[test]
fn no_claim_value_can_inject_a_header() {
    let nasty = [
        "admin\r\nX-Auth-Subject: root",
        "admin\nSet-Cookie: a=b",
        "a\rb",
        "nul\u{0}byte",
        "tab\there",
        "del\u{7f}",
        "esc\u{1b}[31m",
        "Jos\u{e9} \u{2028} \u{85}",
        "100% %0D%0A",
        " padded ",
        "   ",
    ];
    for s in nasty {
        for value in [json!(s), json!([s, "x"])] {
            let v = values(&["c"], json!({ "c": value }));
            let [(_, header)] = &v.headers[..] else {
                panic!("{value}: {:?}", v.skipped);
            };
            let bytes = header.as_bytes();
            assert!(
                bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' '),
                "{value}: {header:?}"
            );
            assert!(
                !bytes.starts_with(b" ") && !bytes.ends_with(b" "),
                "{value}: {header:?}"
            );
            // Reversible: each space-separated element decodes back.
            let text = header.to_str().unwrap();
            let decoded = |t: &str| percent_decode_str(t).decode_utf8().unwrap().into_owned();
            match &value {
                serde_json::Value::String(_) => assert_eq!(decoded(text), s),
                _ => {
                    let parts: Vec<String> = text.split(' ').map(decoded).collect();
                    assert_eq!(parts, [s, "x"], "{text}");
                }
            }
        }
    }
    let v = values(&["c"], json!({"c": "line\r\nX-Evil: 1"}));
    assert_eq!(sent(&v)[0].1, "line%0D%0AX-Evil: 1");
    assert_eq!(
        sent(&values(&["c"], json!({"c": "Jos\u{e9}"})))[0].1,
        "Jos%C3%A9"
    );
}

#[test]
fn long_objects_nulls_and_nested_arrays_are_left_out() {
    let long = "a".repeat(MAX_VALUE_BYTES + 1);
    let fits = "a".repeat(MAX_VALUE_BYTES);
    let many: Vec<String> = (0..2000).map(|i| format!("s{i}")).collect();
    for claim in [
        json!(long),
        json!(many),
        json!("\u{1}".repeat(MAX_VALUE_BYTES / 3 + 1)),
        json!({"a": 1}),
        json!(null),
        json!([["nested"]]),
        json!(["a", null]),
        json!(["a", {"b": 1}]),
    ] {
        let v = values(&["c"], json!({ "c": claim }));
        assert!(v.headers.is_empty(), "{claim}");
        assert_eq!(v.skipped.len(), 1, "{claim}");
        assert_eq!(v.skipped[0].0, "c");
    }
    assert_eq!(values(&["c"], json!({ "c": fits })).headers.len(), 1);
}
