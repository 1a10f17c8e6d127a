//! tessera-jwks against a real HTTP issuer on 127.0.0.1 (axum), never a
//! mock of the client: what it caches, refreshes and refetches is counted
//! on the server side, and every refusal asserts its error kind.

mod harness;

mod cache;
mod discovery;
mod refusals;
mod unknown_kid;
