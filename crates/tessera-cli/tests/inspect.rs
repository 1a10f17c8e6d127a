//! `tessera inspect` names the format it found, for each format tessera
//! speaks, always marked unverified; `tessera keygen --out` keeps the
//! private key off stdout.

use serde_json::Value;
use std::process::Output;
use tessera_core::internal::encoding::{b64std_encode, b64url_decode, hex_encode};
use tessera_core::internal::ethereum::{eip191, EthereumSecretKey};
use tessera_testkit::{tessera_bin, TempDir};

const NOW: &str = "1800000000";

fn run(args: &[&str]) -> Output {
    tessera_testkit::cli::run(tessera_bin!(), args)
}

fn run_ok(args: &[&str]) -> String {
    tessera_testkit::cli::run_ok(tessera_bin!(), args)
        .trim()
        .to_owned()
}

/// `tessera inspect VALUE`: succeeds, says UNVERIFIED on stderr and in the
/// JSON, and is the JSON.
fn inspect(value: &str) -> Value {
    let out = run(&["inspect", "--now", NOW, value]);
    assert!(
        out.status.success(),
        "inspect {value}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("UNVERIFIED"));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["verified"], false, "{v}");
    assert!(v["warning"].as_str().unwrap().starts_with("UNVERIFIED"));
    v
}

/// A key made by `tessera keygen --out`, and its public part (FILE.pub).
fn keygen(dir: &TempDir, alg: &str, name: &str) -> (String, String) {
    let path = dir.path(name);
    run_ok(&["keygen", "--alg", alg, "--out", &path]);
    let public = std::fs::read_to_string(format!("{path}.pub")).unwrap();
    (path, public.trim().to_owned())
}

#[test]
fn a_standard_jwt_is_a_jwt() {
    let dir = TempDir::new("inspect-jwt");
    let (key, _) = keygen(&dir, "ES256", "es256.jwk");
    let token = run_ok(&[
        "issue", "--key", &key, "--sub", "alice", "--now", NOW, "--ttl", "1h",
    ]);
    for value in [token.clone(), format!("Bearer {token}")] {
        let v = inspect(&value);
        assert_eq!(v["format"], "jwt");
        assert_eq!(v["header"]["alg"], "ES256");
        assert_eq!(v["claims"]["sub"], "alice");
        assert_eq!(v["times"]["exp"], "2027-01-15T09:00:00Z (in 1h)");
        assert_eq!(v["signature_bytes"], 64);
        assert!(v.get("segment_encodings").is_none(), "{v}");
    }
}

#[test]
fn a_portal_jwt_is_portal_not_jwt() {
    let dir = TempDir::new("inspect-portal");
    let (key, _) = keygen(&dir, "nostr", "me.nostr");
    let target = "a".repeat(64);
    let token = run_ok(&[
        "issue", "--format", "portal", "--key", &key, "--aud", &target, "--now", NOW,
    ]);
    let v = inspect(&token);
    assert_eq!(v["format"], "portal", "{v}");
    assert_eq!(v["header"], serde_json::json!({"alg": "ES256K"}));
    assert_eq!(v["claims"]["target_key"], target.as_str());
    assert!(v["description"].as_str().unwrap().contains("Portal"));

    // An ES256K JWT with another header (a `kid`) is a JWT.
    let (jose, _) = keygen(&dir, "ES256K", "k1.jwk");
    let token = run_ok(&[
        "issue",
        "--key",
        &jose,
        "--sub",
        "alice",
        "--claim",
        &format!("target_key={target}"),
        "--now",
        NOW,
    ]);
    let v = inspect(&token);
    assert_eq!(v["header"]["alg"], "ES256K");
    assert_eq!(v["format"], "jwt", "{v}");
}

#[test]
fn a_thirdweb_jwt_is_thirdweb_in_either_base64() {
    // thirdweb's own token (SOURCE: ../shared/vectors/wallet-jwt/thirdweb.json).
    let vector = tessera_testkit::fixtures::vector_json("wallet-jwt/thirdweb.json");
    let token = vector["tokens"][0]["token"].as_str().unwrap();
    let v = inspect(token);
    assert_eq!(v["format"], "thirdweb", "{v}");
    assert_eq!(
        v["claims"]["iss"],
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    );
    assert!(v["signature_text"].as_str().unwrap().starts_with("0x"));

    // One from `tessera issue --format thirdweb`.
    let dir = TempDir::new("inspect-thirdweb");
    let (key, address) = keygen(&dir, "ethereum", "admin.eth");
    let token = run_ok(&[
        "issue",
        "--format",
        "thirdweb",
        "--key",
        &key,
        "--sub",
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "--aud",
        "example.com",
        "--now",
        NOW,
    ]);
    let v = inspect(&token);
    assert_eq!(v["format"], "thirdweb", "{v}");
    assert_eq!(v["claims"]["iss"], address.as_str());

    // The older package's standard base64 (`+`, `/`, padding) payload.
    let admin = EthereumSecretKey::generate();
    let json = format!(
        r#"{{"iss":"{}","sub":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","aud":"example.com","exp":1800003600,"iat":1800000000,"ctx":{{"note":"a>b?~~~"}}}}"#,
        admin.address().to_checksum()
    );
    let payload = b64std_encode(json.as_bytes());
    assert!(payload.contains(['+', '/']), "{payload}");
    let sig = format!("0x{}", hex_encode(&eip191::sign(&admin, json.as_bytes())));
    let header = token.split('.').next().unwrap();
    let legacy = format!("{header}.{payload}.{}", b64std_encode(sig.as_bytes()));
    let v = inspect(&legacy);
    assert_eq!(v["format"], "thirdweb", "{v}");
    assert_eq!(v["claims"]["ctx"]["note"], "a>b?~~~");
    assert_eq!(v["segment_encodings"][1], "base64 (standard alphabet)");
}

#[test]
fn nostr_values_and_bare_events_are_nwt_or_nip98() {
    let dir = TempDir::new("inspect-nostr");
    let (key, pubkey) = keygen(&dir, "nostr", "me.nostr");
    let nwt = run_ok(&[
        "issue",
        "--format",
        "nwt",
        "--key",
        &key,
        "--aud",
        "api.example",
        "--aud",
        "other.example",
        "--claim",
        "scope=read",
        "--now",
        NOW,
        "--ttl",
        "1h",
    ]);
    let base64 = nwt.strip_prefix("Nostr ").expect("Nostr scheme");
    let json = String::from_utf8(b64url_decode(base64.as_bytes()).unwrap()).unwrap();
    // `Nostr <base64url>`, the bare base64url, the bare event JSON.
    for (value, encoding) in [
        (nwt.as_str(), "base64url"),
        (base64, "base64url"),
        (json.as_str(), "JSON"),
    ] {
        let v = inspect(value);
        assert_eq!(v["format"], "nwt", "{v}");
        assert_eq!(v["kind"], 27519);
        assert_eq!(v["encoding"], encoding);
        assert_eq!(v["event"]["pubkey"], pubkey.as_str());
        assert_eq!(
            v["claims"]["aud"],
            serde_json::json!(["api.example", "other.example"])
        );
        assert_eq!(v["claims"]["scope"], serde_json::json!(["read"]));
        assert_eq!(v["times"]["exp"], "2027-01-15T09:00:00Z (in 1h)");
    }

    let nip98 = run_ok(&[
        "issue",
        "--format",
        "nip98",
        "--key",
        &key,
        "--url",
        "https://api.example/v1/auth/login?x=1",
        "--method",
        "POST",
        "--now",
        NOW,
    ]);
    let v = inspect(&nip98);
    assert_eq!(v["format"], "nip98", "{v}");
    assert_eq!(v["kind"], 27235);
    assert_eq!(v["request"]["url"], "https://api.example/v1/auth/login?x=1");
    assert_eq!(v["request"]["method"], "POST");
    assert_eq!(v["times"]["created_at"], "2027-01-15T08:00:00Z (in 0s)");
    // nostr-tools writes padded standard base64.
    let std = b64std_encode(
        &tessera_core::internal::encoding::b64_either_decode(
            nip98.strip_prefix("Nostr ").unwrap().as_bytes(),
        )
        .unwrap(),
    );
    let v = inspect(&format!("Nostr {std}"));
    assert_eq!(v["format"], "nip98", "{v}");
}

#[test]
fn a_siwe_message_is_siwe() {
    let message = run_ok(&[
        "siwe",
        "message",
        "--domain",
        "app.example",
        "--address",
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "--uri",
        "https://app.example/login",
        "--nonce",
        "abcdef123456",
        "--now",
        NOW,
    ]);
    let v = inspect(&message);
    assert_eq!(v["format"], "siwe", "{v}");
    assert_eq!(v["claims"]["domain"], "app.example");
    assert_eq!(
        v["claims"]["address"],
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    );
    assert_eq!(v["claims"]["nonce"], "abcdef123456");
}

#[test]
fn values_that_are_no_credential_are_usage_errors() {
    let not_json = b64std_encode(b"hello there");
    for (value, says) in [
        ("not a token at all", "not a compact JWT"),
        ("a.b", "not a compact JWT"),
        ("Nostr !!!", "base64"),
        (
            &format!("Nostr {not_json}") as &str,
            "not to a JSON Nostr event",
        ),
        ("{\"content\":\"x\"}", "no numeric `kind`"),
        (
            "x wants you to sign in with your Ethereum account:\nnot an address",
            "does not parse",
        ),
    ] {
        let out = run(&["inspect", value]);
        assert_eq!(out.status.code(), Some(2), "{value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{value}: {stderr}");
        assert!(out.stdout.is_empty(), "{value}");
    }
}

#[test]
fn keygen_out_keeps_the_private_key_off_stdout() {
    let dir = TempDir::new("keygen-out");
    for (alg, pem) in [
        ("ES256", false),
        ("EdDSA", true),
        ("HS256", false),
        ("nostr", false),
        ("ethereum", false),
    ] {
        let path = dir.path(&format!("{alg}-{pem}.key"));
        let mut args = vec!["keygen", "--alg", alg, "--out", &path];
        if pem {
            args.push("--pem");
        }
        let stdout = run_ok(&args);
        let private = std::fs::read_to_string(&path).unwrap();
        let secret = private.trim();
        assert!(secret.len() >= 32, "{alg}: {secret}");
        // Neither the file's text nor the secret inside it is printed.
        let inner: Vec<String> = match serde_json::from_str::<Value>(secret) {
            Ok(jwk) => ["d", "k"]
                .iter()
                .filter_map(|m| jwk[*m].as_str().map(str::to_owned))
                .collect(),
            Err(_) => vec![secret.trim_start_matches("0x").to_owned()],
        };
        assert!(!inner.is_empty(), "{alg}");
        for s in inner.iter().chain([&secret.to_owned()]) {
            assert!(!stdout.contains(s.as_str()), "{alg}: stdout shows {s}");
        }
        assert!(!stdout.contains("PRIVATE KEY"), "{alg}: {stdout}");
        if alg == "nostr" {
            // Its nsec is in the file; the hex secret is not printed either.
            assert!(secret.starts_with("nsec1"));
            assert!(!stdout.contains("secret_hex") && !stdout.contains("nsec"));
        }
        if !pem {
            let v: Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(v["private_key_file"], path.as_str(), "{alg}: {v}");
        }
    }
    // Without --out the key is printed: that is the only copy.
    let v: Value = serde_json::from_str(&run_ok(&["keygen", "--alg", "ES256"])).unwrap();
    assert!(v["private_jwk"]["d"].is_string());
}
