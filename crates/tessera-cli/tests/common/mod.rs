//! Helpers shared by the interop suites (interop.rs: the first peers, both
//! directions; interop_issuers.rs: mainstream issuers as peers). Each test
//! crate uses a part of them.
#![allow(dead_code)]

pub mod harness;
pub mod jwt;
pub mod jwt_peer;
pub mod wallet;
