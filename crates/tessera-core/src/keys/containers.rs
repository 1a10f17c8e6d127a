//! The key containers tessera reads and writes: SubjectPublicKeyInfo,
//! PKCS#8, SEC1, PKCS#1 and the SPKI inside an X.509 certificate, through
//! RustCrypto's `der`, `spki`, `pkcs8`, `sec1` and `pkcs1`. These decode
//! DER only (definite, minimal lengths; minimal INTEGERs; no trailing data
//! after the outer value), which is the rule tessera has always applied.
//! The few checks the crates leave to the caller are made here, each saying
//! why.

use crate::error::{Error, ErrorCode, Result};
use ::der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef, UintRef};
use ::der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use pkcs1::{RsaPrivateKey, RsaPublicKey};
use pkcs8::PrivateKeyInfoRef;
use sec1::{EcParameters, EcPrivateKey};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

/// The object identifiers tessera knows.
pub(crate) mod oid {
    use super::ObjectIdentifier;
    pub const RSA_ENCRYPTION: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    pub const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
    pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    pub const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    pub const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
    pub const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
    pub const SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
    pub const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
}

fn bad(msg: &'static str) -> Error {
    Error::malformed(msg)
}

/// Every DER error is the caller's input being malformed; the crate's own
/// text names the tag and position.
fn der_error(e: ::der::Error) -> Error {
    Error::with_message(ErrorCode::Malformed, format!("invalid DER: {e}"))
}

/// An AlgorithmIdentifier as tessera reads it: the algorithm and, for EC
/// keys, the content bytes of the curve OID.
pub(crate) struct AlgorithmId<'a> {
    pub algorithm: ObjectIdentifier,
    pub curve: Option<&'a [u8]>,
}

/// `spki` takes any parameters; tessera takes only an OID (the EC curve),
/// NULL or none, and a SEQUENCE for RSASSA-PSS, whose parameters are
/// ignored: the JOSE algorithm, not the certificate, fixes hash and salt.
fn algorithm_id<'a>(alg: &AlgorithmIdentifierRef<'a>) -> Result<AlgorithmId<'a>> {
    let curve = match &alg.parameters {
        None => None,
        Some(p) if p.tag() == Tag::ObjectIdentifier => Some(p.value()),
        Some(p) if p.tag() == Tag::Null => None,
        Some(p) if p.tag() == Tag::Sequence && alg.oid == oid::RSASSA_PSS => None,
        Some(_) => return Err(bad("unsupported algorithm parameters")),
    };
    Ok(AlgorithmId {
        algorithm: alg.oid,
        curve,
    })
}

/// A BIT STRING's bytes; a key is whole bytes, so unused bits are refused
/// (`der` allows them).
fn whole_bytes<'a>(bits: &BitStringRef<'a>) -> Result<&'a [u8]> {
    bits.as_bytes()
        .ok_or_else(|| bad("BIT STRING with unused bits"))
}

/// A parsed SubjectPublicKeyInfo.
pub(crate) struct Spki<'a> {
    pub alg: AlgorithmId<'a>,
    pub key: &'a [u8],
}

pub(crate) fn spki(der: &[u8]) -> Result<Spki<'_>> {
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(der_error)?;
    Ok(Spki {
        alg: algorithm_id(&spki.algorithm)?,
        key: whole_bytes(&spki.subject_public_key)?,
    })
}

/// Finds the SubjectPublicKeyInfo inside an X.509 certificate (RFC 5280
/// §4.1) with `der`'s reader. Only the fields before it are framed; the rest
/// of the certificate is not read (no signature is checked here, so there is
/// nothing to gain from parsing names, times and extensions), which is
/// why `x509-cert` and its tree are not used.
pub(crate) fn certificate_spki(der: &[u8]) -> Result<&[u8]> {
    let version = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(0),
    };
    let mut outer = SliceReader::new(der).map_err(der_error)?;
    let spki = outer
        .sequence(|cert| {
            let spki = cert.sequence(|tbs| {
                if Tag::peek(tbs)? == version {
                    AnyRef::decode(tbs)?;
                }
                for tag in [
                    Tag::Integer,  // serialNumber
                    Tag::Sequence, // signature
                    Tag::Sequence, // issuer
                    Tag::Sequence, // validity
                    Tag::Sequence, // subject
                ] {
                    AnyRef::decode(tbs)?.tag().assert_eq(tag)?;
                }
                let spki = tbs.tlv_bytes()?;
                skip_rest(tbs)?; // issuer/subject unique ids, extensions
                Ok::<_, ::der::Error>(spki)
            })?;
            skip_rest(cert)?; // signatureAlgorithm, signatureValue
            Ok::<_, ::der::Error>(spki)
        })
        .map_err(der_error)?;
    outer.finish().map_err(der_error)?;
    match spki.first() {
        Some(0x30) => Ok(spki),
        _ => Err(bad("certificate has no public key")),
    }
}

fn skip_rest(r: &mut SliceReader<'_>) -> ::der::Result<()> {
    let rest = r.remaining_len();
    r.read_slice(rest).map(|_| ())
}

/// A parsed PKCS#8 PrivateKeyInfo (RFC 5208 / 5958).
pub(crate) struct Pkcs8<'a> {
    pub alg: AlgorithmId<'a>,
    pub private_key: &'a [u8],
}

pub(crate) fn pkcs8(der: &[u8]) -> Result<Pkcs8<'_>> {
    let p8 = PrivateKeyInfoRef::from_der(der).map_err(der_error)?;
    Ok(Pkcs8 {
        alg: algorithm_id(&p8.algorithm)?,
        private_key: p8.private_key.as_bytes(),
    })
}

/// The OCTET STRING inside a PKCS#8 Ed25519 key (RFC 8410 §7).
pub(crate) fn octet_string(der: &[u8]) -> Result<&[u8]> {
    <&OctetStringRef>::from_der(der)
        .map(OctetStringRef::as_bytes)
        .map_err(der_error)
}

/// A parsed SEC1 ECPrivateKey (RFC 5915).
pub(crate) struct Sec1<'a> {
    pub d: &'a [u8],
    pub curve: Option<ObjectIdentifier>,
    pub public: Option<&'a [u8]>,
}

pub(crate) fn sec1(der: &[u8]) -> Result<Sec1<'_>> {
    let key = EcPrivateKey::from_der(der).map_err(der_error)?;
    Ok(Sec1 {
        d: key.private_key,
        curve: key.parameters.and_then(EcParameters::named_curve),
        public: key.public_key,
    })
}

/// The integers of a PKCS#1 RSAPrivateKey (RFC 8017 §A.1.2), leading zeros
/// stripped.
pub(crate) struct RsaPrivate<'a> {
    pub n: &'a [u8],
    pub e: &'a [u8],
    pub d: &'a [u8],
    pub p: &'a [u8],
    pub q: &'a [u8],
    pub dp: &'a [u8],
    pub dq: &'a [u8],
    pub qi: &'a [u8],
}

pub(crate) fn rsa_private(der: &[u8]) -> Result<RsaPrivate<'_>> {
    let k = RsaPrivateKey::<UintRef<'_>>::from_der(der).map_err(der_error)?;
    // aws-lc signs with two primes only; `pkcs1` reads the others.
    if k.other_prime_infos.is_some() {
        return Err(bad("multi-prime RSA keys are not supported"));
    }
    Ok(RsaPrivate {
        n: k.modulus.as_bytes(),
        e: k.public_exponent.as_bytes(),
        d: k.private_exponent.as_bytes(),
        p: k.prime1.as_bytes(),
        q: k.prime2.as_bytes(),
        dp: k.exponent1.as_bytes(),
        dq: k.exponent2.as_bytes(),
        qi: k.coefficient.as_bytes(),
    })
}

/// The modulus and exponent of a PKCS#1 RSAPublicKey.
pub(crate) fn rsa_public(der: &[u8]) -> Result<(&[u8], &[u8])> {
    let k = RsaPublicKey::<UintRef<'_>>::from_der(der).map_err(der_error)?;
    Ok((k.modulus.as_bytes(), k.public_exponent.as_bytes()))
}

// ---- writing ----

fn uint(magnitude: &[u8]) -> Result<UintRef<'_>> {
    // An empty magnitude is the integer 0, as it always was.
    let magnitude = if magnitude.is_empty() {
        &[0]
    } else {
        magnitude
    };
    UintRef::new(magnitude).map_err(der_error)
}

/// A PKCS#1 RSAPrivateKey from its eight integers (big-endian magnitudes),
/// in the order n, e, d, p, q, dp, dq, qi.
pub(crate) fn rsa_private_der(ints: [&[u8]; 8]) -> Result<Vec<u8>> {
    let [n, e, d, p, q, dp, dq, qi] = ints;
    RsaPrivateKey {
        modulus: uint(n)?,
        public_exponent: uint(e)?,
        private_exponent: uint(d)?,
        prime1: uint(p)?,
        prime2: uint(q)?,
        exponent1: uint(dp)?,
        exponent2: uint(dq)?,
        coefficient: uint(qi)?,
        other_prime_infos: None,
    }
    .to_der()
    .map_err(der_error)
}

fn spki_der(algorithm: AlgorithmIdentifierRef<'_>, key: &[u8]) -> Result<Vec<u8>> {
    SubjectPublicKeyInfoRef {
        algorithm,
        subject_public_key: BitStringRef::from_bytes(key).map_err(der_error)?,
    }
    .to_der()
    .map_err(der_error)
}

fn ec_algorithm(curve: &ObjectIdentifier) -> AlgorithmIdentifierRef<'_> {
    AlgorithmIdentifierRef {
        oid: oid::EC_PUBLIC_KEY,
        parameters: Some(AnyRef::from(curve)),
    }
}

/// SubjectPublicKeyInfo for an RSA key (rsaEncryption, NULL parameters).
pub(crate) fn rsa_spki(n: &[u8], e: &[u8]) -> Result<Vec<u8>> {
    let pkcs1 = RsaPublicKey {
        modulus: uint(n)?,
        public_exponent: uint(e)?,
    }
    .to_der()
    .map_err(der_error)?;
    let algorithm = AlgorithmIdentifierRef {
        oid: oid::RSA_ENCRYPTION,
        parameters: Some(AnyRef::from(::der::asn1::Null)),
    };
    spki_der(algorithm, &pkcs1)
}

/// SubjectPublicKeyInfo for an Ed25519 key (no parameters, RFC 8410).
pub(crate) fn ed25519_spki(x: &[u8]) -> Result<Vec<u8>> {
    let algorithm = AlgorithmIdentifierRef {
        oid: oid::ED25519,
        parameters: None,
    };
    spki_der(algorithm, x)
}

/// SubjectPublicKeyInfo for an EC point.
pub(crate) fn ec_spki(curve: &ObjectIdentifier, point: &[u8]) -> Result<Vec<u8>> {
    spki_der(ec_algorithm(curve), point)
}

/// SEC1 ECPrivateKey with the curve and, when given, the public point.
pub(crate) fn sec1_der(curve: ObjectIdentifier, d: &[u8], point: Option<&[u8]>) -> Result<Vec<u8>> {
    EcPrivateKey {
        private_key: d,
        parameters: Some(EcParameters::NamedCurve(curve)),
        public_key: point,
    }
    .to_der()
    .map_err(der_error)
}

/// PKCS#8 for an EC private key (SEC1 inside, without the curve, which the
/// AlgorithmIdentifier names, and with the public point).
pub(crate) fn ec_pkcs8(curve: &ObjectIdentifier, d: &[u8], point: &[u8]) -> Result<Vec<u8>> {
    let sec1 = EcPrivateKey {
        private_key: d,
        parameters: None,
        public_key: Some(point),
    }
    .to_der()
    .map_err(der_error)?;
    PrivateKeyInfoRef {
        algorithm: ec_algorithm(curve),
        private_key: OctetStringRef::new(&sec1).map_err(der_error)?,
        public_key: None,
    }
    .to_der()
    .map_err(der_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_must_be_minimal_and_complete() {
        // Non-minimal length, truncated value, indefinite length.
        for der in [
            &[0x30, 0x81, 0x05, 0, 0, 0, 0, 0][..],
            &[0x30, 0x05, 0, 0],
            &[0x30, 0x80],
        ] {
            assert!(spki(der).is_err());
            assert!(rsa_public(der).is_err());
        }
        // Non-minimal and negative integers.
        assert!(rsa_public(&[0x30, 0x06, 0x02, 0x02, 0x00, 0x01, 0x02, 0x00]).is_err());
        assert!(rsa_public(&[0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x03]).is_err());
        let (n, e) = rsa_public(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x03]).unwrap();
        assert_eq!((n, e), (&[0x80][..], &[3][..]));
        // Trailing data after the outer value.
        assert!(rsa_public(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x03, 0x00]).is_err());
    }

    #[test]
    fn integer_round_trip() {
        for mag in [&[0u8][..], &[1], &[0x80], &[0, 0, 0x7f], &[0xff; 200], &[]] {
            let enc = rsa_spki(mag, &[1, 0, 1]).unwrap();
            let (n, _) = rsa_public(spki(&enc).unwrap().key).unwrap();
            let skip = mag.iter().take_while(|&&b| b == 0).count();
            let expect = if skip == mag.len() {
                &[0u8][..]
            } else {
                &mag[skip..]
            };
            assert_eq!(n, expect);
        }
    }

    /// The checks `spki` leaves to the caller: parameters other than an
    /// OID, NULL or (for RSASSA-PSS) a SEQUENCE, and unused bits.
    #[test]
    fn spki_checks_kept_over_the_crate() {
        let good = ed25519_spki(&[9; 32]).unwrap();
        assert_eq!(spki(&good).unwrap().key, &[9; 32]);
        // AlgorithmIdentifier { Ed25519, INTEGER 0 }.
        let mut bad_params = vec![0x30, 0x2d, 0x30, 0x08, 0x06, 0x03, 0x2b, 0x65, 0x70];
        bad_params.extend_from_slice(&[0x02, 0x01, 0x00, 0x03, 0x21, 0x00]);
        bad_params.extend_from_slice(&[9; 32]);
        let Err(e) = spki(&bad_params) else {
            panic!("parameters taken")
        };
        assert!(e.message().contains("parameters"), "{}", e.message());
        // The same key with one unused bit declared.
        let mut unused = good.clone();
        let at = unused.len() - 33;
        assert_eq!(unused[at], 0);
        unused[at] = 1;
        let Err(e) = spki(&unused) else {
            panic!("unused bits taken")
        };
        assert!(e.message().contains("unused bits"), "{}", e.message());
    }

    #[test]
    fn ec_writers_read_back() {
        let point = [4u8; 65];
        let der = ec_spki(&oid::P256, &point).unwrap();
        let s = spki(&der).unwrap();
        assert_eq!(s.alg.algorithm, oid::EC_PUBLIC_KEY);
        assert_eq!(s.alg.curve, Some(oid::P256.as_bytes()));
        let p8 = ec_pkcs8(&oid::P384, &[7; 48], &point).unwrap();
        let p8 = pkcs8(&p8).unwrap();
        assert_eq!(p8.alg.curve, Some(oid::P384.as_bytes()));
        let inner = sec1(p8.private_key).unwrap();
        assert_eq!(
            (inner.d, inner.curve, inner.public),
            (&[7; 48][..], None, Some(&point[..]))
        );
    }
}
