//! Which request a forward-auth call is about: one header family, only
//! from trusted proxies, normalised or refused.

use super::*;
use crate::proxies::TrustedProxies;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use std::net::SocketAddr;

const PROXY: &str = "127.0.0.1:40000";
const STRANGER: &str = "203.0.113.9:40000";

fn reader(gateway: Option<Gateway>) -> RequestReader {
    RequestReader::new(
        gateway,
        None,
        TrustedProxies::new(vec!["127.0.0.1/32".parse().unwrap()]),
        "https://auth.example",
    )
    .unwrap()
}

fn read(
    r: &RequestReader,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    peer: &str,
) -> Result<ForwardedRequest, Refusal> {
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let uri: Uri = uri.parse().unwrap();
    r.read(&method, &uri, &h, Some(peer.parse::<SocketAddr>().unwrap()))
}

/// What Traefik sends for `POST https://api.example/v1/transfer`.
const TRAEFIK: [(&str, &str); 4] = [
    ("x-forwarded-method", "POST"),
    ("x-forwarded-proto", "https"),
    ("x-forwarded-host", "api.example"),
    ("x-forwarded-uri", "/v1/transfer"),
];

#[test]
fn nginx_names_the_request_in_x_original_url_and_method() {
    let r = read(
        &reader(Some(Gateway::Nginx)),
        "GET",
        "/v1/verify",
        &[
            (
                "x-original-url",
                "https://api.example:8443/upload/a%20b?x=1&y=%2F",
            ),
            ("x-original-method", "POST"),
        ],
        PROXY,
    )
    .unwrap();
    assert_eq!(r.method(), "POST");
    assert_eq!(r.scheme(), Scheme::Https);
    assert_eq!((r.host(), r.port()), ("api.example", 8443));
    assert_eq!(r.path(), "/upload/a b");
    assert_eq!(r.query(), Some("x=1&y=%2F"));
    assert_eq!(
        r.nip98_url(),
        "https://api.example:8443/upload/a%20b?x=1&y=%2F"
    );
}

#[test]
fn a_clients_x_original_url_through_traefik_is_ignored() {
    // Traefik copies the client's X-Original-URL through untouched: the
    // event signed for evil.example must not be judged against it.
    let mut headers = TRAEFIK.to_vec();
    headers.push(("x-original-url", "https://evil.example/upload"));
    headers.push(("x-original-method", "GET"));
    for g in [Gateway::Traefik, Gateway::Caddy] {
        let r = read(&reader(Some(g)), "GET", "/v1/verify", &headers, PROXY).unwrap();
        assert_eq!(r.nip98_url(), "https://api.example/v1/transfer", "{g:?}");
        assert_eq!(r.method(), "POST");
    }
}

#[test]
fn x_forwarded_method_behind_nginx_is_ignored() {
    // A client's X-Forwarded-Method: GET must not turn a DELETE into a GET.
    let r = read(
        &reader(Some(Gateway::Nginx)),
        "GET",
        "/v1/verify",
        &[
            ("x-original-url", "https://api.example/orders/7"),
            ("x-original-method", "DELETE"),
            ("x-forwarded-method", "GET"),
            ("x-forwarded-uri", "/public/x"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "http"),
        ],
        PROXY,
    )
    .unwrap();
    assert_eq!(r.method(), "DELETE");
    assert_eq!(r.nip98_url(), "https://api.example/orders/7");
}

#[test]
fn headers_from_a_peer_that_is_not_a_trusted_proxy_are_ignored() {
    for g in [
        Gateway::Nginx,
        Gateway::Traefik,
        Gateway::Caddy,
        Gateway::Envoy,
    ] {
        let r = read(
            &reader(Some(g)),
            "GET",
            "/v1/verify?x=1",
            &[
                ("x-original-url", "https://api.example/admin"),
                ("x-original-method", "DELETE"),
                ("x-forwarded-method", "DELETE"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "api.example"),
                ("x-forwarded-uri", "/admin"),
                ("host", "api.example"),
            ],
            STRANGER,
        )
        .unwrap();
        // The request itself, at the server's own public URL.
        assert_eq!(r.nip98_url(), "https://auth.example/v1/verify?x=1", "{g:?}");
        assert_eq!(r.method(), "GET");
    }
    // Without a configured gateway, not even a trusted proxy's headers count.
    let r = read(&reader(None), "GET", "/v1/verify", &TRAEFIK, PROXY).unwrap();
    assert_eq!(r.nip98_url(), "https://auth.example/v1/verify");
}

#[test]
fn a_trusted_gateway_that_leaves_out_its_headers_is_refused() {
    let nginx = reader(Some(Gateway::Nginx));
    let only_method = [("x-original-method", "GET")];
    assert_eq!(
        read(&nginx, "GET", "/v1/verify", &only_method, PROXY),
        Err(Refusal::MissingHeader("x-original-url"))
    );
    // The other family's headers do not stand in for the missing ones.
    assert_eq!(
        read(&nginx, "GET", "/v1/verify", &TRAEFIK, PROXY),
        Err(Refusal::MissingHeader("x-original-url"))
    );
    let only_url = [("x-original-url", "https://api.example/x")];
    assert_eq!(
        read(&nginx, "GET", "/v1/verify", &only_url, PROXY),
        Err(Refusal::MissingHeader("x-original-method"))
    );
    let traefik = reader(Some(Gateway::Traefik));
    for missing in 0..TRAEFIK.len() {
        let mut h = TRAEFIK.to_vec();
        let (name, _) = h.remove(missing);
        assert_eq!(
            read(&traefik, "GET", "/v1/verify", &h, PROXY),
            Err(Refusal::MissingHeader(name)),
            "{name}"
        );
    }
}

#[test]
fn a_repeated_or_unreadable_gateway_header_is_refused() {
    let mut h = TRAEFIK.to_vec();
    h.push(("x-forwarded-uri", "/public/x"));
    assert_eq!(
        read(
            &reader(Some(Gateway::Traefik)),
            "GET",
            "/v1/verify",
            &h,
            PROXY
        ),
        Err(Refusal::RepeatedHeader("x-forwarded-uri"))
    );
    let mut h = TRAEFIK.to_vec();
    h[3] = ("x-forwarded-uri", "/caf\u{e9}");
    assert_eq!(
        read(
            &reader(Some(Gateway::Traefik)),
            "GET",
            "/v1/verify",
            &h,
            PROXY
        ),
        Err(Refusal::UnreadableHeader("x-forwarded-uri"))
    );
}

#[test]
fn envoy_is_the_request_itself_under_the_path_prefix() {
    let envoy = reader(Some(Gateway::Envoy));
    let r = read(
        &envoy,
        "DELETE",
        "/v1/verify/orders/7?force=1",
        &[
            ("host", "api.example:8443"),
            ("x-forwarded-proto", "https"),
            ("x-original-url", "https://evil.example/public"),
            ("x-forwarded-uri", "/public"),
            ("x-forwarded-method", "GET"),
        ],
        PROXY,
    )
    .unwrap();
    assert_eq!(r.method(), "DELETE");
    assert_eq!(r.path(), "/orders/7");
    assert_eq!(r.nip98_url(), "https://api.example:8443/orders/7?force=1");
    let proto = [("host", "api.example"), ("x-forwarded-proto", "https")];
    assert_eq!(
        read(&envoy, "GET", "/v1/verifyx/a", &proto, PROXY),
        Err(Refusal::OutsidePrefix)
    );
    assert_eq!(
        read(&envoy, "GET", "/v1/verify", &proto, PROXY),
        Err(Refusal::OutsidePrefix)
    );
    assert_eq!(
        read(
            &envoy,
            "GET",
            "/v1/verify/a",
            &[("host", "api.example")],
            PROXY
        ),
        Err(Refusal::MissingHeader("x-forwarded-proto"))
    );
    let custom = RequestReader::new(
        Some(Gateway::Envoy),
        Some("/authz"),
        TrustedProxies::new(vec!["127.0.0.1/32".parse().unwrap()]),
        "https://auth.example",
    )
    .unwrap();
    let r = read(&custom, "GET", "/authz/", &proto, PROXY).unwrap();
    assert_eq!(r.nip98_url(), "https://api.example/");
}

#[test]
fn default_ports_are_dropped_as_clients_sign_them() {
    for (url, want) in [
        ("https://API.example:443/x", "https://api.example/x"),
        ("https://api.example/x", "https://api.example/x"),
        ("http://api.example:80/x", "http://api.example/x"),
        ("http://api.example:443/x", "http://api.example:443/x"),
        ("https://api.example:8443/x", "https://api.example:8443/x"),
        ("HTTPS://api.example./x", "https://api.example/x"),
        ("https://[::1]:443/x", "https://[::1]/x"),
        ("https://api.example", "https://api.example/"),
        ("https://api.example?q=1", "https://api.example/?q=1"),
        (
            "https://api.example/x?q=1#frag",
            "https://api.example/x?q=1",
        ),
    ] {
        let r = ForwardedRequest::from_url("GET", url).unwrap();
        assert_eq!(r.nip98_url(), want, "{url}");
    }
    let a = ForwardedRequest::from_url("GET", "https://api.example:443/x").unwrap();
    assert_eq!(
        a,
        ForwardedRequest::from_url("GET", "https://api.example/x").unwrap()
    );
    assert_eq!(a.port(), 443);
}

#[test]
fn the_nip98_url_keeps_the_path_as_sent_rules_see_it_resolved() {
    let r =
        ForwardedRequest::from_url("GET", "https://api.example//a/./b/../c%41?x=%2e%2e").unwrap();
    assert_eq!(r.path(), "/a/cA");
    assert_eq!(r.nip98_url(), "https://api.example//a/./b/../c%41?x=%2e%2e");
}

#[test]
fn what_does_not_normalise_is_refused_through_every_family() {
    for (uri, want) in [
        ("/public/..%2Fadmin", Refusal::EncodedSlash),
        ("/public/..;/admin", Refusal::PathParameter),
        ("/..", Refusal::AboveRoot),
        ("/a%00", Refusal::Control),
        ("admin", Refusal::RelativePath),
        ("*", Refusal::RelativePath),
        ("", Refusal::RelativePath),
    ] {
        let mut h = TRAEFIK.to_vec();
        h[3] = ("x-forwarded-uri", uri);
        assert_eq!(
            read(
                &reader(Some(Gateway::Traefik)),
                "GET",
                "/v1/verify",
                &h,
                PROXY
            ),
            Err(want),
            "{uri}"
        );
    }
    for (url, want) in [
        ("/orders/7", Refusal::NotAbsolute),
        ("https://user@api.example/x", Refusal::Host),
        ("ftp://api.example/x", Refusal::Scheme),
        ("https://api.example:99999/x", Refusal::Host),
        ("https://api.example/a\\b", Refusal::Backslash),
        ("https://api.example/%2e%2e/x", Refusal::AboveRoot),
    ] {
        let h = [("x-original-url", url), ("x-original-method", "GET")];
        assert_eq!(
            read(
                &reader(Some(Gateway::Nginx)),
                "GET",
                "/v1/verify",
                &h,
                PROXY
            ),
            Err(want),
            "{url}"
        );
    }
    let h = [
        ("x-original-url", "https://api.example/x"),
        ("x-original-method", "get"),
    ];
    assert_eq!(
        read(
            &reader(Some(Gateway::Nginx)),
            "GET",
            "/v1/verify",
            &h,
            PROXY
        ),
        Err(Refusal::Method)
    );
    let mut h = TRAEFIK.to_vec();
    h[1] = ("x-forwarded-proto", "https,http");
    assert_eq!(
        read(
            &reader(Some(Gateway::Traefik)),
            "GET",
            "/v1/verify",
            &h,
            PROXY
        ),
        Err(Refusal::Scheme)
    );
}

#[test]
fn public_url_and_path_prefix_are_checked() {
    let p = || TrustedProxies::new(Vec::new());
    let r = RequestReader::new(None, None, p(), "https://example.com/auth/").unwrap();
    let got = read(&r, "GET", "/v1/verify", &[], STRANGER).unwrap();
    assert_eq!(got.nip98_url(), "https://example.com/auth/v1/verify");
    for bad in ["https://user@h", "ftp://h", "https://h/x?y", "https://h:0"] {
        assert!(RequestReader::new(None, None, p(), bad).is_err(), "{bad}");
    }
    for bad in ["", "v1", "/v1/", "/a//b", "/a/../b", "/a b", "/a%20"] {
        let e = RequestReader::new(Some(Gateway::Envoy), Some(bad), p(), "https://h").unwrap_err();
        assert!(e.0.contains("path_prefix"), "{bad}: {e}");
    }
}

#[test]
fn refusals_never_repeat_the_request() {
    let secret = "/x?access_token=hunter2";
    let e =
        ForwardedRequest::from_url("GET", &format!("https://api.example/%zz{secret}")).unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert_eq!(e.code(), "bad_escape");
}
