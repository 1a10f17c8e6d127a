//! An axum app with sessions in-process: it logs users in (a NIP-98 event
//! signed by their Nostr key), hands out tessera access and refresh tokens,
//! and checks every request against the sessions, so that a logout ends a
//! token at once (a bare verifier would accept it until it expires).
//!
//! ```sh
//! cargo run -p tessera-axum --example sessions
//! ```
//!
//! It serves the app on a free loopback port with an in-memory SQLite
//! store, logs a user in as a Nostr client would (the `nostr` crate signs
//! the event), calls `/orders` (200), logs out, calls it again with the
//! same token (401 `revoked`), checks each answer, stops and exits 0.
//! Followed by docs/guides/axum.md, whose code is the part between the
//! ANCHOR lines.

use std::future::IntoFuture;

// ANCHOR: app
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;
use tessera_axum::{Authenticated, TesseraLayer};
use tessera_core::{Algorithm, KeySet, SigningKey};
use tessera_session::{SessionConfig, Sessions};

/// The sessions of the app whose public URL is `url`, on `store_url`:
/// `sqlite://...` for one instance, `postgres://...` or `redis://...` to
/// share them between instances (and with a `tessera serve`).
async fn sessions(
    url: &str,
    store_url: &str,
) -> Result<Arc<Sessions>, Box<dyn std::error::Error + Send + Sync>> {
    let config = SessionConfig {
        issuer: url.into(),   // access tokens' iss
        audience: url.into(), // and aud
        login_url: format!("{url}/login"),
        nwt_audiences: vec![url.into()],
        siwe_domain: url.trim_start_matches("https://").into(),
        siwe_uri: url.into(),
        chain_id: 1,
        siwe_chain_ids: vec![],
        access_ttl: 900,
        refresh_ttl: 30 * 24 * 3600,
        grace: 10,
        leeway: 60,
        nonce_ttl: 300,
        self_issued_max_lifetime: Some(3600),
        verify_cache: Default::default(),
    };
    let store = tessera_store::open(store_url).await?;
    // The access-token signer. Several instances must share it: load it
    // from a file they all read (tessera serve keeps keys/signers.json).
    let signer = SigningKey::generate(Algorithm::ES256)?.with_kid("app-1");
    let verify_keys = KeySet::single(signer.verifying_key()?);
    // The Nostr key Portal wallet logins are addressed to (unused here).
    let portal_target = tessera_core::NostrPublicKey::from_hex(
        "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    )?;
    Ok(Arc::new(Sessions::new(
        config,
        store,
        Arc::new(signer),
        verify_keys,
        portal_target,
    )))
}

fn app(sessions: Arc<Sessions>) -> Router {
    let protected = Router::new()
        .route("/orders", get(orders))
        .layer(TesseraLayer::sessions(Arc::clone(&sessions)));
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .with_state(sessions)
        .merge(protected)
}

async fn orders(Authenticated(id): Authenticated) -> String {
    format!("orders of {}\n", id.subject)
}

/// `POST /login` with `Authorization: Nostr <NIP-98 event for POST /login>`:
/// a new session, as `{"access_token","refresh_token","expires_in"}`.
async fn login(
    State(sessions): State<Arc<Sessions>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let pair = sessions
        .login_nostr(auth, b"")
        .await
        .map_err(|e| (StatusCode::UNAUTHORIZED, e.code().to_string()))?;
    Ok(Json(serde_json::json!({
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "expires_in": pair.expires_in,
    })))
}

/// `POST /logout` with `Authorization: Bearer <access token>`: ends the
/// session; the token and its refresh token stop working at once.
async fn logout(State(sessions): State<Arc<Sessions>>, headers: HeaderMap) -> StatusCode {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match sessions.logout_access(token).await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::UNAUTHORIZED,
    }
}
// ANCHOR_END: app

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    // The URL clients call; here the listener's own address.
    let url = format!("http://{}", listener.local_addr()?);
    let app = app(sessions(&url, "sqlite::memory:").await?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .into_future(),
    );
    println!("app on {url}");

    // A Nostr client: a NIP-98 event for POST {url}/login, signed by the user's key.
    let user = nostr::key::Keys::generate();
    let event = nostr::nips::nip98::HttpData::new(
        format!("{url}/login").parse()?,
        nostr::nips::nip98::HttpMethod::POST,
    );
    let nip98 = event.to_authorization(&user).await?;

    let (status, body) = call(&url, "POST", "/login", Some(nip98.clone())).await?;
    assert_eq!(status, 200, "{body}");
    let pair: serde_json::Value = serde_json::from_str(&body)?;
    let access = pair["access_token"].as_str().ok_or("no access_token")?;
    let bearer = format!("Bearer {access}");
    println!(
        "login: {status}, an access token for {}",
        user.public_key().to_hex()
    );

    // The same event again: each event logs in once.
    let (status, body) = call(&url, "POST", "/login", Some(nip98)).await?;
    assert_eq!((status, body.as_str()), (401, "replayed"));
    println!("the same login event again: {status} {body}");

    let (status, body) = call(&url, "GET", "/orders", Some(bearer.clone())).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, format!("orders of {}\n", user.public_key().to_hex()));
    println!("with the access token: {status} {body:?}");

    let (status, _) = call(&url, "POST", "/logout", Some(bearer.clone())).await?;
    assert_eq!(status, 204);
    let (status, body) = call(&url, "GET", "/orders", Some(bearer)).await?;
    let error: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(
        (status, &error["error"]),
        (401, &serde_json::json!("revoked"))
    );
    println!("after logout, the same token: {status} {}", error["error"]);

    let _ = stop.send(());
    server.await??;
    println!("sessions: OK");
    Ok(())
}

/// `method base+path` (blocking client, on a blocking thread): status and body.
async fn call(
    base: &str,
    method: &'static str,
    path: &str,
    authorization: Option<String>,
) -> Result<(u16, String), Box<dyn std::error::Error + Send + Sync>> {
    let url = format!("{base}{path}");
    tokio::task::spawn_blocking(move || {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build();
        let agent = ureq::Agent::new_with_config(config);
        let mut resp = match (method, authorization) {
            ("GET", Some(a)) => agent.get(&url).header("Authorization", a).call()?,
            ("GET", None) => agent.get(&url).call()?,
            (_, Some(a)) => agent.post(&url).header("Authorization", a).send_empty()?,
            (_, None) => agent.post(&url).send_empty()?,
        };
        let status = resp.status().as_u16();
        Ok((status, resp.body_mut().read_to_string()?))
    })
    .await?
}
