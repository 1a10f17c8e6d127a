//! nostr-tools (Node): its NIP-98 events verified by `tessera verify`.

use super::*;

#[test]
fn nostr_tools_nip98_events_verify_in_tessera() {
    let Some(node) = Peer::node() else { return };
    let dir = TempDir::new("nip98");
    let body = dir.path("body.json");
    let m = node.run("nip98-make.mjs", &["--url", NIP98_URL, "--body-out", &body]);
    for (k, v) in m["self_check"].as_object().unwrap() {
        assert_eq!(
            v,
            &json!(true),
            "nostr-tools' own check {k} failed on its own event"
        );
    }
    let wrong_body = dir.write(
        "wrong-body.json",
        "{\"action\":\"transfer\",\"amount\":500}",
    );
    let t = &m["tokens"];
    let me = s(&m["signer"], "pubkey").to_owned();
    let other_key = format!("nostr:{}", s(&m["other"], "pubkey"));
    let valid = WalletExpect::Valid {
        format: "nip98",
        subject: me.clone(),
        issuer: me.clone(),
        audience: vec![],
        claims: json!({}),
    };
    let code = WalletExpect::Code;
    let get = ["--format", "nip98", "--url", NIP98_URL, "--method", "GET"];
    let post = [
        "--format",
        "nip98",
        "--url",
        NIP98_URL,
        "--method",
        "POST",
        "--body-file",
        &body,
    ];
    let cases = vec![
        wcase("nip98 GET", s(t, "get"), &get, valid.clone()),
        wcase(
            "nip98 GET (auto format)",
            s(t, "get"),
            &get[2..],
            valid.clone(),
        ),
        wcase(
            "nip98 GET, method in lower case",
            s(t, "get"),
            &["--format", "nip98", "--url", NIP98_URL, "--method", "get"],
            valid.clone(),
        ),
        wcase(
            "nip98 POST with payload hash",
            s(t, "post_payload"),
            &post,
            valid.clone(),
        ),
        wcase(
            "nip98 POST, other body",
            s(t, "post_payload"),
            &[
                "--format",
                "nip98",
                "--url",
                NIP98_URL,
                "--method",
                "POST",
                "--body-file",
                &wrong_body,
            ],
            code("payload_mismatch"),
        ),
        wcase(
            "nip98 wrong url",
            s(t, "get"),
            &[
                "--format",
                "nip98",
                "--url",
                "https://api.example/v1/things?id=2",
                "--method",
                "GET",
            ],
            code("url_mismatch"),
        ),
        wcase(
            "nip98 wrong method",
            s(t, "get"),
            &[
                "--format", "nip98", "--url", NIP98_URL, "--method", "DELETE",
            ],
            code("method_mismatch"),
        ),
        wcase("nip98 stale", s(t, "stale"), &get, code("stale")),
        wcase(
            "nip98 tampered",
            s(t, "tampered"),
            &get,
            code("id_mismatch"),
        ),
        wcase(
            "nip98 signature of another event",
            s(t, "sig_of_other_event"),
            &get,
            code("bad_signature"),
        ),
        wcase(
            "nip98 other key trusted",
            s(t, "get"),
            &[&get[..], &["--key", &other_key]].concat(),
            code("untrusted_signer"),
        ),
    ];
    let title = format!("nostr-tools {} -> tessera, NIP-98", s(&m, "version"));
    run_wallet_cases(&title, &cases);
}
