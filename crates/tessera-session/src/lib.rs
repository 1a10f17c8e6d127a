//! tessera-session: challenges, wallet logins, access/refresh pairs with
//! rotation and reuse detection, revocation and logout-all, over any
//! [`tessera_store::Store`].
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]
#![deny(missing_docs)]

pub mod browser;
pub mod error;
pub mod revocation;
pub mod sessions;
pub mod tokens;

pub use error::{SessionError, SessionErrorCode, SessionErrorKind};
pub use sessions::{Challenge, Revocation, SessionConfig, Sessions, TokenPair};
