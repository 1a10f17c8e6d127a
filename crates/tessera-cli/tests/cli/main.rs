//! The CLI contract (contracts.md): JSON on stdout, exit 0/1/2.
//!
//! One file per topic: contract.rs (round trips, exit codes, usage, stdin,
//! help), store_urls.rs (store passwords never printed), wallets.rs (the
//! Nostr and Ethereum formats); the commands shared by them are here.

mod contract;
mod store_urls;
mod wallets;

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
