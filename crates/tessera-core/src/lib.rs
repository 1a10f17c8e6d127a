//! tessera-core: strict, I/O-free verification of the credentials an API
//! sees in its `Authorization` header.
//!
//! Verification is pure: bytes, keys and a [`Clock`] in; an [`Identity`] or
//! an [`Error`] with a stable [`ErrorCode`] out.
#![forbid(unsafe_code)]
// Library and binary code never unwraps; tests may (clippy.toml).
#![warn(clippy::unwrap_used)]
#![deny(missing_docs)]

mod cache;
mod clock;
mod credential;
mod encoding;
mod error;
mod ethereum;
mod heap;
mod identity;
mod json;
mod jws;
pub mod jwt;
mod keys;
mod memo;
mod nostr;
mod policy;
mod sha;
mod swar;
mod verifier;

pub use cache::CacheConfig;
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{Error, ErrorCode, Result};
pub use ethereum::Address;
pub use identity::{ClaimSet, Format, Identity};
pub use json::{Number, Object, Value};
pub use jws::Algorithm;
pub use keys::{KeySet, SigningKey, VerifyingKey};
pub use nostr::{HttpRequest, Nip98Options, NostrPublicKey};
pub use policy::Policy;
pub use verifier::{FormatHint, Verifier};

// The README's library snippet is a doctest: it compiles and runs in
// `cargo test` (the README's other blocks are `sh` or `text`).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctest;

/// Internals for tessera's own fuzz targets, benchmarks, tests and sibling
/// crates. Not part of the public API: anything here may change or go away
/// in any release.
#[doc(hidden)]
pub mod internal {
    /// The verified-credential cache.
    pub mod cache {
        pub use crate::cache::*;
    }
    /// `Authorization` header parsing.
    pub mod credential {
        pub use crate::credential::*;
    }
    /// Base64 and hex.
    pub mod encoding {
        pub use crate::encoding::*;
    }
    /// Ethereum credentials: addresses, EIP-191, SIWE, thirdweb.
    pub mod ethereum {
        pub use crate::ethereum::*;
    }
    /// The strict JSON reader and writer.
    pub mod json {
        pub use crate::json::*;
    }
    /// JWS compact serialisation and algorithms.
    pub mod jws {
        pub use crate::jws::*;
    }
    /// JWT internals beyond [`crate::jwt::verify`] and [`crate::jwt::sign`].
    pub mod jwt {
        pub use crate::jwt::Claims;
    }
    /// Key parsing helpers.
    pub mod keys {
        pub use crate::keys::*;
    }
    /// Nostr credentials: events, NWT, NIP-98, Portal.
    pub mod nostr {
        pub use crate::nostr::*;
    }
    /// Time rules and limits.
    pub mod policy {
        pub use crate::policy::*;
    }
    /// Hashes and the constant-time compare.
    pub mod sha {
        pub use crate::sha::*;
    }
}
