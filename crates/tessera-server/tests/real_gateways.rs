//! The shipped gateway configurations, run by the real gateways (Debian's
//! nginx and Caddy) as written: `examples/nginx.conf` (only its ports are
//! changed) and `examples/caddy/Caddyfile` (addresses from its own
//! environment placeholders), in front of tessera (in-process, with
//! `[[rule]]` tables) and an upstream that echoes the head it received.
//! Checked through each gateway: allowed (with the X-Auth-* headers the
//! app gets), 401, 403 by rule, anonymous, the spoofs of issue 20, and
//! client copies of X-Auth-* stripped.
//!
//! A missing binary skips loudly, and fails when `CI` is set (`.ci/run`
//! installs both).

use std::path::PathBuf;
use std::process::Command;
use tessera_core::internal::nostr::{
    issue_nip98, issue_nwt, nip98_authorization, nwt_authorization, NostrSecretKey, NwtClaims,
};
use tessera_core::{Clock, SystemClock};
use tessera_server::config::Config;
use tessera_testkit::gateway::{echoed_header, find_binary, EchoUpstream, Process};
use tessera_testkit::http::http;
use tessera_testkit::inproc::{start, Server};
use tessera_testkit::{free_port, in_ci, loud_skip, TempDir};

fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// The binary, or None after a loud skip (a failure in CI).
fn binary(name: &str) -> Option<PathBuf> {
    let found = find_binary(name);
    if found.is_none() {
        let why = format!("{name} is not installed: SKIPPING the real-gateway test that needs it (apt-get install {name})");
        assert!(!in_ci(), "{why}");
        loud_skip(&why);
    }
    found
}

/// tessera behind a gateway of `kind` that clients call at `front`.
fn tessera(kind: &str, front: u16, admin: &NostrSecretKey) -> Server {
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
    start(None, move |c| {
        c.public_url = file.public_url;
        c.forward_auth = file.forward_auth;
        c.rule = file.rule;
    })
}

/// Replaces `from` (which must be there) with `to`.
fn set(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the example no longer has {from:?}");
    text.replace(from, to)
}

#[test]
fn nginx_runs_the_shipped_example() {
    let Some(nginx) = binary("nginx") else { return };
    let dir = TempDir::new("nginx");
    let front = free_port();
    let admin = NostrSecretKey::generate();
    let s = tessera("nginx", front, &admin);
    let app = EchoUpstream::start();
    let site = std::fs::read_to_string(repo_file("examples/nginx.conf")).expect("example");
    let site = set(
        site,
        "listen 443 ssl;",
        &format!("listen 127.0.0.1:{front};"),
    );
    let site = set(
        site,
        "server 127.0.0.1:8787;",
        &format!("server {};", s.addr),
    );
    let site = set(
        site,
        "server 127.0.0.1:3000;",
        &format!("server {};", app.addr),
    );
    let site_path = dir.write("site.conf", &site);
    let root = dir.root().display().to_string();
    let main = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n  fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n  include {site_path};\n}}\n"
    );
    let conf = dir.write("nginx.conf", &main);
    let mut cmd = Command::new(nginx);
    cmd.args(["-p", &root, "-e", &format!("{root}/error.log"), "-c", &conf]);
    let gw = Process::start(cmd, &dir.join("nginx.log"), front);
    check(&s, front, &admin, &|| gw.log_text());
}

#[test]
fn caddy_runs_the_shipped_example() {
    let Some(caddy) = binary("caddy") else { return };
    let dir = TempDir::new("caddy");
    let front = free_port();
    let admin = NostrSecretKey::generate();
    let s = tessera("caddy", front, &admin);
    let app = EchoUpstream::start();
    let mut cmd = Command::new(caddy);
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(repo_file("examples/caddy/Caddyfile"))
        .env("TESSERA_SITE", format!("http://127.0.0.1:{front}"))
        .env("TESSERA_ADDR", s.addr.to_string())
        .env("APP_ADDR", app.addr.to_string())
        .env("CADDY_ADMIN", format!("127.0.0.1:{}", free_port()))
        .env("HOME", dir.root())
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"));
    let gw = Process::start(cmd, &dir.join("caddy.log"), front);
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
