//! Access tokens (RFC 9068 `at+jwt`) and opaque refresh tokens.

use tessera_core::internal::encoding::b64url_encode;
use tessera_core::internal::sha::sha256;
use tessera_core::SigningKey;
use tessera_core::{jwt, Error};
use tessera_core::{Object, Value};

/// The `typ` of tessera's access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Random bytes from the operating system's generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // aws-lc's generator does not fail on supported platforms; if it ever
    // did, refuse to mint predictable secrets.
    if aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut b).is_err() {
        std::process::abort();
    }
    b
}

/// A random identifier (128 bits, base64url).
pub fn random_id() -> String {
    b64url_encode(&random_bytes::<16>())
}

/// A new opaque refresh token (256 bits) and the hash that is stored.
pub fn new_refresh_token() -> (String, [u8; 32]) {
    let token = b64url_encode(&random_bytes::<32>());
    let hash = refresh_hash(&token);
    (token, hash)
}

/// The stored form of a refresh token: SHA-256 of its text.
pub fn refresh_hash(token: &str) -> [u8; 32] {
    sha256(token.as_bytes())
}

/// A login nonce for SIWE: alphanumeric (EIP-4361 requires it), 128 bits.
pub fn new_nonce() -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let bytes = random_bytes::<32>();
    // 22 characters of a 62-letter alphabet carry > 128 bits; rejection
    // sampling keeps each character uniform.
    let mut out = String::with_capacity(22);
    let mut pool = bytes.iter().copied().cycle().enumerate();
    while out.len() < 22 {
        let Some((i, b)) = pool.next() else { break };
        if i >= 1024 {
            break;
        }
        if b < 248 {
            out.push(ALPHABET[(b % 62) as usize] as char);
        }
    }
    while out.len() < 22 {
        out.push('0');
    }
    out
}

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer and audience: the server's public URL.
    pub issuer: String,
    /// Audience.
    pub audience: String,
    /// 64-hex Nostr key or EIP-55 address.
    pub subject: String,
    /// Issued at.
    pub issued_at: i64,
    /// Expiry.
    pub expires_at: i64,
    /// Unique id (revocation by `jti`).
    pub jti: String,
    /// The session (refresh family) id.
    pub sid: String,
    /// Login method: `siwe`, `nostr`, `portal`.
    pub amr: String,
    /// The subject's token version when issued (logout-all bumps it).
    pub ver: u64,
}

impl AccessClaims {
    /// The JWT claims object.
    pub fn to_object(&self) -> Object {
        let mut o = Object::new();
        o.insert("iss", self.issuer.as_str().into());
        o.insert("sub", self.subject.as_str().into());
        o.insert("aud", self.audience.as_str().into());
        o.insert("iat", self.issued_at.into());
        o.insert("nbf", self.issued_at.into());
        o.insert("exp", self.expires_at.into());
        o.insert("jti", self.jti.as_str().into());
        o.insert("sid", self.sid.as_str().into());
        o.insert("amr", Value::Array(vec![self.amr.as_str().into()]));
        o.insert("ver", i64::try_from(self.ver).unwrap_or(i64::MAX).into());
        o
    }

    /// Reads the session claims back from a verified token's claims.
    pub fn session_parts(claims: &Object) -> Option<(&str, &str, u64)> {
        let jti = claims.get("jti")?.as_str()?;
        let sid = claims.get("sid")?.as_str()?;
        let ver = claims.get("ver")?.as_number()?.as_exact_i64()?;
        Some((jti, sid, u64::try_from(ver).ok()?))
    }
}

/// Signs an access token with `typ: at+jwt`.
pub fn sign_access_token(key: &SigningKey, claims: &AccessClaims) -> Result<String, Error> {
    let mut header = Object::new();
    header.insert("typ", ACCESS_TOKEN_TYP.into());
    jwt::sign(key, &header, &claims.to_object())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_256_bit_and_hashed() {
        let (t, h) = new_refresh_token();
        assert_eq!(t.len(), 43);
        assert_eq!(h, refresh_hash(&t));
        let (t2, _) = new_refresh_token();
        assert_ne!(t, t2);
    }

    #[test]
    fn nonces_are_alphanumeric() {
        let n = new_nonce();
        assert_eq!(n.len(), 22);
        assert!(n.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(n, new_nonce());
    }
}
