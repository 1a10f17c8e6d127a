//! The layer and extractor, driven as a tower service (no network).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tessera_axum::{Authenticated, TesseraLayer};
use tessera_core::json::Object;
use tessera_core::keys::{KeySet, SigningKey};
use tessera_core::nostr::{issue_nip98, nip98_authorization, NostrSecretKey};
use tessera_core::{jwt, Algorithm, Clock, Policy, SystemClock, Verifier};
use tower_service::Service;

async fn whoami(Authenticated(id): Authenticated) -> String {
    format!("{} {}", id.format.as_str(), id.subject)
}

fn app(layer: TesseraLayer) -> Router {
    Router::new().route("/whoami", get(whoami)).layer(layer)
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
    sessions.logout_access(&pair.access_token).await.unwrap();
    let (s, body, _) = call(&mut app, Some(&bearer)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"revoked\""), "{body}");
    let _ = std::fs::remove_dir_all(&dir);
}
