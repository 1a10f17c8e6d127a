//! thirdweb's older package: wallet JWTs in its standard-base64 encoding
//! (Node's, `=` stripped, and browsers' `btoa`), made with ethers.

use super::*;

#[test]
fn older_thirdweb_package_jwts_verify_in_tessera() {
    let Some(node) = Peer::node() else { return };
    let now = unix_now().to_string();
    let m = node.run(
        "thirdweb-legacy-make.mjs",
        &["--now", &now, "--aud", DOMAIN],
    );
    // The tokens use what sets them apart from base64url, else they would
    // prove nothing; the signature segment is the same text either way.
    for (check, want) in m["checks"].as_object().unwrap() {
        assert_eq!(want, true, "{check}: {}", m["checks"]);
    }
    let t = &m["tokens"];
    let key = format!("eth:{}", s(&m, "admin"));
    let valid = WalletExpect::Valid {
        format: "thirdweb",
        subject: s(&m, "user").to_owned(),
        issuer: s(&m, "admin").to_owned(),
        audience: vec![DOMAIN.into()],
        claims: json!({}),
    };
    let f = ["--format", "thirdweb", "--key", &key, "--aud", DOMAIN];
    let mut cases = Vec::new();
    for (name, what) in [
        ("node", "standard base64, `=` stripped"),
        ("browser", "btoa, padded"),
    ] {
        let token = s(t, name);
        cases.extend([
            wcase(&format!("legacy {what}"), token, &f, valid.clone()),
            wcase(
                &format!("legacy {what} (auto format)"),
                token,
                &f[2..],
                valid.clone(),
            ),
            wcase(
                &format!("legacy {what}, no --aud: its aud is refused"),
                token,
                &["--key", &key],
                WalletExpect::Code("audience_mismatch"),
            ),
            wcase(
                &format!("legacy {what}, --any-aud"),
                token,
                &["--key", &key, "--any-aud"],
                valid.clone(),
            ),
        ]);
    }
    let title = format!(
        "ethers {} -> tessera, thirdweb JWT (older package's encoding)",
        s(&m, "version")
    );
    run_wallet_cases(&title, &cases);
}
