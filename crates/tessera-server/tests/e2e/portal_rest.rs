//! The Portal-compatible `/jwt/issue` and `/jwt/verify` routes (admin only).

use super::*;

pub(super) fn portal_rest(s: &Server) {
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
