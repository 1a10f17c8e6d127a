//! ethers (Node): thirdweb-format wallet JWTs verified by `tessera verify`.

use super::*;

#[test]
fn ethers_thirdweb_jwts_verify_in_tessera() {
    let Some(node) = Peer::node() else { return };
    let now = unix_now().to_string();
    let m = node.run("thirdweb-make.mjs", &["--now", &now, "--aud", DOMAIN]);
    assert_eq!(m["self_check"]["recovered_is_admin"], true);
    let t = &m["tokens"];
    let admin = s(&m, "admin").to_owned();
    let key = format!("eth:{admin}");
    let lower = format!("eth:{}", admin.to_lowercase());
    let other_key = format!("eth:{}", s(&m, "other"));
    let valid = WalletExpect::Valid {
        format: "thirdweb",
        subject: s(&m, "user").to_owned(),
        issuer: admin.clone(),
        audience: vec![DOMAIN.into()],
        claims: json!({ "ctx": { "role": "admin" } }),
    };
    let code = WalletExpect::Code;
    let f = ["--format", "thirdweb", "--key", &key, "--aud", DOMAIN];
    let cases = vec![
        wcase("thirdweb valid", s(t, "valid"), &f, valid.clone()),
        wcase(
            "thirdweb valid (auto format)",
            s(t, "valid"),
            &f[2..],
            valid.clone(),
        ),
        wcase(
            "thirdweb valid, lower-case address",
            s(t, "valid"),
            &["--format", "thirdweb", "--key", &lower, "--aud", DOMAIN],
            valid.clone(),
        ),
        wcase(
            "thirdweb standard-base64 signature",
            s(t, "std_base64_sig"),
            &f,
            valid.clone(),
        ),
        wcase("thirdweb expired", s(t, "expired"), &f, code("expired")),
        wcase(
            "thirdweb not_yet_valid",
            s(t, "not_yet_valid"),
            &f,
            code("not_yet_valid"),
        ),
        wcase(
            "thirdweb wrong aud",
            s(t, "valid"),
            &[
                "--format",
                "thirdweb",
                "--key",
                &key,
                "--aud",
                "evil.example",
            ],
            code("audience_mismatch"),
        ),
        wcase(
            "thirdweb tampered payload",
            s(t, "tampered"),
            &f,
            code("bad_signature"),
        ),
        wcase(
            "thirdweb signed by a wallet other than iss",
            s(t, "signed_by_other"),
            &f,
            code("bad_signature"),
        ),
        wcase(
            "thirdweb admin not trusted",
            s(t, "valid"),
            &["--format", "thirdweb", "--key", &other_key, "--aud", DOMAIN],
            code("untrusted_signer"),
        ),
    ];
    let title = format!("ethers {} -> tessera, thirdweb JWT", s(&m, "version"));
    run_wallet_cases(&title, &cases);
}
