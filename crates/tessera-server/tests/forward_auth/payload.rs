//! NIP-98 `payload` behind a gateway: checked against a body the gateway
//! forwards; refused (the default) when the body is not forwarded, so an
//! event signed for one body cannot pass for another; bodies bounded.

use super::*;

fn with_payload(user: &NostrSecretKey, url: &str, method: &str, body: &[u8]) -> String {
    let event = issue_nip98(user, url, method, Some(body), SystemClock.now()).expect("nip98");
    nip98_authorization(&event)
}

/// `POST /v1/verify` with `headers`, `auth` and a forwarded `body`.
fn verify_with_body(s: &Server, auth: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut h = headers.to_vec();
    h.push(("Authorization", auth));
    http(s.addr, "POST", "/v1/verify", &h, body)
}

#[test]
fn a_forwarded_body_is_checked_against_the_payload_tag() {
    let s = server("[forward_auth]\ngateway = \"traefik\"\n");
    let user = NostrSecretKey::generate();
    let url = "https://api.example/upload";
    let h = traefik("POST", "api.example", "/upload");
    let signed = br#"{"amount":1}"#;
    let r = verify_with_body(&s, &with_payload(&user, url, "POST", signed), &h, signed);
    assert_eq!(r.status, 200, "{}", body(&r));
    // Another body under the same kind of event: payload_mismatch.
    let auth = with_payload(&user, url, "POST", signed);
    let r = verify_with_body(&s, &auth, &h, br#"{"amount":1000}"#);
    assert_eq!((r.status, r.error()), (401, "payload_mismatch".into()));
    // No body forwarded (Traefik without forwardBody): it cannot be
    // checked, and the default is to refuse.
    let r = verify_with_body(&s, &auth, &h, b"");
    assert_eq!((r.status, r.error()), (401, "payload_mismatch".into()));
    // An empty body received cannot be told from one left out: an event
    // whose tag names the empty body is refused too.
    let r = verify_with_body(&s, &with_payload(&user, url, "POST", b""), &h, b"");
    assert_eq!((r.status, r.error()), (401, "payload_mismatch".into()));
    // An event without a payload tag does not depend on the body.
    let r = verify_with_body(&s, &nip98(&user, url, "POST"), &h, b"");
    assert_eq!(r.status, 200, "{}", body(&r));
}

#[test]
fn nginx_never_forwards_the_body_so_a_payload_tag_is_refused() {
    let s = server("[forward_auth]\ngateway = \"nginx\"\n");
    let user = NostrSecretKey::generate();
    let url = "https://api.example/upload";
    let h = nginx("POST", url);
    let signed = b"hello";
    // Even a body sent to /v1/verify is not the original's behind nginx
    // (auth_request sends none; a client-made request could send any).
    let r = verify_with_body(&s, &with_payload(&user, url, "POST", signed), &h, signed);
    assert_eq!((r.status, r.error()), (401, "payload_mismatch".into()));
    // Nor an event whose tag names the empty body: the original request
    // may have had any body.
    let r = verify_with_body(&s, &with_payload(&user, url, "POST", b""), &h, b"");
    assert_eq!((r.status, r.error()), (401, "payload_mismatch".into()));
    let r = verify_with_body(&s, &nip98(&user, url, "POST"), &h, b"");
    assert_eq!(r.status, 200, "{}", body(&r));
}

#[test]
fn a_forwarded_body_is_bounded() {
    let s = server("[forward_auth]\ngateway = \"traefik\"\n");
    let user = NostrSecretKey::generate();
    let url = "https://api.example/upload";
    let big = vec![b'x'; 64 * 1024 + 1];
    let r = verify_with_body(
        &s,
        &with_payload(&user, url, "POST", &big),
        &traefik("POST", "api.example", "/upload"),
        &big,
    );
    assert_eq!((r.status, r.error()), (413, "payload_too_large".into()));
}
