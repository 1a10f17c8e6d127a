//! JWS algorithms (RFC 7518 §3, RFC 8812 for ES256K, RFC 8037 for EdDSA).

use crate::error::{Error, ErrorCode, Result};
use std::fmt;
use std::str::FromStr;

/// A signature algorithm tessera implements. `none` is not one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// ECDSA P-521 with SHA-512.
    ES512,
    /// ECDSA secp256k1 with SHA-256 (RFC 8812), either S in a standard JWT.
    ES256K,
    /// EdDSA with Ed25519.
    EdDSA,
    /// BIP-340 Schnorr over secp256k1: the signature of a Nostr event (NWT,
    /// NIP-98). Not a JOSE algorithm: no header selects it.
    Bip340,
    /// EIP-191 `personal_sign` (recoverable ECDSA over secp256k1): SIWE and
    /// thirdweb tokens. Not a JOSE algorithm: no header selects it.
    Eip191,
}

impl Algorithm {
    /// Every JOSE algorithm, in a stable order (the wallet schemes
    /// [`Algorithm::Bip340`] and [`Algorithm::Eip191`] are not among them).
    pub const ALL: [Algorithm; 14] = [
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::ES256K,
        Algorithm::EdDSA,
    ];

    /// The JOSE name.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::ES256K => "ES256K",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::Bip340 => "BIP340",
            Algorithm::Eip191 => "EIP191",
        }
    }

    /// Looks a JOSE name up exactly (case-sensitive, RFC 7515 §4.1.1).
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Parses a header `alg` value: `none` in any case and unknown names are
    /// `unsupported_algorithm`.
    pub fn from_header(name: &str) -> Result<Algorithm> {
        if name.eq_ignore_ascii_case("none") {
            return Err(Error::new(
                ErrorCode::UnsupportedAlgorithm,
                "unsigned tokens (alg `none`) are never accepted",
            ));
        }
        Algorithm::from_name(name).ok_or_else(|| {
            Error::with_message(
                ErrorCode::UnsupportedAlgorithm,
                format!("algorithm {:?} is not supported", truncate(name, 32)),
            )
        })
    }

    /// Whether this is an HMAC algorithm.
    pub const fn is_hmac(self) -> bool {
        matches!(self, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
    }

    /// The kind of key the algorithm needs.
    pub const fn key_family(self) -> KeyFamily {
        match self {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => KeyFamily::Oct,
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyFamily::Rsa,
            Algorithm::ES256 => KeyFamily::Ec(Curve::P256),
            Algorithm::ES384 => KeyFamily::Ec(Curve::P384),
            Algorithm::ES512 => KeyFamily::Ec(Curve::P521),
            Algorithm::ES256K => KeyFamily::Ec(Curve::Secp256k1),
            Algorithm::EdDSA => KeyFamily::Okp,
            Algorithm::Bip340 | Algorithm::Eip191 => KeyFamily::Wallet,
        }
    }
}

/// Elliptic curves used by ECDSA algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256
    P256,
    /// NIST P-384
    P384,
    /// NIST P-521
    P521,
    /// secp256k1
    Secp256k1,
}

impl Curve {
    /// The JWK `crv` name.
    pub const fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
            Curve::Secp256k1 => "secp256k1",
        }
    }

    /// Size of one coordinate (and of `r`/`s`) in bytes.
    pub const fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 | Curve::Secp256k1 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// The ECDSA algorithm of this curve.
    pub const fn algorithm(self) -> Algorithm {
        match self {
            Curve::P256 => Algorithm::ES256,
            Curve::P384 => Algorithm::ES384,
            Curve::P521 => Algorithm::ES512,
            Curve::Secp256k1 => Algorithm::ES256K,
        }
    }
}

/// The kind of key an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyFamily {
    /// A symmetric secret.
    Oct,
    /// An RSA key.
    Rsa,
    /// An elliptic-curve key on one curve.
    Ec(Curve),
    /// An Ed25519 key.
    Okp,
    /// A wallet key (BIP-340, EIP-191), verified by its own format: no JOSE
    /// key has this family, so no JWT key is built for it.
    Wallet,
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Algorithm::from_header(s)
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_is_refused_in_any_case() {
        for none in ["none", "None", "NONE", "nOnE"] {
            assert_eq!(
                Algorithm::from_header(none).unwrap_err().code(),
                ErrorCode::UnsupportedAlgorithm
            );
        }
    }

    #[test]
    fn names_are_case_sensitive() {
        assert_eq!(Algorithm::from_header("HS256").unwrap(), Algorithm::HS256);
        assert_eq!(
            Algorithm::from_header("hs256").unwrap_err().code(),
            ErrorCode::UnsupportedAlgorithm
        );
        assert_eq!(Algorithm::from_header("ES256K").unwrap(), Algorithm::ES256K);
    }
}
