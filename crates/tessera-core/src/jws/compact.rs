//! Compact JWS: `b64url(header).b64url(payload).b64url(signature)` (RFC 7515 §7.1).

use super::Algorithm;
use crate::encoding::{b64url_decode, b64url_decode_to_slice, b64url_encode};
use crate::error::{Error, ErrorCode, Result};
use crate::json::{self, Object, Value};
use crate::keys::{KeySet, SigningKey, VerifyingKey};
use crate::policy::Policy;
use std::sync::Arc;

/// A parsed, strictly validated JOSE header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// `alg`, already refused if `none` or unknown.
    pub alg: Algorithm,
    /// `kid`, a selector among configured keys.
    pub kid: Option<String>,
    /// `typ`.
    pub typ: Option<String>,
    /// Every member, as parsed.
    pub raw: Object,
}

impl Header {
    /// Validates a decoded header document.
    pub fn parse(bytes: &[u8]) -> Result<Header> {
        let raw = json::parse_object(bytes)?;
        let alg = match raw.get("alg") {
            Some(Value::String(s)) => Algorithm::from_header(s)?,
            Some(_) => return Err(Error::malformed("header `alg` must be a string")),
            None => return Err(Error::malformed("header has no `alg`")),
        };
        if let Some(crit) = raw.get("crit") {
            // RFC 7515 §4.1.11: a non-empty array of names; tessera implements
            // no extension, so any listed name is refused.
            match crit.as_array() {
                Some(list) if !list.is_empty() && list.iter().all(|v| v.as_str().is_some()) => {
                    return Err(Error::with_message(
                        ErrorCode::CritUnsupported,
                        format!(
                            "header `crit` names extensions tessera does not implement: {}",
                            list.iter()
                                .filter_map(Value::as_str)
                                .map(|s| super::truncate(s, 32))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ))
                }
                _ => {
                    return Err(Error::malformed(
                        "header `crit` must be a non-empty array of strings",
                    ))
                }
            }
        }
        match raw.get("b64") {
            None | Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => {
                return Err(Error::new(
                    ErrorCode::CritUnsupported,
                    "unencoded payloads (`b64: false`, RFC 7797) are refused",
                ))
            }
            Some(_) => return Err(Error::malformed("header `b64` must be a boolean")),
        }
        let kid = opt_string(&raw, "kid")?;
        let typ = opt_string(&raw, "typ")?;
        Ok(Header { alg, kid, typ, raw })
    }
}

fn opt_string(o: &Object, name: &str) -> Result<Option<String>> {
    match o.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::with_message(
            ErrorCode::Malformed,
            format!("header `{name}` must be a string"),
        )),
    }
}

/// A decoded compact JWS whose signature has not been checked yet.
#[derive(Debug, Clone)]
pub struct UnverifiedJws<'a> {
    /// The validated header (shared with the verifier's [`HeaderMemo`]).
    pub header: Arc<Header>,
    /// `header.payload` as received: the bytes the signature covers.
    pub signing_input: &'a [u8],
    /// The decoded payload.
    pub payload: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// Splits and decodes a compact JWS strictly. The size limit is checked
/// before anything else.
pub fn decode(token: &str, max_size: usize) -> Result<UnverifiedJws<'_>> {
    decode_with(token, max_size, None)
}

/// Headers longer than this (as base64url text) are parsed every time.
const MEMO_MAX_HEADER: usize = 256;

/// A bounded memo of validated JOSE headers, by their exact base64url text.
///
/// A service sees the same few headers (`{"alg":"RS256","typ":"JWT","kid":..}`)
/// on every token; decoding and validating one costs about as much as the
/// rest of the token's parsing. This is pure memoization: an entry is what
/// [`Header::parse`] returned for exactly that text, so it decides nothing
/// (the signature, key choice and every check still run). Only headers that
/// passed are kept, at most `capacity` of them of at most 256 characters;
/// when full the memo is emptied and starts again. Its hash is fast and
/// unkeyed: with at most `capacity` entries, headers made to collide cost
/// at most that many comparisons a lookup (keep `capacity` small; the
/// verifier's holds 64).
pub struct HeaderMemo(crate::memo::Memo<Vec<u8>, Arc<Header>, crate::memo::WordHash>);

impl HeaderMemo {
    /// An empty memo of at most `capacity` headers.
    pub fn new(capacity: usize) -> Self {
        HeaderMemo(crate::memo::Memo::new(capacity))
    }

    fn header(&self, text: &[u8]) -> Result<Arc<Header>> {
        let parse = || Ok(Arc::new(Header::parse(&b64url_decode(text)?)?));
        if text.len() > MEMO_MAX_HEADER {
            return parse();
        }
        self.0.get_or_compute(text, parse)
    }

    /// Headers held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no header is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for HeaderMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeaderMemo")
            .field("capacity", &self.0.capacity())
            .field("len", &self.len())
            .finish()
    }
}

/// As [`decode`], taking the header from `memo` when it has seen the same
/// header text before.
pub fn decode_with<'t>(
    token: &'t str,
    max_size: usize,
    memo: Option<&HeaderMemo>,
) -> Result<UnverifiedJws<'t>> {
    let mut signature = Signature::new();
    let (header, signing_input, payload) = decode_parts(token, max_size, memo, &mut signature)?;
    Ok(UnverifiedJws {
        header,
        signing_input,
        payload,
        signature: signature.bytes().to_vec(),
    })
}

/// Signatures up to this many bytes are decoded on the stack: every EC and
/// EdDSA signature, and RSA up to 4096 bits (the buffer is zeroed on every
/// verification, so it is no larger than that).
const INLINE_SIGNATURE: usize = 512;

/// A decoded signature, on the stack when it fits.
pub(crate) struct Signature {
    inline: [u8; INLINE_SIGNATURE],
    len: usize,
    heap: Vec<u8>,
}

impl Signature {
    pub(crate) fn new() -> Self {
        Signature {
            inline: [0; INLINE_SIGNATURE],
            len: 0,
            heap: Vec::new(),
        }
    }

    fn decode(&mut self, text: &[u8]) -> Result<()> {
        // `text.len() / 4 * 3 + 2` bounds the decoded length.
        if text.len() / 4 * 3 + 2 <= INLINE_SIGNATURE {
            self.len = b64url_decode_to_slice(text, &mut self.inline)?;
        } else {
            self.heap = b64url_decode(text)?;
        }
        Ok(())
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        if self.heap.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

/// Splits and decodes a compact JWS strictly: the header (from `memo` when
/// it has seen the text), the signing input, the decoded payload, and the
/// signature decoded into `signature`.
pub(crate) fn decode_parts<'t>(
    token: &'t str,
    max_size: usize,
    memo: Option<&HeaderMemo>,
    signature: &mut Signature,
) -> Result<(Arc<Header>, &'t [u8], Vec<u8>)> {
    if token.len() > max_size {
        return Err(Error::with_message(
            ErrorCode::TokenTooLarge,
            format!(
                "the credential is {} bytes; the limit is {max_size}",
                token.len()
            ),
        ));
    }
    let bytes = token.as_bytes();
    let parts =
        || Error::malformed("a compact JWS has exactly three base64url parts separated by '.'");
    let d1 = crate::swar::find(bytes, b'.');
    let d2 = d1.and_then(|d1| crate::swar::find(&bytes[d1 + 1..], b'.').map(|i| d1 + 1 + i));
    let (Some(d1), Some(d2)) = (d1, d2) else {
        return Err(parts());
    };
    let (h, p, s) = (&bytes[..d1], &bytes[d1 + 1..d2], &bytes[d2 + 1..]);
    // A third '.' is an error before any other. A valid token is not
    // scanned for one: its signature decodes, and '.' is not base64url.
    // Only when a step fails is the last part searched, so that the error
    // reported is the same as if it had been searched first.
    let first = |e: Error| if s.contains(&b'.') { parts() } else { e };
    if h.is_empty() {
        return Err(first(Error::malformed("the JWS header is empty")));
    }
    let header = match memo {
        Some(memo) => memo.header(h),
        None => b64url_decode(h)
            .and_then(|h| Header::parse(&h))
            .map(Arc::new),
    }
    .map_err(first)?;
    let payload = b64url_decode(p).map_err(first)?;
    signature.decode(s).map_err(first)?;
    Ok((header, &bytes[..d2], payload))
}

impl UnverifiedJws<'_> {
    /// Checks the signature with the key the key set selects; the header's
    /// `alg` must equal that key's pinned algorithm and pass the policy.
    pub fn verify<'k>(&self, keys: &'k KeySet, policy: &Policy) -> Result<&'k VerifyingKey> {
        verify_signature(
            &self.header,
            self.signing_input,
            &self.signature,
            keys,
            policy,
        )
    }
}

/// Checks `signature` over `signing_input` with the key the key set
/// selects for `header`; the header's `alg` must equal that key's pinned
/// algorithm and pass the policy.
pub(crate) fn verify_signature<'k>(
    header: &Header,
    signing_input: &[u8],
    signature: &[u8],
    keys: &'k KeySet,
    policy: &Policy,
) -> Result<&'k VerifyingKey> {
    let alg = header.alg;
    if !policy.allows_algorithm(alg) {
        return Err(Error::with_message(
            ErrorCode::AlgorithmNotAllowed,
            format!("{alg} is not among the allowed algorithms"),
        ));
    }
    let kid = header.kid.as_deref();
    let mut last = Error::new(ErrorCode::UnknownKey, "no key matched");
    for key in keys.candidates_iter(alg, kid)? {
        match key.verify(signing_input, signature) {
            Ok(()) => return Ok(key),
            Err(e) => last = e,
        }
    }
    Err(keys.none_verified(alg, kid, last))
}

/// Signs `payload` as a compact JWS with `key`; `extra` header members
/// (such as `typ`) are added after `alg` and `kid`.
pub fn sign(key: &SigningKey, extra_header: &Object, payload: &[u8]) -> Result<String> {
    let mut header = Object::new();
    header.insert("alg", key.algorithm().name().into());
    if let Some(kid) = key.kid() {
        header.insert("kid", kid.into());
    }
    for (k, v) in extra_header.iter() {
        if k == "alg" || k == "kid" {
            continue;
        }
        header.insert(k, v.clone());
    }
    let mut out = b64url_encode(Value::Object(header).to_json().as_bytes());
    out.push('.');
    out.push_str(&b64url_encode(payload));
    let signature = key.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&b64url_encode(&signature));
    Ok(out)
}
