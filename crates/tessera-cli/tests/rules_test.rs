//! `tessera rules test`: the decision and the rule that made it, for a
//! simulated caller, a Nostr credential, or nobody; exit 0 allowed, 1
//! denied, 2 usage or configuration error.

use serde_json::Value;
use tessera_core::internal::nostr::{issue_nip98, nip98_authorization, NostrSecretKey};
use tessera_core::{Clock, SystemClock};
use tessera_testkit::{tessera_bin, TempDir};

const RULES: &str = r#"
[forward_auth]
gateway = "nginx"

[[rule]]
path = "/public/*"
anonymous = true

[[rule]]
path = "/upload/*"
methods = ["POST", "PUT"]
allow = ["nostr"]
claims = { scope = { contains = "upload" } }

[[rule]]
path = "/*"
allow = ["tessera", "nostr"]
"#;

/// Runs `tessera rules test --config <RULES> ARGS`: (exit code, JSON, stderr).
fn rules_test(dir: &TempDir, args: &[&str]) -> (i32, Value, String) {
    rules_test_with(dir, RULES, args)
}

/// Runs `tessera rules test --config <rules> ARGS`.
fn rules_test_with(dir: &TempDir, rules: &str, args: &[&str]) -> (i32, Value, String) {
    let config = dir.write("tessera.toml", rules);
    let mut all = vec!["rules", "test", "--config", config.as_str()];
    all.extend_from_slice(args);
    let out = tessera_testkit::cli::run(tessera_bin!(), &all);
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn prints_the_decision_and_the_rule() {
    let dir = TempDir::new("rules-test");
    let upload = [
        "--method",
        "POST",
        "--url",
        "https://api.example/upload/f.png",
    ];
    // A caller with the scope: allowed by rule 2.
    let mut args = upload.to_vec();
    args.extend(["--issuer", "nostr", "--subject", "alice"]);
    args.extend(["--claims", r#"{"scope":"read upload"}"#]);
    let (code, v, err) = rules_test(&dir, &args);
    assert_eq!(
        (code, v["decision"].as_str()),
        (0, Some("allow")),
        "{v} {err}"
    );
    assert_eq!(v["rule"]["index"], 2);
    assert_eq!(v["status"], 200);
    // Without it: 403 by rule 2, with the reason.
    let mut args = upload.to_vec();
    args.extend(["--issuer", "nostr", "--subject", "alice"]);
    let (code, v, _) = rules_test(&dir, &args);
    assert_eq!((code, v["status"].as_u64()), (1, Some(403)), "{v}");
    assert_eq!(v["reason"], "claim_not_satisfied");
    assert_eq!(v["rule"]["index"], 2);
    // The wrong issuer: 403 issuer_not_allowed.
    let mut args = upload.to_vec();
    args.extend(["--issuer", "tessera", "--subject", "0xabc"]);
    let (code, v, _) = rules_test(&dir, &args);
    assert_eq!(
        (code, v["reason"].as_str()),
        (1, Some("issuer_not_allowed"))
    );
    // Nobody: 401 on a protected path, allowed on the anonymous one.
    let (code, v, _) = rules_test(&dir, &upload);
    assert_eq!((code, v["decision"].as_str()), (1, Some("unauthenticated")));
    assert_eq!(v["status"], 401);
    let (code, v, _) = rules_test(&dir, &["--url", "https://api.example/public/a.css"]);
    assert_eq!((code, v["rule"]["index"].as_u64()), (0, Some(1)), "{v}");
    // The path is matched normalised: /public/../upload is /upload.
    let (code, v, _) = rules_test(
        &dir,
        &[
            "--method",
            "PUT",
            "--url",
            "https://api.example/public/../upload/x",
        ],
    );
    assert_eq!((code, v["rule"]["index"].as_u64()), (1, Some(2)), "{v}");
    assert_eq!(v["request"]["path"], "/upload/x");
}

#[test]
fn a_nip98_credential_is_verified_for_the_request() {
    let dir = TempDir::new("rules-test-nip98");
    let user = NostrSecretKey::generate();
    let url = "https://api.example/other";
    let event = issue_nip98(&user, url, "DELETE", None, SystemClock.now()).expect("nip98");
    let auth = nip98_authorization(&event);
    let (code, v, err) = rules_test(
        &dir,
        &["--method", "DELETE", "--url", url, "--credential", &auth],
    );
    assert_eq!(
        (code, v["rule"]["index"].as_u64()),
        (0, Some(3)),
        "{v} {err}"
    );
    assert_eq!(v["caller"]["subject"], user.public_key().to_hex());
    // Bound to its method: usage error naming the code.
    let (code, _, err) = rules_test(
        &dir,
        &["--method", "GET", "--url", url, "--credential", &auth],
    );
    assert_eq!(code, 2);
    assert!(err.contains("method_mismatch"), "{err}");
}

#[test]
fn a_payload_tag_is_refused_unless_the_rule_accepts_it_unchecked() {
    let dir = TempDir::new("rules-test-payload");
    let rules = "[forward_auth]\ngateway = \"nginx\"\n\n[[rule]]\npath = \"/upload\"\nallow = [\"nostr\"]\nnip98_payload_without_body = \"accept_unchecked\"\n\n[[rule]]\npath = \"/*\"\nallow = [\"nostr\"]\n";
    let user = NostrSecretKey::generate();
    let now = SystemClock.now();
    let signed = |url: &str| {
        nip98_authorization(&issue_nip98(&user, url, "POST", Some(b"{}"), now).expect("nip98"))
    };
    // /upload (accept_unchecked): allowed by rule 1, with no body at all.
    let url = "https://api.example/upload";
    let (code, v, err) = rules_test_with(
        &dir,
        rules,
        &[
            "--method",
            "POST",
            "--url",
            url,
            "--credential",
            &signed(url),
        ],
    );
    assert_eq!(
        (code, v["rule"]["index"].as_u64()),
        (0, Some(1)),
        "{v} {err}"
    );
    // Elsewhere (default refuse): the tag is compared with no body.
    let url = "https://api.example/orders";
    let (code, _, err) = rules_test_with(
        &dir,
        rules,
        &[
            "--method",
            "POST",
            "--url",
            url,
            "--credential",
            &signed(url),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("payload_mismatch"), "{err}");
}

#[test]
fn bad_requests_and_configurations_are_usage_errors() {
    let dir = TempDir::new("rules-test-bad");
    // A URL that does not normalise.
    let (code, _, err) = rules_test(&dir, &["--url", "https://api.example/a/..%2Fb"]);
    assert_eq!(code, 2);
    assert!(err.contains("encoded_slash"), "{err}");
    // A rule naming an issuer nobody configured.
    let path = dir.write(
        "bad.toml",
        "[forward_auth]\ngateway = \"nginx\"\n[[rule]]\npath = \"/*\"\nallow = [\"corp\"]\n",
    );
    let out = tessera_testkit::cli::run(
        tessera_bin!(),
        &[
            "rules",
            "test",
            "--config",
            &path,
            "--url",
            "https://a.example/",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("corp"));
}
