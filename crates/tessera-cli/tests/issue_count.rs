//! `tessera issue --count N` makes N distinct credentials (issue 22): N
//! events with one id would be one credential to the replay guard and to
//! every cache keyed on the id.

use serde_json::Value;
use std::collections::HashSet;
use tessera_testkit::cli::{run, run_ok};
use tessera_testkit::{tessera_bin, TempDir};

/// The event id of an `Authorization: Nostr ...` value.
fn event_id(authorization: &str) -> [u8; 32] {
    let credential = authorization.strip_prefix("Nostr ").expect("a Nostr value");
    tessera_core::internal::nostr::decode_authorization_event(
        credential,
        &tessera_core::Policy::default(),
    )
    .expect("an event")
    .id
}

fn verify(args: &[&str]) -> Value {
    let out = run(tessera_bin!(), args);
    let v: Value = serde_json::from_slice(&out.stdout).expect("verify prints JSON");
    assert_eq!(out.status.code(), Some(0), "{v}");
    v
}

fn nostr_key(dir: &TempDir) -> String {
    let path = dir.path("user.key");
    run_ok(
        tessera_bin!(),
        &["keygen", "--alg", "nostr", "--out", &path],
    );
    path
}

#[test]
fn nwt_count_makes_distinct_events_that_each_verify() {
    let dir = TempDir::new("issue-count-nwt");
    let key = nostr_key(&dir);
    let aud = "https://api.example";
    let out = run_ok(
        tessera_bin!(),
        &[
            "issue",
            "--format",
            "nwt",
            "--key",
            &key,
            "--aud",
            aud,
            "--now",
            "1700000000",
            "--ttl",
            "1h",
            "--count",
            "5",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    let mut nonces = HashSet::new();
    for line in &lines {
        let v = verify(&["verify", "--aud", aud, "--now", "1700000010", line]);
        let nonce = v["claims"]["nonce"].as_str().expect("a nonce claim");
        assert!(nonce.len() >= 16, "{nonce}");
        nonces.insert(nonce.to_owned());
    }
    assert_eq!(nonces.len(), 5, "every event has its own nonce");
    let ids: HashSet<_> = lines.iter().map(|l| event_id(l)).collect();
    assert_eq!(ids.len(), 5, "every event has its own id");
}

#[test]
fn one_nwt_has_no_nonce_and_nip98_bursts_are_distinct() {
    let dir = TempDir::new("issue-count-nip98");
    let key = nostr_key(&dir);
    let one = run_ok(
        tessera_bin!(),
        &[
            "issue",
            "--format",
            "nwt",
            "--key",
            &key,
            "--aud",
            "a.example",
        ],
    );
    let v = verify(&["verify", "--aud", "a.example", one.trim()]);
    assert!(v["claims"].get("nonce").is_none(), "{v}");

    let url = "https://api.example/upload";
    let out = run_ok(
        tessera_bin!(),
        &[
            "issue", "--format", "nip98", "--key", &key, "--url", url, "--method", "POST",
            "--count", "3",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for line in &lines {
        let v = verify(&[
            "verify", "--format", "nip98", "--url", url, "--method", "POST", line,
        ]);
        assert_eq!(v["format"], "nip98");
    }
    let ids: HashSet<_> = lines.iter().map(|l| event_id(l)).collect();
    assert_eq!(ids.len(), 3, "every event has its own id");
}
