//! tessera-server: the HTTP API of contracts.md.
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]

pub mod app;
pub mod assertion;
pub(crate) mod bodies;
pub mod config;
pub mod error;
mod ext_authz;
pub mod extract;
pub mod forward_auth;
pub mod gateway;
pub mod issuers;
pub mod key_reload;
pub mod keys;
pub mod listen;
pub mod metrics;
pub mod openapi;
pub mod proxies;
pub mod ratelimit;
pub mod routes;
pub mod serve;
pub mod single_instance;
