//! The layer and extractor, driven as a tower service (no network).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
#[cfg(feature = "sessions")]
use std::sync::Arc;
use tessera_axum::{Authenticated, TesseraLayer};
use tessera_core::internal::nostr::{issue_nip98, nip98_authorization, NostrSecretKey};
use tessera_core::Object;
use tessera_core::{jwt, Algorithm, Clock, Policy, SystemClock, Verifier};
use tessera_core::{KeySet, SigningKey};
use tower_service::Service;

async fn whoami(Authenticated(id): Authenticated) -> String {
    format!("{} {}", id.format.as_str(), id.subject)
}

/// Echoes who called and the body the handler received.
async fn upload(Authenticated(id): Authenticated, body: String) -> String {
    format!("{} {body}", id.subject)
}

fn app(layer: TesseraLayer) -> Router {
    Router::new()
        .route("/whoami", get(whoami).post(whoami))
        .route("/upload", post(upload))
        .layer(layer)
}

async fn send(app: &mut Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.call(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn call(app: &mut Router, auth: Option<&str>) -> (StatusCode, String, Option<String>) {
    let mut req = Request::builder().uri("/whoami?x=1");
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let resp = app.call(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap(), www)
}

fn jwt_for(key: &SigningKey, aud: &str) -> String {
    let now = SystemClock.now();
    let mut c = Object::new();
    c.insert("sub", "alice".into());
    c.insert("aud", aud.into());
    c.insert("exp", (now + 60).into());
    jwt::sign(key, &Object::new(), &c).unwrap()
}

#[tokio::test]
async fn bare_verifier_accepts_jwt_and_nip98_and_refuses_the_rest() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let keys = KeySet::single(key.verifying_key().unwrap());
    let policy = Policy {
        audiences: vec!["https://api.example".into()],
        ..Policy::default()
    };
    let verifier = Verifier::new(policy, keys);
    let mut app = app(TesseraLayer::verifier(verifier, "https://api.example/"));

    let token = jwt_for(&key, "https://api.example");
    let (s, body, _) = call(&mut app, Some(&format!("Bearer {token}"))).await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "jwt alice"));

    let wrong = jwt_for(&key, "https://other.example");
    let (s, body, www) = call(&mut app, Some(&format!("Bearer {wrong}"))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"audience_mismatch\""), "{body}");
    assert!(www.unwrap().starts_with("Bearer error=\"invalid_token\""));

    let (s, body, _) = call(&mut app, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"malformed\""), "{body}");

    // NIP-98 bound to this request's URL and method; once only.
    let user = NostrSecretKey::generate();
    let event = issue_nip98(
        &user,
        "https://api.example/whoami?x=1",
        "GET",
        None,
        SystemClock.now(),
    )
    .unwrap();
    let auth = nip98_authorization(&event);
    let (s, body, _) = call(&mut app, Some(&auth)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body, format!("nip98 {}", user.public_key().to_hex()));
    let (s, body, _) = call(&mut app, Some(&auth)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"replayed\""), "{body}");
    let other = issue_nip98(
        &user,
        "https://api.example/elsewhere",
        "GET",
        None,
        SystemClock.now(),
    )
    .unwrap();
    let (_, body, _) = call(&mut app, Some(&nip98_authorization(&other))).await;
    assert!(body.contains("\"url_mismatch\""), "{body}");
}

#[tokio::test]
async fn bare_verifier_refuses_a_named_audience_unless_its_policy_opts_out() {
    // RFC 7519 §4.1.3 (formats.md, common rules): a verifier that expects no
    // audience refuses a token that names one...
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let keys = KeySet::single(key.verifying_key().unwrap());
    let token = format!("Bearer {}", jwt_for(&key, "https://api.example"));
    let strict = Verifier::new(Policy::default(), keys.clone());
    let mut app1 = app(TesseraLayer::verifier(strict, "https://api.example"));
    let (s, body, www) = call(&mut app1, Some(&token)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"audience_mismatch\""), "{body}");
    assert!(body.contains("accept_any_audience"), "{body}");
    assert!(www.unwrap().starts_with("Bearer error=\"invalid_token\""));
    // ...a token naming none passes...
    let mut c = Object::new();
    c.insert("sub", "bob".into());
    c.insert("exp", (SystemClock.now() + 60).into());
    let plain = format!("Bearer {}", jwt::sign(&key, &Object::new(), &c).unwrap());
    let (s, body, _) = call(&mut app1, Some(&plain)).await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "jwt bob"));
    // ...and the verifier's policy is the layer's opt-out.
    let any = Policy {
        accept_any_audience: true,
        ..Policy::default()
    };
    let mut app2 = app(TesseraLayer::verifier(
        Verifier::new(any, keys),
        "https://api.example",
    ));
    let (s, body, _) = call(&mut app2, Some(&token)).await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "jwt alice"));
}

fn bare_app() -> Router {
    let verifier = Verifier::new(Policy::default(), KeySet::new());
    app(TesseraLayer::verifier(verifier, "https://api.example").max_body_bytes(1024))
}

fn nip98_post(user: &NostrSecretKey, signed_body: &[u8], sent_body: &[u8]) -> Request<Body> {
    let event = issue_nip98(
        user,
        "https://api.example/upload",
        "POST",
        Some(signed_body),
        SystemClock.now(),
    )
    .unwrap();
    Request::builder()
        .method("POST")
        .uri("/upload")
        .header("Authorization", nip98_authorization(&event))
        .body(Body::from(sent_body.to_vec()))
        .unwrap()
}

/// The finding: the layer checked NIP-98 with no body, so an event's
/// `payload` tag bound nothing. Now the body it signed is the body the
/// handler gets, and any other body is refused.
#[tokio::test]
async fn nip98_binds_the_request_body() {
    let mut app = bare_app();
    let user = NostrSecretKey::generate();
    let (s, body) = send(&mut app, nip98_post(&user, b"pay alice 5", b"pay alice 5")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body, format!("{} pay alice 5", user.public_key().to_hex()));
    let (s, body) = send(
        &mut app,
        nip98_post(&user, b"pay alice 5", b"pay mallory 500"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"payload_mismatch\""), "{body}");
    // Past the bound: 413, nothing reaches the handler.
    let big = vec![b'x'; 2048];
    let (s, body) = send(&mut app, nip98_post(&user, &big, &big)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

/// The finding: one signer could fill the 100k-entry replay map and lock
/// every NIP-98 user out. Now a signer past its share waits alone.
#[tokio::test]
async fn one_signer_cannot_fill_the_replay_guard_for_others() {
    let mut app = bare_app();
    let flooder = NostrSecretKey::generate();
    let now = SystemClock.now();
    let mut refused = None;
    for i in 0..1_100 {
        // Distinct events, each valid once: the URL's query differs.
        let event = issue_nip98(
            &flooder,
            &format!("https://api.example/whoami?n={i}"),
            "GET",
            None,
            now,
        )
        .unwrap();
        let req = Request::builder()
            .uri(format!("/whoami?n={i}"))
            .header("Authorization", nip98_authorization(&event))
            .body(Body::empty())
            .unwrap();
        let (s, body) = send(&mut app, req).await;
        if s != StatusCode::OK {
            refused = Some((i, s, body));
            break;
        }
    }
    let (i, s, body) = refused.expect("the flooder is stopped");
    assert_eq!(i, 1_000, "stopped after its share");
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Another signer is unaffected.
    let other = NostrSecretKey::generate();
    let (s, body, _) = call(
        &mut app,
        Some(&nip98_authorization(
            &issue_nip98(&other, "https://api.example/whoami?x=1", "GET", None, now).unwrap(),
        )),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

/// `access_token_policy` (which needs no session crate) requires the
/// `typ` the session layer signs access tokens with.
#[cfg(feature = "sessions")]
#[test]
fn access_token_policy_requires_the_session_typ() {
    let policy = tessera_axum::access_token_policy("https://auth.example/");
    assert_eq!(
        policy.required_typ.as_deref(),
        Some(tessera_session::tokens::ACCESS_TOKEN_TYP)
    );
    assert_eq!(policy.issuer.as_deref(), Some("https://auth.example"));
}

#[cfg(feature = "sessions")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_mode_checks_revocation() {
    use tessera_session::{SessionConfig, Sessions};
    let dir = std::env::temp_dir().join(format!("tessera-axum-{}", std::process::id()));
    let store = tessera_store::open(&format!("sqlite://{}/t.db", dir.display()))
        .await
        .unwrap();
    let signer = Arc::new(SigningKey::generate(Algorithm::EdDSA).unwrap());
    let keys = KeySet::single(signer.verifying_key().unwrap());
    let url = "https://auth.example".to_string();
    let config = SessionConfig {
        issuer: url.clone(),
        audience: url.clone(),
        siwe_domain: "auth.example".into(),
        siwe_uri: url.clone(),
        chain_id: 1,
        siwe_chain_ids: Vec::new(),
        login_url: format!("{url}/v1/auth/login"),
        nwt_audiences: vec![url.clone()],
        access_ttl: 900,
        refresh_ttl: 86400,
        grace: 10,
        leeway: 60,
        nonce_ttl: 300,
        self_issued_max_lifetime: None,
        verify_cache: Default::default(),
    };
    let server = NostrSecretKey::generate();
    let sessions = Arc::new(Sessions::new(
        config,
        store,
        signer,
        keys,
        server.public_key(),
    ));
    let user = NostrSecretKey::generate();
    let event = issue_nip98(
        &user,
        &format!("{url}/v1/auth/login"),
        "POST",
        None,
        SystemClock.now(),
    )
    .unwrap();
    let pair = sessions
        .login_nostr(&nip98_authorization(&event), b"")
        .await
        .unwrap();
    let mut app = app(TesseraLayer::sessions(Arc::clone(&sessions)));
    let bearer = format!("Bearer {}", pair.access_token);
    let (s, body, _) = call(&mut app, Some(&bearer)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body, format!("jwt {}", user.public_key().to_hex()));
    // Core's one Bearer parser: two spaces are malformed here as well.
    let (s, body, _) = call(&mut app, Some(&format!("Bearer  {}", pair.access_token))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"malformed\""), "{body}");
    // The cookie: the server's origin rule (the issuer's origin).
    let cookie = format!("tessera_access={}", pair.access_token);
    let with = |method: &str, extra: &[(&str, &str)]| {
        let mut r = Request::builder()
            .method(method)
            .uri("/whoami")
            .header("Cookie", &cookie);
        for (k, v) in extra {
            r = r.header(*k, *v);
        }
        r.body(Body::empty()).unwrap()
    };
    for (method, extra, want) in [
        ("GET", vec![], StatusCode::OK),
        (
            "GET",
            vec![("Origin", "https://evil.example")],
            StatusCode::FORBIDDEN,
        ),
        (
            "GET",
            vec![("Sec-Fetch-Site", "cross-site")],
            StatusCode::FORBIDDEN,
        ),
        ("POST", vec![], StatusCode::FORBIDDEN),
        (
            "POST",
            vec![("Origin", "https://auth.example")],
            StatusCode::OK,
        ),
        (
            "POST",
            vec![("Sec-Fetch-Site", "same-origin")],
            StatusCode::OK,
        ),
    ] {
        let (s, body) = send(&mut app, with(method, &extra)).await;
        assert_eq!(s, want, "{method} {extra:?}: {body}");
    }
    sessions.logout_access(&pair.access_token).await.unwrap();
    let (s, body, _) = call(&mut app, Some(&bearer)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"revoked\""), "{body}");
    let _ = std::fs::remove_dir_all(&dir);
}
