//! Header discipline: only the configured gateway's family, only from a
//! trusted peer, and a request that does not read cleanly is refused
//! before the credential is looked at. The spoofs are issue 20's, as the
//! review reproduced them.

use super::*;
use tessera_core::internal::ethereum::EthereumSecretKey;
use tessera_testkit::api::siwe_login;

/// Through Traefik a client's `X-Original-URL` arrives untouched. An event
/// the user signed for evil.example must not pass for api.example.
#[test]
fn traefik_and_caddy_ignore_a_clients_x_original_url() {
    for gateway in ["traefik", "caddy"] {
        let s = server(&format!("[forward_auth]\ngateway = \"{gateway}\"\n"));
        let user = NostrSecretKey::generate();
        let signed_for_evil = nip98(&user, "https://evil.example/upload", "POST");
        let mut h = traefik("POST", "api.example", "/v1/transfer");
        h.push(("X-Original-URL", "https://evil.example/upload"));
        h.push(("X-Original-Method", "POST"));
        let r = verify(&s, Some(&signed_for_evil), &h);
        assert_eq!(
            (r.status, r.error()),
            (401, "url_mismatch".into()),
            "{gateway}"
        );
        assert!(r.header("www-authenticate").is_some());
        // The event for the request Traefik names passes, with its subject.
        let honest = nip98(&user, "https://api.example/v1/transfer", "POST");
        let r = verify(&s, Some(&honest), &h);
        assert_eq!(r.status, 200, "{gateway}: {}", body(&r));
        assert_eq!(
            r.header("x-auth-subject"),
            Some(user.public_key().to_hex().as_str())
        );
        assert_eq!(r.header("x-auth-issuer"), Some("nostr"));
    }
}

/// Behind nginx a client's `X-Forwarded-Method: GET` made a GET-signed
/// event pass for a DELETE.
#[test]
fn nginx_ignores_a_clients_x_forwarded_method() {
    let s = server("[forward_auth]\ngateway = \"nginx\"\n");
    let user = NostrSecretKey::generate();
    let url = "https://api.example:8443/orders/7";
    let signed_get = nip98(&user, url, "GET");
    let mut h = nginx("DELETE", url);
    h.extend(traefik("GET", "api.example:8443", "/orders/7"));
    let r = verify(&s, Some(&signed_get), &h);
    assert_eq!((r.status, r.error()), (401, "method_mismatch".into()));
    let signed_delete = nip98(&user, url, "DELETE");
    let r = verify(&s, Some(&signed_delete), &h);
    assert_eq!(r.status, 200, "{}", body(&r));
}

/// Gateway headers from a peer outside `trusted_proxies` are not read:
/// the request is judged as itself (`/v1/verify` on the server's URL).
#[test]
fn gateway_headers_from_an_untrusted_peer_are_ignored() {
    let s = server("[forward_auth]\ngateway = \"traefik\"\ntrusted_proxies = []\n");
    let user = NostrSecretKey::generate();
    let named = nip98(&user, "https://api.example/x", "GET");
    let h = traefik("GET", "api.example", "/x");
    let r = verify(&s, Some(&named), &h);
    assert_eq!((r.status, r.error()), (401, "url_mismatch".into()));
    let own = nip98(&user, &format!("{}/v1/verify", s.url), "GET");
    let r = verify(&s, Some(&own), &h);
    assert_eq!(r.status, 200, "{}", body(&r));
}

/// Envoy's HTTP ext_authz: the original method and the path under
/// `path_prefix`; a client's `X-Original-URL` and `X-Forwarded-Uri` are
/// ignored.
#[test]
fn envoy_reads_the_path_under_its_prefix_and_nothing_else() {
    let s = server("[forward_auth]\ngateway = \"envoy\"\npath_prefix = \"/authz\"\n");
    let user = NostrSecretKey::generate();
    let url = format!("https://{}/files/7?v=2", s.addr);
    let h = [
        ("X-Forwarded-Proto", "https"),
        ("X-Original-URL", "https://evil.example/files/7?v=2"),
        ("X-Forwarded-Uri", "/elsewhere"),
    ];
    let auth = nip98(&user, &url, "DELETE");
    let mut with_auth = h.to_vec();
    with_auth.push(("Authorization", &auth));
    let r = http(s.addr, "DELETE", "/authz/files/7?v=2", &with_auth, b"");
    assert_eq!(r.status, 200, "{}", body(&r));
    // The same event for another path under the prefix: another request.
    let auth = nip98(&user, &url, "DELETE");
    let mut with_auth = h.to_vec();
    with_auth.push(("Authorization", &auth));
    let r = http(s.addr, "DELETE", "/authz/files/8?v=2", &with_auth, b"");
    assert_eq!((r.status, r.error()), (401, "url_mismatch".into()));
    // The original path `/` is the prefix and a slash.
    let root = nip98(&user, &format!("https://{}/", s.addr), "GET");
    let r = http(
        s.addr,
        "GET",
        "/authz/",
        &[("X-Forwarded-Proto", "https"), ("Authorization", &root)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", body(&r));
    // Outside the prefix there is no forward-auth route at all.
    assert_eq!(
        http(s.addr, "DELETE", "/files/7", &with_auth, b"").status,
        404
    );
}

/// A trusted gateway that leaves out one of its headers, repeats one, or
/// names a path that does not normalise: 400 with the refusal's code,
/// whatever the credential (a valid access token here).
#[test]
fn unreadable_gateway_requests_are_refused_before_the_credential() {
    let s = server("[forward_auth]\ngateway = \"traefik\"\n");
    let pair = siwe_login(&s, &EthereumSecretKey::generate(), serde_json::json!({})).json();
    let token = bearer(pair["access_token"].as_str().expect("token"));
    let ok = traefik("GET", "api.example", "/x");
    assert_eq!(verify(&s, Some(&token), &ok).status, 200);
    let missing: Vec<_> = ok
        .iter()
        .copied()
        .filter(|(k, _)| *k != "X-Forwarded-Uri")
        .collect();
    let mut repeated = ok.clone();
    repeated.push(("X-Forwarded-Method", "DELETE"));
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        ("no X-Forwarded-Uri", &missing, "missing_gateway_header"),
        (
            "two X-Forwarded-Method",
            &repeated,
            "repeated_gateway_header",
        ),
        (
            "a dot-segment above the root",
            &traefik("GET", "api.example", "/../admin"),
            "above_root",
        ),
        (
            "a host with userinfo",
            &traefik("GET", "user@api.example", "/x"),
            "bad_host",
        ),
    ];
    for (what, headers, code) in cases {
        for auth in [Some(token.as_str()), None] {
            let r = verify(&s, auth, headers);
            assert_eq!((r.status, r.error()), (400, code.into()), "{what}");
        }
    }
}
