//! Signer rotation: tokens of the retired signer keep working; new tokens
//! use the new one.

use super::*;

#[test]
fn retired_signer_tokens_keep_working_after_rotation() {
    let dir = tessera_testkit::TempDir::new("rot");
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
    // One instance: no other instance has to publish the new signer
    // first, so it may sign at once (key_reload tests cover the delay).
    let s = start(None, |c| {
        c.data_dir = data.clone();
        c.public_url = Some("http://tessera.test".into());
        c.key_publish_delay_seconds = 0;
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
        &tessera_core::internal::encoding::b64url_decode(header.as_bytes()).expect("b64"),
    )
    .expect("json");
    assert_eq!(header["typ"], "at+jwt");
    assert_ne!(
        header["kid"], jwks["keys"][0]["kid"],
        "new tokens use the new signer"
    );
    drop(s);
}
