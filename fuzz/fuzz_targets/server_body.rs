//! The HTTP request bodies of tessera-server, through the real axum Router
//! (tower's `oneshot`, a Tokio current-thread runtime, an in-memory SQLite
//! store, a fixed clock): challenge, login, refresh, logout, revoke and
//! introspect (JSON and forms), the Portal-compatible `/jwt/*`, and
//! `/v1/verify`.
//!
//! Input: a route byte, a flags byte (content type; admin token; an
//! `Authorization` value from the input; a NIP-98 event the target signs
//! for this exact body), an optional Authorization piece, then the body.
//!
//! Properties: no handler panics or answers 500; every error answer is the
//! JSON shape of contracts.md (`{"error","error_description"}`, or
//! `{"success":false,"error"}` on the Portal routes).
#![no_main]

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, Mutex, OnceLock};
use tessera_core::internal::nostr::{issue_nip98, nip98_authorization};
use tessera_core::{Algorithm, FixedClock};
use tessera_fuzz::{nostr_secret, Reader, NOW};
use tessera_server::app::AppState;
use tessera_server::config::Config;
use tessera_server::keys::ServerKeys;
use tower::ServiceExt;

const PUBLIC_URL: &str = "https://api.example";
const ADMIN: &str = "fuzz-admin-token-not-a-secret-0123";

/// Rebuild the state (and its in-memory store) this often, so that the
/// challenges and sessions fuzzing creates do not pile up.
const REBUILD_EVERY: u64 = 20_000;

const ROUTES: [(&str, &str); 10] = [
    ("POST", "/v1/auth/challenge"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
    ("POST", "/v1/oauth/revoke"),
    ("POST", "/v1/oauth/introspect"),
    ("POST", "/jwt/issue"),
    ("POST", "/jwt/verify"),
    ("POST", "/v1/verify"),
    ("POST", "/v1/auth/logout-all"),
];

struct Harness {
    rt: tokio::runtime::Runtime,
    router: Mutex<(Router, u64)>,
    dir: std::path::PathBuf,
}

fn build(rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> Router {
    rt.block_on(async {
        let config = Config {
            data_dir: dir.to_path_buf(),
            public_url: Some(PUBLIC_URL.into()),
            admin_token: Some(ADMIN.into()),
            rate_limit_per_minute: 0,
            ..Config::default()
        };
        let keys = ServerKeys::load_or_create(dir, Algorithm::ES256, NOW).expect("server keys");
        let store = tessera_store::open("sqlite::memory:")
            .await
            .expect("in-memory store");
        let state = AppState::with_clock(config, keys, store, Arc::new(FixedClock(NOW)));
        tessera_server::serve::router(Arc::new(state))
    })
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = std::env::temp_dir().join(format!("tessera-fuzz-server-{}", std::process::id()));
        let router = build(&rt, &dir);
        Harness {
            rt,
            router: Mutex::new((router, 0)),
            dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let h = harness();
    let router = {
        let mut g = h.router.lock().unwrap_or_else(|p| p.into_inner());
        g.1 += 1;
        if g.1.is_multiple_of(REBUILD_EVERY) {
            g.0 = build(&h.rt, &h.dir);
        }
        g.0.clone()
    };
    let mut r = Reader(data);
    let (method, path) = ROUTES[usize::from(r.byte()) % ROUTES.len()];
    let flags = r.byte();
    let auth_piece = if flags & 4 != 0 {
        Some(r.piece())
    } else {
        None
    };
    let body = r.rest().to_vec();

    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(path);
    match flags & 3 {
        0 => {}
        1 => req = req.header(header::CONTENT_TYPE, "application/json"),
        2 => req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
        _ => req = req.header(header::CONTENT_TYPE, "application/json; charset=utf-8"),
    }
    if flags & 8 != 0 {
        req = req.header(header::AUTHORIZATION, format!("Bearer {ADMIN}"));
    } else if flags & 16 != 0 {
        // A fresh NIP-98 event for this URL, method and body, as a wallet
        // would send: the login succeeds and the body's `cookie` is read.
        let url = format!("{PUBLIC_URL}{path}");
        let ev =
            issue_nip98(nostr_secret(), &url, method, Some(body.as_slice()), NOW).expect("nip98");
        req = req.header(header::AUTHORIZATION, nip98_authorization(&ev));
    } else if let Some(piece) = auth_piece {
        if let Ok(v) = header::HeaderValue::from_bytes(piece) {
            req = req.header(header::AUTHORIZATION, v);
        }
    }
    if flags & 32 != 0 {
        req = req.header(header::COOKIE, "tessera_refresh=fuzz; tessera_access=fuzz");
    }
    let req = req.body(Body::from(body)).expect("request");

    h.rt.block_on(async move {
        let resp = router.oneshot(req).await.expect("infallible");
        let status = resp.status();
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{method} {path} answered 500"
        );
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("response body");
        if status.is_client_error() || status.is_server_error() {
            let v: serde_json::Value =
                serde_json::from_slice(&bytes).expect("an error answer is JSON");
            if path.starts_with("/jwt/") {
                assert_eq!(v["success"], serde_json::Value::Bool(false), "{v}");
                assert!(v["error"].is_string());
            } else {
                assert!(v["error"].is_string(), "{v}");
                assert!(v["error_description"].is_string(), "{v}");
            }
        }
    });
});
