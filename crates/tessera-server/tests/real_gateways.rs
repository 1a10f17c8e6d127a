//! The shipped gateway configurations, run by the real gateways (Debian's
//! nginx and Caddy) as written: `examples/nginx.conf` (only its ports are
//! changed) and `examples/caddy/Caddyfile` (addresses from its own
//! environment placeholders), in front of tessera (in-process, with
//! `[[rule]]` tables) and an upstream that echoes the head it received.
//! Checked through each gateway: allowed (with the X-Auth-* headers the
//! app gets), 401, 403 by rule, anonymous, the spoofs of issue 20, and
//! client copies of X-Auth-* stripped; on SQLite and on PostgreSQL. Real
//! clients (ethers + siwe, nostr-tools) through the same gateways are in
//! crates/tessera-cli/tests/interop/gateways.rs.
//!
//! A missing binary skips loudly, and fails when `CI` is set (`.ci/run`
//! installs both).

use tessera_core::internal::nostr::{
    issue_nip98, issue_nwt, nip98_authorization, nwt_authorization, NostrSecretKey, NwtClaims,
};
use tessera_core::{Clock, SystemClock};
use tessera_server::config::Config;
use tessera_testkit::gateway::{caddy_example, echoed_header, nginx_example, EchoUpstream};
use tessera_testkit::http::http;
use tessera_testkit::inproc::{start, Server};
use tessera_testkit::store::{Backend, Kind};
use tessera_testkit::{free_port, TempDir};

/// tessera behind a gateway of `kind` that clients call at `front`.
fn tessera(kind: &str, front: u16, admin: &NostrSecretKey, store: Option<String>) -> Server {
    let text = format!(
        r#"
public_url = "http://127.0.0.1:{front}"
[forward_auth]
gateway = "{kind}"
claim_headers = ["scope", "role"]

[[rule]]
path = "/public/*"
anonymous = true

[[rule]]
path = "/admin/*"
allow = ["nostr"]
subjects = ["{}"]

[[rule]]
path = "/*"
allow = ["tessera", "nostr"]
"#,
        admin.public_key().to_hex()
    );
    let file: Config = toml::from_str(&text).expect("config");
    start(store, move |c| {
        c.public_url = file.public_url;
        c.forward_auth = file.forward_auth;
        c.rule = file.rule;
    })
}

/// Both gateways, each on SQLite and on PostgreSQL (the NIP-98 replay
/// record at the gateway is the store's).
#[test]
fn nginx_runs_the_shipped_example() {
    through("nginx", None);
}

#[test]
fn caddy_runs_the_shipped_example() {
    through("caddy", None);
}

#[test]
fn nginx_runs_the_shipped_example_on_postgres() {
    let Some(pg) = Backend::new(Kind::Postgres) else {
        return;
    };
    through("nginx", Some(pg.url.clone()));
}

#[test]
fn caddy_runs_the_shipped_example_on_postgres() {
    let Some(pg) = Backend::new(Kind::Postgres) else {
        return;
    };
    through("caddy", Some(pg.url.clone()));
}

/// tessera on `store` behind the shipped example of `kind`, then [`check`].
fn through(kind: &str, store: Option<String>) {
    let dir = TempDir::new(kind);
    let front = free_port();
    let admin = NostrSecretKey::generate();
    let s = tessera(kind, front, &admin, store);
    let app = EchoUpstream::start();
    let gw = match kind {
        "nginx" => nginx_example(&dir, front, s.addr, app.addr),
        _ => caddy_example(&dir, front, s.addr, app.addr),
    };
    let Some(gw) = gw else { return };
    check(&s, front, &admin, &|| gw.log_text());
}

/// The same checks through either gateway, which clients call at
/// `http://127.0.0.1:{front}`.
fn check(s: &Server, front: u16, admin: &NostrSecretKey, log: &dyn Fn() -> String) {
    let to: std::net::SocketAddr = ([127, 0, 0, 1], front).into();
    let base = format!("http://127.0.0.1:{front}");
    let now = SystemClock.now();
    let nwt = |user: &NostrSecretKey, custom: &[(&str, &str)]| {
        let claims = NwtClaims {
            aud: vec![s.url.clone()],
            ttl: Some(300),
            custom: custom
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..NwtClaims::default()
        };
        nwt_authorization(&issue_nwt(user, &claims, "", now).expect("nwt"))
    };
    let nip98 = |user: &NostrSecretKey, url: &str, method: &str| {
        nip98_authorization(&issue_nip98(user, url, method, None, now).expect("nip98"))
    };
    let forged = [
        ("X-Auth-Subject", "forged"),
        ("X-Auth-Issuer", "forged"),
        ("X-Auth-Claim-Role", "admin"),
    ];
    // Anonymous rule: the app is reached, and sees no X-Auth-* at all
    // (the client's forged copies are stripped).
    let r = http(to, "GET", "/public/a.css", &forged, b"");
    assert_eq!(r.status, 200, "{}\n{}", r.text(), log());
    let head = r.text();
    for (name, _) in forged {
        assert!(
            echoed_header(&head, name).is_empty(),
            "{name} reached the app:\n{head}"
        );
    }
    // No credential: 401.
    let r = http(to, "GET", "/orders", &[], b"");
    assert_eq!(r.status, 401, "{}", log());
    // Authenticated but not admitted by the /admin rule: 403.
    let user = NostrSecretKey::generate();
    let token = nwt(&user, &[("scope", "read upload")]);
    let r = http(to, "GET", "/admin/users", &[("Authorization", &token)], b"");
    assert_eq!(r.status, 403, "{}", log());
    let r = http(
        to,
        "GET",
        "/admin/users",
        &[("Authorization", &nwt(admin, &[]))],
        b"",
    );
    assert_eq!(r.status, 200, "{}", log());
    // Allowed: the app gets tessera's headers, and only those.
    let mut h = forged.to_vec();
    h.push(("Authorization", &token));
    let r = http(to, "GET", "/orders?id=7", &h, b"");
    assert_eq!(r.status, 200, "{}", log());
    let head = r.text();
    let subject = user.public_key().to_hex();
    assert_eq!(
        echoed_header(&head, "x-auth-subject"),
        [subject.as_str()],
        "{head}"
    );
    assert_eq!(echoed_header(&head, "x-auth-issuer"), ["nostr"], "{head}");
    assert_eq!(
        echoed_header(&head, "x-auth-claim-scope"),
        ["read upload"],
        "{head}"
    );
    assert!(
        echoed_header(&head, "x-auth-claim-role").is_empty(),
        "{head}"
    );
    // NIP-98 through the gateway, on its non-default port.
    let url = format!("{base}/orders?id=7");
    let r = http(
        to,
        "GET",
        "/orders?id=7",
        &[("Authorization", &nip98(&user, &url, "GET"))],
        b"",
    );
    assert_eq!(r.status, 200, "{}\n{}", r.text(), log());
    // Spoof: a GET-signed event sent with DELETE and a client
    // X-Forwarded-Method: GET.
    let auth = nip98(&user, &url, "GET");
    let h = [
        ("Authorization", auth.as_str()),
        ("X-Forwarded-Method", "GET"),
    ];
    assert_eq!(http(to, "DELETE", "/orders?id=7", &h, b"").status, 401);
    // Spoof: an event signed for evil.example with a client X-Original-URL
    // naming it.
    let evil = "http://evil.example/orders?id=7";
    let auth = nip98(&user, evil, "GET");
    let h = [
        ("Authorization", auth.as_str()),
        ("X-Original-URL", evil),
        ("X-Original-Method", "GET"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Uri", "/orders?id=7"),
    ];
    assert_eq!(http(to, "GET", "/orders?id=7", &h, b"").status, 401);
    // tessera's own routes are routed to it.
    let r = http(to, "GET", "/v1/info", &[], b"");
    assert_eq!(r.status, 200, "{}", log());
    assert_eq!(r.json()["issuer"], base);
}
