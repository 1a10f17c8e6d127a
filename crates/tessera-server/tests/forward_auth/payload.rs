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

/// `/upload` accepts a NIP-98 `payload` tag unchecked when the body is not
/// forwarded; every other path keeps the default (refuse).
const ACCEPT_UNCHECKED: &str = r#"
[[rule]]
path = "/upload"
methods = ["POST"]
allow = ["nostr"]
nip98_payload_without_body = "accept_unchecked"

[[rule]]
path = "/*"
allow = ["nostr"]
"#;

#[test]
fn accept_unchecked_takes_a_payload_tag_without_the_body_behind_nginx() {
    let s = server(&format!(
        "[forward_auth]\ngateway = \"nginx\"\n{ACCEPT_UNCHECKED}"
    ));
    let user = NostrSecretKey::generate();
    let url = "https://api.example/upload";
    let h = nginx("POST", url);
    // An event with a payload tag, behind nginx (no body): accepted by the
    // rule's setting, with the signer as subject.
    let auth = with_payload(&user, url, "POST", br#"{"amount":1}"#);
    let r = verify_with_body(&s, &auth, &h, b"");
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(
        r.header("x-auth-subject"),
        Some(user.public_key().to_hex().as_str())
    );
    assert_eq!(r.header("x-auth-method"), Some("nip98"));
    // Only the payload comparison is skipped: the same event again is a
    // replay, and an event for another URL, another method, or signed too
    // long ago is refused as always.
    let r = verify_with_body(&s, &auth, &h, b"");
    assert_eq!((r.status, r.error()), (401, "replayed".into()));
    let other = with_payload(&user, "https://api.example/upload?x=1", "POST", b"{}");
    let r = verify_with_body(&s, &other, &h, b"");
    assert_eq!((r.status, r.error()), (401, "url_mismatch".into()));
    let put = with_payload(&user, url, "PUT", b"{}");
    let r = verify_with_body(&s, &put, &h, b"");
    assert_eq!((r.status, r.error()), (401, "method_mismatch".into()));
    let old = issue_nip98(&user, url, "POST", Some(b"{}"), SystemClock.now() - 600).expect("nip98");
    let r = verify_with_body(&s, &nip98_authorization(&old), &h, b"");
    assert_eq!((r.status, r.error()), (401, "stale".into()));
    let mut forged =
        issue_nip98(&user, url, "POST", Some(b"{}"), SystemClock.now()).expect("nip98");
    forged.sig = issue_nip98(&user, url, "GET", None, SystemClock.now())
        .expect("nip98")
        .sig;
    let r = verify_with_body(&s, &nip98_authorization(&forged), &h, b"");
    assert_eq!((r.status, r.error()), (401, "bad_signature".into()));
    // A route whose rule does not say so keeps the default: refused.
    let elsewhere = "https://api.example/orders";
    let auth = with_payload(&user, elsewhere, "POST", b"{}");
    let r = verify_with_body(&s, &auth, &nginx("POST", elsewhere), b"");
    assert_eq!((r.status, r.error()), (401, "payload_mismatch".into()));
    // An NWT on the unchecked route is verified as usual.
    let r = verify_with_body(&s, &nwt(&s, &user, &[]), &h, b"");
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(r.header("x-auth-method"), Some("nwt"));
}

#[test]
fn accept_unchecked_still_checks_a_body_the_gateway_forwards() {
    let s = server(&format!(
        "[forward_auth]\ngateway = \"traefik\"\n{ACCEPT_UNCHECKED}"
    ));
    let user = NostrSecretKey::generate();
    let url = "https://api.example/upload";
    let h = traefik("POST", "api.example", "/upload");
    let signed = br#"{"amount":1}"#;
    // A forwarded body is the body: another one is payload_mismatch.
    let auth = with_payload(&user, url, "POST", signed);
    let r = verify_with_body(&s, &auth, &h, br#"{"amount":1000}"#);
    assert_eq!((r.status, r.error()), (401, "payload_mismatch".into()));
    let r = verify_with_body(&s, &with_payload(&user, url, "POST", signed), &h, signed);
    assert_eq!(r.status, 200, "{}", body(&r));
    // Traefik without forwardBody: no body, the rule accepts it unchecked
    // (another event: another signed body).
    let r = verify_with_body(&s, &with_payload(&user, url, "POST", b"{}"), &h, b"");
    assert_eq!(r.status, 200, "{}", body(&r));
}
