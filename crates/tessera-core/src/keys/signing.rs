//! Private keys that sign with exactly one algorithm.

use super::containers::{self, oid};
use super::jwk::{check_common, member_b64, member_str, parse_curve};
use super::{
    curve_from_oid, curve_oid, key_error, mismatch, needs_alg, pem, rsa_checks, VerifyingKey,
};
use crate::encoding::b64url_encode;
use crate::error::{Error, ErrorCode, Result};
use crate::json::{self, Object};
use crate::jws::{secp, Algorithm, Curve, KeyFamily};
use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use aws_lc_rs::{hmac, rsa::KeySize};

enum Signer {
    Hmac {
        key: Box<hmac::Key>,
        secret: Vec<u8>,
    },
    Rsa(Box<RsaKeyPair>),
    Ecdsa(Box<EcdsaKeyPair>, Curve),
    Ed25519(Box<Ed25519KeyPair>),
    Secp256k1(secp256k1::SecretKey),
}

/// A private key pinned to one algorithm.
pub struct SigningKey {
    alg: Algorithm,
    kid: Option<String>,
    signer: Signer,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn ecdsa_signing_alg(curve: Curve) -> &'static sig::EcdsaSigningAlgorithm {
    match curve {
        Curve::P256 => &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
        Curve::P384 => &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
        _ => &sig::ECDSA_P521_SHA512_FIXED_SIGNING,
    }
}

fn rsa_encoding(alg: Algorithm) -> &'static dyn sig::RsaEncoding {
    match alg {
        Algorithm::RS256 => &sig::RSA_PKCS1_SHA256,
        Algorithm::RS384 => &sig::RSA_PKCS1_SHA384,
        Algorithm::RS512 => &sig::RSA_PKCS1_SHA512,
        Algorithm::PS256 => &sig::RSA_PSS_SHA256,
        Algorithm::PS384 => &sig::RSA_PSS_SHA384,
        _ => &sig::RSA_PSS_SHA512,
    }
}

fn rejected<E>(what: &'static str) -> impl FnOnce(E) -> Error {
    move |_| key_error(what)
}

impl SigningKey {
    /// Generates a fresh key for `alg` (HMAC: a random secret of the hash
    /// size; RSA: 2048 bits).
    pub fn generate(alg: Algorithm) -> Result<Self> {
        let signer = match alg.key_family() {
            KeyFamily::Oct => {
                let mut secret = vec![0u8; super::hmac_min_len(alg)];
                SystemRandom::new()
                    .fill(&mut secret)
                    .map_err(rejected("random generator failed"))?;
                return Self::hmac(alg, &secret);
            }
            KeyFamily::Rsa => Signer::Rsa(Box::new(
                RsaKeyPair::generate(KeySize::Rsa2048)
                    .map_err(rejected("RSA key generation failed"))?,
            )),
            KeyFamily::Ec(Curve::Secp256k1) => {
                Signer::Secp256k1(secp256k1::SecretKey::new(&mut secp256k1::rand::rng()))
            }
            KeyFamily::Ec(curve) => Signer::Ecdsa(
                Box::new(
                    EcdsaKeyPair::generate(ecdsa_signing_alg(curve))
                        .map_err(rejected("EC key generation failed"))?,
                ),
                curve,
            ),
            KeyFamily::Okp => Signer::Ed25519(Box::new(
                Ed25519KeyPair::generate().map_err(rejected("Ed25519 key generation failed"))?,
            )),
            KeyFamily::Wallet => {
                return Err(Error::with_message(
                    ErrorCode::UnsupportedAlgorithm,
                    format!("{alg} is a wallet signature, not a JOSE algorithm"),
                ))
            }
        };
        Ok(SigningKey {
            alg,
            kid: None,
            signer,
        })
    }

    /// An HMAC signing key from secret bytes.
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self> {
        // The verifying constructor holds the length and algorithm rules.
        VerifyingKey::hmac(alg, secret)?;
        Ok(SigningKey {
            alg,
            kid: None,
            signer: Signer::Hmac {
                key: Box::new(hmac::Key::new(super::hmac_alg(alg), secret)),
                secret: secret.to_vec(),
            },
        })
    }

    /// An ES256K signing key from a secp256k1 secret.
    pub fn secp256k1(secret: secp256k1::SecretKey) -> Self {
        SigningKey {
            alg: Algorithm::ES256K,
            kid: None,
            signer: Signer::Secp256k1(secret),
        }
    }

    fn ec_from_scalar(
        alg: Algorithm,
        curve: Curve,
        d: &[u8],
        point: Option<&[u8]>,
    ) -> Result<Self> {
        if alg.key_family() != KeyFamily::Ec(curve) {
            return Err(mismatch(alg, &format!("a {} key", curve.name())));
        }
        if curve == Curve::Secp256k1 {
            let sk = secp256k1::SecretKey::from_secret_bytes(
                d.try_into()
                    .map_err(rejected("secp256k1 secrets are 32 bytes"))?,
            )
            .map_err(rejected("invalid secp256k1 secret"))?;
            if let Some(p) = point {
                let pk = secp256k1::PublicKey::from_slice(p)
                    .map_err(rejected("invalid secp256k1 point"))?;
                if pk != sk.public_key() {
                    return Err(key_error("EC private and public parts do not match"));
                }
            }
            return Ok(Self::secp256k1(sk));
        }
        let len = curve.coordinate_len();
        if d.len() != len {
            return Err(key_error(format!(
                "{} private scalars are {len} bytes",
                curve.name()
            )));
        }
        // aws-lc derives the public point when given the SEC1 structure alone.
        let sec1 = containers::sec1_der(curve_oid(curve), d, point)?;
        let kp = EcdsaKeyPair::from_private_key_der(ecdsa_signing_alg(curve), &sec1)
            .map_err(rejected("invalid EC private key"))?;
        if let Some(p) = point {
            if kp.public_key().as_ref() != p {
                return Err(key_error("EC private and public parts do not match"));
            }
        }
        Ok(SigningKey {
            alg,
            kid: None,
            signer: Signer::Ecdsa(Box::new(kp), curve),
        })
    }

    fn rsa_from_pkcs1(alg: Algorithm, pkcs1: &[u8]) -> Result<Self> {
        if alg.key_family() != KeyFamily::Rsa {
            return Err(mismatch(alg, "an RSA key"));
        }
        let parts = containers::rsa_private(pkcs1)?;
        // A key we sign with is ours to choose; its public half, when used
        // to verify, goes through `VerifyingKey::rsa` and its exponent rule.
        rsa_checks::check_public(parts.n, parts.e, rsa_checks::Exponent::AnyOdd)?;
        let kp = RsaKeyPair::from_der(pkcs1).map_err(rejected("invalid RSA private key"))?;
        Ok(SigningKey {
            alg,
            kid: None,
            signer: Signer::Rsa(Box::new(kp)),
        })
    }

    fn from_pkcs8_der(der_bytes: &[u8], alg: Option<Algorithm>) -> Result<Self> {
        let p8 = containers::pkcs8(der_bytes)?;
        match p8.alg.algorithm {
            a if a == oid::RSA_ENCRYPTION || a == oid::RSASSA_PSS => {
                Self::rsa_from_pkcs1(alg.ok_or_else(|| needs_alg("an RSA key"))?, p8.private_key)
            }
            a if a == oid::EC_PUBLIC_KEY => {
                let inner = containers::sec1(p8.private_key)?;
                let inner_curve = inner.curve.as_ref().map(|o| o.as_bytes());
                let curve = curve_from_oid(p8.alg.curve.or(inner_curve))?;
                Self::ec_from_scalar(
                    alg.unwrap_or(curve.algorithm()),
                    curve,
                    inner.d,
                    inner.public,
                )
            }
            a if a == oid::ED25519 => {
                let alg = alg.unwrap_or(Algorithm::EdDSA);
                if alg != Algorithm::EdDSA {
                    return Err(mismatch(alg, "an Ed25519 key"));
                }
                let seed = containers::octet_string(p8.private_key)?;
                Self::ed25519_seed(seed)
            }
            _ => Err(key_error("unsupported private key type in PKCS#8")),
        }
    }

    /// An Ed25519 key from its 32-byte seed.
    pub fn ed25519_seed(seed: &[u8]) -> Result<Self> {
        let kp =
            Ed25519KeyPair::from_seed_unchecked(seed).map_err(rejected("invalid Ed25519 seed"))?;
        Ok(SigningKey {
            alg: Algorithm::EdDSA,
            kid: None,
            signer: Signer::Ed25519(Box::new(kp)),
        })
    }

    /// A key from PEM: `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` (SEC1) or
    /// `RSA PRIVATE KEY` (PKCS#1). RSA keys need `alg`.
    pub fn from_pem(text: &str, alg: Option<Algorithm>) -> Result<Self> {
        let blocks = pem::parse_pem(text)?;
        let block = blocks
            .iter()
            .find(|b| b.label.ends_with("PRIVATE KEY"))
            .ok_or_else(|| key_error("no private key in the PEM text"))?;
        match block.label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_der(&block.der, alg),
            "EC PRIVATE KEY" => {
                let s = containers::sec1(&block.der)?;
                let curve = curve_from_oid(s.curve.as_ref().map(|o| o.as_bytes()))?;
                Self::ec_from_scalar(alg.unwrap_or(curve.algorithm()), curve, s.d, s.public)
            }
            "RSA PRIVATE KEY" => {
                Self::rsa_from_pkcs1(alg.ok_or_else(|| needs_alg("an RSA key"))?, &block.der)
            }
            other => Err(key_error(format!("unsupported PEM block {other:?}"))),
        }
    }

    /// A key from a private JWK object.
    pub fn from_jwk_object(o: &Object, pin: Option<Algorithm>) -> Result<Self> {
        let alg = check_common(o, pin)?;
        let kty = member_str(o, "kty")?.ok_or_else(|| key_error("JWK lacks `kty`"))?;
        let key = match kty {
            "oct" => Self::hmac(
                alg.ok_or_else(|| needs_alg("an HMAC secret"))?,
                &member_b64(o, "k")?,
            )?,
            "RSA" => {
                let alg = alg.ok_or_else(|| needs_alg("an RSA key"))?;
                let names = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];
                let mut ints: [Vec<u8>; 8] = Default::default();
                for (int, n) in ints.iter_mut().zip(names) {
                    *int = member_b64(o, n)?;
                }
                let pkcs1 = containers::rsa_private_der(ints.each_ref().map(Vec::as_slice))?;
                Self::rsa_from_pkcs1(alg, &pkcs1)?
            }
            "EC" => {
                let curve = parse_curve(
                    member_str(o, "crv")?.ok_or_else(|| key_error("EC JWK lacks `crv`"))?,
                )?;
                let mut point = vec![4u8];
                point.extend_from_slice(&member_b64(o, "x")?);
                point.extend_from_slice(&member_b64(o, "y")?);
                Self::ec_from_scalar(
                    alg.unwrap_or(curve.algorithm()),
                    curve,
                    &member_b64(o, "d")?,
                    Some(&point),
                )?
            }
            "OKP" => {
                if member_str(o, "crv")? != Some("Ed25519") {
                    return Err(key_error("only OKP keys on Ed25519 are supported"));
                }
                let key = Self::ed25519_seed(&member_b64(o, "d")?)?;
                if let Some(a) = alg {
                    if a != Algorithm::EdDSA {
                        return Err(mismatch(a, "an Ed25519 key"));
                    }
                }
                if let Ok(x) = member_b64(o, "x") {
                    if Some(x.as_slice()) != key.ed25519_public().as_deref() {
                        return Err(key_error("Ed25519 private and public parts do not match"));
                    }
                }
                key
            }
            _ => return Err(key_error("unsupported JWK `kty`")),
        };
        Ok(match member_str(o, "kid")? {
            Some(kid) => key.with_kid(kid),
            None => key,
        })
    }

    /// A key from private JWK text.
    pub fn from_jwk(text: &str, pin: Option<Algorithm>) -> Result<Self> {
        Self::from_jwk_object(&json::parse_object(text.as_bytes())?, pin)
    }

    /// Sets the key id.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    fn ed25519_public(&self) -> Option<Vec<u8>> {
        match &self.signer {
            Signer::Ed25519(kp) => Some(kp.public_key().as_ref().to_vec()),
            _ => None,
        }
    }

    /// Signs `message`, returning the JOSE signature bytes (`r||s` for ECDSA).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let fail = |_| Error::new(ErrorCode::Malformed, "signing failed");
        Ok(match &self.signer {
            Signer::Hmac { key, .. } => hmac::sign(key, message).as_ref().to_vec(),
            Signer::Rsa(kp) => {
                let mut out = vec![0u8; kp.public_modulus_len()];
                kp.sign(
                    rsa_encoding(self.alg),
                    &SystemRandom::new(),
                    message,
                    &mut out,
                )
                .map_err(fail)?;
                out
            }
            Signer::Ecdsa(kp, _) => kp
                .sign(&SystemRandom::new(), message)
                .map_err(fail)?
                .as_ref()
                .to_vec(),
            Signer::Ed25519(kp) => kp.sign(message).as_ref().to_vec(),
            Signer::Secp256k1(sk) => secp::es256k_sign(sk, message).to_vec(),
        })
    }

    fn rsa_parts(kp: &RsaKeyPair) -> Result<Vec<Vec<u8>>> {
        let doc = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(kp)
            .map_err(rejected("RSA export failed"))?;
        let p8 = containers::pkcs8(doc.as_ref())?;
        let r = containers::rsa_private(p8.private_key)?;
        Ok([r.n, r.e, r.d, r.p, r.q, r.dp, r.dq, r.qi]
            .iter()
            .map(|x| x.to_vec())
            .collect())
    }

    fn ec_point_and_scalar(&self) -> Result<(Curve, Vec<u8>, Vec<u8>)> {
        match &self.signer {
            Signer::Ecdsa(kp, curve) => {
                let d = AsBigEndian::<aws_lc_rs::encoding::EcPrivateKeyBin>::as_be_bytes(
                    &kp.private_key(),
                )
                .map_err(rejected("EC export failed"))?;
                Ok((
                    *curve,
                    kp.public_key().as_ref().to_vec(),
                    d.as_ref().to_vec(),
                ))
            }
            Signer::Secp256k1(sk) => Ok((
                Curve::Secp256k1,
                sk.public_key().serialize_uncompressed().to_vec(),
                sk.to_secret_bytes().to_vec(),
            )),
            _ => Err(key_error("not an EC key")),
        }
    }

    /// The matching verifying key (same algorithm and kid).
    pub fn verifying_key(&self) -> Result<VerifyingKey> {
        let key = match &self.signer {
            Signer::Hmac { secret, .. } => VerifyingKey::hmac(self.alg, secret),
            Signer::Rsa(kp) => {
                Self::rsa_parts(kp).and_then(|p| VerifyingKey::rsa(self.alg, &p[0], &p[1]))
            }
            Signer::Ecdsa(..) | Signer::Secp256k1(_) => self
                .ec_point_and_scalar()
                .and_then(|(curve, point, _)| VerifyingKey::ec_point(self.alg, curve, &point)),
            Signer::Ed25519(kp) => VerifyingKey::ed25519(kp.public_key().as_ref()),
        };
        let key = key?;
        Ok(match &self.kid {
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        })
    }

    /// The private JWK (contains secret material: write it only to files the
    /// user asked for).
    pub fn to_private_jwk(&self) -> Result<Object> {
        let mut o = match &self.signer {
            Signer::Hmac { secret, .. } => {
                let mut o = Object::new();
                o.insert("kty", "oct".into());
                o.insert("k", b64url_encode(secret).into());
                o.insert("alg", self.alg.name().into());
                o.insert("use", "sig".into());
                o
            }
            _ => self
                .verifying_key()?
                .to_public_jwk()
                .ok_or_else(|| key_error("no public JWK"))?,
        };
        match &self.signer {
            Signer::Hmac { .. } => {}
            Signer::Rsa(kp) => {
                let p = Self::rsa_parts(kp)?;
                for (name, v) in ["d", "p", "q", "dp", "dq", "qi"].iter().zip(&p[2..]) {
                    o.insert(*name, b64url_encode(v).into());
                }
            }
            Signer::Ecdsa(..) | Signer::Secp256k1(_) => {
                let (_, _, d) = self.ec_point_and_scalar()?;
                o.insert("d", b64url_encode(&d).into());
            }
            Signer::Ed25519(kp) => {
                let seed = kp.seed().map_err(rejected("Ed25519 export failed"))?;
                let bytes =
                    AsBigEndian::<aws_lc_rs::encoding::Curve25519SeedBin>::as_be_bytes(&seed)
                        .map_err(rejected("Ed25519 export failed"))?;
                o.insert("d", b64url_encode(bytes.as_ref()).into());
            }
        }
        if let Some(kid) = &self.kid {
            o.insert("kid", kid.as_str().into());
        }
        Ok(o)
    }

    /// PKCS#8 PEM of the private key (not for HMAC secrets).
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        let der_bytes = match &self.signer {
            Signer::Hmac { .. } => {
                return Err(key_error("HMAC secrets have no PEM form; use the JWK"))
            }
            Signer::Rsa(kp) => AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(kp.as_ref())
                .map_err(rejected("RSA export failed"))?
                .as_ref()
                .to_vec(),
            Signer::Ed25519(kp) => AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(kp.as_ref())
                .map_err(rejected("Ed25519 export failed"))?
                .as_ref()
                .to_vec(),
            Signer::Ecdsa(..) | Signer::Secp256k1(_) => {
                let (curve, point, d) = self.ec_point_and_scalar()?;
                containers::ec_pkcs8(&curve_oid(curve), &d, &point)?
            }
        };
        Ok(pem::to_pem("PRIVATE KEY", &der_bytes))
    }

    /// SubjectPublicKeyInfo PEM of the public key (not for HMAC secrets).
    pub fn to_public_pem(&self) -> Result<String> {
        let der_bytes = match &self.signer {
            Signer::Hmac { .. } => return Err(key_error("HMAC secrets have no public key")),
            Signer::Rsa(kp) => {
                let p = Self::rsa_parts(kp)?;
                containers::rsa_spki(&p[0], &p[1])?
            }
            Signer::Ed25519(kp) => containers::ed25519_spki(kp.public_key().as_ref())?,
            Signer::Ecdsa(..) | Signer::Secp256k1(_) => {
                let (curve, point, _) = self.ec_point_and_scalar()?;
                containers::ec_spki(&curve_oid(curve), &point)?
            }
        };
        Ok(pem::to_pem("PUBLIC KEY", &der_bytes))
    }
}
