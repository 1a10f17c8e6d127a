//! Envoy ext_authz over gRPC: a `tonic` client with Envoy's own proto
//! types (the `envoy-types` crate) calls `Authorization/Check` on a started
//! server, as Envoy would. Each case shows the input and asserts the
//! answer: allowed with the upstream headers, 401, 403 by rule, an
//! anonymous rule, NIP-98 bound to the `Check`'s request, an untrusted
//! peer's attributes ignored; and `X-Auth-Assertion` (`assertion.rs`).

mod assertion;

use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::check_response::HttpResponse;
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, CheckRequest};
use serde_json::Value;
use std::collections::HashMap;
use tessera_core::internal::nostr::{
    issue_nip98, issue_nwt, nip98_authorization, nwt_authorization, NostrSecretKey, NwtClaims,
};
use tessera_core::{Clock, SystemClock};
use tessera_server::config::Config;
use tessera_testkit::inproc::{start, Server};

/// The rules every case runs under (contracts.md's TOML), with `extra`
/// added to `[forward_auth]`.
fn server(extra: &str) -> Server {
    let toml = format!(
        r#"
[forward_auth]
gateway = "envoy"
claim_headers = ["scope"]
grpc_listen = "127.0.0.1:0"
{extra}

[[rule]]
path = "/public/*"
anonymous = true

[[rule]]
path = "/upload/*"
allow = ["nostr"]
claims = {{ scope = {{ contains = "upload" }} }}

[[rule]]
path = "/*"
allow = ["nostr", "tessera"]
"#
    );
    let file: Config = toml::from_str(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    start(None, move |c| {
        c.forward_auth = file.forward_auth;
        c.rule = file.rule;
    })
}

/// What Envoy reports for `method https://api.example{path}`: the request
/// attributes, its headers (pseudo-headers included, as Envoy sends them)
/// and the body (`with_request_body`, packed as bytes).
fn check_request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> CheckRequest {
    let mut map: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
        .collect();
    map.insert(":authority".into(), "api.example".into());
    map.insert(":method".into(), method.into());
    map.insert(":path".into(), path.into());
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(Request {
                http: Some(HttpRequest {
                    method: method.into(),
                    scheme: "https".into(),
                    host: "api.example".into(),
                    path: path.into(),
                    protocol: "HTTP/1.1".into(),
                    headers: map,
                    raw_body: body.to_vec(),
                    ..HttpRequest::default()
                }),
                ..Request::default()
            }),
            ..AttributeContext::default()
        }),
    }
}

/// A `CheckResponse`, read.
#[derive(Debug)]
struct Answer {
    /// The gRPC status code in the response (0 = OK).
    code: i32,
    /// 200 for an `OkHttpResponse`, else the denial's status.
    status: i32,
    /// Headers to the upstream (allowed) or to the client (denied).
    headers: Vec<(String, String)>,
    /// `headers_to_remove` of an allow.
    remove: Vec<String>,
    /// The denial's body.
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// Sends one `Check` to `s`'s gRPC service.
fn check(s: &Server, request: CheckRequest) -> Answer {
    let addr = s.grpc_addr.expect("grpc_listen set");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let resp = rt.block_on(async move {
        let mut client = AuthorizationClient::connect(format!("http://{addr}"))
            .await
            .expect("connect");
        client.check(request).await.expect("Check").into_inner()
    });
    let code = resp.status.as_ref().map_or(-1, |s| s.code);
    let pairs = |h: &[envoy_types::pb::envoy::config::core::v3::HeaderValueOption]| {
        h.iter()
            .filter_map(|o| o.header.as_ref())
            .map(|h| (h.key.clone(), h.value.clone()))
            .collect::<Vec<_>>()
    };
    match resp.http_response.expect("http_response") {
        HttpResponse::OkResponse(ok) => Answer {
            code,
            status: 200,
            headers: pairs(&ok.headers),
            remove: ok.headers_to_remove,
            body: String::new(),
        },
        HttpResponse::DeniedResponse(d) => Answer {
            code,
            status: d.status.map_or(-1, |s| s.code),
            headers: pairs(&d.headers),
            remove: Vec::new(),
            body: d.body,
        },
        other => panic!("unexpected answer {other:?}"),
    }
}

/// An NWT for `s` with application claims `custom`.
fn nwt(s: &Server, user: &NostrSecretKey, custom: &[(&str, &str)]) -> String {
    let claims = NwtClaims {
        aud: vec![s.url.clone()],
        ttl: Some(300),
        custom: custom
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..NwtClaims::default()
    };
    let event = issue_nwt(user, &claims, "", SystemClock.now()).expect("nwt");
    nwt_authorization(&event)
}

/// A NIP-98 `Authorization` value for `method url`, with a `payload` tag
/// for `body` when given.
fn nip98(user: &NostrSecretKey, url: &str, method: &str, body: Option<&[u8]>) -> String {
    let event = issue_nip98(user, url, method, body, SystemClock.now()).expect("nip98");
    nip98_authorization(&event)
}

#[test]
fn an_allowed_check_sends_the_upstream_headers_and_removes_client_copies() {
    let s = server("");
    let user = NostrSecretKey::generate();
    let auth = nwt(&s, &user, &[("scope", "upload delete")]);
    let a = check(
        &s,
        check_request(
            "POST",
            "/upload/f?x=1",
            &[
                ("authorization", &auth),
                // A client's own copies: never reach the upstream.
                ("x-auth-subject", "someone-else"),
                ("x-auth-claim-role", "admin"),
            ],
            b"",
        ),
    );
    assert_eq!((a.code, a.status), (0, 200), "{a:?}");
    let subject = user.public_key().to_hex();
    assert_eq!(a.header("x-auth-subject"), Some(subject.as_str()));
    assert_eq!(a.header("x-auth-method"), Some("nwt"));
    assert_eq!(a.header("x-auth-issuer"), Some("nostr"));
    assert_eq!(a.header("x-auth-claim-scope"), Some("upload delete"));
    assert!(
        a.headers.iter().all(|(k, _)| k.starts_with("x-auth-")),
        "{a:?}"
    );
    // Set headers replace the client's; unset ones are removed.
    assert_eq!(a.remove, vec!["x-auth-claim-role".to_owned()]);
    // No assertion unless assertion_audience is set.
    assert_eq!(a.header("x-auth-assertion"), None);
}

#[test]
fn no_credential_is_401_with_www_authenticate_and_the_json_error() {
    let s = server("");
    let a = check(&s, check_request("GET", "/account", &[], b""));
    assert_eq!((a.code, a.status), (16, 401), "{a:?}");
    assert!(a
        .header("www-authenticate")
        .is_some_and(|v| v.starts_with("Bearer error=\"invalid_token\"")));
    assert_eq!(a.error(), "malformed");
    assert_eq!(a.header("content-type"), Some("application/json"));
    // A bad credential: 401 with its code, as at /v1/verify.
    let a = check(
        &s,
        check_request("GET", "/account", &[("authorization", "Bearer abc")], b""),
    );
    assert_eq!((a.code, a.status), (16, 401), "{a:?}");
    assert_ne!(a.error(), "");
}

#[test]
fn a_rule_that_does_not_allow_the_caller_is_403_with_the_json_reason() {
    let s = server("");
    let user = NostrSecretKey::generate();
    let auth = nwt(&s, &user, &[("scope", "read")]);
    let a = check(
        &s,
        check_request("PUT", "/upload/f", &[("authorization", &auth)], b""),
    );
    assert_eq!((a.code, a.status), (7, 403), "{a:?}");
    let body = a.json();
    assert_eq!(body["error"], "forbidden");
    assert_eq!(body["reason"], "claim_not_satisfied");
    assert_eq!(body["rule"]["path"], "/upload/*");
    assert!(!a.body.contains(&user.public_key().to_hex()));
}

#[test]
fn an_anonymous_rule_allows_without_a_credential_and_sends_no_identity() {
    let s = server("");
    let a = check(
        &s,
        check_request(
            "GET",
            "/public/logo.png",
            &[("x-auth-subject", "forged")],
            b"",
        ),
    );
    assert_eq!((a.code, a.status), (0, 200), "{a:?}");
    assert!(a.headers.is_empty(), "{a:?}");
    assert_eq!(a.remove, vec!["x-auth-subject".to_owned()]);
    // The path is normalised before matching: /public/../account is not public.
    let a = check(&s, check_request("GET", "/public/../account", &[], b""));
    assert_eq!(a.status, 401, "{a:?}");
}

#[test]
fn a_nip98_event_is_bound_to_the_checks_request_and_body() {
    let s = server("");
    let user = NostrSecretKey::generate();
    let url = "https://api.example/files?x=1";
    let auth = nip98(&user, url, "POST", None);
    let a = check(
        &s,
        check_request("POST", "/files?x=1", &[("authorization", &auth)], b""),
    );
    assert_eq!((a.code, a.status), (0, 200), "{a:?}");
    assert_eq!(a.header("x-auth-method"), Some("nip98"));
    // Spent: the same event again is a replay.
    let a = check(
        &s,
        check_request("POST", "/files?x=1", &[("authorization", &auth)], b""),
    );
    assert_eq!(a.status, 401, "{a:?}");
    // Signed for another URL, another method, or another query.
    for (signed_url, signed_method) in [
        ("https://evil.example/files?x=1", "POST"),
        ("https://api.example/files?x=2", "POST"),
        (url, "GET"),
    ] {
        let auth = nip98(&user, signed_url, signed_method, None);
        let a = check(
            &s,
            check_request("POST", "/files?x=1", &[("authorization", &auth)], b""),
        );
        assert_eq!(a.status, 401, "{signed_method} {signed_url}: {a:?}");
        assert!(
            matches!(a.error().as_str(), "url_mismatch" | "method_mismatch"),
            "{a:?}"
        );
    }
    // The body Envoy forwards is checked against the payload tag.
    let body = br#"{"amount":5}"#;
    let auth = nip98(&user, url, "POST", Some(body));
    let a = check(
        &s,
        check_request(
            "POST",
            "/files?x=1",
            &[("authorization", &auth)],
            br#"{"amount":500}"#,
        ),
    );
    assert_eq!(
        (a.status, a.error()),
        (401, "payload_mismatch".into()),
        "{a:?}"
    );
    let auth = nip98(&user, url, "POST", Some(body));
    let a = check(
        &s,
        check_request("POST", "/files?x=1", &[("authorization", &auth)], body),
    );
    assert_eq!((a.code, a.status), (0, 200), "{a:?}");
}

#[test]
fn an_untrusted_peers_attributes_are_ignored() {
    // The gRPC client connects from 127.0.0.1, which is not trusted here.
    let s = server("trusted_proxies = [\"10.9.9.9/32\"]");
    // It says "/public/…" (anonymous): not believed, so a credential is needed.
    let a = check(&s, check_request("GET", "/public/logo.png", &[], b""));
    assert_eq!((a.code, a.status), (16, 401), "{a:?}");
    // A NIP-98 event for the request it reports is not bound to the call.
    let user = NostrSecretKey::generate();
    let auth = nip98(&user, "https://api.example/files", "POST", None);
    let a = check(
        &s,
        check_request("POST", "/files", &[("authorization", &auth)], b""),
    );
    assert_eq!((a.status, a.error()), (401, "url_mismatch".into()), "{a:?}");
}

#[test]
fn a_request_that_does_not_normalise_is_refused_before_the_credential() {
    let s = server("");
    for path in ["/a%2Fb", "relative", ""] {
        let a = check(&s, check_request("GET", path, &[], b""));
        assert_eq!((a.code, a.status), (3, 400), "{path:?}: {a:?}");
        assert_ne!(a.error(), "", "{path:?}");
    }
    // A Check without the request attributes.
    let a = check(&s, CheckRequest::default());
    assert_eq!(
        (a.status, a.error()),
        (400, "invalid_request".into()),
        "{a:?}"
    );
}

#[test]
fn the_grpc_service_stops_with_the_server() {
    let mut s = server("");
    let addr = s.grpc_addr.expect("grpc");
    assert_eq!(
        check(&s, check_request("GET", "/public/x", &[], b"")).status,
        200
    );
    s.signal_shutdown();
    s.join();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening"
    );
}
