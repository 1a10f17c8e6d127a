//! tessera-session: challenges, wallet logins, access/refresh pairs with
//! rotation and reuse detection, revocation and logout-all.
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]

pub mod revocation;
pub mod tokens;
