//! RFC 7662 introspection (admin only), RFC 7009 revocation, and logout-all.

use super::*;

pub(super) fn logout_all_revoke_introspect(s: &Server) {
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
