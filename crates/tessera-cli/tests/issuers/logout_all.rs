//! `/v1/auth/logout-all` ends the issuer credentials made before it.

use super::*;

#[test]
fn logout_all_ends_issuer_credentials_made_before_it() {
    let dir = TempDir::new("issuers-logout");
    let k = keys();
    let jwks = serve_jwks(jwks_of(&k.corp));
    let path = config(&dir, &k, &jwks.url);
    let server =
        Tessera::start_with_args(tessera_bin!(), dir.root(), None, &[], &["--config", &path]);
    let user = nostr_key(41);
    let hex = user.public_key().to_hex();
    let now = unix_now();
    let server_key = server_nostr(&server);
    let named = [("X-Portal-Pubkey", hex.as_str())];
    let app_nwt = nwt(&user, "api.example", now - 2, 300, None);
    let portal = issue_portal(&user, &server_key, now - 2, 600).unwrap();
    assert_eq!(verify(&server, &app_nwt, &[]).status, 200);
    assert_eq!(verify(&server, &bearer(&portal), &named).status, 200);
    // /v1/auth/me answers the same identity, with the issuer's name.
    let me = http(
        &server,
        "GET",
        "/v1/auth/me",
        &[("Authorization", &app_nwt)],
        b"",
    );
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["issuer_name"], "app-nostr");
    assert_eq!(me.json()["subject"], hex.as_str());
    // A wallet-signed Portal login is capped like the issuer (nostr_max_lifetime_seconds).
    let long = issue_portal(&user, &server_key, now, 3601).unwrap();
    let body = format!(r#"{{"method":"portal","token":"{long}","pubkey":"{hex}"}}"#);
    let r = http(
        &server,
        "POST",
        "/v1/auth/login",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(
        (r.status, r.error()),
        (401, "invalid_claim".to_owned()),
        "{}",
        r.text()
    );
    // The user logs in with an NWT for this server and logs out everywhere.
    let login = http(
        &server,
        "POST",
        "/v1/auth/login",
        &[(
            "Authorization",
            &nwt(&user, &server.url, now - 1, 300, None),
        )],
        b"",
    );
    assert_eq!(login.status, 200, "{}", login.text());
    let access = login.json()["access_token"].as_str().unwrap().to_owned();
    let mine = verify(&server, &bearer(&access), &[]);
    assert_accepted(&mine, "tessera", &hex, "access_token");
    let out = http(
        &server,
        "POST",
        "/v1/auth/logout-all",
        &[("Authorization", &bearer(&access))],
        b"",
    );
    assert_eq!(out.status, 204, "{}", out.text());
    let r = verify(&server, &app_nwt, &[]);
    assert_eq!(
        (r.status, r.error()),
        (401, "revoked".to_owned()),
        "{}",
        r.text()
    );
    let r = verify(&server, &bearer(&portal), &named);
    assert_eq!(
        (r.status, r.error()),
        (401, "revoked".to_owned()),
        "{}",
        r.text()
    );
    // Credentials made after it work.
    next_second();
    let later = unix_now();
    let fresh = nwt(&user, "api.example", later, 300, None);
    assert_eq!(verify(&server, &fresh, &[]).status, 200);
}
