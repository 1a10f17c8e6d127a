//! JSON Web Signature, compact serialization (RFC 7515).

mod alg;
pub mod compact;
pub mod secp;

pub(crate) use alg::truncate;
pub use alg::{Algorithm, Curve, KeyFamily};
pub use compact::{decode, decode_with, sign, Header, HeaderMemo, UnverifiedJws};
pub(crate) use compact::{decode_parts, verify_signature, Signature};
