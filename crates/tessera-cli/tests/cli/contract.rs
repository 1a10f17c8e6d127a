//! Every algorithm round trip, key file modes, exit codes 1 and 2 with
//! their messages, stdin, RSA keys pinned per algorithm, `inspect` and
//! `--help`.

use super::*;

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
