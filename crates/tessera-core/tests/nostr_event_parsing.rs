//! Strict parsing of Nostr events and of the `Authorization: Nostr`
//! transport (formats.md §3-§5): types, lengths, hex case, members, size,
//! base64 in either alphabet, each strictly.

use tessera_core::internal::nostr::{
    decode_authorization_event, nwt_authorization, Event, NostrSecretKey,
};
use tessera_core::{ErrorCode, Policy};

const NOW: i64 = 1_767_957_600;

use tessera_testkit::fixtures::{nostr_key as sk, tags};

fn nwt(signer: &NostrSecretKey, t: &[&[&str]]) -> Event {
    Event::sign(signer, NOW, 27519, tags(t), "Sign in to api.example.com").unwrap()
}

fn exp_ok() -> String {
    (NOW + 300).to_string()
}

fn json_of(ev: &Event) -> String {
    ev.to_json()
}

#[test]
fn uppercase_hex_id_is_malformed() {
    let ev = nwt(&sk(1), &[&["exp", &exp_ok()]]);
    let json = json_of(&ev).replace(&ev.id_hex(), &ev.id_hex().to_uppercase());
    assert_eq!(
        Event::from_json(json.as_bytes()).unwrap_err().code(),
        ErrorCode::Malformed
    );
    let pk = ev.pubkey.to_hex();
    let json = json_of(&ev).replace(&pk, &pk.to_uppercase());
    assert_eq!(
        Event::from_json(json.as_bytes()).unwrap_err().code(),
        ErrorCode::Malformed
    );
    let json = json_of(&ev).replace(&ev.sig_hex(), &ev.sig_hex()[..126]);
    assert_eq!(
        Event::from_json(json.as_bytes()).unwrap_err().code(),
        ErrorCode::Malformed
    );
}

#[test]
fn non_string_tag_element_is_malformed() {
    let ev = nwt(&sk(1), &[&["exp", "1767957900"]]);
    for bad in [
        r#"[["exp",1767957900]]"#,
        r#"[["exp",null]]"#,
        r#"[["exp",["1767957900"]]]"#,
        r#"["exp"]"#,
        r#"{"exp":"1767957900"}"#,
    ] {
        let json = json_of(&ev).replace(r#"[["exp","1767957900"]]"#, bad);
        assert_ne!(json, json_of(&ev));
        assert_eq!(
            Event::from_json(json.as_bytes()).unwrap_err().code(),
            ErrorCode::Malformed,
            "{bad}"
        );
    }
}

#[test]
fn member_types_and_presence_are_strict() {
    let ev = nwt(&sk(1), &[]);
    let good = json_of(&ev);
    let created = format!("\"created_at\":{NOW}");
    for (from, to) in [
        (created.as_str(), "\"created_at\":-1"),
        (created.as_str(), "\"created_at\":1767957600.5"),
        (created.as_str(), "\"created_at\":1.7679576e9"),
        (created.as_str(), "\"created_at\":\"1767957600\""),
        ("\"kind\":27519", "\"kind\":65536"),
        ("\"kind\":27519", "\"kind\":-1"),
        ("\"kind\":27519", "\"kind\":\"27519\""),
        (
            "\"content\":\"Sign in to api.example.com\"",
            "\"content\":null",
        ),
        ("\"tags\":[]", "\"tags\":{}"),
        ("\"tags\":[],", ""),
        ("{\"id\"", "{\"extra\":1,\"id\""),
        ("{\"id\"", "{\"id\":\"x\",\"id\""),
    ] {
        let json = good.replacen(from, to, 1);
        assert_ne!(json, good, "{from}");
        assert_eq!(
            Event::from_json(json.as_bytes()).unwrap_err().code(),
            ErrorCode::Malformed,
            "{to}"
        );
    }
}

#[test]
fn pubkey_that_is_not_a_curve_point_is_malformed() {
    let ev = nwt(&sk(1), &[]);
    // BIP-340 vector 5's public key is not on the curve.
    let off_curve = "eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34";
    let json = json_of(&ev).replace(&ev.pubkey.to_hex(), off_curve);
    assert_eq!(
        Event::from_json(json.as_bytes()).unwrap_err().code(),
        ErrorCode::Malformed
    );
}

#[test]
fn authorization_size_limit_applies_before_decoding() {
    let policy = Policy {
        max_token_size: 100,
        ..Policy::default()
    };
    let huge = "A".repeat(101);
    assert_eq!(
        decode_authorization_event(&huge, &policy)
            .unwrap_err()
            .code(),
        ErrorCode::TokenTooLarge
    );
}

#[test]
fn authorization_base64_is_strict_in_either_alphabet() {
    // Pick a content length whose JSON needs padding (length = 1 mod 3), so
    // that standard base64 ends in "==" and base64url has 2 spare characters.
    let ev = (0..3)
        .map(|k| {
            Event::sign(
                &sk(1),
                NOW,
                27519,
                tags(&[&["exp", &exp_ok()]]),
                "x".repeat(k),
            )
            .unwrap()
        })
        .find(|e| e.to_json().len() % 3 == 1)
        .unwrap();
    let url = nwt_authorization(&ev)["Nostr ".len()..].to_owned();
    let std = tessera_core::internal::encoding::b64std_encode(ev.to_json().as_bytes());
    assert!(std.ends_with("=="));
    assert_eq!(
        decode_authorization_event(&url, &Policy::default()).unwrap(),
        ev
    );
    assert_eq!(
        decode_authorization_event(&std, &Policy::default()).unwrap(),
        ev
    );
    for bad in [
        // base64url with (wrong) padding
        format!("{url}="),
        // standard padding dropped
        std.trim_end_matches('=').to_owned() + "=",
        // alphabets mixed
        format!("-{}", &std[1..]),
        // whitespace
        format!("{url} "),
        // non-zero unused bits (a canonical 2-character tail ends in a
        // character whose low 4 bits are zero; 'B' is 1)
        format!("{}B", &url[..url.len() - 1]),
    ] {
        assert_eq!(
            decode_authorization_event(&bad, &Policy::default())
                .unwrap_err()
                .code(),
            ErrorCode::Malformed,
            "{bad}"
        );
    }
}
