//! The layer trusting a real tessera server by its JWKS URL
//! (`TesseraLayer::remote`): a key rotation on the server reaches the app
//! without a restart.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use std::time::{Duration, Instant};
use tessera_axum::{access_token_policy, Authenticated, TesseraLayer};
use tessera_core::internal::ethereum::EthereumSecretKey;
use tessera_core::{Algorithm, Clock, SystemClock};
use tessera_jwks::{JwksConfig, RemoteJwks, RemoteVerifier};
use tessera_testkit::api::siwe_login;
use tessera_testkit::inproc;
use tower_service::Service;

async fn whoami(Authenticated(id): Authenticated) -> String {
    id.subject.clone()
}

async fn call(app: &mut Router, auth: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .uri("/whoami")
        .header("Authorization", auth)
        .body(Body::empty())
        .expect("request");
    let resp = app.call(req).await.expect("infallible");
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn kid_of(token: &str) -> String {
    let head = token.split('.').next().expect("header");
    let bytes = tessera_core::internal::encoding::b64url_decode(head.as_bytes()).expect("b64");
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    v["kid"].as_str().expect("kid").to_owned()
}

/// A SIWE login at the server (blocking HTTP, off the runtime's threads).
async fn login(server: std::net::SocketAddr, wallet: &EthereumSecretKey) -> String {
    let wallet = wallet.clone();
    tokio::task::spawn_blocking(move || {
        let r = siwe_login(server, &wallet, json!({}));
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["access_token"].as_str().expect("token").to_owned()
    })
    .await
    .expect("login")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_on_the_server_reaches_the_app_after_one_refetch() {
    let dir = tessera_testkit::TempDir::new("axum-remote");
    let data = dir.join("data");
    let server = {
        let data = data.clone();
        tokio::task::spawn_blocking(move || {
            inproc::start(None, |c| {
                c.data_dir = data;
                c.key_reload_interval_seconds = 1;
                c.key_publish_delay_seconds = 2;
            })
        })
        .await
        .expect("server")
    };
    let mut config = JwksConfig::jwks_uri(format!("{}/.well-known/jwks.json", server.url));
    config.allow_insecure = true; // the test's server is http://127.0.0.1
    let jwks = RemoteJwks::new(config).expect("jwks");
    jwks.refresh().await.expect("first fetch");
    let verifier = RemoteVerifier::new(jwks.clone(), access_token_policy(&server.url));
    let mut app = Router::new()
        .route("/whoami", get(whoami))
        .layer(TesseraLayer::remote(verifier));

    let wallet = EthereumSecretKey::generate();
    let subject = wallet.address().to_checksum();
    let old = login(server.addr, &wallet).await;
    assert_eq!(
        call(&mut app, &format!("Bearer {old}")).await,
        (StatusCode::OK, subject.clone())
    );
    let fetches = jwks.state().fetches;

    // `tessera keys rotate` on the server's data directory.
    let mut keys = tessera_server::keys::ServerKeys::load_or_create(
        &data,
        Algorithm::ES256,
        SystemClock.now(),
    )
    .expect("keys");
    let new_kid = keys
        .rotate(&data, Algorithm::ES256, SystemClock.now())
        .expect("rotate");
    // The server signs with it after its publish delay (2 s) and the next
    // reload (1 s).
    let fresh = login_with_kid(server.addr, &wallet, &new_kid).await;
    // The app's cached set lacks the new kid: one refetch, then accepted.
    assert!(!jwks.keys().keys().iter().any(|k| k.kid() == Some(&new_kid)));
    assert_eq!(
        call(&mut app, &format!("Bearer {fresh}")).await,
        (StatusCode::OK, subject.clone())
    );
    assert_eq!(jwks.state().fetches, fetches + 1, "exactly one refetch");
    assert!(jwks.keys().keys().iter().any(|k| k.kid() == Some(&new_kid)));
    // The token of the old key, still alive, is still accepted.
    assert_eq!(
        call(&mut app, &format!("Bearer {old}")).await.0,
        StatusCode::OK
    );

    // Refused: a token of a key the server never published, a token for
    // another audience, a NIP-98-style credential.
    let stranger = tessera_core::SigningKey::generate(Algorithm::ES256)
        .expect("key")
        .with_kid("not-the-servers");
    let mut claims = tessera_core::Object::new();
    let now = SystemClock.now();
    for (k, v) in [("iss", server.url.as_str()), ("aud", server.url.as_str())] {
        claims.insert(k, v.into());
    }
    claims.insert("sub", "mallory".into());
    claims.insert("jti", "j".into());
    claims.insert("sid", "s".into());
    claims.insert("exp", (now + 60).into());
    let mut header = tessera_core::Object::new();
    header.insert("typ", "at+jwt".into());
    let forged = tessera_core::jwt::sign(&stranger, &header, &claims).expect("sign");
    let (status, body) = call(&mut app, &format!("Bearer {forged}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"unknown_key\""), "{body}");
    let (status, body) = call(&mut app, "Nostr eyJ9").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"malformed\""), "{body}");
    drop(server);
}

/// Logs in and waits until the server signs with `kid` (its publish delay
/// and one reload).
async fn login_with_kid(
    server: std::net::SocketAddr,
    wallet: &EthereumSecretKey,
    kid: &str,
) -> String {
    let start = Instant::now();
    loop {
        let t = login(server, wallet).await;
        if kid_of(&t) == kid {
            return t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the server never signed with the new key"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sessions mode on the server's PostgreSQL store, its verification keys
/// following the server's JWKS: the rotated key is accepted after one
/// refetch, and a logout at the server is seen by the app (the session
/// checks stay).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_following_the_jwks_accept_a_rotated_key_and_see_logouts() {
    use std::sync::Arc;
    use tessera_core::internal::nostr::NostrSecretKey;
    use tessera_core::{KeySet, SigningKey};
    use tessera_session::{SessionConfig, Sessions};
    use tessera_testkit::store::{Backend, Kind};

    let Some(pg) = Backend::new(Kind::Postgres) else {
        return;
    };
    let dir = tessera_testkit::TempDir::new("axum-follow");
    let data = dir.join("data");
    let server = {
        let (data, url) = (data.clone(), pg.url.clone());
        tokio::task::spawn_blocking(move || {
            inproc::start(Some(url), |c| {
                c.data_dir = data;
                c.key_reload_interval_seconds = 1;
                c.key_publish_delay_seconds = 2;
            })
        })
        .await
        .expect("server")
    };
    let url = server.url.clone();
    let config = SessionConfig {
        issuer: url.clone(),
        audience: url.clone(),
        siwe_domain: server.addr.to_string(),
        siwe_uri: url.clone(),
        chain_id: 1,
        siwe_chain_ids: vec![1],
        login_url: format!("{url}/v1/auth/login"),
        nwt_audiences: vec![url.clone()],
        access_ttl: 900,
        refresh_ttl: 3600,
        grace: 10,
        leeway: 60,
        nonce_ttl: 300,
        self_issued_max_lifetime: None,
        verify_cache: tessera_core::CacheConfig::default(),
    };
    // The app signs nothing; it starts with no verification key at all.
    let sessions = Arc::new(Sessions::new(
        config,
        pg.open().await,
        Arc::new(SigningKey::generate(Algorithm::ES256).expect("key")),
        KeySet::new(),
        NostrSecretKey::generate().public_key(),
    ));
    let mut jwks_config = JwksConfig::jwks_uri(format!("{url}/.well-known/jwks.json"));
    jwks_config.allow_insecure = true;
    let jwks = RemoteJwks::new(jwks_config).expect("jwks");
    jwks.refresh().await.expect("first fetch");
    let mut app = Router::new()
        .route("/whoami", get(whoami))
        .layer(TesseraLayer::sessions(Arc::clone(&sessions)).follow_jwks(jwks.clone()));

    let wallet = EthereumSecretKey::generate();
    let subject = wallet.address().to_checksum();
    let old = login(server.addr, &wallet).await;
    assert_eq!(
        call(&mut app, &format!("Bearer {old}")).await,
        (StatusCode::OK, subject.clone())
    );
    let fetches = jwks.state().fetches;

    let mut keys = tessera_server::keys::ServerKeys::load_or_create(
        &data,
        Algorithm::ES256,
        SystemClock.now(),
    )
    .expect("keys");
    let new_kid = keys
        .rotate(&data, Algorithm::ES256, SystemClock.now())
        .expect("rotate");
    let fresh = login_with_kid(server.addr, &wallet, &new_kid).await;
    assert_eq!(
        call(&mut app, &format!("Bearer {fresh}")).await,
        (StatusCode::OK, subject.clone())
    );
    assert_eq!(jwks.state().fetches, fetches + 1, "exactly one refetch");

    // A logout at the server ends the session for the app too.
    let addr = server.addr;
    let token = fresh.clone();
    let out = tokio::task::spawn_blocking(move || {
        tessera_testkit::http::http(
            addr,
            "POST",
            "/v1/auth/logout",
            &[("Authorization", &tessera_testkit::http::bearer(&token))],
            b"",
        )
        .status
    })
    .await
    .expect("logout");
    assert_eq!(out, 204);
    let start = Instant::now();
    loop {
        let (status, body) = call(&mut app, &format!("Bearer {fresh}")).await;
        if status == StatusCode::UNAUTHORIZED {
            assert!(body.contains("\"revoked\""), "{body}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the app still accepts a logged-out session: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(server);
}
