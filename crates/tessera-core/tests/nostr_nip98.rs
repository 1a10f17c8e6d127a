//! NIP-98 HTTP Auth (kind 27235), one test per rule of formats.md §5.

use tessera_core::internal::nostr::{
    decode_authorization_event, issue_nip98, nip98_authorization, verify_authorization_event,
    verify_nip98, Event, NostrSecretKey,
};
use tessera_core::{ErrorCode, Format, Policy};
use tessera_core::{HttpRequest, Nip98Options};

const NOW: i64 = 1_700_000_000;
const URL: &str = "https://api.example.com/v1/auth/login?next=%2Fhome";
const BODY: &[u8] = br#"{"hello":"world"}"#;

fn sk(n: u8) -> NostrSecretKey {
    let mut b = [0u8; 32];
    b[31] = n;
    NostrSecretKey::from_bytes(b).unwrap()
}

fn post(body: Option<&'static [u8]>) -> HttpRequest<'static> {
    HttpRequest {
        url: URL,
        method: "POST",
        body,
    }
}

fn event(created_at: i64, tags: &[&[&str]]) -> Event {
    let tags = tags
        .iter()
        .map(|t| t.iter().map(|s| (*s).to_owned()).collect())
        .collect();
    Event::sign(&sk(1), created_at, 27235, tags, "").unwrap()
}

fn code(r: tessera_core::Result<tessera_core::Identity>) -> ErrorCode {
    r.unwrap_err().code()
}

#[test]
fn issued_event_verifies_for_its_request() {
    let ev = issue_nip98(&sk(1), URL, "POST", Some(BODY), NOW).unwrap();
    let id = verify_nip98(
        &ev,
        &Policy::default(),
        &[],
        &post(Some(BODY)),
        &Nip98Options::default(),
        NOW,
    )
    .unwrap();
    assert_eq!(id.format, Format::Nip98);
    assert_eq!(id.alg.name(), "BIP340");
    assert_eq!(id.subject, sk(1).public_key().to_hex());
    assert_eq!(id.issued_at, Some(NOW));
    // NIP-98 has no exp: the default policy's require_exp does not apply,
    // and the freshness window is its expiry.
    assert_eq!(id.expires_at, Some(NOW + 60));
    assert_eq!(id.id, Some(ev.id_hex()));
    assert_eq!(id.claims.get("u").and_then(|v| v.as_str()), Some(URL));
}

#[test]
fn header_is_padded_standard_base64_and_decodes() {
    let ev = issue_nip98(&sk(1), URL, "GET", None, NOW).unwrap();
    let header = nip98_authorization(&ev);
    let b64 = header.strip_prefix("Nostr ").unwrap();
    assert_eq!(b64.len() % 4, 0);
    assert!(!b64.contains(['-', '_']));
    assert_eq!(
        decode_authorization_event(b64, &Policy::default()).unwrap(),
        ev
    );
    let get = HttpRequest {
        url: URL,
        method: "GET",
        body: None,
    };
    let id = verify_authorization_event(
        b64,
        &Policy::default(),
        &[],
        Some(&get),
        &Nip98Options::default(),
        NOW,
    )
    .unwrap();
    assert_eq!(id.format, Format::Nip98);
    // Without the request, a NIP-98 event cannot be checked.
    assert_eq!(
        code(verify_authorization_event(
            b64,
            &Policy::default(),
            &[],
            None,
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::UrlMismatch
    );
}

#[test]
fn wrong_url_is_url_mismatch() {
    let ev = event(NOW, &[&["u", URL], &["method", "POST"]]);
    for other in [
        "https://api.example.com/v1/auth/login",
        "https://api.example.com/v1/auth/login?next=%2fhome",
        "http://api.example.com/v1/auth/login?next=%2Fhome",
        "https://api.example.com/v1/auth/login?next=%2Fhome&x=1",
        "https://API.example.com/v1/auth/login?next=%2Fhome",
    ] {
        let req = HttpRequest {
            url: other,
            method: "POST",
            body: None,
        };
        assert_eq!(
            code(verify_nip98(
                &ev,
                &Policy::default(),
                &[],
                &req,
                &Nip98Options::default(),
                NOW
            )),
            ErrorCode::UrlMismatch,
            "{other}"
        );
    }
}

#[test]
fn method_is_compared_case_insensitively() {
    let ev = event(NOW, &[&["u", URL], &["method", "post"]]);
    assert!(verify_nip98(
        &ev,
        &Policy::default(),
        &[],
        &post(None),
        &Nip98Options::default(),
        NOW
    )
    .is_ok());
}

#[test]
fn wrong_method_is_method_mismatch() {
    let ev = event(NOW, &[&["u", URL], &["method", "GET"]]);
    assert_eq!(
        code(verify_nip98(
            &ev,
            &Policy::default(),
            &[],
            &post(None),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::MethodMismatch
    );
}

#[test]
fn stale_in_the_past() {
    let policy = Policy::default(); // 60 s past, 30 s future
    let edge = event(NOW - 60, &[&["u", URL], &["method", "POST"]]);
    assert!(verify_nip98(
        &edge,
        &policy,
        &[],
        &post(None),
        &Nip98Options::default(),
        NOW
    )
    .is_ok());
    let old = event(NOW - 61, &[&["u", URL], &["method", "POST"]]);
    assert_eq!(
        code(verify_nip98(
            &old,
            &policy,
            &[],
            &post(None),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::Stale
    );
}

#[test]
fn stale_in_the_future() {
    let policy = Policy::default();
    let edge = event(NOW + 30, &[&["u", URL], &["method", "POST"]]);
    assert!(verify_nip98(
        &edge,
        &policy,
        &[],
        &post(None),
        &Nip98Options::default(),
        NOW
    )
    .is_ok());
    let ahead = event(NOW + 31, &[&["u", URL], &["method", "POST"]]);
    assert_eq!(
        code(verify_nip98(
            &ahead,
            &policy,
            &[],
            &post(None),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::Stale
    );
}

#[test]
fn window_comes_from_the_policy() {
    let policy = Policy {
        nip98_max_age: 5,
        nip98_max_future: 0,
        ..Policy::default()
    };
    let ev = event(NOW - 6, &[&["u", URL], &["method", "POST"]]);
    assert_eq!(
        code(verify_nip98(
            &ev,
            &policy,
            &[],
            &post(None),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::Stale
    );
    let ev = event(NOW + 1, &[&["u", URL], &["method", "POST"]]);
    assert_eq!(
        code(verify_nip98(
            &ev,
            &policy,
            &[],
            &post(None),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::Stale
    );
}

#[test]
fn payload_hash_must_match_the_body() {
    let ev = issue_nip98(&sk(1), URL, "POST", Some(BODY), NOW).unwrap();
    assert_eq!(
        code(verify_nip98(
            &ev,
            &Policy::default(),
            &[],
            &post(Some(br#"{"hello":"World"}"#)),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::PayloadMismatch
    );
    // A payload tag with no body at all: the empty body does not match.
    assert_eq!(
        code(verify_nip98(
            &ev,
            &Policy::default(),
            &[],
            &post(None),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::PayloadMismatch
    );
}

#[test]
fn payload_tag_must_be_lowercase_hex() {
    let upper =
        tessera_core::internal::encoding::hex_encode(&tessera_core::internal::sha::sha256(BODY))
            .to_uppercase();
    let ev = event(
        NOW,
        &[&["u", URL], &["method", "POST"], &["payload", &upper]],
    );
    assert_eq!(
        code(verify_nip98(
            &ev,
            &Policy::default(),
            &[],
            &post(Some(BODY)),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::Malformed
    );
}

#[test]
fn body_without_payload_tag_is_refused_only_when_required() {
    let ev = issue_nip98(&sk(1), URL, "POST", None, NOW).unwrap();
    assert!(verify_nip98(
        &ev,
        &Policy::default(),
        &[],
        &post(Some(BODY)),
        &Nip98Options::default(),
        NOW
    )
    .is_ok());
    let strict = Nip98Options {
        require_payload: true,
        ..Nip98Options::default()
    };
    assert_eq!(
        code(verify_nip98(
            &ev,
            &Policy::default(),
            &[],
            &post(Some(BODY)),
            &strict,
            NOW
        )),
        ErrorCode::PayloadMismatch
    );
    // An empty body needs no payload tag even then.
    assert!(verify_nip98(&ev, &Policy::default(), &[], &post(Some(b"")), &strict, NOW).is_ok());
}

#[test]
fn unchecked_payload_skips_only_the_payload_comparison() {
    // Signed for BODY; the verifier has no body (a gateway that does not
    // forward it).
    let ev = issue_nip98(&sk(1), URL, "POST", Some(BODY), NOW).unwrap();
    let unchecked = Nip98Options {
        unchecked_payload: true,
        ..Nip98Options::default()
    };
    let verify = |ev: &Event, req: &HttpRequest<'_>, options: &Nip98Options| {
        verify_nip98(ev, &Policy::default(), &[], req, options, NOW)
    };
    // Default: the tag is compared with the empty body, and refused.
    assert_eq!(
        code(verify(&ev, &post(None), &Nip98Options::default())),
        ErrorCode::PayloadMismatch
    );
    // Unchecked: accepted, the tag still in the identity's claims.
    let id = verify(&ev, &post(None), &unchecked).unwrap();
    assert_eq!(id.subject, sk(1).public_key().to_hex());
    assert_eq!(
        id.claims.get("payload").and_then(|v| v.as_str()),
        Some(
            tessera_core::internal::encoding::hex_encode(&tessera_core::internal::sha::sha256(
                BODY
            ))
            .as_str()
        )
    );
    // Everything else is still checked.
    let other_url = HttpRequest {
        url: "https://api.example.com/v1/other",
        ..post(None)
    };
    assert_eq!(
        code(verify(&ev, &other_url, &unchecked)),
        ErrorCode::UrlMismatch
    );
    let get = HttpRequest {
        method: "GET",
        ..post(None)
    };
    assert_eq!(
        code(verify(&get_event(&ev), &get, &unchecked)),
        ErrorCode::IdMismatch
    );
    assert_eq!(
        code(verify(&ev, &get, &unchecked)),
        ErrorCode::MethodMismatch
    );
    let old = issue_nip98(&sk(1), URL, "POST", Some(BODY), NOW - 61).unwrap();
    assert_eq!(
        code(verify(&old, &post(None), &unchecked)),
        ErrorCode::Stale
    );
    let mut forged = ev.clone();
    forged.sig = issue_nip98(&sk(1), URL, "POST", None, NOW).unwrap().sig;
    assert_eq!(
        code(verify(&forged, &post(None), &unchecked)),
        ErrorCode::BadSignature
    );
    assert_eq!(
        code(verify_nip98(
            &ev,
            &Policy::default(),
            &[sk(2).public_key()],
            &post(None),
            &unchecked,
            NOW
        )),
        ErrorCode::UntrustedSigner
    );
    // A malformed payload tag is still malformed.
    let bad = event(NOW, &[&["u", URL], &["method", "POST"], &["payload", "zz"]]);
    assert_eq!(
        code(verify(&bad, &post(None), &unchecked)),
        ErrorCode::Malformed
    );
}

/// `ev` with its `method` tag changed to GET after signing.
fn get_event(ev: &Event) -> Event {
    let mut e = ev.clone();
    for t in &mut e.tags {
        if t[0] == "method" {
            t[1] = "GET".into();
        }
    }
    e
}

#[test]
fn missing_u_or_method_is_missing_claim() {
    let ev = event(NOW, &[&["method", "POST"]]);
    assert_eq!(
        code(verify_nip98(
            &ev,
            &Policy::default(),
            &[],
            &post(None),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::MissingClaim
    );
    let ev = event(NOW, &[&["u", URL]]);
    assert_eq!(
        code(verify_nip98(
            &ev,
            &Policy::default(),
            &[],
            &post(None),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::MissingClaim
    );
}

#[test]
fn repeated_or_valueless_binding_tags_are_malformed() {
    for tags in [
        &[&["u", URL][..], &["u", URL], &["method", "POST"]][..],
        &[&["u", URL], &["method", "POST"], &["method", "POST"]],
        &[&["u"], &["method", "POST"]],
        &[&["u", URL, "extra"], &["method", "POST"]],
    ] {
        let ev = event(NOW, tags);
        assert_eq!(
            code(verify_nip98(
                &ev,
                &Policy::default(),
                &[],
                &post(None),
                &Nip98Options::default(),
                NOW
            )),
            ErrorCode::Malformed,
            "{tags:?}"
        );
    }
}

#[test]
fn wrong_kind_is_refused() {
    let tags = vec![
        vec!["u".to_owned(), URL.to_owned()],
        vec!["method".to_owned(), "POST".to_owned()],
    ];
    let nwt = Event::sign(&sk(1), NOW, 27519, tags, "").unwrap();
    assert_eq!(
        code(verify_nip98(
            &nwt,
            &Policy::default(),
            &[],
            &post(None),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::WrongKind
    );
}

#[test]
fn tampered_tag_is_id_mismatch() {
    let mut ev = issue_nip98(&sk(1), URL, "GET", None, NOW).unwrap();
    ev.tags[1][1] = "POST".into();
    assert_eq!(
        code(verify_nip98(
            &ev,
            &Policy::default(),
            &[],
            &post(None),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::IdMismatch
    );
}

#[test]
fn nip98_document_example_is_id_mismatch() {
    let doc: serde_json::Value = tessera_testkit::fixtures::vector_json("nostr/events.json");
    let ev = &doc["invalid"]["nip98_example_id_mismatch_sig_valid_over_stated_id"];
    let ev = Event::from_json(serde_json::to_string(ev).unwrap().as_bytes()).unwrap();
    let req = HttpRequest {
        url: "https://api.snort.social/api/v1/n5sp/list",
        method: "GET",
        body: None,
    };
    assert_eq!(
        code(verify_nip98(
            &ev,
            &Policy::default(),
            &[],
            &req,
            &Nip98Options::default(),
            1_682_327_852
        )),
        ErrorCode::IdMismatch
    );
}

#[test]
fn signer_outside_a_configured_trusted_list_is_untrusted_signer() {
    let ev = issue_nip98(&sk(1), URL, "POST", None, NOW).unwrap();
    assert_eq!(
        code(verify_nip98(
            &ev,
            &Policy::default(),
            &[sk(2).public_key()],
            &post(None),
            &Nip98Options::default(),
            NOW
        )),
        ErrorCode::UntrustedSigner
    );
    assert!(verify_nip98(
        &ev,
        &Policy::default(),
        &[sk(1).public_key()],
        &post(None),
        &Nip98Options::default(),
        NOW
    )
    .is_ok());
}
