//! `tessera verify` rules of issue #16 (contracts.md, formats.md §1):
//! `--any-aud` and the audience default, a `kid` against keys without one,
//! an `oct` JWK without `alg`, and the exit status when stdout is closed.

use serde_json::Value;
use std::process::{Command, Output, Stdio};
use tessera_core::internal::encoding::b64url_encode;
use tessera_core::{Algorithm, SigningKey};
use tessera_testkit::fixtures::token_with as token;
use tessera_testkit::{tessera_bin, TempDir};

const NOW: &str = "1800000000";

fn tessera(args: &[&str]) -> Output {
    tessera_testkit::cli::run(tessera_bin!(), args)
}

/// Runs `tessera verify --now NOW ARGS` and returns (exit code, JSON or Null, stderr).
fn verify(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["verify", "--now", NOW];
    all.extend_from_slice(args);
    let out = tessera(&all);
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const WITH_AUD: &str =
    r#"{"sub":"alice","exp":1800000600,"aud":["https://api.example","https://b.example"]}"#;

#[test]
fn a_named_audience_needs_aud_or_any_aud() {
    let dir = TempDir::new("any-aud");
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let pem = dir.write("es256.pem", &key.to_public_pem().unwrap());
    let t = token(&key, r#"{"alg":"ES256"}"#, WITH_AUD);
    // No --aud: refused, and the message says how to opt out, once.
    let (code, v, _) = verify(&["--key", &pem, &t]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["code"], "audience_mismatch");
    let msg = v["error"]["message"].as_str().unwrap();
    assert_eq!(msg.matches("--any-aud").count(), 1, "{msg}");
    // --any-aud accepts it, and reports its audiences.
    let (code, v, _) = verify(&["--key", &pem, "--any-aud", &t]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["audience"][0], "https://api.example");
    // An expected audience decides; --any-aud with --aud is a usage error.
    let (code, _, _) = verify(&["--key", &pem, "--aud", "https://b.example", &t]);
    assert_eq!(code, 0);
    let (code, v, stderr) = verify(&["--key", &pem, "--aud", "x", "--any-aud", &t]);
    assert_eq!(code, 2, "{v}");
    assert!(stderr.contains("--any-aud"), "{stderr}");
    // A token without `aud` needs neither.
    let t = token(
        &key,
        r#"{"alg":"ES256"}"#,
        r#"{"sub":"a","exp":1800000600}"#,
    );
    assert_eq!(verify(&["--key", &pem, &t]).0, 0);
    // Documented in --help.
    let help = tessera(&["verify", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--any-aud"));
}

#[test]
fn a_pem_key_verifies_a_token_with_a_kid_for_every_algorithm() {
    let dir = TempDir::new("pem-kid");
    for alg in Algorithm::ALL.into_iter().filter(|a| !a.is_hmac()) {
        let key = SigningKey::generate(alg).unwrap();
        let pem = dir.write(&format!("{alg}.pem"), &key.to_public_pem().unwrap());
        let header = format!(r#"{{"alg":"{alg}","kid":"issuer-key-2024"}}"#);
        let t = token(&key, &header, r#"{"sub":"alice","exp":1800000600}"#);
        // RSA PEMs are pinned once per RSA algorithm (no --alg).
        let (code, v, stderr) = verify(&["--key", &pem, &t]);
        assert_eq!(code, 0, "{alg}: {v} {stderr}");
        assert_eq!(v["alg"], alg.name());
    }
}

#[test]
fn an_unknown_kid_is_named_once() {
    let dir = TempDir::new("kid-miss");
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let mut jwk = key.verifying_key().unwrap().to_public_jwk().unwrap();
    jwk.insert("kid", "current".into());
    let jwks = format!(
        r#"{{"keys":[{}]}}"#,
        tessera_core::Value::Object(jwk).to_json()
    );
    let path = dir.write("jwks.json", &jwks);
    let t = token(
        &key,
        r#"{"alg":"ES256","kid":"rotated-away"}"#,
        r#"{"sub":"a","exp":1800000600}"#,
    );
    let (code, v, _) = verify(&["--key", &path, &t]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["code"], "unknown_key");
    let msg = v["error"]["message"].as_str().unwrap();
    assert_eq!(msg.matches("rotated-away").count(), 1, "{msg}");
    assert_eq!(msg.matches("no configured key").count(), 1, "{msg}");
}

#[test]
fn an_oct_jwk_without_alg_serves_the_hmac_algorithms_its_length_allows() {
    let dir = TempDir::new("oct");
    // What jose's exportJWK writes for a 32-byte secret: no `alg`.
    let secret = [9u8; 32];
    let jwk = dir.write(
        "secret.jwk",
        &format!(r#"{{"kty":"oct","k":"{}"}}"#, b64url_encode(&secret)),
    );
    let payload = r#"{"sub":"alice","exp":1800000600}"#;
    let hs = |alg| SigningKey::hmac(alg, &secret).unwrap();
    let hs256 = token(&hs(Algorithm::HS256), r#"{"alg":"HS256"}"#, payload);
    for args in [
        vec!["--key", &jwk],
        vec!["--alg", "RS256", "--alg", "HS256", "--key", &jwk],
        vec!["--alg", "HS256", "--key", &jwk],
    ] {
        let mut a = args.clone();
        a.push(&hs256);
        let (code, v, stderr) = verify(&a);
        assert_eq!(code, 0, "{args:?}: {v} {stderr}");
    }
    // 32 bytes are too short for HS384 (RFC 7518 §3.2): no key serves it.
    let hs384 = token(
        &SigningKey::hmac(Algorithm::HS384, &[9u8; 48]).unwrap(),
        r#"{"alg":"HS384"}"#,
        payload,
    );
    let (code, v, _) = verify(&["--key", &jwk, &hs384]);
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (1, Some("algorithm_not_allowed"))
    );
    let (code, _, stderr) = verify(&["--alg", "HS384", "--key", &jwk, &hs384]);
    assert_eq!(code, 2);
    assert!(stderr.contains("48 bytes"), "{stderr}");
    // --alg naming no HMAC algorithm: the key serves none of them.
    let (code, _, stderr) = verify(&["--alg", "RS256", "--alg", "ES256", "--key", &jwk, &hs256]);
    assert_eq!(code, 2);
    assert!(stderr.contains("HS256, HS384, HS512"), "{stderr}");
    // A 64-byte secret serves all three.
    let long = [5u8; 64];
    let jwk64 = dir.write(
        "secret64.jwk",
        &format!(r#"{{"kty":"oct","k":"{}"}}"#, b64url_encode(&long)),
    );
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let t = token(
            &SigningKey::hmac(alg, &long).unwrap(),
            &format!(r#"{{"alg":"{alg}"}}"#),
            payload,
        );
        assert_eq!(verify(&["--key", &jwk64, &t]).0, 0, "{alg}");
    }
}

/// Runs `tessera ARGS` with stdout a pipe whose reader is gone before
/// anything is written (as `| head -c1` or `| grep -q` leave it): the exit
/// status must be the command's own.
fn exit_with_stdout_closed(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_keeps_the_exit_status() {
    let dir = TempDir::new("pipe");
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let pem = dir.write("es256.pem", &key.to_public_pem().unwrap());
    let good = token(
        &key,
        r#"{"alg":"ES256"}"#,
        r#"{"sub":"a","exp":1800000600}"#,
    );
    let expired = token(
        &key,
        r#"{"alg":"ES256"}"#,
        r#"{"sub":"a","exp":1700000000}"#,
    );
    for (t, want) in [(&good, 0), (&expired, 1)] {
        let (code, stderr) = exit_with_stdout_closed(&["verify", "--now", NOW, "--key", &pem, t]);
        assert_eq!(code, Some(want), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let (code, stderr) = exit_with_stdout_closed(&["keygen", "--alg", "ES256"]);
    assert_eq!(code, Some(0), "{stderr}");
    // The shape users write: `set -o pipefail; tessera verify ... | head -c1`.
    let script = format!(
        "set -o pipefail; {} verify --now {NOW} --key {pem} {good} | head -c1 >/dev/null",
        env!("CARGO_BIN_EXE_tessera")
    );
    let status = Command::new("bash").args(["-c", &script]).status().unwrap();
    assert_eq!(status.code(), Some(0));
}
