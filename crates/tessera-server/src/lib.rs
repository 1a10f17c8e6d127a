//! tessera-server: the HTTP API of contracts.md, which `tessera serve`
//! runs: logins and token pairs over tessera-session, forward-auth for
//! gateways, trusted issuers, OpenAPI and metrics.
//!
//! The way in is [`serve::serve`] with a [`config::Config`] (or
//! [`serve::build_state`] and [`serve::run`] to pick the listener, as the
//! tests do). [`gateway`] is the pure forward-auth decision that
//! `tessera rules` also uses; handlers, extractors, metrics and the rate
//! limiter stay inside the crate.
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]
#![deny(missing_docs)]

pub mod app;
pub(crate) mod assertion;
pub(crate) mod bodies;
pub mod config;
pub(crate) mod error;
mod ext_authz;
pub(crate) mod extract;
pub(crate) mod extractors;
pub(crate) mod forward_auth;
pub mod gateway;
pub mod issuers;
pub(crate) mod key_reload;
pub mod keys;
pub mod listen;
pub(crate) mod metrics;
pub mod openapi;
pub(crate) mod proxies;
pub(crate) mod ratelimit;
pub(crate) mod routes;
pub mod serve;
pub(crate) mod single_instance;
