//! A SIWE login, `/v1/auth/me`, refresh with rotation, and logout ending the
//! session.

use super::*;

pub(super) fn siwe_flow(s: &Server) {
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
