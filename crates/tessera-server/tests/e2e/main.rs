//! End-to-end over real HTTP, one file per scenario: the in-process
//! server of `tessera_testkit::inproc` (what `tessera serve` runs, on a free
//! port) driven by the testkit's HTTP client, on SQLite, PostgreSQL and
//! Redis (the latter two from `TESSERA_TEST_POSTGRES_URL` /
//! `TESSERA_TEST_REDIS_URL`; skipped loudly when unset, failing in CI).

mod admin;
mod bad_inputs;
mod cookies;
mod forward_auth;
mod health;
mod key_rotation;
mod logins;
mod oauth;
mod openapi;
mod portal_rest;
mod rate_limit;
mod refresh;
mod revocation;
mod siwe;

use serde_json::{json, Value};
use tessera_core::internal::ethereum::EthereumSecretKey;
use tessera_core::internal::nostr::{
    issue_nip98, issue_nwt, issue_portal, nip98_authorization, nwt_authorization, NostrSecretKey,
    NwtClaims,
};
use tessera_core::NostrPublicKey;
use tessera_core::{Clock, SystemClock};
use tessera_testkit::api::*;
use tessera_testkit::http::*;
use tessera_testkit::inproc::*;
use tessera_testkit::store::{Backend, Kind};

/// Every scenario that shares one server, on one store.
fn run_all(kind: Kind) {
    let backend = match kind {
        Kind::Sqlite => None,
        other => match Backend::new(other) {
            Some(b) => Some(b),
            None => return,
        },
    };
    let s = start(backend.as_ref().map(|b| b.url.clone()), |_| {});
    openapi::recording(&s);
    health::health_info_jwks(&s, kind);
    siwe::siwe_flow(&s);
    logins::nostr_and_portal_logins(&s);
    refresh::concurrent_refresh(&s);
    oauth::logout_all_revoke_introspect(&s);
    forward_auth::forward_auth(&s);
    cookies::cookies(&s);
    bad_inputs::bad_inputs(&s);
    portal_rest::portal_rest(&s);
    openapi::answers_match_the_document(&s, true);
    health::after_scenarios_metrics(&s);
}

#[test]
fn e2e_sqlite() {
    run_all(Kind::Sqlite);
}

#[test]
fn e2e_postgres() {
    run_all(Kind::Postgres);
}

#[test]
fn e2e_redis() {
    run_all(Kind::Redis);
}
