//! `[[rule]]` tables at `/v1/verify`: anonymous, 401 with
//! `WWW-Authenticate`, 403 with the JSON reason, a claim condition, a
//! subject list, path-normalisation bypasses, and claim headers that
//! cannot inject a header.

use super::*;
use tessera_core::internal::ethereum::EthereumSecretKey;
use tessera_testkit::api::siwe_login;

/// The rules of these tests, behind Traefik; `admin` is the one subject
/// `/admin` admits.
fn rules_server(admin: &NostrSecretKey) -> Server {
    server(&format!(
        r#"
[forward_auth]
gateway = "traefik"
claim_headers = ["scope", "role"]

[[rule]]
path = "/public/*"
anonymous = true

[[rule]]
path = "/upload/*"
methods = ["POST", "PUT"]
allow = ["nostr"]
claims = {{ scope = {{ contains = "upload" }} }}

[[rule]]
path = "/admin/*"
allow = ["nostr"]
subjects = ["{}"]

[[rule]]
path = "/*"
allow = ["tessera", "nostr"]
"#,
        admin.public_key().to_hex()
    ))
}

#[test]
fn anonymous_401_403_and_claim_rules() {
    let admin = NostrSecretKey::generate();
    let s = rules_server(&admin);
    let user = NostrSecretKey::generate();
    // Anonymous: allowed without a credential, and a credential is not
    // even looked at (garbage passes, an event is not spent).
    for auth in [None, Some("Bearer garbage")] {
        let r = verify(&s, auth, &traefik("GET", "api.example", "/public/a.css"));
        assert_eq!(r.status, 200, "{}", body(&r));
        assert_eq!(body(&r)["anonymous"], true);
        assert_eq!(body(&r)["rule"]["index"], 1);
        assert!(r.header("x-auth-subject").is_none());
    }
    // No credential on a protected path: 401 with WWW-Authenticate.
    let r = verify(&s, None, &traefik("GET", "api.example", "/admin/users"));
    assert_eq!(r.status, 401);
    let challenge = r.header("www-authenticate").expect("WWW-Authenticate");
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    // Authenticated, not admitted: 403 naming the rule and the reason.
    let stranger = nwt(&s, &user, &[]);
    let r = verify(
        &s,
        Some(&stranger),
        &traefik("GET", "api.example", "/admin/users"),
    );
    assert_eq!(r.status, 403);
    let j = body(&r);
    assert_eq!(j["error"], "forbidden");
    assert_eq!(j["reason"], "subject_not_allowed");
    assert_eq!(j["rule"]["index"], 3);
    assert_eq!(j["rule"]["path"], "/admin/*");
    assert!(!j["error_description"]
        .as_str()
        .expect("text")
        .contains(&user.public_key().to_hex()));
    let boss = nwt(&s, &admin, &[]);
    let r = verify(
        &s,
        Some(&boss),
        &traefik("GET", "api.example", "/admin/users"),
    );
    assert_eq!(r.status, 200, "{}", body(&r));
    // Claim condition: POST /upload needs scope containing "upload".
    let upload = traefik("POST", "api.example", "/upload/f.png");
    let reader = nwt(&s, &user, &[("scope", "read")]);
    let r = verify(&s, Some(&reader), &upload);
    assert_eq!(
        (r.status, body(&r)["reason"].clone()),
        (403, "claim_not_satisfied".into())
    );
    let uploader = nwt(&s, &user, &[("scope", "read upload")]);
    let r = verify(&s, Some(&uploader), &upload);
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(r.header("x-auth-claim-scope"), Some("read upload"));
    // An access token is issuer "tessera", which /upload does not allow.
    let pair = siwe_login(&s, &EthereumSecretKey::generate(), serde_json::json!({})).json();
    let token = bearer(pair["access_token"].as_str().expect("token"));
    let r = verify(&s, Some(&token), &upload);
    assert_eq!(
        (r.status, body(&r)["reason"].clone()),
        (403, "issuer_not_allowed".into())
    );
    // GET /upload is not the upload rule's: the catch-all admits it.
    let r = verify(
        &s,
        Some(&token),
        &traefik("GET", "api.example", "/upload/f.png"),
    );
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(r.header("x-auth-issuer"), Some("tessera"));
}

/// Paths the gateway reports are matched once normalised: a bypass lands
/// on the rule a careful gateway would match, or is refused (400).
#[test]
fn path_normalisation_bypasses_land_on_the_right_rule_or_are_refused() {
    let admin = NostrSecretKey::generate();
    let s = rules_server(&admin);
    let stranger = nwt(&s, &NostrSecretKey::generate(), &[]);
    // (reported path, status without a credential, status for a stranger)
    let cases: [(&str, u16, u16); 12] = [
        ("/admin/../public/x", 200, 200),     // is /public/x: anonymous
        ("/public/../admin/x", 401, 403),     // is /admin/x
        ("//admin/x", 401, 403),              // is /admin/x
        ("/public//../admin/x", 401, 403),    // is /admin/x
        ("/public/%2e%2e/admin/x", 401, 403), // %2e is .
        ("/public/%2E%2E/admin/x", 401, 403),
        ("/public/..%2Fadmin/x", 400, 400), // encoded slash: refused
        ("/public;/../admin/x", 400, 400),  // ;params: refused
        ("/admin./x", 400, 400),            // trailing dot: refused
        ("/public/%252e%252e/admin", 400, 400), // double-encoded: refused
        ("/PUBLIC/x", 401, 200),            // case kept: not /public, catch-all
        ("/Admin/x", 401, 200),             // not /admin: catch-all
    ];
    for (path, anonymous, with_nwt) in cases {
        let h = traefik("GET", "api.example", path);
        let r = verify(&s, None, &h);
        assert_eq!(
            r.status,
            anonymous,
            "{path} without a credential: {}",
            body(&r)
        );
        let r = verify(&s, Some(&stranger), &h);
        assert_eq!(r.status, with_nwt, "{path} as a stranger: {}", body(&r));
        if with_nwt == 403 {
            assert_eq!(body(&r)["rule"]["index"], 3, "{path}");
        }
    }
}

/// A claim value holding CR LF cannot start a header of its own: it is
/// percent-encoded, and the real `X-Auth-Subject` is the only one.
#[test]
fn claim_values_cannot_inject_headers() {
    let s = rules_server(&NostrSecretKey::generate());
    let user = NostrSecretKey::generate();
    let evil = nwt(
        &s,
        &user,
        &[("role", "user\r\nX-Auth-Subject: admin"), ("scope", "a b")],
    );
    let r = verify(&s, Some(&evil), &traefik("GET", "api.example", "/x"));
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(
        r.headers_named("x-auth-subject"),
        vec![user.public_key().to_hex().as_str()]
    );
    assert_eq!(
        r.header("x-auth-claim-role"),
        Some("user%0D%0AX-Auth-Subject: admin")
    );
    assert_eq!(r.header("x-auth-claim-scope"), Some("a b"));
}

/// Without `[[rule]]` tables every authenticated request is allowed, as
/// before rules existed; without a credential it is 401.
#[test]
fn without_rules_every_authenticated_request_is_allowed() {
    let s = server("[forward_auth]\ngateway = \"nginx\"\n");
    let user = NostrSecretKey::generate();
    let token = nwt(&s, &user, &[]);
    for path in [
        "https://api.example/admin/x",
        "https://api.example/anything",
    ] {
        let r = verify(&s, Some(&token), &nginx("DELETE", path));
        assert_eq!(r.status, 200, "{path}: {}", body(&r));
        let r = verify(&s, None, &nginx("DELETE", path));
        assert_eq!(r.status, 401, "{path}");
    }
}
