//! End-to-end over real HTTP: a server started on a free port (its own
//! runtime and thread), driven by a tiny blocking HTTP/1.1 client (both in
//! `support/`, shared with `hardening.rs`), on
//! SQLite, PostgreSQL and Redis (the latter two from
//! `TESSERA_TEST_POSTGRES_URL` / `TESSERA_TEST_REDIS_URL`; skipped loudly
//! when unset, failing in CI).

#[path = "../../tessera-store/tests/common/mod.rs"]
mod common;

mod support;

use common::{Backend, Kind};
use serde_json::{json, Value};
use support::*;
use tessera_core::ethereum::EthereumSecretKey;
use tessera_core::nostr::{
    issue_nip98, issue_nwt, issue_portal, nip98_authorization, nwt_authorization, NostrPublicKey,
    NostrSecretKey, NwtClaims,
};
use tessera_core::{Clock, SystemClock};

#[path = "e2e/revocation.rs"]
mod revocation;

fn run_all(kind: Kind) {
    let backend = match kind {
        Kind::Sqlite => None,
        other => match Backend::new(other) {
            Some(b) => Some(b),
            None => return,
        },
    };
    let s = start(backend.as_ref().map(|b| b.url.clone()), |_| {});
    health_info_jwks(&s, kind);
    siwe_flow(&s);
    nostr_and_portal_logins(&s);
    concurrent_refresh(&s);
    logout_all_revoke_introspect(&s);
    forward_auth(&s);
    cookies(&s);
    bad_inputs(&s);
    portal_rest(&s);
}

#[test]
fn e2e_sqlite() {
    run_all(Kind::Sqlite);
}

#[test]
fn e2e_postgres() {
    run_all(Kind::Postgres);
}

#[test]
fn e2e_redis() {
    run_all(Kind::Redis);
}

fn health_info_jwks(s: &Server, kind: Kind) {
    assert_eq!(http(s.addr, "GET", "/healthz", &[], b"").status, 200);
    let ready = http(s.addr, "GET", "/readyz", &[], b"");
    assert_eq!(ready.status, 200);
    let want = match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
        Kind::Redis => "redis",
    };
    assert_eq!(ready.json()["store"], want);
    let info = http(s.addr, "GET", "/v1/info", &[], b"").json();
    assert_eq!(info["issuer"], s.url.as_str());
    assert_eq!(info["siwe_domain"], s.addr.to_string());
    assert_eq!(info["nostr_pubkey"].as_str().map(str::len), Some(64));
    let jwks = http(s.addr, "GET", "/.well-known/jwks.json", &[], b"");
    assert_eq!(jwks.status, 200);
    let keys = jwks.json()["keys"].as_array().expect("keys").clone();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].get("d").is_none(), "no private part in the JWKS");
    let metrics = http(s.addr, "GET", "/metrics", &[], b"");
    assert_eq!(metrics.status, 200);
}

fn siwe_flow(s: &Server) {
    let wallet = EthereumSecretKey::generate();
    let login = siwe_login(s, &wallet, json!({}));
    assert_eq!(
        login.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&login.body)
    );
    let pair = login.json();
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["subject"], wallet.address().to_checksum().as_str());
    assert_eq!(pair["expires_in"], 900);
    let access = pair["access_token"].as_str().expect("access").to_owned();
    let refresh = pair["refresh_token"].as_str().expect("refresh").to_owned();

    let me = http(
        s.addr,
        "GET",
        "/v1/auth/me",
        &[("Authorization", &bearer(&access))],
        b"",
    );
    assert_eq!(me.status, 200);
    assert_eq!(
        me.json()["subject"],
        wallet.address().to_checksum().as_str()
    );
    assert_eq!(me.json()["amr"], json!(["siwe"]));

    // Refresh rotates; the old refresh token within the grace window is
    // served again; the same nonce cannot log in twice.
    let r1 = post_json(
        s,
        "/v1/auth/refresh",
        &json!({"refresh_token": refresh}),
        &[],
    );
    assert_eq!(r1.status, 200);
    let r1 = r1.json();
    assert_ne!(r1["refresh_token"], refresh.as_str());
    let new_access = r1["access_token"].as_str().expect("a").to_owned();
    assert_eq!(
        http(
            s.addr,
            "GET",
            "/v1/auth/me",
            &[("Authorization", &bearer(&new_access))],
            b""
        )
        .status,
        200
    );

    // Logout ends the session: access and refresh stop working.
    let out = http(
        s.addr,
        "POST",
        "/v1/auth/logout",
        &[("Authorization", &bearer(&new_access))],
        b"",
    );
    assert_eq!(out.status, 204);
    let me = http(
        s.addr,
        "GET",
        "/v1/auth/me",
        &[("Authorization", &bearer(&new_access))],
        b"",
    );
    assert_eq!(me.status, 401);
    assert_eq!(me.error(), "revoked");
    assert!(me
        .header("www-authenticate")
        .is_some_and(|v| v.starts_with("Bearer error=\"invalid_token\"")));
    let again = post_json(
        s,
        "/v1/auth/refresh",
        &json!({"refresh_token": r1["refresh_token"]}),
        &[],
    );
    assert_eq!(again.status, 400);
    assert_eq!(again.error(), "invalid_grant");
}

fn reuse_detection(s: &Server) {
    let wallet = EthereumSecretKey::generate();
    let pair = siwe_login(s, &wallet, json!({})).json();
    let refresh = pair["refresh_token"].as_str().expect("r").to_owned();
    let r1 = post_json(
        s,
        "/v1/auth/refresh",
        &json!({"refresh_token": refresh}),
        &[],
    )
    .json();
    // Grace is 0 on this server: presenting the spent token again is reuse.
    let reuse = post_json(
        s,
        "/v1/auth/refresh",
        &json!({"refresh_token": refresh}),
        &[],
    );
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.error(), "invalid_grant");
    // The whole family died, the winner's successor included.
    let next = post_json(
        s,
        "/v1/auth/refresh",
        &json!({"refresh_token": r1["refresh_token"]}),
        &[],
    );
    assert_eq!(next.status, 400);
    let me = http(
        s.addr,
        "GET",
        "/v1/auth/me",
        &[(
            "Authorization",
            &bearer(r1["access_token"].as_str().expect("a")),
        )],
        b"",
    );
    assert_eq!(me.error(), "revoked");
    let metrics =
        String::from_utf8_lossy(&http(s.addr, "GET", "/metrics", &[], b"").body).to_string();
    let count: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tessera_refresh_total{result=\"reuse_detected\"} "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(count >= 1, "{metrics}");
}

#[test]
fn e2e_reuse_detection_without_grace() {
    let s = start(None, |c| c.refresh_reuse_grace_seconds = 0);
    reuse_detection(&s);
}

fn nostr_and_portal_logins(s: &Server) {
    let user = NostrSecretKey::generate();
    let now = SystemClock.now();
    let login_url = format!("{}/v1/auth/login", s.url);
    let event = issue_nip98(&user, &login_url, "POST", None, now).expect("nip98");
    let auth = nip98_authorization(&event);
    let r = http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["subject"], user.public_key().to_hex().as_str());
    let replay = http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(replay.status, 401);
    assert_eq!(replay.error(), "replayed");
    // With a body and its payload hash.
    let body = br#"{"cookie":false}"#;
    let event = issue_nip98(&user, &login_url, "POST", Some(body), now).expect("nip98");
    let r = http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[
            ("Authorization", &nip98_authorization(&event)),
            ("Content-Type", "application/json"),
        ],
        body,
    );
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));

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
    let r = http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[("Authorization", &nwt_authorization(&nwt))],
        b"",
    );
    assert_eq!(r.status, 200);

    let info = http(s.addr, "GET", "/v1/info", &[], b"").json();
    let server_key = NostrPublicKey::parse(info["nostr_pubkey"].as_str().expect("pk")).expect("pk");
    let token = issue_portal(&user, &server_key, now, 3600).expect("portal");
    let r = post_json(
        s,
        "/v1/auth/login",
        &json!({"method": "portal", "token": token, "pubkey": user.public_key().to_npub()}),
        &[],
    );
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["subject"], user.public_key().to_hex().as_str());
    let metrics =
        String::from_utf8_lossy(&http(s.addr, "GET", "/metrics", &[], b"").body).to_string();
    assert!(
        metrics.contains("tessera_logins_total{method=\"portal\",result=\"success\"}"),
        "{metrics}"
    );
}

fn concurrent_refresh(s: &Server) {
    // The first rotation wins; the 19 others arrive within the grace window
    // (10 s) and get a pair in the same family. Then, after the grace, one
    // more presentation is reuse. Here we check the single winner through
    // the family: every pair handed out belongs to one session.
    let wallet = EthereumSecretKey::generate();
    let pair = siwe_login(s, &wallet, json!({})).json();
    let refresh = pair["refresh_token"].as_str().expect("r").to_owned();
    let addr = s.addr;
    let results: Vec<Resp> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let refresh = refresh.clone();
                scope.spawn(move || {
                    http(
                        addr,
                        "POST",
                        "/v1/auth/refresh",
                        &[("Content-Type", "application/json")],
                        json!({"refresh_token": refresh}).to_string().as_bytes(),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect()
    });
    let mut sids = std::collections::HashSet::new();
    for r in &results {
        assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
        let me = http(
            s.addr,
            "GET",
            "/v1/auth/me",
            &[(
                "Authorization",
                &bearer(r.json()["access_token"].as_str().expect("a")),
            )],
            b"",
        )
        .json();
        sids.insert(me["session_id"].as_str().expect("sid").to_owned());
    }
    assert_eq!(
        sids.len(),
        1,
        "every concurrent refresh stayed in the one family"
    );
}

fn concurrent_refresh_one_winner(s: &Server) {
    let wallet = EthereumSecretKey::generate();
    let pair = siwe_login(s, &wallet, json!({})).json();
    let refresh = pair["refresh_token"].as_str().expect("r").to_owned();
    let addr = s.addr;
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let refresh = refresh.clone();
                scope.spawn(move || {
                    http(
                        addr,
                        "POST",
                        "/v1/auth/refresh",
                        &[("Content-Type", "application/json")],
                        json!({"refresh_token": refresh}).to_string().as_bytes(),
                    )
                    .status
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
}

#[test]
fn e2e_twenty_concurrent_refreshes_without_grace_have_one_winner() {
    let s = start(None, |c| c.refresh_reuse_grace_seconds = 0);
    concurrent_refresh_one_winner(&s);
    for kind in [Kind::Postgres, Kind::Redis] {
        if let Some(b) = Backend::new(kind) {
            let s = start(Some(b.url.clone()), |c| c.refresh_reuse_grace_seconds = 0);
            concurrent_refresh_one_winner(&s);
            reuse_detection(&s);
        }
    }
}

fn logout_all_revoke_introspect(s: &Server) {
    let wallet = EthereumSecretKey::generate();
    let a = siwe_login(s, &wallet, json!({})).json();
    let b = siwe_login(s, &wallet, json!({})).json();
    let a_access = a["access_token"].as_str().expect("a").to_owned();
    let b_access = b["access_token"].as_str().expect("b").to_owned();
    let admin = bearer(ADMIN);
    let form = |t: &str| format!("token={t}");
    let intro = http(
        s.addr,
        "POST",
        "/v1/oauth/introspect",
        &[
            ("Authorization", &admin),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form(&a_access).as_bytes(),
    );
    assert_eq!(intro.status, 200);
    let v = intro.json();
    assert_eq!(v["active"], true);
    assert_eq!(v["sub"], wallet.address().to_checksum().as_str());
    // Introspection is admin-only.
    let denied = http(
        s.addr,
        "POST",
        "/v1/oauth/introspect",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form(&a_access).as_bytes(),
    );
    assert_eq!(denied.status, 401);
    // RFC 7009: revoke the access token of session a.
    let rev = http(
        s.addr,
        "POST",
        "/v1/oauth/revoke",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form(&a_access).as_bytes(),
    );
    assert_eq!(rev.status, 200);
    let intro = http(
        s.addr,
        "POST",
        "/v1/oauth/introspect",
        &[
            ("Authorization", &admin),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form(&a_access).as_bytes(),
    );
    assert_eq!(intro.json(), json!({"active": false}));
    let unknown = http(
        s.addr,
        "POST",
        "/v1/oauth/revoke",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"token=nonsense",
    );
    assert_eq!(unknown.status, 200, "unknown tokens are fine for RFC 7009");
    let missing = http(
        s.addr,
        "POST",
        "/v1/oauth/revoke",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"",
    );
    assert_eq!(missing.status, 400);
    // Logout-all ends b too, and its refresh token.
    let out = http(
        s.addr,
        "POST",
        "/v1/auth/logout-all",
        &[("Authorization", &bearer(&b_access))],
        b"",
    );
    assert_eq!(out.status, 204);
    let me = http(
        s.addr,
        "GET",
        "/v1/auth/me",
        &[("Authorization", &bearer(&b_access))],
        b"",
    );
    assert_eq!(me.error(), "revoked");
    let r = post_json(
        s,
        "/v1/auth/refresh",
        &json!({"refresh_token": b["refresh_token"]}),
        &[],
    );
    assert_eq!(r.error(), "invalid_grant");
    // A new login works, from the next second on (a message issued in the
    // logout-all's second is refused with the credentials made before it).
    next_second();
    let c = siwe_login(s, &wallet, json!({})).json();
    let me = http(
        s.addr,
        "GET",
        "/v1/auth/me",
        &[(
            "Authorization",
            &bearer(c["access_token"].as_str().expect("c")),
        )],
        b"",
    );
    assert_eq!(me.status, 200);
}

fn forward_auth(s: &Server) {
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

    let user = NostrSecretKey::generate();
    let now = SystemClock.now();
    // NIP-98 for the original request, reported by nginx (X-Original-URL).
    let original = "https://api.example/orders?id=7";
    let event = issue_nip98(&user, original, "DELETE", None, now).expect("nip98");
    let auth = nip98_authorization(&event);
    let r = http(
        s.addr,
        "GET",
        "/v1/verify",
        &[
            ("Authorization", &auth),
            ("X-Original-URL", original),
            ("X-Original-Method", "DELETE"),
        ],
        b"",
    );
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.header("x-auth-subject"),
        Some(user.public_key().to_hex().as_str())
    );
    assert_eq!(r.header("x-auth-method"), Some("nip98"));
    let r = http(
        s.addr,
        "GET",
        "/v1/verify",
        &[
            ("Authorization", &auth),
            ("X-Original-URL", original),
            ("X-Original-Method", "DELETE"),
        ],
        b"",
    );
    assert_eq!(r.error(), "replayed");
    // Traefik style headers; a different URL is url_mismatch, a different
    // method method_mismatch.
    let event = issue_nip98(&user, "https://api.example/a", "POST", None, now).expect("nip98");
    let auth = nip98_authorization(&event);
    let traefik = |uri: &str, method: &str| {
        http(
            s.addr,
            "GET",
            "/v1/verify",
            &[
                ("Authorization", &auth),
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Host", "api.example"),
                ("X-Forwarded-Uri", uri),
                ("X-Forwarded-Method", method),
            ],
            b"",
        )
    };
    assert_eq!(traefik("/b", "POST").error(), "url_mismatch");
    assert_eq!(traefik("/a", "GET").error(), "method_mismatch");
    assert_eq!(traefik("/a", "POST").status, 200);
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

fn cookies(s: &Server) {
    let wallet = EthereumSecretKey::generate();
    // Setting cookies needs the same origin (hardening.rs has the refusals).
    let r = siwe_login_with(s, &wallet, json!({"cookie": true}), &[("Origin", &s.url)]);
    assert_eq!(r.status, 200);
    let body = r.json();
    assert!(
        body.get("access_token").is_none() && body.get("refresh_token").is_none(),
        "tokens come as cookies only"
    );
    let set = r.headers_named("set-cookie");
    let access = set
        .iter()
        .find(|c| c.starts_with("tessera_access="))
        .expect("access cookie");
    let refresh = set
        .iter()
        .find(|c| c.starts_with("tessera_refresh="))
        .expect("refresh cookie");
    for c in [access, refresh] {
        assert!(
            c.contains("HttpOnly") && c.contains("Secure") && c.contains("SameSite=Strict"),
            "{c}"
        );
    }
    assert!(access.contains("Path=/;"), "{access}");
    assert!(refresh.contains("Path=/v1/auth;"), "{refresh}");
    let value = |c: &str| c.split(';').next().expect("pair").to_owned();
    let jar = format!("{}; {}", value(access), value(refresh));
    let me = http(s.addr, "GET", "/v1/auth/me", &[("Cookie", &jar)], b"");
    assert_eq!(me.status, 200);
    // State changes by cookie need the same origin.
    let cross = http(
        s.addr,
        "POST",
        "/v1/auth/refresh",
        &[("Cookie", &jar), ("Origin", "https://evil.example")],
        b"",
    );
    assert_eq!(cross.status, 403);
    let bare = http(s.addr, "POST", "/v1/auth/refresh", &[("Cookie", &jar)], b"");
    assert_eq!(bare.status, 403);
    let site = http(
        s.addr,
        "POST",
        "/v1/auth/refresh",
        &[("Cookie", &jar), ("Sec-Fetch-Site", "cross-site")],
        b"",
    );
    assert_eq!(site.status, 403);
    let ok = http(
        s.addr,
        "POST",
        "/v1/auth/refresh",
        &[("Cookie", &jar), ("Origin", &s.url)],
        b"",
    );
    assert_eq!(ok.status, 200, "{:?}", String::from_utf8_lossy(&ok.body));
    let set = ok.headers_named("set-cookie");
    let access2 = set
        .iter()
        .find(|c| c.starts_with("tessera_access="))
        .expect("rotated access cookie");
    let refresh2 = set
        .iter()
        .find(|c| c.starts_with("tessera_refresh="))
        .expect("rotated refresh cookie");
    let jar2 = format!("{}; {}", value(access2), value(refresh2));
    let out = http(
        s.addr,
        "POST",
        "/v1/auth/logout",
        &[("Cookie", &jar2), ("Sec-Fetch-Site", "same-origin")],
        b"",
    );
    assert_eq!(out.status, 204);
    assert!(out
        .headers_named("set-cookie")
        .iter()
        .all(|c| c.contains("Max-Age=0")));
    assert_eq!(
        http(s.addr, "GET", "/v1/auth/me", &[("Cookie", &jar2)], b"").error(),
        "revoked"
    );
}

fn bad_inputs(s: &Server) {
    let r = http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[("Content-Type", "application/json")],
        b"{\"method\":",
    );
    assert_eq!(r.status, 400);
    assert!(!r.error().is_empty());
    let r = http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[("Content-Type", "application/json")],
        b"{\"method\":\"siwe\",\"method\":\"portal\"}",
    );
    assert_eq!(r.status, 400, "duplicate members are refused");
    let r = http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[],
        &vec![b'x'; 70 * 1024],
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.error(), "payload_too_large");
    let huge = format!("Bearer {}", "a".repeat(10 * 1024));
    let r = http(
        s.addr,
        "GET",
        "/v1/verify",
        &[("Authorization", &huge)],
        b"",
    );
    assert!(r.status == 431 || r.status == 401, "{}", r.status);
    let r = post_json(s, "/v1/auth/login", &json!({"method": "password"}), &[]);
    assert_eq!(r.status, 400);
    let r = post_json(
        s,
        "/v1/auth/login",
        &json!({"method": "siwe", "message": "hello", "signature": "0x00"}),
        &[],
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.error(), "malformed");
    let r = http(s.addr, "GET", "/nope", &[], b"");
    assert_eq!(r.status, 404);
    assert_eq!(r.error(), "not_found");
    let r = post_json(s, "/v1/auth/challenge", &json!({"address": "0x12"}), &[]);
    assert_eq!(r.status, 400);
}

fn portal_rest(s: &Server) {
    let admin = bearer(ADMIN);
    let target = NostrSecretKey::generate().public_key().to_hex();
    let r = post_json(
        s,
        "/jwt/issue",
        &json!({"target_key": target, "duration_hours": 1}),
        &[("Authorization", &admin)],
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["success"], true);
    let token = v["data"]["token"].as_str().expect("token").to_owned();
    let info = http(s.addr, "GET", "/v1/info", &[], b"").json();
    let r = post_json(
        s,
        "/jwt/verify",
        &json!({"pubkey": info["nostr_pubkey"], "token": token}),
        &[("Authorization", &admin)],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"]["target_key"], target.as_str());
    let r = post_json(
        s,
        "/jwt/verify",
        &json!({"pubkey": target, "token": token}),
        &[("Authorization", &admin)],
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["success"], false);
    let r = post_json(
        s,
        "/jwt/issue",
        &json!({"target_key": target, "duration_hours": 1}),
        &[],
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["success"], false);
}

#[test]
fn admin_routes_are_forbidden_without_an_admin_token() {
    let s = start(None, |c| c.admin_token = None);
    let r = http(
        s.addr,
        "POST",
        "/v1/oauth/introspect",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"token=x",
    );
    assert_eq!(r.status, 403);
}

#[test]
fn rate_limits_answer_429_with_retry_after() {
    let s = start(None, |c| c.rate_limit_per_minute = 3);
    let mut last = None;
    for _ in 0..4 {
        last = Some(post_json(&s, "/v1/auth/challenge", &json!({}), &[]));
    }
    let r = last.expect("response");
    assert_eq!(r.status, 429);
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry));
}

#[test]
fn openapi_lists_exactly_the_routes_and_each_answers() {
    let s = start(None, |_| {});
    let doc = http(s.addr, "GET", "/openapi.json", &[], b"").json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented = 0;
    for (path, ops) in paths {
        for (method, _) in ops.as_object().expect("ops") {
            documented += 1;
            let r = http(
                s.addr,
                &method.to_ascii_uppercase(),
                path,
                &[("Content-Type", "application/json")],
                b"{}",
            );
            assert!(
                r.status != 404 && r.status != 405,
                "{method} {path} is documented but answers {}",
                r.status
            );
        }
    }
    assert_eq!(documented, tessera_server::openapi::ROUTES.len());
    // And nothing undocumented answers: probe methods the document does not
    // list on documented paths.
    for (path, ops) in paths {
        for method in ["GET", "POST", "PUT", "DELETE"] {
            if ops.get(method.to_ascii_lowercase()).is_none() {
                let r = http(s.addr, method, path, &[], b"");
                assert!(
                    r.status == 405 || r.status == 404,
                    "{method} {path} answers {} but is not documented",
                    r.status
                );
            }
        }
    }
}

#[test]
fn retired_signer_tokens_keep_working_after_rotation() {
    let dir = std::env::temp_dir().join(common::unique("tessera-rot"));
    let data = dir.join("data");
    let wallet = EthereumSecretKey::generate();
    let old_access = {
        let s = start(None, |c| {
            c.data_dir = data.clone();
            c.public_url = Some("http://tessera.test".into());
        });
        siwe_login(&s, &wallet, json!({})).json()["access_token"]
            .as_str()
            .expect("a")
            .to_owned()
    };
    let mut keys = tessera_server::keys::ServerKeys::load_or_create(
        &data,
        tessera_core::Algorithm::ES256,
        SystemClock.now(),
    )
    .expect("keys");
    keys.rotate(&data, tessera_core::Algorithm::ES256, SystemClock.now())
        .expect("rotate");
    let s = start(None, |c| {
        c.data_dir = data.clone();
        c.public_url = Some("http://tessera.test".into());
    });
    let jwks = http(s.addr, "GET", "/.well-known/jwks.json", &[], b"").json();
    assert_eq!(
        jwks["keys"].as_array().map(Vec::len),
        Some(2),
        "current and previous signer"
    );
    let me = http(
        s.addr,
        "GET",
        "/v1/auth/me",
        &[("Authorization", &bearer(&old_access))],
        b"",
    );
    assert_eq!(me.status, 200, "{:?}", String::from_utf8_lossy(&me.body));
    let fresh = siwe_login(&s, &wallet, json!({})).json();
    let header = fresh["access_token"]
        .as_str()
        .expect("a")
        .split('.')
        .next()
        .expect("h")
        .to_owned();
    let header: Value = serde_json::from_slice(
        &tessera_core::encoding::b64url_decode(header.as_bytes()).expect("b64"),
    )
    .expect("json");
    assert_eq!(header["typ"], "at+jwt");
    assert_ne!(
        header["kid"], jwks["keys"][0]["kid"],
        "new tokens use the new signer"
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
