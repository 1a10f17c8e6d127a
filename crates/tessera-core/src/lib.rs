//! tessera-core: strict, I/O-free verification of the credentials an API
//! sees in its `Authorization` header.
//!
//! Verification is pure: bytes, keys and a [`Clock`] in; an [`Identity`] or
//! an [`Error`] with a stable [`ErrorCode`] out.
#![forbid(unsafe_code)]
// Library and binary code never unwraps; tests may (clippy.toml).
#![warn(clippy::unwrap_used)]
#![warn(missing_docs)]

pub mod cache;
pub mod clock;
pub mod credential;
pub mod encoding;
pub mod error;
pub mod ethereum;
mod heap;
pub mod identity;
pub mod json;
pub mod jws;
pub mod jwt;
pub mod keys;
mod memo;
pub mod nostr;
pub mod policy;
pub mod sha;
mod swar;
pub mod verifier;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{Error, ErrorCode, Result};
pub use identity::{ClaimSet, Format, Identity};
pub use jws::Algorithm;
pub use keys::{KeySet, SigningKey, VerifyingKey};
pub use policy::{Policy, TimeClaims};
pub use verifier::{FormatHint, Verifier};
