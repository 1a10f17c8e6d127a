//! NIP-98 (replay refused, body hash), NWT and Portal logins.

use super::*;

pub(super) fn nostr_and_portal_logins(s: &Server) {
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
