//! NWT claims (kind 27519) and NIP-98 verification (kind 27235) against a
//! fixed request.
//!
//! Input: a mode byte, a flags byte, then
//! - mode even: an event JSON, verified as received (the vectors' signed
//!   events reach the claim checks this way);
//! - mode odd: a time byte, a content piece, then the tags as a JSON array
//!   of arrays of strings; the target signs an event with them (kind from
//!   the mode) so the claim, time, URL, method and payload rules behind the
//!   signature are reached.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tessera_core::internal::nostr::nip98::Nip98Tags;
use tessera_core::{HttpRequest, Nip98Options, NostrPublicKey};
use tessera_core::internal::nostr::{verify_nip98, verify_nwt, Event, NostrSecretKey, NwtClaimSet, NIP98_KIND, NWT_KIND};
use tessera_core::{ErrorCode, Format, Policy};
use tessera_fuzz::{check_code, nostr_secret, nostr_trusted, Reader, NOW};

const BODY: &[u8] = b"{\"cookie\":true}";
const REQUEST: HttpRequest<'static> = HttpRequest {
    url: "https://api.example/v1/auth/login?next=%2F",
    method: "POST",
    body: Some(BODY),
};

fn untrusted() -> &'static NostrSecretKey {
    static U: OnceLock<NostrSecretKey> = OnceLock::new();
    U.get_or_init(|| NostrSecretKey::from_bytes([0x05; 32]).expect("key"))
}

fn policy(flags: u8) -> Policy {
    let mut p = Policy::default();
    if flags & 1 != 0 {
        p.audiences = vec!["https://api.example".into(), "api.example".into()];
    }
    if flags & 2 != 0 {
        p.require_exp = false;
    }
    if flags & 4 != 0 {
        p.issuer = Some(nostr_secret().public_key().to_hex());
    }
    if flags & 8 != 0 {
        p.max_lifetime = Some(600);
    }
    if flags & 16 != 0 {
        p.required_claims = vec!["role".into()];
    }
    p
}

fn check(ev: &Event, flags: u8, now: i64) {
    let p = policy(flags);
    let trusted: &[NostrPublicKey] = if flags & 32 != 0 {
        nostr_trusted()
    } else {
        &[]
    };
    let options = Nip98Options {
        require_payload: flags & 64 != 0,
        unchecked_payload: flags & 128 != 0,
    };
    let signer_trusted = trusted.contains(&ev.pubkey);

    match NwtClaimSet::from_tags(&ev.tags) {
        Ok(c) => {
            for (name, v) in [
                ("exp", c.times.exp),
                ("nbf", c.times.nbf),
                ("iat", c.times.iat),
            ] {
                if let Some(t) = v {
                    assert!(t >= 0, "negative `{name}` accepted");
                }
            }
        }
        Err(e) => check_code(e.code()),
    }
    match verify_nwt(ev, &p, trusted, now) {
        Ok(id) => {
            assert_eq!(ev.kind, NWT_KIND);
            assert_eq!(id.format, Format::Nwt);
            assert_eq!(id.id.as_deref(), Some(ev.id_hex().as_str()));
            if !trusted.is_empty() {
                assert!(signer_trusted, "untrusted signer accepted");
            }
            if !signer_trusted {
                assert_eq!(
                    id.subject,
                    ev.pubkey.to_hex(),
                    "subject named by an untrusted signer"
                );
            }
            if !p.audiences.is_empty() {
                assert!(id.audience.iter().any(|a| p.audiences.contains(a)));
            }
            match id.expires_at {
                Some(exp) => assert!(now < exp.saturating_add(p.leeway)),
                None => assert!(!p.require_exp),
            }
        }
        Err(e) => check_code(e.code()),
    }
    match Nip98Tags::from_event(ev) {
        Ok(t) => assert!(ev
            .tags
            .iter()
            .any(|tag| tag.len() == 2 && tag[0] == "u" && tag[1] == t.url)),
        Err(e) => check_code(e.code()),
    }
    for request in [
        &REQUEST,
        &HttpRequest {
            body: None,
            ..REQUEST
        },
    ] {
        match verify_nip98(ev, &p, trusted, request, &options, now) {
            Ok(id) => {
                assert_eq!(ev.kind, NIP98_KIND);
                assert_eq!(id.format, Format::Nip98);
                let tags = Nip98Tags::from_event(ev).expect("verified tags parse");
                assert_eq!(tags.url, request.url);
                assert!(tags.method.eq_ignore_ascii_case(request.method));
                assert!(ev.created_at >= now - p.nip98_max_age);
                assert!(ev.created_at <= now + p.nip98_max_future);
                if options.require_payload && request.body.is_some_and(|b| !b.is_empty()) {
                    assert!(tags.payload.is_some(), "body without payload hash accepted");
                }
            }
            Err(e) => {
                check_code(e.code());
                if ev.kind != NIP98_KIND {
                    assert_eq!(e.code(), ErrorCode::WrongKind);
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let mode = r.byte();
    let flags = r.byte();
    if mode & 1 == 0 {
        if let Ok(ev) = Event::from_json(r.rest()) {
            // The vectors' events are from 2022-2025: judge them at their own
            // time too.
            check(&ev, flags, NOW);
            check(&ev, flags, ev.created_at.saturating_add(5));
        }
        return;
    }
    let time = r.byte();
    let content = String::from_utf8_lossy(r.piece()).into_owned();
    let Ok(tags) = serde_json::from_slice::<Vec<Vec<String>>>(r.rest()) else {
        return;
    };
    let kind = match (mode >> 1) % 4 {
        0 | 1 => NWT_KIND,
        2 => NIP98_KIND,
        _ => u16::from(time),
    };
    let signer = if mode & 0x80 == 0 {
        nostr_secret()
    } else {
        untrusted()
    };
    let created_at = NOW - 120 + i64::from(time);
    let ev = Event::sign_with_aux(signer, created_at, kind, tags, content, &[0x33; 32])
        .expect("signing");
    ev.verify().expect("own event does not verify");
    check(&ev, flags, NOW);
});
