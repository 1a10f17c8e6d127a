//! Keys, each pinned to exactly one algorithm.
//!
//! A [`VerifyingKey`] knows its one [`Algorithm`]; there is no "verify with
//! whatever the header says". An HMAC key is only ever built from secret
//! bytes (a `secret:` file or a JWK of `kty: oct`), never from public key
//! material, which closes the RS256→HS256 confusion by construction.

mod containers;
mod ed25519_checks;
mod jwk;
mod pem;
mod rsa_checks;
mod signing;

pub use jwk::{JwkUse, KeySet, MAX_CANDIDATES};
pub use pem::{parse_pem, to_pem, PemBlock};
pub use signing::SigningKey;

use crate::error::{Error, ErrorCode, Result};
use crate::jws::{secp, Algorithm, Curve, KeyFamily};
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
use containers::oid;

pub(crate) fn key_error(msg: impl Into<String>) -> Error {
    Error::with_message(ErrorCode::Malformed, msg)
}

/// The verification material behind a key.
#[derive(Clone)]
pub(crate) enum Material {
    Hmac(Box<hmac::Key>),
    Parsed(ParsedPublicKey),
    Secp256k1(secp256k1::PublicKey),
}

/// Public components, kept for JWK export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PublicParts {
    Secret,
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ec {
        curve: Curve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Ed25519 {
        x: [u8; 32],
    },
}

/// A key that verifies signatures of exactly one algorithm.
#[derive(Clone)]
pub struct VerifyingKey {
    alg: Algorithm,
    kid: Option<String>,
    material: Material,
    parts: PublicParts,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secret material.
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Minimum HMAC key length: the hash output size (RFC 7518 §3.2).
pub(crate) fn hmac_min_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

fn hmac_alg(alg: Algorithm) -> hmac::Algorithm {
    match alg {
        Algorithm::HS384 => hmac::HMAC_SHA384,
        Algorithm::HS512 => hmac::HMAC_SHA512,
        _ => hmac::HMAC_SHA256,
    }
}

pub(crate) fn rsa_params(alg: Algorithm) -> Option<&'static sig::RsaParameters> {
    Some(match alg {
        Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

pub(crate) fn ecdsa_verify_alg(curve: Curve) -> &'static sig::EcdsaVerificationAlgorithm {
    match curve {
        Curve::P256 => &sig::ECDSA_P256_SHA256_FIXED,
        Curve::P384 => &sig::ECDSA_P384_SHA384_FIXED,
        Curve::P521 => &sig::ECDSA_P521_SHA512_FIXED,
        Curve::Secp256k1 => &sig::ECDSA_P256K1_SHA256_FIXED,
    }
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let skip = b.iter().take_while(|&&x| x == 0).count();
    &b[skip..]
}

impl VerifyingKey {
    /// An HMAC key from secret bytes. The algorithm must be HS256/384/512 and
    /// the secret at least as long as the hash output (RFC 7518 §3.2).
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self> {
        if !alg.is_hmac() {
            return Err(Error::with_message(
                ErrorCode::AlgorithmNotAllowed,
                format!("{alg} is not an HMAC algorithm; an HMAC secret can only be used with HS256/HS384/HS512"),
            ));
        }
        let min = hmac_min_len(alg);
        if secret.len() < min {
            return Err(key_error(format!(
                "{alg} needs a secret of at least {min} bytes (RFC 7518 §3.2), got {}",
                secret.len()
            )));
        }
        Ok(VerifyingKey {
            alg,
            kid: None,
            material: Material::Hmac(Box::new(hmac::Key::new(hmac_alg(alg), secret))),
            parts: PublicParts::Secret,
        })
    }

    /// An RSA public key from its modulus and exponent (big-endian). The
    /// exponent must be 65537 (F4), what every current key generator
    /// writes; [`VerifyingKey::rsa_with_unusual_exponent`] opts in to others.
    pub fn rsa(alg: Algorithm, n: &[u8], e: &[u8]) -> Result<Self> {
        Self::rsa_checked(alg, n, e, rsa_checks::Exponent::F4Only)
    }

    /// As [`VerifyingKey::rsa`], also accepting a public exponent other than
    /// 65537 (still odd, greater than 1, at most 64 bits): an explicit
    /// opt-in for legacy keys (e = 3, ...), which no key loader of this
    /// crate uses on its own.
    pub fn rsa_with_unusual_exponent(alg: Algorithm, n: &[u8], e: &[u8]) -> Result<Self> {
        Self::rsa_checked(alg, n, e, rsa_checks::Exponent::AnyOdd)
    }

    fn rsa_checked(
        alg: Algorithm,
        n: &[u8],
        e: &[u8],
        exponent: rsa_checks::Exponent,
    ) -> Result<Self> {
        let params = rsa_params(alg).ok_or_else(|| mismatch(alg, "an RSA key"))?;
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        rsa_checks::check_public(n, e, exponent)?;
        let parsed = RsaPublicKeyComponents { n, e }
            .to_parsed_public_key(params)
            .map_err(|_| key_error("invalid RSA public key"))?;
        Ok(VerifyingKey {
            alg,
            kid: None,
            material: Material::Parsed(parsed),
            parts: PublicParts::Rsa {
                n: n.to_vec(),
                e: e.to_vec(),
            },
        })
    }

    /// An elliptic-curve public key from its affine coordinates.
    pub fn ec(alg: Algorithm, curve: Curve, x: &[u8], y: &[u8]) -> Result<Self> {
        if alg.key_family() != KeyFamily::Ec(curve) {
            return Err(mismatch(alg, &format!("a {} key", curve.name())));
        }
        let len = curve.coordinate_len();
        if x.len() != len || y.len() != len {
            return Err(key_error(format!(
                "{} coordinates must be {len} bytes",
                curve.name()
            )));
        }
        let mut point = Vec::with_capacity(1 + 2 * len);
        point.push(4);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        Self::ec_point(alg, curve, &point)
    }

    /// An elliptic-curve public key from an SEC1 point (uncompressed or compressed).
    pub fn ec_point(alg: Algorithm, curve: Curve, point: &[u8]) -> Result<Self> {
        if alg.key_family() != KeyFamily::Ec(curve) {
            return Err(mismatch(alg, &format!("a {} key", curve.name())));
        }
        let (material, uncompressed) = if curve == Curve::Secp256k1 {
            let pk = secp256k1::PublicKey::from_slice(point)
                .map_err(|_| key_error("invalid secp256k1 point"))?;
            (
                Material::Secp256k1(pk),
                pk.serialize_uncompressed().to_vec(),
            )
        } else {
            if point.first() != Some(&4) {
                return Err(key_error("only uncompressed EC points are supported"));
            }
            let parsed = ParsedPublicKey::new(ecdsa_verify_alg(curve), point)
                .map_err(|_| key_error(format!("invalid {} point", curve.name())))?;
            (Material::Parsed(parsed), point.to_vec())
        };
        let len = curve.coordinate_len();
        if uncompressed.len() != 1 + 2 * len {
            return Err(key_error("invalid EC point length"));
        }
        Ok(VerifyingKey {
            alg,
            kid: None,
            material,
            parts: PublicParts::Ec {
                curve,
                x: uncompressed[1..1 + len].to_vec(),
                y: uncompressed[1 + len..].to_vec(),
            },
        })
    }

    /// A secp256k1 key for ES256K.
    pub fn secp256k1(key: secp256k1::PublicKey) -> Self {
        let u = key.serialize_uncompressed();
        VerifyingKey {
            alg: Algorithm::ES256K,
            kid: None,
            material: Material::Secp256k1(key),
            parts: PublicParts::Ec {
                curve: Curve::Secp256k1,
                x: u[1..33].to_vec(),
                y: u[33..].to_vec(),
            },
        }
    }

    /// An Ed25519 public key (32 bytes) for EdDSA. Refuses encodings that
    /// are not a point of the curve, non-canonical encodings (RFC 8032
    /// §5.1.3: y < p, and no "negative zero" x), and points of small order:
    /// with such a key the signature R = identity, S = 0 verifies any
    /// message.
    pub fn ed25519(x: &[u8]) -> Result<Self> {
        let x: [u8; 32] = x
            .try_into()
            .map_err(|_| key_error("Ed25519 public keys are 32 bytes"))?;
        ed25519_checks::check_public(&x)?;
        let parsed = ParsedPublicKey::new(&sig::ED25519, x)
            .map_err(|_| key_error("invalid Ed25519 public key"))?;
        Ok(VerifyingKey {
            alg: Algorithm::EdDSA,
            kid: None,
            material: Material::Parsed(parsed),
            parts: PublicParts::Ed25519 { x },
        })
    }

    /// A key from a DER SubjectPublicKeyInfo, pinned to `alg`.
    pub fn from_spki_der(der_bytes: &[u8], alg: Algorithm) -> Result<Self> {
        let spki = containers::spki(der_bytes)?;
        match spki.alg.algorithm {
            a if a == oid::RSA_ENCRYPTION || a == oid::RSASSA_PSS => {
                let (n, e) = containers::rsa_public(spki.key)?;
                Self::rsa(alg, n, e)
            }
            a if a == oid::EC_PUBLIC_KEY => {
                let curve = curve_from_oid(spki.alg.curve)?;
                Self::ec_point(alg, curve, spki.key)
            }
            a if a == oid::ED25519 => {
                if alg != Algorithm::EdDSA {
                    return Err(mismatch(alg, "an Ed25519 key"));
                }
                Self::ed25519(spki.key)
            }
            _ => Err(key_error(
                "unsupported public key type in SubjectPublicKeyInfo",
            )),
        }
    }

    /// The algorithm a DER SubjectPublicKeyInfo implies when it implies exactly
    /// one (EC curves, Ed25519); `None` for RSA, which needs to be told.
    pub fn implied_algorithm(spki_der: &[u8]) -> Result<Option<Algorithm>> {
        let spki = containers::spki(spki_der)?;
        Ok(match spki.alg.algorithm {
            a if a == oid::EC_PUBLIC_KEY => Some(curve_from_oid(spki.alg.curve)?.algorithm()),
            a if a == oid::ED25519 => Some(Algorithm::EdDSA),
            _ => None,
        })
    }

    /// Public keys from PEM text: `PUBLIC KEY` (SPKI), `RSA PUBLIC KEY`
    /// (PKCS#1), `CERTIFICATE` (its SPKI), or a private key (its public half).
    /// `alg` pins the key; it may be `None` only when the key type implies one
    /// algorithm (EC, Ed25519).
    pub fn from_pem(text: &str, alg: Option<Algorithm>) -> Result<Self> {
        let blocks = pem::parse_pem(text)?;
        let block = &blocks[0];
        let spki_der = match block.label.as_str() {
            "PUBLIC KEY" => block.der.clone(),
            "CERTIFICATE" => containers::certificate_spki(&block.der)?.to_vec(),
            "RSA PUBLIC KEY" => {
                let (n, e) = containers::rsa_public(&block.der)?;
                let alg = alg.ok_or_else(|| needs_alg("an RSA key"))?;
                return Self::rsa(alg, n, e);
            }
            "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY" => {
                return SigningKey::from_pem(text, alg).and_then(|k| k.verifying_key());
            }
            other => {
                return Err(key_error(format!("unsupported PEM block {other:?}")));
            }
        };
        let alg = match (alg, Self::implied_algorithm(&spki_der)?) {
            (Some(a), _) => a,
            (None, Some(a)) => a,
            (None, None) => return Err(needs_alg("an RSA key")),
        };
        Self::from_spki_der(&spki_der, alg)
    }

    /// Sets the key id (a selector only, never a key source).
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether this is a symmetric (HMAC) key.
    pub fn is_secret(&self) -> bool {
        matches!(self.material, Material::Hmac(_))
    }

    /// Verifies `signature` over `message` with this key's algorithm.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        let ok = match &self.material {
            Material::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            Material::Parsed(key) => key.verify_sig(message, signature).is_ok(),
            Material::Secp256k1(key) => return secp::es256k_verify(key, message, signature),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::BadSignature,
                "signature does not verify",
            ))
        }
    }

    /// The public JWK of this key (`None` for HMAC secrets, which are never published).
    pub fn to_public_jwk(&self) -> Option<crate::json::Object> {
        jwk::public_jwk(self.alg, self.kid.as_deref(), &self.parts)
    }

    /// A stable fingerprint of the public key (RFC 7638 JWK thumbprint,
    /// base64url); `None` for HMAC secrets.
    pub fn thumbprint(&self) -> Option<String> {
        jwk::thumbprint(&self.parts)
    }
}

/// The curve of an OID given as its DER content bytes (compared as bytes,
/// so an unknown or ill-formed OID is simply not a supported curve).
pub(crate) fn curve_from_oid(content: Option<&[u8]>) -> Result<Curve> {
    [Curve::P256, Curve::P384, Curve::P521, Curve::Secp256k1]
        .into_iter()
        .find(|&c| content == Some(curve_oid(c).as_bytes()))
        .ok_or_else(|| key_error("unsupported or missing elliptic curve"))
}

pub(crate) fn curve_oid(curve: Curve) -> der::asn1::ObjectIdentifier {
    match curve {
        Curve::P256 => oid::P256,
        Curve::P384 => oid::P384,
        Curve::P521 => oid::P521,
        Curve::Secp256k1 => oid::SECP256K1,
    }
}

pub(crate) fn mismatch(alg: Algorithm, what: &str) -> Error {
    Error::with_message(
        ErrorCode::AlgorithmNotAllowed,
        format!("{alg} cannot be used with {what}"),
    )
}

pub(crate) fn needs_alg(what: &str) -> Error {
    Error::with_message(
        ErrorCode::UnsupportedAlgorithm,
        format!("{what} can serve several algorithms; name one (JWK `alg`, or --alg)"),
    )
}
