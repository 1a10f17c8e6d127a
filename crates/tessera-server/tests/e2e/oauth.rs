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

/// The form rules over HTTP, each refusal with its code: a parameter given
/// twice, a bad escape, bytes that are not UTF-8 (raw or escaped), no or an
/// empty `token` (400 `invalid_request`), an unknown `token_type_hint`
/// (400 `unsupported_token_type`); introspect reads the same forms.
#[test]
fn bad_oauth_forms_are_refused_with_their_codes() {
    let s = start(None, |_| {});
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let revoke = |body: &[u8]| {
        let r = http(s.addr, "POST", "/v1/oauth/revoke", &[form], body);
        (r.status, r.error())
    };
    for body in [
        &b"token=a&token=b"[..],
        b"token_type_hint=access_token&token=a&token_type_hint=access_token",
        b"token=%zz",
        b"token=a%4",
        b"token=%",
        b"token=\xff",
        b"token=%FF",
        b"token=",
        b"",
    ] {
        assert_eq!(
            revoke(body),
            (400, "invalid_request".into()),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert_eq!(
        revoke(b"token=t&token_type_hint=id_token"),
        (400, "unsupported_token_type".into())
    );
    // Unknown parameters are ignored, even twice; no content type is a form.
    assert_eq!(revoke(b"token=t&other=1&other=2").0, 200);
    let r = http(s.addr, "POST", "/v1/oauth/revoke", &[], b"token=t");
    assert_eq!(r.status, 200);
    let admin = bearer(ADMIN);
    let r = http(
        s.addr,
        "POST",
        "/v1/oauth/introspect",
        &[("Authorization", &admin), form],
        b"token=a&token=a",
    );
    assert_eq!((r.status, r.error()), (400, "invalid_request".into()));
    let r = http(
        s.addr,
        "POST",
        "/v1/oauth/introspect",
        &[("Authorization", &admin), form],
        b"token=not+a+token",
    );
    assert_eq!(r.json(), json!({"active": false}));
}
