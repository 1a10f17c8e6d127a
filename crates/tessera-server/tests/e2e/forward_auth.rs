//! `/v1/verify` without a gateway configured, on every store: access
//! tokens, NIP-98 bound to the request itself (replay refused through the
//! store), NWTs, and refusals with `WWW-Authenticate`. Gateways and rules:
//! `tests/forward_auth`.

use super::*;

pub(super) fn forward_auth(s: &Server) {
    let wallet = EthereumSecretKey::generate();
    let pair = siwe_login(s, &wallet, json!({})).json();
    let access = pair["access_token"].as_str().expect("a").to_owned();
    let r = http(
        s.addr,
        "GET",
        "/v1/verify",
        &[("Authorization", &bearer(&access))],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-auth-subject"),
        Some(wallet.address().to_checksum().as_str())
    );
    assert_eq!(r.header("x-auth-method"), Some("access_token"));
    assert_eq!(r.header("x-auth-issuer"), Some("tessera"));

    let user = NostrSecretKey::generate();
    let now = SystemClock.now();
    // No gateway configured: the request judged is the /v1/verify request
    // itself (gateway headers are read only from a configured gateway; the
    // gateways have their own tests in tests/forward_auth).
    let own = format!("{}/v1/verify?id=7", s.url);
    let event = issue_nip98(&user, &own, "GET", None, now).expect("nip98");
    let auth = nip98_authorization(&event);
    let nginx_spoof = [
        ("Authorization", auth.as_str()),
        ("X-Original-URL", "https://api.example/orders?id=7"),
        ("X-Original-Method", "DELETE"),
    ];
    let r = http(s.addr, "GET", "/v1/verify?id=7", &nginx_spoof, b"");
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.header("x-auth-subject"),
        Some(user.public_key().to_hex().as_str())
    );
    assert_eq!(r.header("x-auth-method"), Some("nip98"));
    assert_eq!(r.header("x-auth-issuer"), Some("nostr"));
    // Spent: replay protection is the store's, shared by every instance.
    let r = http(s.addr, "GET", "/v1/verify?id=7", &nginx_spoof, b"");
    assert_eq!(r.error(), "replayed");
    // Bound to the method and URL of the request itself.
    let event = issue_nip98(&user, &own, "POST", None, now).expect("nip98");
    let r = http(
        s.addr,
        "GET",
        "/v1/verify?id=7",
        &[("Authorization", &nip98_authorization(&event))],
        b"",
    );
    assert_eq!(r.error(), "method_mismatch");
    let event = issue_nip98(&user, &own, "GET", None, now).expect("nip98");
    let r = http(
        s.addr,
        "GET",
        "/v1/verify?id=8",
        &[("Authorization", &nip98_authorization(&event))],
        b"",
    );
    assert_eq!(r.error(), "url_mismatch");
    // An NWT for this server is reusable until it expires.
    let nwt = issue_nwt(
        &user,
        &NwtClaims {
            aud: vec![s.url.clone()],
            ttl: Some(300),
            ..NwtClaims::default()
        },
        "",
        now,
    )
    .expect("nwt");
    let auth = nwt_authorization(&nwt);
    for _ in 0..2 {
        let r = http(
            s.addr,
            "GET",
            "/v1/verify",
            &[("Authorization", &auth)],
            b"",
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-auth-method"), Some("nwt"));
    }
    // POST (what Envoy's ext_authz sends for a POST) answers the same.
    let r = http(
        s.addr,
        "POST",
        "/v1/verify",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-auth-method"), Some("nwt"));
    let other = issue_nwt(
        &user,
        &NwtClaims {
            aud: vec!["https://elsewhere.example".into()],
            ttl: Some(300),
            ..NwtClaims::default()
        },
        "",
        now,
    )
    .expect("nwt");
    assert_eq!(
        http(
            s.addr,
            "GET",
            "/v1/verify",
            &[("Authorization", &nwt_authorization(&other))],
            b""
        )
        .error(),
        "audience_mismatch"
    );
    // The built-in `nostr` issuer says so in X-Auth-Issuer, and caps an
    // NWT's life at nostr_max_lifetime_seconds (default 3600, exp - iat):
    // the user chose its `exp`.
    let r = http(
        s.addr,
        "GET",
        "/v1/verify",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.header("x-auth-issuer"), Some("nostr"));
    assert_eq!(r.json()["issuer_name"], "nostr");
    for (ttl, status) in [(3600, 200), (3601, 401)] {
        let nwt = issue_nwt(
            &user,
            &NwtClaims {
                aud: vec![s.url.clone()],
                ttl: Some(ttl),
                ..NwtClaims::default()
            },
            "",
            now,
        )
        .expect("nwt");
        let auth = nwt_authorization(&nwt);
        let r = http(
            s.addr,
            "GET",
            "/v1/verify",
            &[("Authorization", &auth)],
            b"",
        );
        assert_eq!(r.status, status, "{ttl}: {}", r.text());
        if status == 401 {
            assert_eq!(r.error(), "invalid_claim");
            assert!(r.text().contains("allowed 3600 s"), "{}", r.text());
            // Nor does it log in.
            let login = http(
                s.addr,
                "POST",
                "/v1/auth/login",
                &[("Authorization", &auth)],
                b"",
            );
            assert_eq!(login.error(), "invalid_claim", "{}", login.text());
        }
    }
    // Nothing, or garbage: 401 with WWW-Authenticate.
    for h in [
        vec![],
        vec![("Authorization", "Bearer garbage")],
        vec![("Authorization", "Basic dXNlcjpwYXNz")],
    ] {
        let r = http(s.addr, "GET", "/v1/verify", &h, b"");
        assert_eq!(r.status, 401);
        assert!(r.header("www-authenticate").is_some());
        assert!(!r.error().is_empty());
    }
}
