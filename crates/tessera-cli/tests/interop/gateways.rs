//! Real clients through real gateways (issue 20 item 6): ethers + siwe and
//! nostr-tools (node/gateway-clients.mjs) log in to the real `tessera
//! serve` through Debian's nginx and Caddy running the shipped examples
//! (examples/nginx.conf, examples/caddy/Caddyfile; `tessera_testkit::
//! gateway`), then call an app behind the gateway that echoes the request
//! head it received: allowed (with tessera's X-Auth-* headers only), 401,
//! 403 by rule, the spoofs of issue 20 refused, NIP-98 with and without a
//! body (a `payload` tag refused by default, accepted on the rule that
//! says `nip98_payload_without_body = "accept_unchecked"`). Each gateway
//! on SQLite and on PostgreSQL (NIP-98 replay is refused through the
//! store).

use super::*;
use tessera_core::internal::nostr::NostrSecretKey;
use tessera_testkit::gateway::{
    caddy_example, echoed_header, gateway_binary, nginx_example, EchoUpstream,
};
use tessera_testkit::serve::Tessera;
use tessera_testkit::store::{Backend, Kind};
use tessera_testkit::{free_port, tessera_bin};

/// tessera's configuration behind a gateway of `kind` at `front`.
fn config(kind: &str, front: u16, admin: &str) -> String {
    format!(
        r#"public_url = "http://127.0.0.1:{front}"

[forward_auth]
gateway = "{kind}"

[[rule]]
path = "/public/*"
anonymous = true

[[rule]]
path = "/admin/*"
allow = ["tessera", "nostr"]
subjects = ["{admin}"]

[[rule]]
path = "/upload"
methods = ["POST"]
allow = ["nostr"]
nip98_payload_without_body = "accept_unchecked"

[[rule]]
path = "/*"
allow = ["tessera", "nostr"]
"#
    )
}

/// The case `name` of the script's output.
fn case<'a>(out: &'a Value, name: &str) -> &'a Value {
    &out["cases"][name]
}

/// `Ok` when case `name` answered `status`.
fn status(out: &Value, name: &str, want: u16) -> Result<(), String> {
    let c = case(out, name);
    if c["status"] == json!(want) {
        Ok(())
    } else {
        Err(format!("expected {want}, got {c}"))
    }
}

/// `Ok` when case `name` reached the app, which saw exactly `want` as its
/// X-Auth-* headers (name, value) and no other X-Auth-* header.
fn reached_app_with(out: &Value, name: &str, want: &[(&str, &str)]) -> Result<(), String> {
    status(out, name, 200)?;
    let head = case(out, name)["body"].as_str().unwrap_or_default();
    for (h, v) in want {
        let got = echoed_header(head, h);
        if got != [*v] {
            return Err(format!(
                "the app saw {h}: {got:?}, expected [{v:?}]:\n{head}"
            ));
        }
    }
    let extra: Vec<&str> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.trim()))
        .filter(|k| k.to_ascii_lowercase().starts_with("x-auth-"))
        .filter(|k| !want.iter().any(|(h, _)| h.eq_ignore_ascii_case(k)))
        .collect();
    if extra.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the app saw other X-Auth-* headers {extra:?}:\n{head}"
        ))
    }
}

/// The script's cases through `kind` (nginx or caddy) on `store`.
fn through(node: &Peer, kind: &str, store: Option<&str>, tally: &mut Tally) {
    let dir = TempDir::new(&format!("gw-clients-{kind}"));
    let front = free_port();
    let admin = NostrSecretKey::generate();
    let admin_hex = admin.public_key().to_hex();
    let cfg = dir.write("tessera.toml", &config(kind, front, &admin_hex));
    let server =
        Tessera::start_with_args(tessera_bin!(), dir.root(), store, &[], &["--config", &cfg]);
    let app = EchoUpstream::start();
    let gw_dir = TempDir::new(&format!("gw-{kind}"));
    let gw = match kind {
        "nginx" => nginx_example(&gw_dir, front, server.addr, app.addr),
        _ => caddy_example(&gw_dir, front, server.addr, app.addr),
    };
    let Some(gw) = gw else { return };
    let base = format!("http://127.0.0.1:{front}");
    let out = node.run(
        "gateway-clients.mjs",
        &["--base", &base, "--admin-secret", &admin.to_hex()],
    );
    let label = format!(
        "{kind}/{}",
        if store.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    let mut check = |what: &str, r: Result<(), String>| {
        tally.check(&format!("{label}: {what}"), r);
    };
    let siwe = s(&out["subjects"], "siwe").to_owned();
    let nostr = s(&out["subjects"], "nostr").to_owned();
    check(
        "ethers + siwe log in through the gateway",
        status(&out, "siwe_challenge", 200).and(status(&out, "siwe_login", 200)),
    );
    check(
        "the SIWE access token reaches the app, which gets tessera's headers",
        reached_app_with(
            &out,
            "siwe_allowed",
            &[
                ("x-auth-subject", siwe.as_str()),
                ("x-auth-method", "access_token"),
                ("x-auth-issuer", "tessera"),
            ],
        ),
    );
    check(
        "client copies of X-Auth-* never reach the app",
        reached_app_with(
            &out,
            "siwe_forged_headers",
            &[
                ("x-auth-subject", siwe.as_str()),
                ("x-auth-method", "access_token"),
                ("x-auth-issuer", "tessera"),
            ],
        ),
    );
    check(
        "anonymous rule: the app, without X-Auth-* (a forged one stripped)",
        reached_app_with(&out, "public_anonymous", &[]),
    );
    check(
        "403 by rule: /admin/* names another subject",
        status(&out, "siwe_admin_forbidden", 403).and(status(&out, "nip98_admin_forbidden", 403)),
    );
    let unauthorized = |name: &str| {
        status(&out, name, 401).and({
            let www = &case(&out, name)["www_authenticate"];
            // nginx's auth_request answers 401 itself, without tessera's
            // header; Caddy copies tessera's answer.
            if kind == "nginx" || www.as_str().is_some_and(|w| w.starts_with("Bearer")) {
                Ok(())
            } else {
                Err(format!("no WWW-Authenticate: {}", case(&out, name)))
            }
        })
    };
    check("401 without a credential", unauthorized("no_credential"));
    check("401 with a tampered token", unauthorized("bad_token"));
    check(
        "nostr-tools NIP-98 login through the gateway; the admin's token passes /admin/*",
        status(&out, "nip98_login", 200).and(reached_app_with(
            &out,
            "admin_allowed",
            &[
                ("x-auth-subject", admin_hex.as_str()),
                ("x-auth-method", "access_token"),
                ("x-auth-issuer", "tessera"),
            ],
        )),
    );
    check(
        "NIP-98 GET (no body) reaches the app as the signer",
        reached_app_with(
            &out,
            "nip98_get",
            &[
                ("x-auth-subject", nostr.as_str()),
                ("x-auth-method", "nip98"),
                ("x-auth-issuer", "nostr"),
            ],
        ),
    );
    check(
        "the same NIP-98 event again is refused (replay, through the store)",
        status(&out, "nip98_replayed", 401),
    );
    check(
        "NIP-98 POST with a body and no payload tag passes",
        reached_app_with(
            &out,
            "nip98_post_without_payload_tag",
            &[
                ("x-auth-subject", nostr.as_str()),
                ("x-auth-method", "nip98"),
                ("x-auth-issuer", "nostr"),
            ],
        ),
    );
    check(
        "NIP-98 payload tag, body not forwarded: refused by default",
        status(&out, "nip98_post_payload_default", 401),
    );
    check(
        "NIP-98 payload tag on the accept_unchecked rule: passes",
        reached_app_with(
            &out,
            "nip98_post_payload_unchecked",
            &[
                ("x-auth-subject", nostr.as_str()),
                ("x-auth-method", "nip98"),
                ("x-auth-issuer", "nostr"),
            ],
        ),
    );
    check(
        "accept_unchecked still binds the URL",
        status(&out, "nip98_unchecked_other_url", 401),
    );
    check(
        "spoof: GET-signed event sent as DELETE with X-Forwarded-Method/X-Original-Method: GET",
        status(&out, "spoof_method", 401),
    );
    check(
        "spoof: event for evil.example with client X-Original-URL/X-Forwarded-Host",
        status(&out, "spoof_url", 401),
    );
    if tally.failures.iter().any(|f| f.starts_with(&label)) {
        loud(&format!(
            "{label}: tessera log:\n{}\ngateway log:\n{}",
            server.log_tail(),
            gw.log_text()
        ));
    }
}

fn run(kind: &str) {
    let Some(node) = Peer::node() else { return };
    if gateway_binary(kind).is_none() {
        return;
    }
    let mut tally = Tally::new(&format!(
        "ethers+siwe / nostr-tools -> {kind} (shipped example) -> tessera serve"
    ));
    through(&node, kind, None, &mut tally);
    if let Some(pg) = Backend::new(Kind::Postgres) {
        through(&node, kind, Some(&pg.url), &mut tally);
    }
    tally.finish();
}

#[test]
fn real_clients_through_nginx() {
    run("nginx");
}

#[test]
fn real_clients_through_caddy() {
    run("caddy");
}
