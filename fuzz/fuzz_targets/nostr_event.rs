//! Nostr event JSON parsing (NIP-01) and the id check.
//!
//! Input: a mode byte, then either the event JSON (mode even) or an
//! `Authorization: Nostr` credential, base64 of either alphabet (mode odd).
//! Properties: a parsed event writes back to JSON that parses to the same
//! event; its id serialisation is the JSON array NIP-01 defines, holding
//! exactly the event's fields (checked with serde_json, an independent
//! reader); `verify` succeeds only when the stated id is the computed one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value as Serde;
use tessera_core::internal::nostr::{decode_authorization_event, Event};
use tessera_core::{ErrorCode, Policy};
use tessera_fuzz::{check_code, Reader};

fn check_event(ev: &Event) {
    let json = ev.to_json();
    let back = Event::from_json(json.as_bytes()).expect("own JSON refused");
    assert_eq!(&back, ev, "to_json does not round-trip");

    let ser = ev.serialize_for_id();
    let arr: Serde = serde_json::from_str(&ser).expect("id serialisation is not JSON");
    let arr = arr.as_array().expect("id serialisation is an array");
    assert_eq!(arr.len(), 6);
    assert_eq!(arr[0], Serde::from(0));
    assert_eq!(arr[1], Serde::from(ev.pubkey.to_hex()));
    assert_eq!(arr[2], Serde::from(ev.created_at));
    assert_eq!(arr[3], Serde::from(ev.kind));
    let tags: Vec<Vec<String>> =
        serde_json::from_value(arr[4].clone()).expect("tags are arrays of strings");
    assert_eq!(tags, ev.tags);
    assert_eq!(arr[5].as_str(), Some(ev.content.as_str()));

    match ev.verify() {
        Ok(()) => assert_eq!(ev.compute_id(), ev.id),
        Err(e) => {
            check_code(e.code());
            if ev.compute_id() != ev.id {
                assert_eq!(e.code(), ErrorCode::IdMismatch);
            } else {
                assert_eq!(e.code(), ErrorCode::BadSignature);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let mode = r.byte();
    let input = r.rest();
    let parsed = if mode & 1 == 0 {
        Event::from_json(input)
    } else {
        let Ok(text) = std::str::from_utf8(input) else {
            return;
        };
        decode_authorization_event(text, &Policy::default())
    };
    match parsed {
        Ok(ev) => check_event(&ev),
        Err(e) => check_code(e.code()),
    }
});
