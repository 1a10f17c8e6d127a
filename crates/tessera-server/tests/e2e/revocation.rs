//! Issue 17 over HTTP, on SQLite, PostgreSQL and Redis: NWTs and Portal
//! JWTs stop at the subject's logout-all (finding 1), an NWT is revoked by
//! RFC 7009 (finding 1), and refresh grace keeps one live chain per session
//! (finding 10).

use super::*;

/// The stores this machine offers: SQLite always, the others when their
/// test URLs are set.
fn each_store(mut f: impl FnMut(&Server)) {
    f(&start(None, |_| {}));
    for kind in [Kind::Postgres, Kind::Redis] {
        if let Some(b) = Backend::new(kind) {
            f(&start(Some(b.url.clone()), |_| {}));
        }
    }
}

fn nostr(event: &tessera_core::internal::nostr::Event) -> String {
    nwt_authorization(event)
}

fn nwt(s: &Server, user: &NostrSecretKey, created_at: i64) -> tessera_core::internal::nostr::Event {
    let claims = NwtClaims {
        aud: vec![s.url.clone()],
        ttl: Some(600),
        ..NwtClaims::default()
    };
    issue_nwt(user, &claims, "", created_at).expect("nwt")
}

fn get(s: &Server, path: &str, auth: &str) -> Resp {
    http(s.addr, "GET", path, &[("Authorization", auth)], b"")
}

fn login_with(s: &Server, auth: &str) -> Resp {
    http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[("Authorization", auth)],
        b"",
    )
}

fn metric(s: &Server, line: &str) -> Option<u64> {
    let text = String::from_utf8_lossy(&http(s.addr, "GET", "/metrics", &[], b"").body).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix(line))
        .and_then(|v| v.trim().parse().ok())
}

fn nwt_and_portal_stop_after_logout_all(s: &Server) {
    let user = NostrSecretKey::generate();
    let now = SystemClock.now();
    let before = nostr(&nwt(s, &user, now - 5));
    let info = http(s.addr, "GET", "/v1/info", &[], b"").json();
    let server_key = NostrPublicKey::parse(info["nostr_pubkey"].as_str().expect("pk")).expect("pk");
    let portal_before = issue_portal(&user, &server_key, now - 5, 3600).expect("portal");
    for path in ["/v1/verify", "/v1/auth/me"] {
        assert_eq!(get(s, path, &before).status, 200, "{path} before");
    }
    let pair = login_with(s, &nostr(&nwt(s, &user, now - 5)));
    assert_eq!(
        pair.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&pair.body)
    );
    let access = pair.json()["access_token"].as_str().expect("a").to_owned();

    let out = http(
        s.addr,
        "POST",
        "/v1/auth/logout-all",
        &[("Authorization", &bearer(&access))],
        b"",
    );
    assert_eq!(out.status, 204);
    // The NWT issued before: refused at /v1/verify, /v1/auth/me and login.
    for path in ["/v1/verify", "/v1/auth/me"] {
        let r = get(s, path, &before);
        assert_eq!((r.status, r.error()), (401, "revoked".into()), "{path}");
    }
    let r = login_with(s, &before);
    assert_eq!((r.status, r.error()), (401, "revoked".into()), "login");
    let r = post_json(
        s,
        "/v1/auth/login",
        &json!({"method": "portal", "token": portal_before, "pubkey": user.public_key().to_hex()}),
        &[],
    );
    assert_eq!((r.status, r.error()), (401, "revoked".into()), "portal");

    // Credentials made after the logout-all's second work.
    next_second();
    let now = SystemClock.now();
    let after = nostr(&nwt(s, &user, now));
    assert_eq!(get(s, "/v1/verify", &after).status, 200);
    assert_eq!(login_with(s, &after).status, 200);
    let portal_after = issue_portal(&user, &server_key, now, 3600).expect("portal");
    let r = post_json(
        s,
        "/v1/auth/login",
        &json!({"method": "portal", "token": portal_after, "pubkey": user.public_key().to_hex()}),
        &[],
    );
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));

    // RFC 7009 revocation of an NWT, by its text (no scheme).
    let fresh = nwt(s, &user, now);
    let auth = nostr(&fresh);
    assert_eq!(get(s, "/v1/verify", &auth).status, 200);
    let bare = auth.strip_prefix("Nostr ").expect("scheme");
    let rev = http(
        s.addr,
        "POST",
        "/v1/oauth/revoke",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("token={bare}").as_bytes(),
    );
    assert_eq!(rev.status, 200);
    for path in ["/v1/verify", "/v1/auth/me"] {
        let r = get(s, path, &auth);
        assert_eq!((r.status, r.error()), (401, "revoked".into()), "{path}");
    }
    let r = login_with(s, &auth);
    assert_eq!((r.status, r.error()), (401, "revoked".into()), "login");
    // The picture's size is a metric.
    assert!(metric(s, "tessera_revocation_entries{kind=\"jti\"} ").unwrap_or(0) >= 1);
    assert!(metric(s, "tessera_revocation_entries{kind=\"subject\"} ").unwrap_or(0) >= 1);
    assert!(metric(s, "tessera_revocation_entries{kind=\"family\"} ").unwrap_or(0) >= 1);
}

#[test]
fn e2e_nwt_and_portal_stop_after_logout_all() {
    each_store(nwt_and_portal_stop_after_logout_all);
}

fn refresh(s: &Server, token: &str) -> Resp {
    post_json(s, "/v1/auth/refresh", &json!({"refresh_token": token}), &[])
}

fn me_status(s: &Server, access: &str) -> (u16, String) {
    let r = get(s, "/v1/auth/me", &bearer(access));
    (r.status, r.error())
}

fn refresh_grace_keeps_one_live_chain(s: &Server) {
    // In order: the latest successor is the live one; the one it replaced
    // is reuse and ends the session.
    let wallet = EthereumSecretKey::generate();
    let pair = siwe_login(s, &wallet, json!({})).json();
    let r0 = pair["refresh_token"].as_str().expect("r").to_owned();
    let s1 = refresh(s, &r0).json();
    let s2 = refresh(s, &r0).json();
    let u = refresh(s, s2["refresh_token"].as_str().expect("s2"));
    assert_eq!(u.status, 200, "the latest successor rotates");
    let u = u.json();
    let replaced = refresh(s, s1["refresh_token"].as_str().expect("s1"));
    assert_eq!(
        (replaced.status, replaced.error()),
        (400, "invalid_grant".into())
    );
    let next = refresh(s, u["refresh_token"].as_str().expect("u"));
    assert_eq!(next.status, 400, "the live chain died with the family");
    for p in [&pair, &s1, &s2, &u] {
        let access = p["access_token"].as_str().expect("a");
        assert_eq!(me_status(s, access), (401, "revoked".into()));
    }

    // 30 concurrent refreshes of one token within the grace window: all
    // served, one session.
    let pair = siwe_login(s, &wallet, json!({})).json();
    let r0 = pair["refresh_token"].as_str().expect("r").to_owned();
    let concurrently = |tokens: Vec<String>| -> Vec<Resp> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = tokens
                .into_iter()
                .map(|t| scope.spawn(move || refresh(s, &t)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("join"))
                .collect()
        })
    };
    let first = concurrently(vec![r0; 30]);
    let mut sids = std::collections::HashSet::new();
    let mut successors = Vec::new();
    for r in &first {
        assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        let me = get(
            s,
            "/v1/auth/me",
            &bearer(v["access_token"].as_str().expect("a")),
        )
        .json();
        sids.insert(me["session_id"].as_str().expect("sid").to_owned());
        successors.push(v["refresh_token"].as_str().expect("r").to_owned());
    }
    assert_eq!(sids.len(), 1, "one session");
    // Every successor presented at once: only the one live successor can
    // rotate, and only before the first replaced one ends the session.
    let reuse_before = metric(s, "tessera_refresh_total{result=\"reuse_detected\"} ").unwrap_or(0);
    let second = concurrently(successors);
    let ok: Vec<&Resp> = second.iter().filter(|r| r.status == 200).collect();
    assert!(ok.len() <= 1, "{} live chains", ok.len());
    for r in &second {
        if r.status != 200 {
            assert_eq!((r.status, r.error()), (400, "invalid_grant".into()));
        }
    }
    assert_eq!(
        metric(s, "tessera_refresh_total{result=\"reuse_detected\"} ").unwrap_or(0),
        reuse_before + 1,
        "exactly one presentation was reuse"
    );
    // The session is over: every access token and the chain that went on.
    for r in first.iter().chain(ok.iter().copied()) {
        let access = r.json()["access_token"].as_str().expect("a").to_owned();
        assert_eq!(me_status(s, &access), (401, "revoked".into()));
    }
    if let Some(r) = ok.first() {
        let next = refresh(s, r.json()["refresh_token"].as_str().expect("r"));
        assert_eq!(next.status, 400);
    }
}

#[test]
fn e2e_refresh_grace_keeps_one_live_chain() {
    each_store(refresh_grace_keeps_one_live_chain);
}
