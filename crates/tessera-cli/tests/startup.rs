//! `tessera serve` start-up: what its log says, and a store that is down
//! (retried with backoff for `store_connect_timeout_seconds`, then a clear
//! exit).

use std::process::Output;
use std::time::{Duration, Instant};
use tessera_testkit::serve::Tessera;
use tessera_testkit::{free_port, tessera_bin, TempDir};

#[test]
fn the_start_up_log_says_where_what_and_what_next() {
    let dir = TempDir::new("startup-log");
    let server = Tessera::start(tessera_bin!(), dir.root(), None, &[]);
    let log = server.log_tail();
    let listening = log
        .lines()
        .find(|l| l.contains("tessera listening"))
        .unwrap_or_else(|| panic!("no start-up line in:\n{log}"));
    for part in [
        format!("addr={}", server.addr),
        "store_kind=\"sqlite\"".to_owned(),
        "admin_routes=\"off".to_owned(),
        "rules=0".to_owned(),
        "gateway=\"none\"".to_owned(),
        "max_connections=".to_owned(),
    ] {
        assert!(listening.contains(&part), "{part} missing in: {listening}");
    }
    let next = log
        .lines()
        .find(|l| l.contains("next:"))
        .unwrap_or_else(|| panic!("no next steps in:\n{log}"));
    for part in ["/readyz", "/v1/auth/login", "/v1/verify", "/metrics"] {
        assert!(
            next.contains(&format!("{}{part}", server.url)),
            "{part}: {next}"
        );
    }
    drop(server);

    // With an admin token: said to be on, the token itself nowhere.
    let dir = TempDir::new("startup-admin");
    let token = "startup-admin-token-0123456789";
    let server = Tessera::start(
        tessera_bin!(),
        dir.root(),
        None,
        &[("TESSERA_ADMIN_TOKEN", token)],
    );
    let log = server.log_tail();
    assert!(log.contains("admin_routes=\"on"), "{log}");
    assert!(!log.contains(token), "{log}");
}

/// `tessera serve` on `store`, with `timeout` as store_connect_timeout_seconds:
/// its output and how long it ran.
fn serve_on(store: &str, timeout: &str) -> (Output, Duration) {
    let dir = TempDir::new("startup-store");
    let started = Instant::now();
    let out = tessera_testkit::cli::clean_command(tessera_bin!())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .args(["--store", store])
        .env("TESSERA_STORE_CONNECT_TIMEOUT_SECONDS", timeout)
        .output()
        .expect("run tessera serve");
    (out, started.elapsed())
}

#[test]
fn a_store_that_is_down_is_retried_then_the_server_exits_clearly() {
    for scheme in ["postgres://tessera:hunter2@", "redis://:hunter2@"] {
        let port = free_port();
        let store = format!("{scheme}127.0.0.1:{port}/0");
        let (out, took) = serve_on(&store, "5");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{store}: {stderr}\n{stdout}");
        assert!(stderr.contains("cannot reach the store"), "{stderr}");
        assert!(
            stderr.contains("store_connect_timeout_seconds (now 5)"),
            "{stderr}"
        );
        assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
        // Secrets stay out of the message and the log.
        assert!(!stderr.contains("hunter2") && !stdout.contains("hunter2"));
        // Retried (the log says so), within the budget: one attempt may
        // itself take the store's connect timeout (2 s).
        let retries = stdout.matches("store not reachable yet").count();
        assert!(retries >= 1, "{retries} retries logged:\n{stdout}");
        assert!(!stderr.contains("after 1 attempt(s)"), "{stderr}");
        assert!(
            took >= Duration::from_secs(5) && took < Duration::from_secs(8),
            "{store}: exited after {took:?}"
        );
    }
}

#[test]
fn without_a_budget_or_with_a_bad_url_the_server_exits_at_once() {
    let port = free_port();
    let (out, took) = serve_on(&format!("postgres://tessera@127.0.0.1:{port}/x"), "0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("after 1 attempt(s)"), "{stderr}");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // Not a reachability problem: no retry, whatever the budget.
    let (out, took) = serve_on("mysql://127.0.0.1/x", "30");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot open the store"), "{stderr}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}
