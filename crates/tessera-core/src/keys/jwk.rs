//! JSON Web Keys (RFC 7517) and JWK Sets.

use super::{key_error, mismatch, needs_alg, PublicParts, VerifyingKey};
use crate::encoding::{b64url_decode, b64url_encode};
use crate::error::{Error, ErrorCode, Result};
use crate::json::{self, Object, Value};
use crate::jws::{Algorithm, Curve, KeyFamily};

/// Largest JWK or JWK Set document accepted, bytes.
pub const MAX_JWKS_LEN: usize = 256 * 1024;
/// Most keys a JWK Set may hold.
pub const MAX_JWKS_KEYS: usize = 100;

/// What a JWK may be used for, from its `use` and `key_ops` members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwkUse {
    /// Signing or verifying.
    Signature,
}

pub(crate) fn member_str<'a>(o: &'a Object, name: &str) -> Result<Option<&'a str>> {
    match o.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(key_error(format!("JWK member `{name}` must be a string"))),
    }
}

pub(crate) fn member_b64(o: &Object, name: &str) -> Result<Vec<u8>> {
    let s = member_str(o, name)?.ok_or_else(|| key_error(format!("JWK lacks `{name}`")))?;
    b64url_decode(s.as_bytes())
        .map_err(|_| key_error(format!("JWK `{name}` is not canonical base64url")))
}

/// Checks `use`/`key_ops` allow signatures, and reconciles `alg` with the
/// caller's pin. Returns the pinned algorithm when one is known.
pub(crate) fn check_common(o: &Object, pin: Option<Algorithm>) -> Result<Option<Algorithm>> {
    if let Some(u) = member_str(o, "use")? {
        if u != "sig" {
            return Err(key_error(format!(
                "JWK `use` is {u:?}; only \"sig\" keys verify signatures"
            )));
        }
    }
    if let Some(ops) = o.get("key_ops") {
        let ops = ops
            .as_array()
            .ok_or_else(|| key_error("JWK `key_ops` must be an array"))?;
        let mut allowed = false;
        for op in ops {
            match op.as_str() {
                Some("verify" | "sign") => allowed = true,
                Some(_) => {}
                None => return Err(key_error("JWK `key_ops` must hold strings")),
            }
        }
        if !allowed {
            return Err(key_error("JWK `key_ops` allows neither sign nor verify"));
        }
    }
    let stated = match member_str(o, "alg")? {
        Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| {
            Error::with_message(
                ErrorCode::UnsupportedAlgorithm,
                format!(
                    "JWK `alg` {:?} is not a supported signature algorithm",
                    crate::jws::truncate(name, 32)
                ),
            )
        })?),
        None => None,
    };
    match (stated, pin) {
        (Some(s), Some(p)) if s != p => Err(Error::with_message(
            ErrorCode::AlgorithmNotAllowed,
            format!("the JWK is pinned to {s}, not {p}"),
        )),
        (Some(s), _) => Ok(Some(s)),
        (None, p) => Ok(p),
    }
}

/// Whether a JWK is meant for encryption only (see
/// [`KeySet::from_published_jwks`]). Members of the wrong type are not
/// judged here: the signing-key rules refuse them.
fn is_encryption_key(o: &Object) -> bool {
    if let Some(Value::String(u)) = o.get("use") {
        if u != "sig" {
            return true;
        }
    }
    if let Some(Value::Array(ops)) = o.get("key_ops") {
        let signs = ops
            .iter()
            .any(|op| matches!(op.as_str(), Some("sign" | "verify")));
        if !signs && ops.iter().all(|op| op.as_str().is_some()) {
            return true;
        }
    }
    if let Some(Value::String(alg)) = o.get("alg") {
        let jwe = alg.starts_with("RSA-OAEP")
            || alg == "RSA1_5"
            || alg.starts_with("ECDH-ES")
            || alg == "dir"
            || alg.starts_with("PBES2")
            || (alg.starts_with('A') && (alg.ends_with("KW") || alg.ends_with("GCMKW")));
        if jwe {
            return true;
        }
    }
    matches!(
        (o.get("kty"), o.get("crv")),
        (Some(Value::String(kty)), Some(Value::String(crv)))
            if kty == "OKP" && (crv == "X25519" || crv == "X448")
    )
}

pub(crate) fn parse_curve(name: &str) -> Result<Curve> {
    match name {
        "P-256" => Ok(Curve::P256),
        "P-384" => Ok(Curve::P384),
        "P-521" => Ok(Curve::P521),
        "secp256k1" => Ok(Curve::Secp256k1),
        other => Err(key_error(format!(
            "unsupported curve {:?}",
            crate::jws::truncate(other, 32)
        ))),
    }
}

impl VerifyingKey {
    /// A key from a JWK object (a private JWK yields its public half; an
    /// `oct` JWK an HMAC key). `pin` names the algorithm when the JWK has no
    /// `alg` and its type does not imply one.
    pub fn from_jwk_object(o: &Object, pin: Option<Algorithm>) -> Result<Self> {
        let alg = check_common(o, pin)?;
        let kty = member_str(o, "kty")?.ok_or_else(|| key_error("JWK lacks `kty`"))?;
        let key = match kty {
            "oct" => {
                let alg = alg.ok_or_else(|| needs_alg("an HMAC secret"))?;
                if !alg.is_hmac() {
                    return Err(mismatch(alg, "an `oct` (secret) key"));
                }
                VerifyingKey::hmac(alg, &member_b64(o, "k")?)?
            }
            "RSA" => {
                let alg = alg.ok_or_else(|| needs_alg("an RSA key"))?;
                if alg.key_family() != KeyFamily::Rsa {
                    return Err(mismatch(alg, "an RSA key"));
                }
                VerifyingKey::rsa(alg, &member_b64(o, "n")?, &member_b64(o, "e")?)?
            }
            "EC" => {
                let curve = parse_curve(
                    member_str(o, "crv")?.ok_or_else(|| key_error("EC JWK lacks `crv`"))?,
                )?;
                let alg = alg.unwrap_or(curve.algorithm());
                VerifyingKey::ec(alg, curve, &member_b64(o, "x")?, &member_b64(o, "y")?)?
            }
            "OKP" => {
                match member_str(o, "crv")? {
                    Some("Ed25519") => {}
                    _ => return Err(key_error("only OKP keys on Ed25519 are supported")),
                }
                let alg = alg.unwrap_or(Algorithm::EdDSA);
                if alg != Algorithm::EdDSA {
                    return Err(mismatch(alg, "an Ed25519 key"));
                }
                VerifyingKey::ed25519(&member_b64(o, "x")?)?
            }
            other => {
                return Err(key_error(format!(
                    "unsupported JWK `kty` {:?}",
                    crate::jws::truncate(other, 16)
                )))
            }
        };
        Ok(match member_str(o, "kid")? {
            Some(kid) => key.with_kid(kid),
            None => key,
        })
    }

    /// A key from JWK text.
    pub fn from_jwk(text: &str, pin: Option<Algorithm>) -> Result<Self> {
        if text.len() > MAX_JWKS_LEN {
            return Err(key_error("JWK is too large"));
        }
        Self::from_jwk_object(&json::parse_object(text.as_bytes())?, pin)
    }
}

/// Most keys tried for one token: a set of many keys without `kid` (or a
/// token without `kid` against many keys of its algorithm) cannot make one
/// token cost more than this many signature checks (formats.md §1).
pub const MAX_CANDIDATES: usize = 4;

/// A set of verifying keys, looked up by `kid` and algorithm.
///
/// Rules (formats.md §1): every key is pinned to one algorithm, and only
/// keys pinned to the header's algorithm are candidates. A `kid` in the
/// header only *selects*: a key that has a `kid` is a candidate only for
/// tokens naming that `kid` (or none); a key without one (a PEM file, a JWK
/// without `kid`, a secret) is a candidate for any `kid`, as in jose, PyJWT
/// and jsonwebtoken. Keys whose `kid` matches come first, and at most
/// [`MAX_CANDIDATES`] keys are tried per token. Two keys of one algorithm
/// may not share a `kid`; a set read from a JWK Set document may not mix
/// secret and public keys (that would make the header decide which kind of
/// key verifies).
///
/// ```
/// use tessera_core::{Algorithm, ErrorCode, KeySet, SigningKey, Value};
///
/// let key = SigningKey::generate(Algorithm::ES256)?;
/// let mut keys = KeySet::new();
/// keys.push(key.verifying_key()?.with_kid("2024-01"))?;
/// // What `to_public_jwks` publishes, `from_jwks` reads back.
/// let published = Value::Object(keys.to_public_jwks()).to_json();
/// let read = KeySet::from_jwks(&published, None)?;
/// assert_eq!(read.keys()[0].kid(), Some("2024-01"));
/// assert_eq!(read.keys()[0].algorithm(), Algorithm::ES256);
/// // Two keys of one algorithm may not share a `kid`.
/// let again = SigningKey::generate(Algorithm::ES256)?;
/// assert!(keys.push(again.verifying_key()?.with_kid("2024-01")).is_err());
/// // A JWK Set that is not one is refused with a stable code.
/// let e = KeySet::from_jwks(r#"{"keys":"none"}"#, None).unwrap_err();
/// assert_eq!(e.code(), ErrorCode::Malformed);
/// # Ok::<(), tessera_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        KeySet::default()
    }

    /// Adds a key; refuses a second key with the same `kid` and algorithm
    /// (one key material may be listed once per algorithm it is pinned to).
    pub fn push(&mut self, key: VerifyingKey) -> Result<()> {
        if let Some(kid) = key.kid() {
            if self
                .keys
                .iter()
                .any(|k| k.kid() == Some(kid) && k.algorithm() == key.algorithm())
            {
                return Err(key_error(format!(
                    "two {} keys share the kid {:?}; kids must be unique",
                    key.algorithm(),
                    crate::jws::truncate(kid, 64)
                )));
            }
        }
        if self.keys.len() >= MAX_JWKS_KEYS {
            return Err(key_error("too many keys"));
        }
        self.keys.push(key);
        Ok(())
    }

    /// A set with one key.
    pub fn single(key: VerifyingKey) -> Self {
        KeySet { keys: vec![key] }
    }

    /// Reads a JWK Set (`{"keys":[...]}`) document. `pin` applies to keys
    /// without `alg` whose type does not imply one.
    pub fn from_jwks(text: &str, pin: Option<Algorithm>) -> Result<Self> {
        if text.len() > MAX_JWKS_LEN {
            return Err(key_error("JWK Set is too large"));
        }
        let doc = json::parse_object(text.as_bytes())?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| key_error("a JWK Set needs a `keys` array"))?;
        let mut set = KeySet::new();
        for k in keys {
            let o = k
                .as_object()
                .ok_or_else(|| key_error("JWK Set members must be objects"))?;
            set.push(VerifyingKey::from_jwk_object(o, pin)?)?;
        }
        let secrets = set.keys.iter().filter(|k| k.is_secret()).count();
        if secrets > 0 && secrets < set.keys.len() {
            return Err(key_error(
                "a JWK Set may not mix secret (oct) keys with public keys",
            ));
        }
        Ok(set)
    }

    /// Reads a JWK Set an issuer *publishes* (its `jwks_uri`): as
    /// [`KeySet::from_jwks`], except that keys meant for encryption are
    /// skipped instead of refusing the whole set, since issuers publish
    /// them next to their signing keys (RFC 7517 §4.2). A key is skipped
    /// when its `use` is not `"sig"`, its `key_ops` allow neither `sign`
    /// nor `verify`, its `alg` is a JWE key-management algorithm
    /// (`RSA-OAEP*`, `RSA1_5`, `ECDH-ES*`, `A*KW`, `dir`, ...), or it is an
    /// `OKP` key on X25519/X448. Every other key obeys every rule of
    /// [`KeySet::from_jwks`] (one bad signing key still refuses the set).
    /// Returns the set and how many keys were skipped.
    pub fn from_published_jwks(text: &str, pin: Option<Algorithm>) -> Result<(Self, usize)> {
        if text.len() > MAX_JWKS_LEN {
            return Err(key_error("JWK Set is too large"));
        }
        let doc = json::parse_object(text.as_bytes())?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| key_error("a JWK Set needs a `keys` array"))?;
        let mut kept = Vec::with_capacity(keys.len());
        for k in keys {
            let o = k
                .as_object()
                .ok_or_else(|| key_error("JWK Set members must be objects"))?;
            if !is_encryption_key(o) {
                kept.push(Value::Object(o.clone()));
            }
        }
        let skipped = keys.len() - kept.len();
        let mut filtered = Object::new();
        filtered.insert("keys", Value::Array(kept));
        let set = Self::from_jwks(&Value::Object(filtered).to_json(), pin)?;
        Ok((set, skipped))
    }

    /// The keys.
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The candidate keys for a token with header `alg` and optional
    /// `kid`, in the order they are tried (at most [`MAX_CANDIDATES`]).
    pub fn candidates(&self, alg: Algorithm, kid: Option<&str>) -> Result<Vec<&VerifyingKey>> {
        self.candidates_iter(alg, kid).map(Iterator::collect)
    }

    /// As [`KeySet::candidates`], without collecting (the verification hot
    /// path): the keys pinned to `alg` whose `kid` equals the token's (all
    /// of them for a token without `kid`), then those pinned to `alg` that
    /// have no `kid`, at most [`MAX_CANDIDATES`] in all. No candidate is an
    /// error, worked out by [`KeySet::miss`].
    pub(crate) fn candidates_iter<'a, 'b>(
        &'a self,
        alg: Algorithm,
        kid: Option<&'b str>,
    ) -> Result<impl Iterator<Item = &'a VerifyingKey> + use<'a, 'b>> {
        let named =
            move |k: &&VerifyingKey| k.algorithm() == alg && (kid.is_none() || k.kid() == kid);
        // Only for a token with a `kid`: the keys that have none.
        let unnamed =
            move |k: &&VerifyingKey| kid.is_some() && k.kid().is_none() && k.algorithm() == alg;
        let mut keys = self
            .keys
            .iter()
            .filter(named)
            .chain(self.keys.iter().filter(unnamed))
            .take(MAX_CANDIDATES)
            .peekable();
        if keys.peek().is_none() {
            return Err(self.miss(alg, kid));
        }
        Ok(keys)
    }

    /// The error for a token whose candidates all failed with `last`: when
    /// the bound left keys untried, the message says so (the operator's fix
    /// is to give keys a `kid`).
    #[cold]
    #[inline(never)]
    pub(crate) fn none_verified(&self, alg: Algorithm, kid: Option<&str>, last: Error) -> Error {
        let pinned = self
            .keys
            .iter()
            .filter(|k| {
                k.algorithm() == alg && (kid.is_none() || k.kid().is_none_or(|k| Some(k) == kid))
            })
            .count();
        if pinned <= MAX_CANDIDATES || last.code() != ErrorCode::BadSignature {
            return last;
        }
        Error::with_message(
            ErrorCode::BadSignature,
            format!(
                "the signature verifies with none of the {MAX_CANDIDATES} keys tried; {pinned} configured keys could match, but at most {MAX_CANDIDATES} are tried per token: give the keys a `kid` and have tokens name it"
            ),
        )
    }

    /// Why no key is a candidate for a token with `alg` and `kid`.
    #[cold]
    #[inline(never)]
    fn miss(&self, alg: Algorithm, kid: Option<&str>) -> Error {
        if self.keys.is_empty() {
            return Error::new(ErrorCode::UnknownKey, "no keys are configured");
        }
        let Some(kid) = kid else {
            return Error::with_message(
                ErrorCode::AlgorithmNotAllowed,
                format!("no configured key is pinned to {alg}"),
            );
        };
        // The kid comes from an unverified header: shown cut, and escaped
        // to printable ASCII (it may reach a log line or an HTTP header).
        let shown = format!("\"{}\"", crate::jws::truncate(kid, 64).escape_default());
        match self.keys.iter().find(|k| k.kid() == Some(kid)) {
            Some(k) => Error::with_message(
                ErrorCode::AlgorithmNotAllowed,
                format!(
                    "the key with kid {shown} is pinned to {}, not the header's {alg}, and no key without a kid is pinned to {alg}",
                    k.algorithm()
                ),
            ),
            None => Error::with_message(
                ErrorCode::UnknownKey,
                format!(
                    "no configured key has kid {shown}, and no key without a kid is pinned to {alg}"
                ),
            ),
        }
    }

    /// The public JWK Set of this key set (secrets are never included).
    pub fn to_public_jwks(&self) -> Object {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .filter_map(|k| k.to_public_jwk().map(Value::Object))
            .collect();
        let mut o = Object::new();
        o.insert("keys", Value::Array(keys));
        o
    }
}

pub(crate) fn public_jwk(alg: Algorithm, kid: Option<&str>, parts: &PublicParts) -> Option<Object> {
    let mut o = Object::new();
    match parts {
        PublicParts::Secret => return None,
        PublicParts::Rsa { n, e } => {
            o.insert("kty", "RSA".into());
            o.insert("n", b64url_encode(n).into());
            o.insert("e", b64url_encode(e).into());
        }
        PublicParts::Ec { curve, x, y } => {
            o.insert("kty", "EC".into());
            o.insert("crv", curve.name().into());
            o.insert("x", b64url_encode(x).into());
            o.insert("y", b64url_encode(y).into());
        }
        PublicParts::Ed25519 { x } => {
            o.insert("kty", "OKP".into());
            o.insert("crv", "Ed25519".into());
            o.insert("x", b64url_encode(x).into());
        }
    }
    o.insert("alg", alg.name().into());
    o.insert("use", "sig".into());
    if let Some(kid) = kid {
        o.insert("kid", kid.into());
    }
    Some(o)
}

/// RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
pub(crate) fn thumbprint(parts: &PublicParts) -> Option<String> {
    let canonical = match parts {
        PublicParts::Secret => return None,
        PublicParts::Rsa { n, e } => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            b64url_encode(e),
            b64url_encode(n)
        ),
        PublicParts::Ec { curve, x, y } => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            curve.name(),
            b64url_encode(x),
            b64url_encode(y)
        ),
        PublicParts::Ed25519 { x } => {
            format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                b64url_encode(x)
            )
        }
    };
    Some(b64url_encode(&crate::sha::sha256(canonical.as_bytes())))
}
