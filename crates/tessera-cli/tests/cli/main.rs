//! The CLI contract (contracts.md): JSON on stdout, exit 0/1/2.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use tessera_testkit::{tessera_bin, TempDir};

fn tessera() -> Command {
    Command::new(tessera_bin!())
}

fn run(args: &[&str]) -> Output {
    tessera_testkit::cli::run(tessera_bin!(), args)
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn keygen(dir: &TempDir, alg: &str) -> (String, String) {
    let private = dir.path(&format!("{alg}.jwk"));
    let out = run(&["keygen", "--alg", alg, "--out", &private]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (private.clone(), format!("{private}.pub"))
}

fn issue(private: &str, alg: &str, extra: &[&str]) -> String {
    let mut args = vec!["issue", "--key", private, "--alg", alg, "--sub", "alice"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn every_algorithm_round_trips_through_the_cli() {
    let dir = TempDir::new("roundtrip");
    for alg in [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
        "ES384", "ES512", "ES256K", "EdDSA",
    ] {
        let (private, public) = keygen(&dir, alg);
        let token = issue(
            &private,
            alg,
            &["--aud", "api", "--claim", "role=admin", "--claim", "n=5"],
        );
        // HMAC keys have no public half: verify with the private JWK.
        let key = if alg.starts_with("HS") {
            &private
        } else {
            &public
        };
        let out = run(&[
            "verify",
            "--key",
            key,
            "--aud",
            "api",
            &format!("Bearer {token}"),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{alg}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let v = stdout_json(&out);
        assert_eq!(v["valid"], true);
        assert_eq!(v["format"], "jwt");
        assert_eq!(v["alg"], alg);
        assert_eq!(v["subject"], "alice");
        assert_eq!(v["audience"], serde_json::json!(["api"]));
        assert!(v["expires_at"].is_i64());
        assert!(v.get("issuer").is_some());
        assert_eq!(v["claims"]["role"], "admin");
        assert_eq!(v["claims"]["n"], 5);
    }
}

#[test]
fn private_key_files_are_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("mode");
    let (private, _) = keygen(&dir, "ES256");
    let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // keygen never overwrites.
    let again = run(&["keygen", "--alg", "ES256", "--out", &private]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn invalid_credential_exits_1_with_code() {
    let dir = TempDir::new("invalid");
    let (private, public) = keygen(&dir, "ES256");
    let token = issue(&private, "ES256", &["--ttl", "60s", "--now", "1000000"]);
    let out = run(&["verify", "--key", &public, &token]);
    assert_eq!(out.status.code(), Some(1));
    let v = stdout_json(&out);
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"]["code"], "expired");
    assert!(v["error"]["message"].as_str().unwrap().contains("--now"));
    // The same token at an instant inside its life is valid.
    let out = run(&["verify", "--key", &public, "--now", "1000030", &token]);
    assert_eq!(out.status.code(), Some(0));

    let out = run(&[
        "verify", "--key", &public, "--aud", "api", "--now", "1000030", &token,
    ]);
    assert_eq!(stdout_json(&out)["error"]["code"], "audience_mismatch");

    let out = run(&["verify", "--key", &public, "not.a.token"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout_json(&out)["error"]["code"], "malformed");

    // Another key set: the token's kid names no configured key.
    let other_dir = TempDir::new("invalid-other");
    let (_, other_public) = keygen(&other_dir, "ES256");
    let out = run(&["verify", "--key", &other_public, "--now", "1000030", &token]);
    assert_eq!(stdout_json(&out)["error"]["code"], "unknown_key");
}

#[test]
fn usage_errors_exit_2_with_message_on_stderr() {
    let out = run(&["verify", "--key", "/nonexistent/key.jwk", "a.b.c"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/key.jwk"));

    let out = run(&["verify", "--alg", "HS1", "a.b.c"]);
    assert_eq!(out.status.code(), Some(2));

    let dir = TempDir::new("usage");
    let short = dir.path("short.secret");
    std::fs::write(&short, b"secret").unwrap();
    let out = run(&["verify", "--key", &format!("secret:{short}"), "a.b.c"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("32"));

    let out = run(&["verify", "a.b.c"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a JWT without any key is a usage error"
    );
}

/// A public key file given as `secret:` is refused (exit 2, a message), so
/// a token HS256-signed with the public key's bytes cannot verify.
#[test]
fn a_key_file_is_refused_as_an_hmac_secret() {
    let dir = TempDir::new("secretkey");
    let (private_jwk, public_jwk) = keygen(&dir, "ES256");
    let pem = dir.path("rsa.pem");
    let out = run(&["keygen", "--alg", "RS256", "--pem", "--out", &pem]);
    assert!(out.status.success());
    let public_pem = format!("{pem}.pub");
    let jwks = dir.path("set.json");
    let jwk_text = std::fs::read_to_string(&public_jwk).unwrap();
    std::fs::write(&jwks, format!("{{\"keys\":[{jwk_text}]}}")).unwrap();
    for (file, what) in [
        (&public_pem, "PEM"),
        (&pem, "PEM"),
        (&public_jwk, "JWK"),
        (&private_jwk, "JWK"),
        (&jwks, "JWK"),
    ] {
        // The attacker's token: HS256 over the public file's exact bytes.
        let bytes = std::fs::read(file).unwrap();
        let hs = tessera_core::SigningKey::hmac(tessera_core::Algorithm::HS256, &bytes).unwrap();
        let mut claims = tessera_core::Object::new();
        claims.insert("sub", "admin".into());
        claims.insert("exp", 4_000_000_000i64.into());
        let token = tessera_core::jwt::sign(&hs, &tessera_core::Object::new(), &claims).unwrap();
        let out = run(&["verify", "--key", &format!("secret:{file}"), &token]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(out.stdout.is_empty(), "{file}: nothing verified");
        assert!(stderr.contains(what) && stderr.contains("not"), "{stderr}");
    }
    // Raw secret bytes (and text that only looks a little like JSON) still work.
    let raw = dir.path("raw.secret");
    std::fs::write(&raw, b"{ this is 32+ bytes of secret text }").unwrap();
    let out = run(&["verify", "--key", &format!("secret:{raw}"), "a.b.c"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A password in a store URL, in the userinfo or as `?password=`, never
/// shows: not in `--print-config`, not in the start-up log line, not in the
/// error of a store that cannot be opened (issue 17, item 6; one masking
/// function, `tessera_store::mask_url`, serves all three).
#[test]
fn store_passwords_are_masked_wherever_printed() {
    let dir = TempDir::new("mask");
    let data = dir.path("data");
    let secret_url = "postgres://app:hunter2@127.0.0.1:1/db?sslmode=disable&password=hunter3";
    let out = run(&["serve", "--print-config", "--store", secret_url]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("postgres://app:***@127.0.0.1:1/db?sslmode=disable&password=***"),
        "{text}"
    );
    assert!(!text.contains("hunter"), "{text}");

    // A store that cannot be reached: the error names the masked URL only.
    let out = run(&[
        "serve",
        "--data-dir",
        &data,
        "--listen",
        "127.0.0.1:0",
        "--store",
        secret_url,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("password=***"), "{stderr}");
    assert!(!stderr.contains("hunter") && !String::from_utf8_lossy(&out.stdout).contains("hunter"));

    // The start-up line of a server that runs (Redis ignores the parameter;
    // the test's own key prefix keeps the shared Redis clean).
    let Ok(redis) = std::env::var("TESSERA_TEST_REDIS_URL") else {
        eprintln!("TESSERA_TEST_REDIS_URL unset: start-up line not checked");
        assert!(
            std::env::var("CI").is_err(),
            "CI must check the start-up line"
        );
        return;
    };
    let sep = if redis.contains('?') { '&' } else { '?' };
    let prefix = format!("mask{}", std::process::id());
    let url = format!("{redis}{sep}prefix={prefix}&password=hunter4");
    let mut child = tessera()
        .args([
            "serve",
            "--data-dir",
            &data,
            "--listen",
            "127.0.0.1:0",
            "--store",
            &url,
        ])
        .env("TESSERA_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let listening = loop {
        match rx.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(line) if line.contains("tessera listening") => break line,
            Ok(line) => seen.push(line),
            Err(_) => break String::new(),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(!listening.is_empty(), "no start-up line; saw {seen:?}");
    assert!(listening.contains("password=***"), "{listening}");
    assert!(!listening.contains("hunter4"), "{listening}");
    // `--listen 127.0.0.1:0`: the public URL names the port the server got.
    assert!(
        listening.contains("public_url=http://127.0.0.1:") && !listening.contains("127.0.0.1:0 "),
        "{listening}"
    );
    assert!(seen.iter().all(|l| !l.contains("hunter4")));
}

#[test]
fn reads_the_credential_from_stdin() {
    let dir = TempDir::new("stdin");
    let secret = dir.path("hs.secret");
    std::fs::write(&secret, [42u8; 32]).unwrap();
    let hs_jwk = format!(
        r#"{{"kty":"oct","alg":"HS256","k":"{}"}}"#,
        tessera_core::internal::encoding::b64url_encode(&[42u8; 32])
    );
    let jwk_path = dir.path("hs.jwk");
    std::fs::write(&jwk_path, hs_jwk).unwrap();
    let token = issue(&jwk_path, "HS256", &[]);
    let mut child = tessera()
        .args(["verify", "--key", &format!("secret:{secret}"), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("Bearer {token}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_json(&out)["alg"], "HS256");
}

#[test]
fn rsa_pem_without_alg_is_pinned_per_algorithm() {
    let dir = TempDir::new("rsapem");
    let private = dir.path("rsa.pem");
    let out = run(&["keygen", "--alg", "PS256", "--pem", "--out", &private]);
    assert!(out.status.success());
    let public = format!("{private}.pub");
    assert!(std::fs::read_to_string(&public)
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    let token = issue(&private, "PS256", &[]);
    let out = run(&["verify", "--key", &public, &token]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Narrowed to RS256, the PS256 token is refused.
    let out = run(&["verify", "--key", &public, "--alg", "RS256", &token]);
    assert_eq!(stdout_json(&out)["error"]["code"], "algorithm_not_allowed");
}

#[test]
fn inspect_is_plainly_unverified() {
    let dir = TempDir::new("inspect");
    let (private, _) = keygen(&dir, "EdDSA");
    let token = issue(&private, "EdDSA", &["--now", "1800000000", "--ttl", "1h"]);
    let out = run(&["inspect", "--now", "1800000000", &token]);
    assert!(out.status.success());
    let v = stdout_json(&out);
    assert_eq!(v["verified"], false);
    assert!(v["warning"].as_str().unwrap().starts_with("UNVERIFIED"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("UNVERIFIED"));
    assert_eq!(v["header"]["alg"], "EdDSA");
    assert_eq!(v["claims"]["sub"], "alice");
    assert_eq!(v["times"]["exp"], "2027-01-15T09:00:00Z (in 1h)");
}

#[test]
fn help_documents_each_command() {
    for cmd in ["verify", "inspect", "issue", "keygen"] {
        let out = run(&[cmd, "--help"]);
        assert!(out.status.success());
        assert!(!out.stdout.is_empty());
    }
    assert!(Path::new(env!("CARGO_BIN_EXE_tessera")).exists());
}

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
