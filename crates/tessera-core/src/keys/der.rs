//! Just enough DER (X.690) to read and write the key containers tessera
//! accepts: SubjectPublicKeyInfo, PKCS#8, SEC1, PKCS#1 and the SPKI inside an
//! X.509 certificate. Definite lengths only, minimal length encodings only.

use crate::error::{Error, Result};

pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;

/// Object identifiers, as their DER content bytes.
pub(crate) mod oid {
    pub const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    pub const RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
    pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    pub const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    pub const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    pub const P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
    pub const SECP256K1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x0a];
    pub const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
}

fn bad(msg: &'static str) -> Error {
    Error::malformed(msg)
}

/// A cursor over DER bytes.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// Reads one TLV, returning (tag, contents).
    pub(crate) fn any(&mut self) -> Result<(u8, &'a [u8])> {
        let (&tag, rest) = self.data.split_first().ok_or(bad("truncated DER"))?;
        if tag & 0x1f == 0x1f {
            return Err(bad("multi-byte DER tags are not supported"));
        }
        let (&first, mut rest) = rest.split_first().ok_or(bad("truncated DER length"))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(bad("invalid DER length"));
            }
            let mut len = 0usize;
            for &b in &rest[..n] {
                len = (len << 8) | usize::from(b);
            }
            if rest[0] == 0 || len < 0x80 {
                return Err(bad("non-minimal DER length"));
            }
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return Err(bad("truncated DER value"));
        }
        let (value, after) = rest.split_at(len);
        self.data = after;
        Ok((tag, value))
    }

    /// Reads one TLV of the given tag.
    pub(crate) fn expect(&mut self, tag: u8) -> Result<&'a [u8]> {
        let (t, v) = self.any()?;
        if t != tag {
            return Err(bad("unexpected DER tag"));
        }
        Ok(v)
    }

    /// Reads a SEQUENCE and returns a reader over its contents.
    pub(crate) fn sequence(&mut self) -> Result<Reader<'a>> {
        self.expect(TAG_SEQUENCE).map(Reader::new)
    }

    /// Reads a non-negative INTEGER, without its sign byte.
    pub(crate) fn unsigned_integer(&mut self) -> Result<&'a [u8]> {
        let v = self.expect(TAG_INTEGER)?;
        match v {
            [] => Err(bad("empty DER integer")),
            [b, ..] if b & 0x80 != 0 => Err(bad("negative DER integer")),
            [0, b, ..] if b & 0x80 == 0 => Err(bad("non-minimal DER integer")),
            [0, rest @ ..] if !rest.is_empty() => Ok(rest),
            _ => Ok(v),
        }
    }

    /// Reads a BIT STRING with no unused bits.
    pub(crate) fn bit_string(&mut self) -> Result<&'a [u8]> {
        match self.expect(TAG_BIT_STRING)? {
            [0, rest @ ..] => Ok(rest),
            _ => Err(bad("BIT STRING with unused bits")),
        }
    }

    /// Reads an optional context-specific constructed field `[n]`.
    pub(crate) fn optional_context(&mut self, n: u8) -> Result<Option<&'a [u8]>> {
        if self.peek_tag() == Some(0xa0 | n) {
            Ok(Some(self.any()?.1))
        } else {
            Ok(None)
        }
    }

    pub(crate) fn finish(&self) -> Result<()> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(bad("trailing data in DER"))
        }
    }
}

/// An AlgorithmIdentifier: the algorithm OID and, for EC keys, the curve OID.
pub(crate) struct AlgorithmId<'a> {
    pub algorithm: &'a [u8],
    pub curve: Option<&'a [u8]>,
}

pub(crate) fn algorithm_id<'a>(r: &mut Reader<'a>) -> Result<AlgorithmId<'a>> {
    let mut seq = r.sequence()?;
    let algorithm = seq.expect(TAG_OID)?;
    let curve = match seq.peek_tag() {
        Some(TAG_OID) => Some(seq.expect(TAG_OID)?),
        Some(TAG_NULL) => {
            seq.expect(TAG_NULL)?;
            None
        }
        // RSASSA-PSS parameters (a SEQUENCE) are allowed and ignored: the
        // JOSE algorithm, not the certificate, fixes the hash and salt.
        Some(TAG_SEQUENCE) if algorithm == oid::RSASSA_PSS => {
            seq.any()?;
            None
        }
        None => None,
        Some(_) => return Err(bad("unsupported algorithm parameters")),
    };
    seq.finish()?;
    Ok(AlgorithmId { algorithm, curve })
}

/// A parsed SubjectPublicKeyInfo.
pub(crate) struct Spki<'a> {
    pub alg: AlgorithmId<'a>,
    pub key: &'a [u8],
}

pub(crate) fn spki(der: &[u8]) -> Result<Spki<'_>> {
    let mut outer = Reader::new(der);
    let mut seq = outer.sequence()?;
    outer.finish()?;
    let alg = algorithm_id(&mut seq)?;
    let key = seq.bit_string()?;
    seq.finish()?;
    Ok(Spki { alg, key })
}

/// Finds the SubjectPublicKeyInfo inside an X.509 certificate (RFC 5280 §4.1).
pub(crate) fn certificate_spki(der: &[u8]) -> Result<&[u8]> {
    let mut outer = Reader::new(der);
    let mut cert = outer.sequence()?;
    outer.finish()?;
    let mut tbs = cert.sequence()?;
    tbs.optional_context(0)?; // version
    tbs.expect(TAG_INTEGER)?; // serialNumber
    tbs.expect(TAG_SEQUENCE)?; // signature
    tbs.expect(TAG_SEQUENCE)?; // issuer
    tbs.expect(TAG_SEQUENCE)?; // validity
    tbs.expect(TAG_SEQUENCE)?; // subject
                               // subjectPublicKeyInfo: return the whole TLV.
    let before = tbs;
    let (tag, _) = tbs.any()?;
    if tag != TAG_SEQUENCE {
        return Err(bad("certificate has no public key"));
    }
    let consumed = before.data.len() - tbs.data.len();
    Ok(&before.data[..consumed])
}

/// A parsed PKCS#8 PrivateKeyInfo (RFC 5208 / 5958).
pub(crate) struct Pkcs8<'a> {
    pub alg: AlgorithmId<'a>,
    pub private_key: &'a [u8],
}

pub(crate) fn pkcs8(der: &[u8]) -> Result<Pkcs8<'_>> {
    let mut outer = Reader::new(der);
    let mut seq = outer.sequence()?;
    outer.finish()?;
    let version = seq.unsigned_integer()?;
    if version != [0] && version != [1] {
        return Err(bad("unsupported PKCS#8 version"));
    }
    let alg = algorithm_id(&mut seq)?;
    let private_key = seq.expect(TAG_OCTET_STRING)?;
    Ok(Pkcs8 { alg, private_key })
}

/// A parsed SEC1 ECPrivateKey (RFC 5915).
pub(crate) struct Sec1<'a> {
    pub d: &'a [u8],
    pub curve: Option<&'a [u8]>,
    pub public: Option<&'a [u8]>,
}

pub(crate) fn sec1(der: &[u8]) -> Result<Sec1<'_>> {
    let mut outer = Reader::new(der);
    let mut seq = outer.sequence()?;
    outer.finish()?;
    if seq.unsigned_integer()? != [1] {
        return Err(bad("unsupported SEC1 version"));
    }
    let d = seq.expect(TAG_OCTET_STRING)?;
    let curve = match seq.optional_context(0)? {
        Some(params) => Some(Reader::new(params).expect(TAG_OID)?),
        None => None,
    };
    let public = match seq.optional_context(1)? {
        Some(bits) => Some(Reader::new(bits).bit_string()?),
        None => None,
    };
    Ok(Sec1 { d, curve, public })
}

/// The integers of a PKCS#1 RSAPrivateKey (RFC 8017 §A.1.2).
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
    let mut outer = Reader::new(der);
    let mut seq = outer.sequence()?;
    outer.finish()?;
    if seq.unsigned_integer()? != [0] {
        return Err(bad("multi-prime RSA keys are not supported"));
    }
    Ok(RsaPrivate {
        n: seq.unsigned_integer()?,
        e: seq.unsigned_integer()?,
        d: seq.unsigned_integer()?,
        p: seq.unsigned_integer()?,
        q: seq.unsigned_integer()?,
        dp: seq.unsigned_integer()?,
        dq: seq.unsigned_integer()?,
        qi: seq.unsigned_integer()?,
    })
}

/// The modulus and exponent of a PKCS#1 RSAPublicKey.
pub(crate) fn rsa_public(der: &[u8]) -> Result<(&[u8], &[u8])> {
    let mut outer = Reader::new(der);
    let mut seq = outer.sequence()?;
    outer.finish()?;
    let n = seq.unsigned_integer()?;
    let e = seq.unsigned_integer()?;
    seq.finish()?;
    Ok((n, e))
}

// ---- writing ----

pub(crate) fn write_tlv(tag: u8, value: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
}

pub(crate) fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    write_tlv(tag, value, &mut out);
    out
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub(crate) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = {
        let skip = magnitude.iter().take_while(|&&b| b == 0).count();
        &magnitude[skip..]
    };
    let mut v = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.is_empty() || trimmed[0] & 0x80 != 0 {
        v.push(0);
    }
    v.extend_from_slice(trimmed);
    tlv(TAG_INTEGER, &v)
}

pub(crate) fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    let body: Vec<u8> = parts.concat();
    tlv(TAG_SEQUENCE, &body)
}

pub(crate) fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.push(0);
    v.extend_from_slice(bytes);
    tlv(TAG_BIT_STRING, &v)
}

/// SubjectPublicKeyInfo for an EC point.
pub(crate) fn ec_spki(curve: &[u8], point: &[u8]) -> Vec<u8> {
    let alg = sequence(&[&tlv(TAG_OID, oid::EC_PUBLIC_KEY), &tlv(TAG_OID, curve)]);
    sequence(&[&alg, &bit_string(point)])
}

/// PKCS#8 for an EC private key (SEC1 inside, with the public point).
pub(crate) fn ec_pkcs8(curve: &[u8], d: &[u8], point: &[u8]) -> Vec<u8> {
    let alg = sequence(&[&tlv(TAG_OID, oid::EC_PUBLIC_KEY), &tlv(TAG_OID, curve)]);
    let sec1 = sequence(&[
        &unsigned_integer(&[1]),
        &tlv(TAG_OCTET_STRING, d),
        &tlv(0xa1, &bit_string(point)),
    ]);
    sequence(&[&unsigned_integer(&[0]), &alg, &tlv(TAG_OCTET_STRING, &sec1)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_must_be_minimal_and_complete() {
        assert!(Reader::new(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0])
            .any()
            .is_err());
        assert!(Reader::new(&[0x30, 0x05, 0, 0]).any().is_err());
        assert!(Reader::new(&[0x30, 0x80]).any().is_err());
        assert!(Reader::new(&[0x02, 0x02, 0x00, 0x01])
            .unsigned_integer()
            .is_err());
        assert!(Reader::new(&[0x02, 0x01, 0x80]).unsigned_integer().is_err());
        assert_eq!(
            Reader::new(&[0x02, 0x02, 0x00, 0x80])
                .unsigned_integer()
                .unwrap(),
            &[0x80]
        );
    }

    #[test]
    fn integer_round_trip() {
        for mag in [&[0u8][..], &[1], &[0x80], &[0, 0, 0x7f], &[0xff; 200]] {
            let enc = unsigned_integer(mag);
            let got = Reader::new(&enc).unsigned_integer().unwrap();
            let skip = mag.iter().take_while(|&&b| b == 0).count();
            let expect = if skip == mag.len() {
                &[0u8][..]
            } else {
                &mag[skip..]
            };
            assert_eq!(got, expect);
        }
    }
}
