//! Ethereum wallet credentials: EIP-55 addresses, EIP-191 `personal_sign`,
//! Sign-In with Ethereum (EIP-4361) and thirdweb-format wallet JWTs.

pub mod address;
pub mod eip191;
pub mod keys;
pub mod rfc3339;
pub mod siwe;
pub mod thirdweb;
pub(crate) mod uri;

pub use address::Address;
pub use keys::EthereumSecretKey;
pub use rfc3339::Rfc3339Time;
pub use siwe::{verify_siwe_message, SiweBuilder, SiweExpectations, SiweMessage};
pub use thirdweb::{issue_thirdweb, verify_thirdweb, ThirdwebClaims, ThirdwebPayload};
