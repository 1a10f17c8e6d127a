//! Nostr events (NIP-01): strict parsing, id recomputation, BIP-340
//! signatures, signing, and the `Authorization: Nostr …` transport.
//!
//! Parsing is strict (formats.md §3): the seven NIP-01 members are all
//! required, each with its one type; `id`, `pubkey` and `sig` are lowercase
//! hex of the right length; every tag element is a string; `created_at` is a
//! non-negative integer written without fraction or exponent; `kind` is an
//! integer in `0..=65535`. Members other than the seven are refused
//! (`malformed`): they are not covered by the signature, so a credential
//! carrying them carries unsigned data a consumer might mistake for signed.

mod reader;

use super::keys::{NostrPublicKey, NostrSecretKey};
use crate::encoding::{b64_either_decode, hex_decode_lower_array, hex_encode};
use crate::error::{Error, ErrorCode, Result};
use crate::json::{self, Number, Value};
use crate::policy::Policy;
use crate::sha::{constant_time_eq, sha256};

/// The NIP-01 members of an event, in the order [`Event::to_json`] writes them.
const MEMBERS: [&str; 7] = [
    "id",
    "pubkey",
    "created_at",
    "kind",
    "tags",
    "content",
    "sig",
];

/// A Nostr event as received: typed, not yet verified.
///
/// Call [`Event::verify`] (the NWT and NIP-98 verifiers do) before trusting
/// anything in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The stated id: SHA-256 of the NIP-01 serialisation (checked by `verify`).
    pub id: [u8; 32],
    /// The signer's x-only key.
    pub pubkey: NostrPublicKey,
    /// Unix seconds, non-negative.
    pub created_at: i64,
    /// The event kind.
    pub kind: u16,
    /// Tags: arrays of strings.
    pub tags: Vec<Vec<String>>,
    /// The content string.
    pub content: String,
    /// The BIP-340 signature over the 32 id bytes.
    pub sig: [u8; 64],
}

fn member<'a>(o: &'a json::Object, name: &'static str) -> Result<&'a Value> {
    o.get(name).ok_or_else(|| {
        Error::with_message(
            ErrorCode::Malformed,
            format!("the Nostr event has no `{name}`"),
        )
    })
}

fn hex_member<const N: usize>(o: &json::Object, name: &'static str) -> Result<[u8; N]> {
    let text = member(o, name)?.as_str().ok_or_else(|| {
        Error::with_message(ErrorCode::Malformed, format!("`{name}` must be a string"))
    })?;
    hex_decode_lower_array::<N>(text).map_err(|_| {
        Error::with_message(
            ErrorCode::Malformed,
            format!("`{name}` must be {} lowercase hex characters", 2 * N),
        )
    })
}

impl Event {
    /// Parses an event from its JSON text, strictly (see the module docs).
    /// Does not verify it. The caller bounds the input size.
    pub fn from_json(input: &[u8]) -> Result<Event> {
        Self::from_json_with(input, NostrPublicKey::from_bytes)
    }

    /// As [`Event::from_json`], reading `pubkey` with `lift` (which must
    /// behave as [`NostrPublicKey::from_bytes`]; the verifier passes its
    /// [`super::keys::KeyMemo`]).
    pub fn from_json_with(
        input: &[u8],
        lift: impl FnOnce([u8; 32]) -> Result<NostrPublicKey>,
    ) -> Result<Event> {
        Self::read(input, lift, false).map(|(event, _)| event)
    }

    /// As [`Event::from_json_with`], with SHA-256 of the event's NIP-01
    /// serialisation (what [`Event::compute_id`] returns). The usual event
    /// is read in one pass and its id hashed from its own text (see
    /// `reader`); anything else by the strict reader, with the id computed
    /// from the fields. The same event, or the same error, either way.
    pub(crate) fn read_for_verification(
        input: &[u8],
        lift: impl FnOnce([u8; 32]) -> Result<NostrPublicKey>,
    ) -> Result<(Event, [u8; 32])> {
        let (event, computed) = Self::read(input, lift, true)?;
        let computed = computed.unwrap_or_else(|| event.compute_id());
        Ok((event, computed))
    }

    /// The one-pass reader when it reads the input, else the strict one;
    /// with `hash`, the id hashed from the text when the one-pass reader
    /// read it.
    fn read(
        input: &[u8],
        lift: impl FnOnce([u8; 32]) -> Result<NostrPublicKey>,
        hash: bool,
    ) -> Result<(Event, Option<[u8; 32]>)> {
        let Some(raw) = reader::read(input) else {
            return Self::read_strict(input, lift).map(|event| (event, None));
        };
        // Every member is well formed: the lift is the only check left,
        // and the strict reader would report its error first too.
        let pubkey = lift(raw.pubkey)?;
        let computed = hash.then(|| raw.id_hash());
        let event = Event {
            id: raw.id,
            pubkey,
            created_at: raw.created_at,
            kind: raw.kind,
            content: raw.content.to_owned(),
            tags: raw.tags,
            sig: raw.sig,
        };
        Ok((event, computed))
    }

    /// The strict reader (see the module docs): every rule, every error.
    fn read_strict(
        input: &[u8],
        lift: impl FnOnce([u8; 32]) -> Result<NostrPublicKey>,
    ) -> Result<Event> {
        let mut o = json::parse_object(input).map_err(|e| {
            Error::with_message(
                ErrorCode::Malformed,
                format!("Nostr event: {}", e.message()),
            )
        })?;
        if let Some((name, _)) = o.iter().find(|(k, _)| !MEMBERS.contains(k)) {
            return Err(Error::with_message(
                ErrorCode::Malformed,
                format!(
                    "the Nostr event has the unknown member `{}`",
                    crate::jws::truncate(name, 32)
                ),
            ));
        }
        let id = hex_member::<32>(&o, "id")?;
        let pubkey_bytes = hex_member::<32>(&o, "pubkey")?;
        let pubkey = lift(pubkey_bytes)?;
        let sig = hex_member::<64>(&o, "sig")?;
        let created_at = match member(&o, "created_at")? {
            Value::Number(Number::Int(t)) if *t >= 0 => *t,
            _ => {
                return Err(Error::malformed(
                    "`created_at` must be a non-negative integer",
                ))
            }
        };
        let kind = match member(&o, "kind")? {
            Value::Number(Number::Int(k)) => u16::try_from(*k)
                .map_err(|_| Error::malformed("`kind` must be an integer from 0 to 65535"))?,
            _ => {
                return Err(Error::malformed(
                    "`kind` must be an integer from 0 to 65535",
                ))
            }
        };
        // The parsed document is dropped afterwards: its strings move into
        // the event instead of being copied.
        member(&o, "content")?;
        let Some(Value::String(content)) = o.remove("content") else {
            return Err(Error::malformed("`content` must be a string"));
        };
        member(&o, "tags")?;
        let Some(Value::Array(tags)) = o.remove("tags") else {
            return Err(Error::malformed(
                "`tags` must be an array of arrays of strings",
            ));
        };
        let tags = tags
            .into_iter()
            .map(|tag| match tag {
                Value::Array(els) => els
                    .into_iter()
                    .map(|el| match el {
                        Value::String(s) => Ok(s),
                        _ => Err(Error::malformed("every tag element must be a string")),
                    })
                    .collect::<Result<Vec<String>>>(),
                _ => Err(Error::malformed("each tag must be an array of strings")),
            })
            .collect::<Result<Vec<Vec<String>>>>()?;
        Ok(Event {
            id,
            pubkey,
            created_at,
            kind,
            tags,
            content,
            sig,
        })
    }

    /// The NIP-01 serialisation whose SHA-256 is the id:
    /// `[0,<pubkey>,<created_at>,<kind>,<tags>,<content>]`, compact, with
    /// NIP-01 string escaping.
    pub fn serialize_for_id(&self) -> String {
        serialize_for_id(
            &self.pubkey,
            self.created_at,
            self.kind,
            &self.tags,
            &self.content,
        )
    }

    /// SHA-256 of [`Event::serialize_for_id`].
    pub fn compute_id(&self) -> [u8; 32] {
        sha256(&id_serialisation(
            &self.pubkey,
            self.created_at,
            self.kind,
            &self.tags,
            &self.content,
        ))
    }

    /// The stated id as lowercase hex.
    pub fn id_hex(&self) -> String {
        hex_encode(&self.id)
    }

    /// The signature as lowercase hex.
    pub fn sig_hex(&self) -> String {
        hex_encode(&self.sig)
    }

    /// NIP-01 integrity: recomputes the id (`id_mismatch` when the stated one
    /// differs, even if the signature verifies over the stated id), then
    /// checks the BIP-340 signature over it (`bad_signature`).
    pub fn verify(&self) -> Result<()> {
        self.verify_with_id(&self.compute_id())
    }

    /// As [`Event::verify`], given the id already computed (by
    /// [`Event::read_for_verification`]).
    pub(crate) fn verify_with_id(&self, computed: &[u8; 32]) -> Result<()> {
        if !constant_time_eq(computed, &self.id) {
            return Err(Error::new(
                ErrorCode::IdMismatch,
                "the event id is not the hash of the event",
            ));
        }
        self.pubkey.verify_schnorr(computed, &self.sig)
    }

    /// Builds and signs an event with fresh BIP-340 auxiliary randomness.
    /// `created_at` must be non-negative.
    pub fn sign(
        secret: &NostrSecretKey,
        created_at: i64,
        kind: u16,
        tags: Vec<Vec<String>>,
        content: impl Into<String>,
    ) -> Result<Event> {
        Self::sign_inner(secret, created_at, kind, tags, content.into(), None)
    }

    /// As [`Event::sign`], with the given BIP-340 auxiliary data
    /// (deterministic output; for fixtures and tests).
    pub fn sign_with_aux(
        secret: &NostrSecretKey,
        created_at: i64,
        kind: u16,
        tags: Vec<Vec<String>>,
        content: impl Into<String>,
        aux_rand: &[u8; 32],
    ) -> Result<Event> {
        Self::sign_inner(
            secret,
            created_at,
            kind,
            tags,
            content.into(),
            Some(aux_rand),
        )
    }

    fn sign_inner(
        secret: &NostrSecretKey,
        created_at: i64,
        kind: u16,
        tags: Vec<Vec<String>>,
        content: String,
        aux_rand: Option<&[u8; 32]>,
    ) -> Result<Event> {
        if created_at < 0 {
            return Err(Error::malformed("`created_at` must be non-negative"));
        }
        let pubkey = secret.public_key();
        let id = sha256(&id_serialisation(
            &pubkey, created_at, kind, &tags, &content,
        ));
        let sig = match aux_rand {
            Some(aux) => secret.sign_schnorr_with_aux(&id, aux),
            None => secret.sign_schnorr(&id),
        };
        Ok(Event {
            id,
            pubkey,
            created_at,
            kind,
            tags,
            content,
            sig,
        })
    }

    /// The event as compact JSON, members in NIP-01 order.
    pub fn to_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Wire<'a> {
            id: &'a str,
            pubkey: &'a str,
            created_at: i64,
            kind: u16,
            tags: &'a [Vec<String>],
            content: &'a str,
            sig: &'a str,
        }
        let wire = Wire {
            id: &self.id_hex(),
            pubkey: &self.pubkey.to_hex(),
            created_at: self.created_at,
            kind: self.kind,
            tags: &self.tags,
            content: &self.content,
            sig: &self.sig_hex(),
        };
        json::to_string(&wire)
    }

    /// Every tag whose first element is `name`, as the values after it.
    pub fn tag_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [String]> + 'a {
        self.tags
            .iter()
            .filter(move |t| t.first().is_some_and(|n| n == name))
            .map(|t| &t[1..])
    }
}

/// The NIP-01 id serialisation of the given event fields.
pub fn serialize_for_id(
    pubkey: &NostrPublicKey,
    created_at: i64,
    kind: u16,
    tags: &[Vec<String>],
    content: &str,
) -> String {
    let bytes = id_serialisation(pubkey, created_at, kind, tags, content);
    // Always UTF-8: `serde_json` writes only valid UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// The NIP-01 id serialisation as bytes, to hash:
/// `[0,"<pubkey>",<created_at>,<kind>,<tags>,"<content>"]`, written by
/// `serde_json`, whose compact output and string escaping are NIP-01's
/// (`json::to_vec`; see `json/serialize.rs`).
fn id_serialisation(
    pubkey: &NostrPublicKey,
    created_at: i64,
    kind: u16,
    tags: &[Vec<String>],
    content: &str,
) -> Vec<u8> {
    json::to_vec(&(0u8, pubkey.to_hex(), created_at, kind, tags, content))
}

/// Decodes the credential of an `Authorization: Nostr <credential>` value
/// (scheme already removed) into an event, without verifying it.
///
/// The size limit applies before any decoding (`token_too_large`). The text
/// is base64 of either alphabet, each strictly (formats.md §5): NWTs use
/// base64url without padding, nostr-tools writes NIP-98 events in padded
/// standard base64.
pub fn decode_authorization_event(credential: &str, policy: &Policy) -> Result<Event> {
    decode_authorization_event_with(credential, policy, NostrPublicKey::from_bytes)
}

/// As [`decode_authorization_event`], reading the signer's key with `lift`
/// (see [`Event::from_json_with`]).
pub fn decode_authorization_event_with(
    credential: &str,
    policy: &Policy,
    lift: impl FnOnce([u8; 32]) -> Result<NostrPublicKey>,
) -> Result<Event> {
    Event::from_json_with(&credential_bytes(credential, policy)?, lift)
}

/// As [`decode_authorization_event_with`], with the id computed while
/// reading (see [`Event::read_for_verification`]): what the verifiers use.
pub(crate) fn decode_for_verification(
    credential: &str,
    policy: &Policy,
    lift: impl FnOnce([u8; 32]) -> Result<NostrPublicKey>,
) -> Result<(Event, [u8; 32])> {
    // A usual NWT decodes into a stack buffer (no allocation); anything
    // else, or any base64url error, takes the general path, which gives
    // the same bytes or the same error.
    let mut stack = [0u8; 1536];
    if credential.len() <= policy.max_token_size {
        if let Ok(n) = crate::encoding::b64url_decode_to_slice(credential.as_bytes(), &mut stack) {
            return Event::read_for_verification(&stack[..n], lift);
        }
    }
    Event::read_for_verification(&credential_bytes(credential, policy)?, lift)
}

/// The size limit, then base64 of either alphabet.
fn credential_bytes(credential: &str, policy: &Policy) -> Result<Vec<u8>> {
    if credential.len() > policy.max_token_size {
        return Err(Error::with_message(
            ErrorCode::TokenTooLarge,
            format!(
                "the credential is {} bytes; the limit is {}",
                credential.len(),
                policy.max_token_size
            ),
        ));
    }
    b64_either_decode(credential.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sk1() -> NostrSecretKey {
        let mut b = [0u8; 32];
        b[31] = 1;
        NostrSecretKey::from_bytes(b).unwrap()
    }

    #[test]
    fn sign_then_parse_then_verify() {
        let ev = Event::sign(&sk1(), 1, 1, vec![vec!["t".into(), "x".into()]], "hi").unwrap();
        let back = Event::from_json(ev.to_json().as_bytes()).unwrap();
        assert_eq!(back, ev);
        back.verify().unwrap();
    }

    #[test]
    fn serialisation_shape() {
        let ev = Event::sign(&sk1(), 7, 27519, vec![vec!["a".into()]], "c").unwrap();
        assert_eq!(
            ev.serialize_for_id(),
            "[0,\"79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798\",7,27519,[[\"a\"]],\"c\"]"
        );
    }
}
