//! The Nostr (NWT, Portal, NIP-98) and Ethereum (thirdweb, SIWE) formats
//! round trip through `keygen`, `issue`, `verify` and `siwe`.

use super::*;

fn wallet_key(dir: &TempDir, kind: &str, name: &str) -> (String, String) {
    let path = dir.path(name);
    let out = run(&["keygen", "--alg", kind, "--out", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(format!("{path}.pub"))
        .unwrap()
        .trim()
        .to_owned();
    (path, public)
}

fn issue_wallet(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn nostr_formats_round_trip_through_the_cli() {
    let dir = TempDir::new("nostr");
    let (user, user_pub) = wallet_key(&dir, "nostr", "user.key");
    let (_, server_pub) = wallet_key(&dir, "nostr", "server.key");
    assert_eq!(user_pub.len(), 64);

    let nwt = issue_wallet(&[
        "issue",
        "--format",
        "nwt",
        "--key",
        &user,
        "--aud",
        "https://api.example",
        "--ttl",
        "5m",
        "--claim",
        "role=a",
        "--claim",
        "role=b",
        "--message",
        "log in",
    ]);
    assert!(nwt.starts_with("Nostr "));
    let out = run(&["verify", "--aud", "https://api.example", &nwt]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = stdout_json(&out);
    assert_eq!(v["format"], "nwt");
    assert_eq!(v["subject"], user_pub.as_str());
    assert_eq!(v["claims"]["role"], serde_json::json!(["a", "b"]));
    let out = run(&["verify", "--aud", "https://other.example", &nwt]);
    assert_eq!(stdout_json(&out)["error"]["code"], "audience_mismatch");
    // With a trusted-key list that does not name the signer.
    let out = run(&["verify", "--key", &format!("nostr:{server_pub}"), &nwt]);
    assert_eq!(stdout_json(&out)["error"]["code"], "untrusted_signer");
    let out = run(&[
        "verify",
        "--format",
        "nip98",
        "--url",
        "https://a",
        "--method",
        "GET",
        &nwt,
    ]);
    assert_eq!(stdout_json(&out)["error"]["code"], "wrong_kind");

    let body = dir.path("body.json");
    std::fs::write(&body, br#"{"a":1}"#).unwrap();
    let n98 = issue_wallet(&[
        "issue",
        "--format",
        "nip98",
        "--key",
        &user,
        "--url",
        "https://api.example/v1/x?q=1",
        "--method",
        "POST",
        "--body-file",
        &body,
    ]);
    let ok = run(&[
        "verify",
        "--url",
        "https://api.example/v1/x?q=1",
        "--method",
        "post",
        "--body-file",
        &body,
        &n98,
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert_eq!(stdout_json(&ok)["format"], "nip98");
    let cases = [
        (
            vec![
                "--url",
                "https://api.example/v1/x",
                "--method",
                "POST",
                "--body-file",
                &body,
            ],
            "url_mismatch",
        ),
        (
            vec![
                "--url",
                "https://api.example/v1/x?q=1",
                "--method",
                "PUT",
                "--body-file",
                &body,
            ],
            "method_mismatch",
        ),
        (
            vec![
                "--url",
                "https://api.example/v1/x?q=1",
                "--method",
                "POST",
                "--now",
                "1000",
            ],
            "stale",
        ),
    ];
    for (flags, code) in cases {
        let mut args = vec!["verify"];
        args.extend(flags.iter().copied());
        args.push(&n98);
        assert_eq!(stdout_json(&run(&args))["error"]["code"], code, "{flags:?}");
    }
    let other_body = dir.path("other.json");
    std::fs::write(&other_body, b"{}").unwrap();
    let out = run(&[
        "verify",
        "--url",
        "https://api.example/v1/x?q=1",
        "--method",
        "POST",
        "--body-file",
        &other_body,
        &n98,
    ]);
    assert_eq!(stdout_json(&out)["error"]["code"], "payload_mismatch");

    let portal = issue_wallet(&[
        "issue",
        "--format",
        "portal",
        "--key",
        &user,
        "--aud",
        &server_pub,
        "--ttl",
        "1h",
    ]);
    let out = run(&[
        "verify",
        "--key",
        &format!("nostr:{user_pub}"),
        "--aud",
        &server_pub,
        &portal,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = stdout_json(&out);
    assert_eq!(v["format"], "portal");
    assert_eq!(v["alg"], "ES256K");
    assert_eq!(v["audience"], serde_json::json!([server_pub]));
    let out = run(&[
        "verify",
        "--key",
        &format!("nostr:{server_pub}"),
        "--format",
        "portal",
        &portal,
    ]);
    assert_eq!(stdout_json(&out)["error"]["code"], "bad_signature");
}

#[test]
fn ethereum_formats_round_trip_through_the_cli() {
    let dir = TempDir::new("eth");
    let (admin, admin_addr) = wallet_key(&dir, "ethereum", "admin.key");
    let (_, user_addr) = wallet_key(&dir, "ethereum", "user.key");
    let tw = issue_wallet(&[
        "issue",
        "--format",
        "thirdweb",
        "--key",
        &admin,
        "--sub",
        &user_addr,
        "--aud",
        "example.com",
        "--ttl",
        "1h",
    ]);
    let out = run(&[
        "verify",
        "--key",
        &format!("eth:{admin_addr}"),
        "--aud",
        "example.com",
        &tw,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = stdout_json(&out);
    assert_eq!(v["format"], "thirdweb");
    assert_eq!(v["subject"], user_addr.as_str());
    assert_eq!(v["issuer"], admin_addr.as_str());
    let out = run(&[
        "verify",
        "--key",
        &format!("eth:{user_addr}"),
        "--format",
        "thirdweb",
        &tw,
    ]);
    assert_eq!(stdout_json(&out)["error"]["code"], "untrusted_signer");

    let msg = dir.path("siwe.txt");
    let out = run(&[
        "siwe",
        "message",
        "--domain",
        "example.com",
        "--address",
        &admin_addr,
        "--uri",
        "https://example.com/login",
        "--nonce",
        "abcdefgh12",
        "--ttl",
        "5m",
    ]);
    assert!(out.status.success());
    std::fs::write(&msg, &out.stdout).unwrap();
    let sig = issue_wallet(&["siwe", "sign", "--message", &msg, "--key", &admin]);
    let ok = run(&[
        "siwe",
        "verify",
        "--message",
        &msg,
        "--signature",
        &sig,
        "--domain",
        "example.com",
        "--nonce",
        "abcdefgh12",
    ]);
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(stdout_json(&ok)["subject"], admin_addr.as_str());
    for (domain, nonce, code) in [
        ("evil.com", "abcdefgh12", "domain_mismatch"),
        ("example.com", "zzzzzzzz12", "nonce_mismatch"),
    ] {
        let out = run(&[
            "siwe",
            "verify",
            "--message",
            &msg,
            "--signature",
            &sig,
            "--domain",
            domain,
            "--nonce",
            nonce,
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stdout_json(&out)["error"]["code"], code);
    }
}
