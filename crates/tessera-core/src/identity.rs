//! The outcome of a successful verification.

use crate::error::{Error, ErrorCode, Result};
use crate::json::{self, Object, Value};
use crate::jws::Algorithm;
use serde::de::DeserializeOwned;
use std::sync::OnceLock;

/// Which credential format was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// A standard JWT (RFC 7519).
    Jwt,
    /// A Portal wallet JWT (ES256K by a Nostr key, `target_key` claim).
    Portal,
    /// A thirdweb-format wallet JWT (EIP-191 signature).
    Thirdweb,
    /// A Nostr Web Token (kind 27519).
    Nwt,
    /// A NIP-98 HTTP Auth event (kind 27235).
    Nip98,
    /// A Sign-In with Ethereum (EIP-4361) message.
    Siwe,
}

impl Format {
    /// The stable lowercase name used in JSON output and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Jwt => "jwt",
            Format::Portal => "portal",
            Format::Thirdweb => "thirdweb",
            Format::Nwt => "nwt",
            Format::Nip98 => "nip98",
            Format::Siwe => "siwe",
        }
    }
}

/// Who a credential proves, and what it says.
///
/// Read a credential's own claims as your type with
/// [`Identity::claims_as`]:
///
/// ```
/// use tessera_core::{Algorithm, Format, Identity, Object};
///
/// #[derive(serde::Deserialize)]
/// struct Claims {
///     scope: String,
/// }
///
/// let mut claims = Object::new();
/// claims.insert("scope", "read write".into());
/// let mut id = Identity::new(Format::Jwt, Algorithm::ES256, "alice");
/// id.claims = claims.into();
/// let mine: Claims = id.claims_as()?;
/// assert_eq!(mine.scope, "read write");
/// # Ok::<(), tessera_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Identity {
    /// The verified format.
    pub format: Format,
    /// The signature algorithm (`ES256`, `ES256K`, [`Algorithm::Bip340`],
    /// [`Algorithm::Eip191`], ...); [`Algorithm::name`] is its output name.
    pub alg: Algorithm,
    /// The issuer (for Nostr formats a 64-hex key, for Ethereum an EIP-55 address).
    pub issuer: Option<String>,
    /// The subject (64-hex Nostr key, EIP-55 address, or a JWT's `sub`).
    pub subject: String,
    /// Audiences the credential is addressed to.
    pub audience: Vec<String>,
    /// `exp`, when present.
    pub expires_at: Option<i64>,
    /// `nbf`, when present.
    pub not_before: Option<i64>,
    /// `iat` (or a Nostr event's `created_at`), when present.
    pub issued_at: Option<i64>,
    /// The credential's unique id: `jti`, or a Nostr event id.
    pub id: Option<String>,
    /// The key id that verified it, when the key has one.
    pub kid: Option<String>,
    /// Every claim, custom ones included (NWT repeated tags as arrays).
    /// It reads as an [`Object`] (`id.claims.get("scope")`).
    pub claims: ClaimSet,
}

impl Identity {
    /// An identity of `format`, signed with `alg`, for `subject`, with no
    /// other field set (no issuer, audience, times, id, kid or claims): for
    /// tests and for callers that build one themselves (the struct is
    /// `#[non_exhaustive]`; set the public fields after this).
    pub fn new(format: Format, alg: Algorithm, subject: impl Into<String>) -> Identity {
        Identity {
            format,
            alg,
            issuer: None,
            subject: subject.into(),
            audience: Vec::new(),
            expires_at: None,
            not_before: None,
            issued_at: None,
            id: None,
            kid: None,
            claims: ClaimSet::default(),
        }
    }

    /// Every claim read as the caller's own type `T` (serde).
    ///
    /// A claim `T` requires that is absent is `missing_claim`; a claim of
    /// another type than `T` says is `invalid_claim`. The message names the
    /// missing field but never quotes a claim's value.
    pub fn claims_as<T: DeserializeOwned>(&self) -> Result<T> {
        // Straight from the verified claims (no serde_json::Value copy);
        // `from_value` words its errors as serde_json does.
        json::from_value(Value::Object(self.claims.object().clone())).map_err(|e| {
            let text = e.to_string();
            match text.strip_prefix("missing field ") {
                // `missing field `name``: the name is `T`'s, not the credential's.
                Some(field) if !field.contains(' ') => Error::with_message(
                    ErrorCode::MissingClaim,
                    format!("the claims have no {field}"),
                ),
                _ => Error::new(
                    ErrorCode::InvalidClaim,
                    "a claim does not have the type the caller reads it as",
                ),
            }
        })
    }

    /// Bytes this identity holds on the heap beyond its own struct: its
    /// strings, audiences and claims (see `heap.rs`).
    pub(crate) fn heap_bytes(&self) -> usize {
        use crate::heap::{alloc_bytes, opt_string_bytes, string_bytes};
        let audience = self.audience.iter().fold(
            alloc_bytes(self.audience.capacity() * std::mem::size_of::<String>()),
            |sum, a| sum + string_bytes(a),
        );
        string_bytes(&self.subject)
            + opt_string_bytes(&self.issuer)
            + opt_string_bytes(&self.id)
            + opt_string_bytes(&self.kid)
            + audience
            + self.claims.heap_bytes()
    }
}

/// Every claim of a verified credential, read as an [`Object`] through
/// `Deref`.
///
/// A JWT's claims are kept as the payload text that verification checked
/// (the whole document, every rule of the strict reader) and are built into
/// an `Object` the first time they are read, once: a caller that needs only
/// the typed fields of [`Identity`] never pays for building the rest.
#[derive(Clone, Default)]
pub struct ClaimSet {
    /// The checked JSON object text, when the object is built lazily.
    text: Option<Vec<u8>>,
    object: OnceLock<Object>,
}

impl ClaimSet {
    /// Claims kept as `text`, which verification read and accepted
    /// ([`json::flat_object`] or [`json::skim_object`], so
    /// [`json::read_object`] accepts it too).
    pub(crate) fn checked_text(text: Vec<u8>) -> ClaimSet {
        ClaimSet {
            text: Some(text),
            object: OnceLock::new(),
        }
    }

    /// The claims as an object (built on first use).
    pub fn object(&self) -> &Object {
        self.object.get_or_init(|| {
            let text = self.text.as_deref().unwrap_or(b"{}");
            let parsed = json::read_object(text);
            // Unreachable: the text passed the same reader when it was
            // verified. An empty set fails closed (every claim absent).
            debug_assert!(parsed.is_ok(), "checked claims no longer parse");
            parsed.unwrap_or_default()
        })
    }

    /// Bytes these claims hold on the heap: the checked text and, once
    /// built, the object (see `heap.rs`).
    pub(crate) fn heap_bytes(&self) -> usize {
        let text = self
            .text
            .as_ref()
            .map_or(0, |t| crate::heap::alloc_bytes(t.capacity()));
        text + self.object.get().map_or(0, Object::heap_bytes)
    }

    /// The claims as an owned object.
    pub fn into_object(self) -> Object {
        self.object();
        self.object.into_inner().unwrap_or_default()
    }
}

impl From<Object> for ClaimSet {
    fn from(object: Object) -> ClaimSet {
        ClaimSet {
            text: None,
            object: OnceLock::from(object),
        }
    }
}

impl std::ops::Deref for ClaimSet {
    type Target = Object;
    fn deref(&self) -> &Object {
        self.object()
    }
}

impl PartialEq for ClaimSet {
    fn eq(&self, other: &ClaimSet) -> bool {
        self.object() == other.object()
    }
}

impl PartialEq<Object> for ClaimSet {
    fn eq(&self, other: &Object) -> bool {
        self.object() == other
    }
}

impl std::fmt::Debug for ClaimSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.object().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Mine {
        sub: String,
        scope: String,
        #[serde(default)]
        level: Option<u8>,
    }

    fn with_claims(text: &[u8]) -> Identity {
        let mut id = Identity::new(Format::Jwt, Algorithm::ES256, "a");
        id.claims = ClaimSet::checked_text(text.to_vec());
        id
    }

    #[test]
    fn claims_read_as_the_callers_type() {
        let id = with_claims(br#"{"sub":"a","scope":"read","level":3,"extra":[1]}"#);
        assert_eq!(
            id.claims_as::<Mine>().unwrap(),
            Mine {
                sub: "a".into(),
                scope: "read".into(),
                level: Some(3),
            }
        );
    }

    #[test]
    fn a_claim_of_the_wrong_type_is_an_invalid_claim_without_its_value() {
        for text in [
            &br#"{"sub":"a","scope":"read","level":"secret-ish"}"#[..],
            br#"{"sub":"a","scope":42}"#,
            br#"{"sub":"a","scope":"read","level":300}"#,
            br#"{"sub":"a","scope":"read","level":-1.5}"#,
        ] {
            let e = with_claims(text).claims_as::<Mine>().unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidClaim, "{e}");
            assert!(!e.message().contains("secret-ish") && !e.message().contains("42"));
        }
        // Not an object at all for a type that wants a number.
        let e = with_claims(br#"{"sub":"a"}"#)
            .claims_as::<u64>()
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidClaim);
    }

    #[test]
    fn a_missing_claim_is_a_missing_claim() {
        let e = with_claims(br#"{"sub":"a"}"#)
            .claims_as::<Mine>()
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::MissingClaim);
        assert!(e.message().contains("scope"), "{e}");
    }

    #[test]
    fn a_claim_set_reads_the_same_from_text_or_object() {
        let text = br#"{"sub":"a","scope":"read write","n":{"x":[1,2]}}"#;
        let parsed = json::parse_object(text).unwrap();
        let lazy = ClaimSet::checked_text(text.to_vec());
        let eager = ClaimSet::from(parsed.clone());
        // Read through `Deref` like an `Object`, equal to it and to each other.
        assert_eq!(lazy.get("scope"), Some(&Value::from("read write")));
        assert_eq!(lazy.len(), 3);
        assert_eq!(lazy, parsed);
        assert_eq!(lazy, eager);
        assert_eq!(format!("{lazy:?}"), format!("{parsed:?}"));
        // A clone carries the text (or the built object) with it.
        assert_eq!(ClaimSet::checked_text(text.to_vec()).clone(), parsed);
        assert_eq!(lazy.clone().into_object(), parsed);
        assert_eq!(ClaimSet::checked_text(text.to_vec()).into_object(), parsed);
        assert_eq!(eager.into_object(), parsed);
        assert!(ClaimSet::default().is_empty());
    }
}
