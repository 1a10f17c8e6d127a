//! NIP-01 id serialisation edge cases (formats.md §3): only `\n \" \\ \r \t
//! \b \f` get short escapes, other control characters `\u00xx` in lowercase,
//! everything else verbatim — no `\/`, no `\u0026`, no ASCII-only escaping.

use tessera_core::internal::nostr::{Event, NostrSecretKey};
use tessera_core::ErrorCode;

const PK1: &str = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

fn sk1() -> NostrSecretKey {
    NostrSecretKey::from_hex("0000000000000000000000000000000000000000000000000000000000000001")
        .unwrap()
}

/// Signs `content` (also used as a tag value), checks the exact id
/// serialisation, verifies, and round-trips through JSON.
fn check(content: &str, escaped: &str) {
    let ev = Event::sign(
        &sk1(),
        1_700_000_000,
        1,
        vec![vec!["t".into(), content.into()]],
        content,
    )
    .unwrap();
    let expected = format!("[0,\"{PK1}\",1700000000,1,[[\"t\",\"{escaped}\"]],\"{escaped}\"]");
    assert_eq!(ev.serialize_for_id(), expected, "content {content:?}");
    ev.verify().unwrap();
    let back = Event::from_json(ev.to_json().as_bytes()).unwrap();
    assert_eq!(back, ev);
    back.verify().unwrap();
}

#[test]
fn short_escapes() {
    check(
        "a\nb\"c\\d\re\tf\u{8}g\u{c}h",
        "a\\nb\\\"c\\\\d\\re\\tf\\bg\\fh",
    );
}

#[test]
fn other_control_characters_are_lowercase_u00xx() {
    check(
        "\u{0}\u{1}\u{b}\u{1a}\u{1f}",
        "\\u0000\\u0001\\u000b\\u001a\\u001f",
    );
}

#[test]
fn del_is_not_a_json_control_character() {
    check("x\u{7f}y", "x\u{7f}y");
}

#[test]
fn line_separator_u2028_and_u2029_are_verbatim() {
    check("a\u{2028}b\u{2029}c", "a\u{2028}b\u{2029}c");
}

#[test]
fn ampersand_and_html_characters_are_verbatim() {
    check("a&b<c>d'e", "a&b<c>d'e");
}

#[test]
fn slash_is_not_escaped() {
    check("https://example.com/a/b", "https://example.com/a/b");
}

#[test]
fn non_ascii_is_verbatim_utf8() {
    check("café ☕ 😀 日本", "café ☕ 😀 日本");
}

#[test]
fn escaped_quotes_inside_json_content() {
    check(r#"{"a":"b \"c\""}"#, r#"{\"a\":\"b \\\"c\\\"\"}"#);
}

#[test]
fn input_escapes_are_decoded_before_hashing() {
    // A sender may write `\/`, `\u0026` or `\u00e9`: the id is over the
    // decoded string, serialised the NIP-01 way.
    let ev = Event::sign(&sk1(), 5, 1, vec![], "a/b&c\u{e9}").unwrap();
    let json = ev.to_json().replace("a/b&c\u{e9}", "a\\/b\\u0026c\\u00e9");
    assert!(json.contains("\\u0026"));
    let parsed = Event::from_json(json.as_bytes()).unwrap();
    assert_eq!(parsed.content, "a/b&c\u{e9}");
    assert_eq!(
        parsed.serialize_for_id(),
        format!("[0,\"{PK1}\",5,1,[],\"a/b&c\u{e9}\"]")
    );
    parsed.verify().unwrap();
}

#[test]
fn surrogate_pair_escape_is_one_character() {
    let ev = Event::sign(&sk1(), 5, 1, vec![], "\u{1f600}").unwrap();
    let json = ev.to_json().replace('\u{1f600}', "\\ud83d\\ude00");
    let parsed = Event::from_json(json.as_bytes()).unwrap();
    parsed.verify().unwrap();
}

#[test]
fn lone_surrogate_in_content_is_malformed() {
    let ev = Event::sign(&sk1(), 5, 1, vec![], "X").unwrap();
    for lone in ["\\ud800", "\\udc00", "\\ud83dx"] {
        let json = ev
            .to_json()
            .replace("\"content\":\"X\"", &format!("\"content\":\"{lone}\""));
        assert_eq!(
            Event::from_json(json.as_bytes()).unwrap_err().code(),
            ErrorCode::Malformed,
            "{lone}"
        );
    }
}

#[test]
fn raw_control_character_in_json_string_is_malformed() {
    let ev = Event::sign(&sk1(), 5, 1, vec![], "X").unwrap();
    let json = ev
        .to_json()
        .replace("\"content\":\"X\"", "\"content\":\"a\nb\"");
    assert_eq!(
        Event::from_json(json.as_bytes()).unwrap_err().code(),
        ErrorCode::Malformed
    );
}
