//! The bare signature checks the `verify` benchmarks compare tessera with:
//! straight from the backend tessera uses.

use aws_lc_rs::{hmac, signature as sig};
use tessera_core::internal::keys::parse_pem;
use tessera_core::Algorithm;

/// The bare signature check, straight from the backend tessera uses.
pub enum Primitive {
    /// Boxed, as tessera holds it (a key is over a kilobyte).
    Hmac(Box<hmac::Key>),
    AwsLc(sig::ParsedPublicKey),
    Secp256k1(secp256k1::PublicKey),
}

impl Primitive {
    pub fn new(alg: Algorithm, public_pem: Option<&str>, secret: Option<&[u8]>) -> Primitive {
        let der = || {
            let pem = public_pem.expect("public PEM");
            parse_pem(pem).expect("PEM").remove(0).der
        };
        let aws = |a: &'static dyn sig::VerificationAlgorithm| {
            Primitive::AwsLc(sig::ParsedPublicKey::new(a, der()).expect("aws-lc-rs key"))
        };
        let mac = |a| Primitive::Hmac(Box::new(hmac::Key::new(a, secret.expect("HMAC secret"))));
        match alg {
            Algorithm::HS256 => mac(hmac::HMAC_SHA256),
            Algorithm::HS384 => mac(hmac::HMAC_SHA384),
            Algorithm::HS512 => mac(hmac::HMAC_SHA512),
            Algorithm::RS256 => aws(&sig::RSA_PKCS1_2048_8192_SHA256),
            Algorithm::RS384 => aws(&sig::RSA_PKCS1_2048_8192_SHA384),
            Algorithm::RS512 => aws(&sig::RSA_PKCS1_2048_8192_SHA512),
            Algorithm::PS256 => aws(&sig::RSA_PSS_2048_8192_SHA256),
            Algorithm::PS384 => aws(&sig::RSA_PSS_2048_8192_SHA384),
            Algorithm::PS512 => aws(&sig::RSA_PSS_2048_8192_SHA512),
            Algorithm::ES256 => aws(&sig::ECDSA_P256_SHA256_FIXED),
            Algorithm::ES384 => aws(&sig::ECDSA_P384_SHA384_FIXED),
            Algorithm::ES512 => aws(&sig::ECDSA_P521_SHA512_FIXED),
            Algorithm::EdDSA => aws(&sig::ED25519),
            Algorithm::Bip340 | Algorithm::Eip191 => {
                unreachable!("the cases are JOSE algorithms (Algorithm::ALL)")
            }
            Algorithm::ES256K => {
                // SubjectPublicKeyInfo: the uncompressed point is its last 65 bytes.
                let der = der();
                let point = &der[der.len() - 65..];
                Primitive::Secp256k1(secp256k1::PublicKey::from_slice(point).expect("point"))
            }
        }
    }

    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        match self {
            Primitive::Hmac(k) => hmac::verify(k, msg, signature).is_ok(),
            Primitive::AwsLc(k) => k.verify_sig(msg, signature).is_ok(),
            Primitive::Secp256k1(k) => es256k_primitive(k, msg, signature),
        }
    }
}

/// SHA-256 then libsecp256k1 ECDSA verification, as aws-lc-rs's `verify_sig`
/// hashes then verifies.
pub fn es256k_primitive(key: &secp256k1::PublicKey, msg: &[u8], signature: &[u8]) -> bool {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, msg);
    let digest: [u8; 32] = digest.as_ref().try_into().expect("32 bytes");
    let Ok(s) = secp256k1::ecdsa::Signature::from_compact(signature) else {
        return false;
    };
    secp256k1::ecdsa::verify(&s, secp256k1::Message::from_digest(digest), key).is_ok()
}
