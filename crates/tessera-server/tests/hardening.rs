//! End-to-end over HTTP for the hardening of issue 17 (part B): connection
//! limits and shutdown (item 2), login CSRF and the cookie origin rule
//! (item 4), the rate limiter's client address behind proxies (item 5),
//! what SIWE logins must say about this server (item 11), and the smaller
//! HTTP points of item 14. Same harness as `e2e/` (`tessera_testkit`);
//! raw sockets only where a request must stay half-sent or idle.

use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tessera_core::internal::ethereum::{EthereumSecretKey, Rfc3339Time};
use tessera_core::{Clock, SystemClock};
use tessera_testkit::api::*;
use tessera_testkit::fixtures::siwe_body;
use tessera_testkit::http::*;
use tessera_testkit::inproc::*;
use tessera_testkit::raw::challenge_in_flight;

// ------------------------------------------------------------ item 4

/// The finding: a cross-site form post (`text/plain`, the attacker's own
/// signed SIWE login, `cookie: true`) set the victim's session cookies.
#[test]
fn cross_site_form_post_of_a_siwe_login_is_refused_and_sets_no_cookie() {
    let s = start(None, |_| {});
    let attacker = EthereumSecretKey::generate();
    let ch = siwe_challenge(&s, &attacker);
    let message = ch["message"].as_str().expect("message");
    let body = siwe_body(&attacker, message, json!({"cookie": true})).to_string();
    // What <form enctype="text/plain" method="post"> on evil.example sends.
    let form = http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[
            ("Content-Type", "text/plain"),
            ("Origin", "https://evil.example"),
            ("Sec-Fetch-Site", "cross-site"),
        ],
        body.as_bytes(),
    );
    assert_eq!(
        form.status,
        415,
        "{:?}",
        String::from_utf8_lossy(&form.body)
    );
    assert_eq!(form.error(), "invalid_request");
    assert!(form.headers_named("set-cookie").is_empty());
    // No content type at all is no better.
    let bare = http(s.addr, "POST", "/v1/auth/login", &[], body.as_bytes());
    assert_eq!(bare.status, 415);
    // JSON from another origin (a fetch the browser would preflight, but
    // refused here whatever CORS says), or with no origin shown at all.
    for headers in [
        vec![("Origin", "https://evil.example")],
        vec![("Sec-Fetch-Site", "same-site")],
        vec![],
    ] {
        let mut h = vec![("Content-Type", "application/json")];
        h.extend(headers.iter().copied());
        let r = http(s.addr, "POST", "/v1/auth/login", &h, body.as_bytes());
        assert_eq!(r.status, 403, "{headers:?}");
        assert_eq!(r.error(), "forbidden");
        assert!(r.headers_named("set-cookie").is_empty());
    }
    // The same login from the server's own page works (the refusals above
    // were the rule, and did not spend the nonce).
    let ok = post_json(
        &s,
        "/v1/auth/login",
        &siwe_body(&attacker, message, json!({"cookie": true})),
        &[("Origin", &s.url)],
    );
    assert_eq!(ok.status, 200, "{:?}", String::from_utf8_lossy(&ok.body));
    assert_eq!(ok.headers_named("set-cookie").len(), 2);
    // Without cookies, a JSON login needs no origin (the tokens come back in
    // the body, which a cross-site page cannot read).
    let plain = siwe_login(&s, &EthereumSecretKey::generate(), json!({}));
    assert_eq!(plain.status, 200);
}

#[test]
fn every_cookie_route_applies_the_origin_rule() {
    // nginx in front: /v1/verify judges the request its X-Original-* name.
    let s = start(None, |c| {
        c.forward_auth.gateway = Some(tessera_server::gateway::Gateway::Nginx)
    });
    let login = siwe_login_with(
        &s,
        &EthereumSecretKey::generate(),
        json!({"cookie": true}),
        &[("Sec-Fetch-Site", "same-origin")],
    );
    assert_eq!(login.status, 200);
    let jar = login
        .headers_named("set-cookie")
        .iter()
        .map(|c| c.split(';').next().expect("pair").to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let cookie = ("Cookie", jar.as_str());
    let evil = ("Origin", "https://evil.example");
    let cross = ("Sec-Fetch-Site", "cross-site");
    // Reads: refused when the browser says the request is cross-site.
    for h in [[cookie, evil], [cookie, cross]] {
        assert_eq!(
            http(s.addr, "GET", "/v1/auth/me", &h, b"").status,
            403,
            "{h:?}"
        );
        let mut at_gateway = h.to_vec();
        at_gateway.extend([
            ("X-Original-URL", "https://api.example/orders"),
            ("X-Original-Method", "GET"),
        ]);
        assert_eq!(
            http(s.addr, "GET", "/v1/verify", &at_gateway, b"").status,
            403,
            "{h:?}"
        );
    }
    assert_eq!(
        http(s.addr, "GET", "/v1/auth/me", &[cookie], b"").status,
        200
    );
    assert_eq!(
        http(
            s.addr,
            "GET",
            "/v1/auth/me",
            &[cookie, ("Sec-Fetch-Site", "none")],
            b""
        )
        .status,
        200
    );
    // At /v1/verify the origin is the original request's, and a state
    // change there needs it shown.
    let post = [
        cookie,
        ("X-Original-URL", "https://api.example/orders"),
        ("X-Original-Method", "POST"),
    ];
    assert_eq!(http(s.addr, "GET", "/v1/verify", &post, b"").status, 403);
    let mut same = post.to_vec();
    same.push(("Origin", "https://api.example"));
    assert_eq!(http(s.addr, "GET", "/v1/verify", &same, b"").status, 200);
    // State changes: refresh, logout-all, logout.
    for path in ["/v1/auth/refresh", "/v1/auth/logout-all", "/v1/auth/logout"] {
        let r = http(s.addr, "POST", path, &[cookie, evil], b"");
        assert_eq!(r.status, 403, "{path}");
        let r = http(s.addr, "POST", path, &[cookie], b"");
        assert_eq!(r.status, 403, "{path} without an origin");
    }
    // Asking refresh for cookies (with a body token) sets cookies: same rule.
    let pair = siwe_login(&s, &EthereumSecretKey::generate(), json!({})).json();
    let r = post_json(
        &s,
        "/v1/auth/refresh",
        &json!({"refresh_token": pair["refresh_token"], "cookie": true}),
        &[evil],
    );
    assert_eq!(r.status, 403);
    assert!(r.headers_named("set-cookie").is_empty());
}

// ------------------------------------------------------------ item 5

fn challenges(s: &Server, n: usize, xff: impl Fn(usize) -> String) -> (usize, usize) {
    let (mut ok, mut limited) = (0, 0);
    for i in 0..n {
        let f = xff(i);
        let r = post_json(
            s,
            "/v1/auth/challenge",
            &json!({}),
            &[("X-Forwarded-For", &f)],
        );
        match r.status {
            200 => ok += 1,
            429 => limited += 1,
            other => panic!("challenge answered {other}"),
        }
    }
    (ok, limited)
}

/// The finding: behind a proxy that appends the peer, the client wrote the
/// leftmost entry and got a fresh bucket each time (80 × 200).
#[test]
fn spoofed_forwarded_for_behind_a_trusted_proxy_is_limited() {
    // The test connects from 127.0.0.1: the default trusted proxy (nginx on
    // the same host). Each request claims another address on the left; the
    // proxy appended the real client, 203.0.113.7.
    let s = start(None, |c| c.rate_limit_per_minute = 60);
    let (ok, limited) = challenges(&s, 80, |i| {
        format!("10.9.{}.{}, 203.0.113.7", i / 250, i % 250)
    });
    assert!(ok <= 61, "{ok} answered 200");
    assert!(limited >= 19, "{limited} limited");
}

/// The finding's other half: without trusting the proxy, everyone behind
/// it shared one bucket (70 challenges from 7 users -> 10 × 429).
#[test]
fn users_behind_the_proxy_get_separate_buckets() {
    let s = start(None, |c| c.rate_limit_per_minute = 10);
    let (ok, limited) = challenges(&s, 70, |i| format!("198.51.100.{}", i % 7));
    assert_eq!((ok, limited), (70, 0));
    // The same traffic from a peer that is not a trusted proxy: its
    // X-Forwarded-For is ignored, and it is one client.
    let s = start(None, |c| {
        c.rate_limit_per_minute = 10;
        c.forward_auth.trusted_proxies = vec!["10.0.0.0/8".into()];
    });
    let (ok, limited) = challenges(&s, 70, |i| format!("198.51.100.{}", i % 7));
    assert!(ok <= 11 && limited >= 59, "{ok} ok, {limited} limited");
}

/// `/v1/oauth/revoke` is limited per client like login: each revoked NWT
/// is stored until it expires, so an unlimited route would let one client
/// grow the store at will.
#[test]
fn revocation_is_rate_limited_per_client() {
    let s = start(None, |c| c.rate_limit_per_minute = 5);
    let statuses: Vec<u16> = (0..12)
        .map(|i| {
            let body = format!("token=unknown-token-{i}");
            http(
                s.addr,
                "POST",
                "/v1/oauth/revoke",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                body.as_bytes(),
            )
            .status
        })
        .collect();
    let ok = statuses.iter().filter(|&&c| c == 200).count();
    let limited = statuses.iter().filter(|&&c| c == 429).count();
    assert!(
        ok <= 6 && limited >= 6 && ok + limited == 12,
        "{statuses:?}"
    );
}

/// Gateway headers from a peer that is not a trusted proxy are ignored: it
/// cannot make a NIP-98 event for another URL pass forward-auth.
#[test]
fn gateway_headers_count_only_from_trusted_proxies() {
    use tessera_core::internal::nostr::{issue_nip98, nip98_authorization, NostrSecretKey};
    let user = NostrSecretKey::generate();
    for (trusted, want) in [(true, 200), (false, 401)] {
        let s = start(None, |c| {
            c.forward_auth.gateway = Some(tessera_server::gateway::Gateway::Nginx);
            if !trusted {
                c.forward_auth.trusted_proxies = vec![];
            }
        });
        let event = issue_nip98(
            &user,
            "https://api.example/x",
            "GET",
            None,
            SystemClock.now(),
        )
        .expect("event");
        let r = http(
            s.addr,
            "GET",
            "/v1/verify",
            &[
                ("Authorization", &nip98_authorization(&event)),
                ("X-Original-URL", "https://api.example/x"),
                ("X-Original-Method", "GET"),
            ],
            b"",
        );
        assert_eq!(r.status, want, "trusted={trusted}");
        if !trusted {
            assert_eq!(r.error(), "url_mismatch");
        }
    }
}

// ------------------------------------------------------------ item 11

/// An EIP-4361 message for this server's domain with the given fields.
fn siwe_text(
    scheme: &str,
    domain: &str,
    wallet: &EthereumSecretKey,
    uri: &str,
    chain: u64,
    nonce: &str,
    issued_at: &str,
) -> String {
    format!(
        "{scheme}{domain} wants you to sign in with your Ethereum account:\n{}\n\nSign in\n\nURI: {uri}\nVersion: 1\nChain ID: {chain}\nNonce: {nonce}\nIssued At: {issued_at}",
        wallet.address().to_checksum()
    )
}

#[test]
fn siwe_logins_must_name_this_servers_uri_scheme_chain_and_a_fresh_issue_time() {
    let s = start(None, |c| c.allowed_chain_ids = Some(vec![1, 10]));
    let domain = s.addr.to_string();
    let now = SystemClock.now();
    let iso = |t: i64| Rfc3339Time::from_unix(t).expect("time").to_string();
    let in_2000 = "2000-01-01T00:00:00Z".to_owned();
    let own = s.url.clone();
    let under = format!("{}/app/login", s.url);
    // (scheme, URI, chain, Issued At) -> the code, or 200.
    type Case<'a> = (&'a str, &'a str, u64, String, Result<u16, &'a str>);
    let cases: [Case; 8] = [
        ("", "https://evil", 1, iso(now), Err("url_mismatch")),
        (
            "",
            &format!("{}@evil.example/", s.url),
            1,
            iso(now),
            Err("url_mismatch"),
        ),
        ("", &own, 999, iso(now), Err("invalid_claim")),
        ("https://", &own, 1, iso(now), Err("domain_mismatch")),
        ("", &own, 1, in_2000, Err("stale")),
        ("", &own, 1, iso(now + 3600), Err("stale")),
        ("http://", &under, 10, iso(now - 30), Ok(200)),
        ("", &own, 1, iso(now), Ok(200)),
    ];
    for (scheme, uri, chain, issued, want) in cases {
        let wallet = EthereumSecretKey::generate();
        let nonce = siwe_challenge(&s, &wallet)["nonce"]
            .as_str()
            .expect("nonce")
            .to_owned();
        let message = siwe_text(scheme, &domain, &wallet, uri, chain, &nonce, &issued);
        let r = post_json(
            &s,
            "/v1/auth/login",
            &siwe_body(&wallet, &message, json!({})),
            &[],
        );
        match want {
            Ok(status) => assert_eq!(
                r.status,
                status,
                "{message}\n{:?}",
                String::from_utf8_lossy(&r.body)
            ),
            Err(code) => {
                assert_eq!(r.status, 401, "{message}");
                assert_eq!(r.error(), code, "{message}");
            }
        }
    }
}

// ------------------------------------------------------------ item 14

#[test]
fn me_is_not_cached_and_bearer_has_one_parser() {
    let s = start(None, |_| {});
    let pair = siwe_login(&s, &EthereumSecretKey::generate(), json!({})).json();
    let token = pair["access_token"].as_str().expect("token");
    let me = http(
        s.addr,
        "GET",
        "/v1/auth/me",
        &[("Authorization", &bearer(token))],
        b"",
    );
    assert_eq!(me.status, 200);
    assert_eq!(me.header("cache-control"), Some("no-store"));
    // Two spaces: refused by core's parser, so refused everywhere.
    let two = format!("Bearer  {token}");
    for path in ["/v1/auth/me", "/v1/verify"] {
        let r = http(s.addr, "GET", path, &[("Authorization", &two)], b"");
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.error(), "malformed", "{path}");
    }
    let r = http(
        s.addr,
        "POST",
        "/v1/auth/logout-all",
        &[("Authorization", &two)],
        b"",
    );
    assert_eq!(r.status, 401);
}

// ------------------------------------------------------------ item 2

/// Reads until the server closes the connection; how long that took.
fn until_closed(s: &mut TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    s.set_read_timeout(Some(within)).expect("timeout");
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset) => {
                return Some(start.elapsed())
            }
            Err(_) => return None,
        }
    }
}

#[test]
fn half_sent_and_idle_connections_are_closed_after_the_header_read_timeout() {
    let s = start(None, |c| c.header_read_timeout_seconds = 1);
    // A request head that never ends.
    let mut half = TcpStream::connect(s.addr).expect("connect");
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .expect("write");
    // A connection that never says anything.
    let mut silent = TcpStream::connect(s.addr).expect("connect");
    // A keep-alive connection after one answer.
    let mut idle = TcpStream::connect(s.addr).expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut answer = [0u8; 512];
    let n = idle.read(&mut answer).expect("answer");
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
    for (name, conn) in [
        ("half-sent", &mut half),
        ("silent", &mut silent),
        ("idle", &mut idle),
    ] {
        let took = until_closed(conn, Duration::from_secs(5))
            .unwrap_or_else(|| panic!("{name} connection still open after 5 s"));
        assert!(took < Duration::from_secs(4), "{name}: {took:?}");
    }
}

#[test]
fn a_request_whose_body_never_ends_gets_408() {
    let s = start(None, |c| c.request_timeout_seconds = 1);
    let mut c = TcpStream::connect(s.addr).expect("connect");
    c.write_all(
        b"POST /v1/auth/challenge HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"addr",
    )
    .expect("write");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let start = Instant::now();
    let mut raw = Vec::new();
    let mut buf = [0u8; 1024];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") || !raw.ends_with(b"}") {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"request_timeout\""), "{text}");
    assert!(start.elapsed() < Duration::from_secs(4));
}

#[test]
fn past_the_connection_cap_new_connections_wait_for_a_free_slot() {
    let s = start(None, |c| c.max_connections = 2);
    let first = TcpStream::connect(s.addr).expect("connect");
    let _second = TcpStream::connect(s.addr).expect("connect");
    std::thread::sleep(Duration::from_millis(200));
    // The kernel completes the handshake (backlog), but the server does not
    // take the connection while two are open.
    let mut third = TcpStream::connect(s.addr).expect("connect");
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    third
        .set_read_timeout(Some(Duration::from_millis(700)))
        .expect("timeout");
    let mut buf = [0u8; 256];
    assert!(third.read(&mut buf).is_err(), "answered past the cap");
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let n = third.read(&mut buf).expect("answered once a slot is free");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
}

#[test]
fn shutdown_finishes_in_flight_requests_and_is_bounded() {
    let mut s = start(None, |c| c.shutdown_grace_seconds = 2);
    // In flight: the head is in, the body half sent.
    let mut busy = challenge_in_flight(s.addr, 2);
    let mut idle = TcpStream::connect(s.addr).expect("connect");
    std::thread::sleep(Duration::from_millis(200));
    s.signal_shutdown();
    std::thread::sleep(Duration::from_millis(200));
    // No new connections; the idle one is closed at once.
    assert!(TcpStream::connect(s.addr).is_err(), "still accepting");
    assert!(until_closed(&mut idle, Duration::from_secs(1)).is_some());
    // The in-flight request completes.
    busy.write_all(b"}").expect("rest of the body");
    busy.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buf = [0u8; 512];
    let n = busy.read(&mut buf).expect("answer");
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );

    // A request that never completes holds the shutdown only for the grace.
    let mut s = start(None, |c| c.shutdown_grace_seconds = 1);
    let _stuck = challenge_in_flight(s.addr, 50);
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    s.signal_shutdown();
    s.join();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}
