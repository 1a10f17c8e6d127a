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
        "issuers=none".to_owned(),
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

/// Forwards every connection to `127.0.0.1:port` to `target` (a stand-in
/// for a store that comes up late). Its threads end with the test binary.
fn forward(port: u16, target: String) {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind the forwarder");
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(upstream) = std::net::TcpStream::connect(&target) else {
                continue;
            };
            let (mut c2, mut u2) = (
                client.try_clone().expect("clone"),
                upstream.try_clone().expect("clone"),
            );
            let (mut c1, mut u1) = (client, upstream);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c1, &mut u1);
                let _ = u1.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut u2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Write);
            });
        }
    });
}

#[test]
fn a_store_that_comes_up_within_the_budget_is_used() {
    let redis = match std::env::var("TESSERA_TEST_REDIS_URL") {
        Ok(v) if !v.trim().is_empty() => v.trim().to_owned(),
        _ => {
            assert!(
                !tessera_testkit::in_ci(),
                "TESSERA_TEST_REDIS_URL is not set, but CI is"
            );
            tessera_testkit::loud_skip(
                "TESSERA_TEST_REDIS_URL is not set: the late-store start-up test needs Redis",
            );
            return;
        }
    };
    // host:port of the real Redis, reached through a port that opens late.
    let rest = redis.split_once("://").map_or(redis.as_str(), |(_, r)| r);
    let host_port = rest
        .rsplit_once('@')
        .map_or(rest, |(_, h)| h)
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let store_port = free_port();
    let listen = format!("127.0.0.1:{}", free_port());
    let dir = TempDir::new("startup-late-store");
    let mut child = tessera_testkit::cli::clean_command(tessera_bin!())
        .args(["serve", "--listen", &listen, "--data-dir"])
        .arg(dir.join("data"))
        .args(["--store", &format!("redis://127.0.0.1:{store_port}/")])
        .env("TESSERA_STORE_CONNECT_TIMEOUT_SECONDS", "20")
        .stdout(std::fs::File::create(dir.join("log")).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start tessera serve");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "gave up before the budget"
    );
    forward(store_port, host_port);
    let addr: std::net::SocketAddr = listen.parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ready = None;
    while Instant::now() < deadline && ready != Some(200) {
        std::thread::sleep(Duration::from_millis(100));
        ready = tessera_testkit::http::status_of(addr, "/readyz");
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(dir.join("log")).unwrap();
    assert_eq!(ready, Some(200), "never ready:\n{log}");
    assert!(log.contains("store not reachable yet"), "{log}");
    assert!(log.contains("store reachable"), "{log}");
    assert!(log.contains("tessera listening"), "{log}");
}
