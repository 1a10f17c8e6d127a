//! node:crypto: Portal wallet JWTs verified by `tessera verify`.

use super::*;

#[test]
fn node_crypto_portal_jwts_verify_in_tessera() {
    let Some(node) = Peer::node() else { return };
    let now = unix_now().to_string();
    let m = node.run("portal-make.mjs", &["--now", &now]);
    let t = &m["tokens"];
    let me = s(&m["signer"], "pubkey").to_owned();
    let target = s(&m, "target_key").to_owned();
    let key = format!("nostr:{me}");
    let npub = format!("nostr:{}", s(&m["signer"], "npub"));
    let other_key = format!("nostr:{}", s(&m["other"], "pubkey"));
    let odd_key = format!("nostr:{}", s(&m, "odd_y_signer"));
    let valid = WalletExpect::Valid {
        format: "portal",
        subject: me.clone(),
        issuer: me.clone(),
        audience: vec![target.clone()],
        claims: json!({ "target_key": target }),
    };
    let code = WalletExpect::Code;
    let f = ["--format", "portal", "--key", &key];
    let cases = vec![
        wcase("portal valid", s(t, "valid"), &f, valid.clone()),
        wcase(
            "portal valid (auto format)",
            s(t, "valid"),
            &f[2..],
            valid.clone(),
        ),
        wcase(
            "portal valid (npub)",
            s(t, "valid"),
            &["--format", "portal", "--key", &npub],
            valid.clone(),
        ),
        wcase(
            "portal valid, target_key as --aud",
            s(t, "valid"),
            &[&f[..], &["--aud", &target]].concat(),
            valid.clone(),
        ),
        wcase(
            "portal other target_key",
            s(t, "valid"),
            &[&f[..], &["--aud", s(&m["other"], "pubkey")]].concat(),
            code("audience_mismatch"),
        ),
        wcase("portal expired", s(t, "expired"), &f, code("expired")),
        wcase(
            "portal not_yet_valid",
            s(t, "not_yet_valid"),
            &f,
            code("not_yet_valid"),
        ),
        wcase("portal high S", s(t, "high_s"), &f, code("bad_signature")),
        wcase(
            "portal tampered",
            s(t, "tampered"),
            &f,
            code("bad_signature"),
        ),
        wcase(
            "portal wrong key",
            s(t, "valid"),
            &["--format", "portal", "--key", &other_key],
            code("bad_signature"),
        ),
        wcase(
            "portal odd-Y signer not normalised",
            s(t, "odd_y_unnormalised"),
            &["--format", "portal", "--key", &odd_key],
            code("bad_signature"),
        ),
    ];
    let title = format!("node:crypto {} -> tessera, Portal JWT", s(&m, "version"));
    run_wallet_cases(&title, &cases);
}
