//! `/v1/verify` behind each gateway, with `[[rule]]` tables, over real
//! HTTP (the in-process server of `tessera_testkit::inproc`). Every case
//! shows the bad input and asserts the outcome: the spoofs of issue 20,
//! path-normalisation bypasses, 401/403 answers, anonymous and claim
//! rules, claim headers, and NIP-98 `payload` behind a gateway.
//!
//! The configuration is written as TOML, the way contracts.md specifies
//! it and outside users write it.

mod gateways;
mod payload;
mod rules;

use serde_json::Value;
use tessera_core::internal::nostr::{
    issue_nip98, issue_nwt, nip98_authorization, nwt_authorization, NostrSecretKey, NwtClaims,
};
use tessera_core::{Clock, SystemClock};
use tessera_server::config::Config;
use tessera_testkit::http::*;
use tessera_testkit::inproc::{start, Server};

/// A server configured with `toml` (its `[forward_auth]` and `[[rule]]`
/// tables; the listener, data and store stay the testkit's).
fn server(toml: &str) -> Server {
    let file: Config = toml::from_str(toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    start(None, move |c| {
        c.forward_auth = file.forward_auth;
        c.rule = file.rule;
    })
}

/// Traefik's (and Caddy's) headers for `method https://host uri`.
fn traefik<'a>(method: &'a str, host: &'a str, uri: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("X-Forwarded-Method", method),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", host),
        ("X-Forwarded-Uri", uri),
    ]
}

/// nginx's headers for `method url`.
fn nginx<'a>(method: &'a str, url: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("X-Original-URL", url), ("X-Original-Method", method)]
}

/// `GET /v1/verify` with `headers` plus `Authorization` when given.
fn verify(s: &Server, auth: Option<&str>, headers: &[(&str, &str)]) -> Resp {
    let mut h = headers.to_vec();
    if let Some(a) = auth {
        h.push(("Authorization", a));
    }
    http(s.addr, "GET", "/v1/verify", &h, b"")
}

/// A NIP-98 `Authorization` value for `method url` (no payload).
fn nip98(user: &NostrSecretKey, url: &str, method: &str) -> String {
    let event = issue_nip98(user, url, method, None, SystemClock.now()).expect("nip98");
    nip98_authorization(&event)
}

/// An NWT for `s` with application claims `custom`.
fn nwt(s: &Server, user: &NostrSecretKey, custom: &[(&str, &str)]) -> String {
    let claims = NwtClaims {
        aud: vec![s.url.clone()],
        ttl: Some(300),
        custom: custom
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..NwtClaims::default()
    };
    let event = issue_nwt(user, &claims, "", SystemClock.now()).expect("nwt");
    nwt_authorization(&event)
}

/// The JSON body, for messages.
fn body(r: &Resp) -> Value {
    r.json_or_null()
}
