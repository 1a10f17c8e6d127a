//! applesauce (Node): its NWTs verified by `tessera verify`.

use super::*;

#[test]
fn applesauce_nwts_verify_in_tessera() {
    let Some(node) = Peer::node() else { return };
    let now = unix_now().to_string();
    let m = node.run("nwt-make.mjs", &["--now", &now, "--aud", AUD]);
    for (k, v) in m["self_check"].as_object().unwrap() {
        assert_eq!(
            v,
            &json!(true),
            "applesauce's own check {k} failed on its own token"
        );
    }
    let t = &m["tokens"];
    let me = s(&m["signer"], "pubkey").to_owned();
    let other = s(&m["other"], "pubkey").to_owned();
    let key = format!("nostr:{me}");
    let npub = format!("nostr:{}", s(&m["signer"], "npub"));
    let other_key = format!("nostr:{other}");
    let valid = |subject: &str| WalletExpect::Valid {
        format: "nwt",
        subject: subject.to_owned(),
        issuer: me.clone(),
        audience: vec![AUD.into(), "https://other.example".into()],
        // Repeated tags are arrays (contracts.md).
        claims: json!({ "role": ["admin", "auditor"] }),
    };
    let code = WalletExpect::Code;
    let f = ["--format", "nwt", "--aud", AUD];
    let cases = vec![
        wcase(
            "nwt valid (any signer as itself)",
            s(t, "valid"),
            &f,
            valid(&me),
        ),
        wcase(
            "nwt valid (auto format)",
            s(t, "valid"),
            &["--aud", AUD],
            valid(&me),
        ),
        wcase(
            "nwt valid (trusted hex key)",
            s(t, "valid"),
            &[&f[..], &["--key", &key]].concat(),
            valid(&me),
        ),
        wcase(
            "nwt valid (trusted npub)",
            s(t, "valid"),
            &[&f[..], &["--key", &npub]].concat(),
            valid(&me),
        ),
        wcase(
            "nwt valid, other key trusted",
            s(t, "valid"),
            &[&f[..], &["--key", &other_key]].concat(),
            code("untrusted_signer"),
        ),
        wcase("nwt expired", s(t, "expired"), &f, code("expired")),
        wcase(
            "nwt not_yet_valid",
            s(t, "not_yet_valid"),
            &f,
            code("not_yet_valid"),
        ),
        wcase("nwt no_exp", s(t, "no_exp"), &f, code("missing_claim")),
        wcase(
            "nwt no_exp allowed",
            s(t, "no_exp"),
            &[&f[..], &["--allow-no-exp"]].concat(),
            WalletExpect::Valid {
                format: "nwt",
                subject: me.clone(),
                issuer: me.clone(),
                audience: vec![AUD.into()],
                claims: json!({}),
            },
        ),
        wcase(
            "nwt wrong_aud",
            s(t, "valid"),
            &["--format", "nwt", "--aud", OTHER_AUD],
            code("audience_mismatch"),
        ),
        wcase(
            "nwt no_aud, aud expected",
            s(t, "no_aud"),
            &f,
            code("audience_mismatch"),
        ),
        wcase(
            "nwt sub=other, untrusted signer",
            s(t, "sub_other"),
            &f,
            code("untrusted_signer"),
        ),
        wcase(
            "nwt sub=other, trusted signer",
            s(t, "sub_other"),
            &[&f[..], &["--key", &key]].concat(),
            valid(&other),
        ),
        wcase(
            "nwt tampered content",
            s(t, "tampered_content"),
            &f,
            code("id_mismatch"),
        ),
        wcase(
            "nwt tampered sig",
            s(t, "tampered_sig"),
            &f,
            code("bad_signature"),
        ),
        wcase(
            "nwt given as nip98",
            s(t, "valid"),
            &["--format", "nip98", "--url", NIP98_URL, "--method", "GET"],
            code("wrong_kind"),
        ),
    ];
    let title = format!("applesauce-common {} -> tessera, NWT", s(&m, "version"));
    run_wallet_cases(&title, &cases);
}
