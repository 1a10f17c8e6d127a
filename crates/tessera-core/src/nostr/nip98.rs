//! NIP-98 HTTP Auth (kind 27235), formats.md §5: a signed event bound to one
//! HTTP request.
//!
//! The `u`, `method` and `payload` tags each appear at most once, as exactly
//! `[name, value]` (`malformed` otherwise); `u` and `method` are required
//! (`missing_claim`). NIP-98 has no `exp`: its freshness window is its
//! expiry, so `Policy::require_exp` and the leeway do not apply; the window
//! is `Policy::nip98_max_age` / `nip98_max_future`, bounds included (as
//! nostr-tools checks them), and the identity's `expires_at` is
//! `created_at + nip98_max_age`. The policy's audiences do not apply either:
//! the `u` tag binds the event to one URL, which is stricter.

use super::event::Event;
use super::keys::{NostrPublicKey, NostrSecretKey};
use super::nwt::check_signer;
use crate::encoding::{b64std_encode, hex_encode};
use crate::error::{Error, ErrorCode, Result};
use crate::identity::{Format, Identity};
use crate::json::{Object, Value};
use crate::policy::Policy;
use crate::sha::sha256;

/// The NIP-98 event kind.
pub const NIP98_KIND: u16 = 27235;

/// The HTTP request a NIP-98 event must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpRequest<'a> {
    /// The absolute request URL, query included, compared exactly with `u`.
    pub url: &'a str,
    /// The request method, compared case-insensitively with `method`.
    pub method: &'a str,
    /// The request body, when the request has one.
    pub body: Option<&'a [u8]>,
}

/// NIP-98 choices that are not part of [`Policy`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Nip98Options {
    /// Refuse (`payload_mismatch`) a request with a non-empty body whose
    /// event has no `payload` tag. NIP-98 says servers "MAY" check the
    /// payload; off by default, as in nostr-tools.
    pub require_payload: bool,
    /// Accept a `payload` tag without comparing it with the body: for a
    /// caller that does not have the body (a gateway that does not forward
    /// it, e.g. nginx `auth_request`) and was told to accept such events.
    /// Only that comparison is skipped; kind, id, signature, signer, tags,
    /// the `created_at` window, `u` and `method` are checked as always
    /// (replay stays the caller's). Off by default.
    pub unchecked_payload: bool,
}

/// The typed tags of a NIP-98 event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nip98Tags<'a> {
    /// `u`: the absolute URL.
    pub url: &'a str,
    /// `method`: the HTTP method.
    pub method: &'a str,
    /// `payload`: SHA-256 of the body, when present.
    pub payload: Option<[u8; 32]>,
}

impl<'a> Nip98Tags<'a> {
    /// Reads `u`, `method` and `payload` from an event's tags; other tags
    /// are ignored.
    pub fn from_event(event: &'a Event) -> Result<Nip98Tags<'a>> {
        let url = one_tag(event, "u")?.ok_or(Error::new(
            ErrorCode::MissingClaim,
            "the NIP-98 event has no `u` tag",
        ))?;
        let method = one_tag(event, "method")?.ok_or(Error::new(
            ErrorCode::MissingClaim,
            "the NIP-98 event has no `method` tag",
        ))?;
        let payload = one_tag(event, "payload")?
            .map(|p| {
                crate::encoding::hex_decode_lower_array::<32>(p).map_err(|_| {
                    Error::malformed("the `payload` tag must be 64 lowercase hex characters")
                })
            })
            .transpose()?;
        Ok(Nip98Tags {
            url,
            method,
            payload,
        })
    }
}

fn one_tag<'a>(event: &'a Event, name: &'static str) -> Result<Option<&'a str>> {
    let mut found = None;
    for values in event.tag_values(name) {
        let [v] = values else {
            return Err(Error::with_message(
                ErrorCode::Malformed,
                format!("the NIP-98 tag `{name}` takes exactly one value"),
            ));
        };
        if found.replace(v.as_str()).is_some() {
            return Err(Error::with_message(
                ErrorCode::Malformed,
                format!("the NIP-98 tag `{name}` appears more than once"),
            ));
        }
    }
    Ok(found)
}

/// Verifies a NIP-98 event (formats.md §5), in this order:
///
/// 1. `kind` is 27235, else `wrong_kind`;
/// 2. NIP-01 id and BIP-340 signature;
/// 3. with `trusted_signers` non-empty, the signer is one of them
///    (`untrusted_signer`);
/// 4. tags ([`Nip98Tags::from_event`]);
/// 5. `created_at` within `[now - nip98_max_age, now + nip98_max_future]`,
///    else `stale`;
/// 6. `u` equals the request URL byte for byte (`url_mismatch`);
/// 7. `method` equals the request method ignoring ASCII case
///    (`method_mismatch`);
/// 8. a `payload` tag equals SHA-256 of the body (an absent body hashes as
///    empty) (`payload_mismatch`); without the tag, a non-empty body is
///    refused only with [`Nip98Options::require_payload`]; with
///    [`Nip98Options::unchecked_payload`] the tag is not compared.
///
/// Replay inside the window is the server's to refuse (by event id).
pub fn verify_nip98(
    event: &Event,
    policy: &Policy,
    trusted_signers: &[NostrPublicKey],
    request: &HttpRequest<'_>,
    options: &Nip98Options,
    now: i64,
) -> Result<Identity> {
    verify_nip98_with_id(event, None, policy, trusted_signers, request, options, now)
}

/// [`verify_nip98`], given the event's id when it was computed while
/// reading the event (`Event::read_for_verification`).
pub(crate) fn verify_nip98_with_id(
    event: &Event,
    computed_id: Option<&[u8; 32]>,
    policy: &Policy,
    trusted_signers: &[NostrPublicKey],
    request: &HttpRequest<'_>,
    options: &Nip98Options,
    now: i64,
) -> Result<Identity> {
    if event.kind != NIP98_KIND {
        return Err(Error::with_message(
            ErrorCode::WrongKind,
            format!(
                "a NIP-98 event has kind {NIP98_KIND}; this event has kind {}",
                event.kind
            ),
        ));
    }
    match computed_id {
        Some(id) => event.verify_with_id(id)?,
        None => event.verify()?,
    }
    check_signer(&event.pubkey, trusted_signers)?;
    let tags = Nip98Tags::from_event(event)?;
    let oldest = now.saturating_sub(policy.nip98_max_age.max(0));
    let newest = now.saturating_add(policy.nip98_max_future.max(0));
    if event.created_at < oldest {
        return Err(Error::new(
            ErrorCode::Stale,
            "the NIP-98 event is older than the freshness window",
        ));
    }
    if event.created_at > newest {
        return Err(Error::new(
            ErrorCode::Stale,
            "the NIP-98 event is dated too far in the future",
        ));
    }
    if tags.url != request.url {
        return Err(Error::new(
            ErrorCode::UrlMismatch,
            "the NIP-98 event is bound to another URL",
        ));
    }
    if !tags.method.eq_ignore_ascii_case(request.method) {
        return Err(Error::new(
            ErrorCode::MethodMismatch,
            "the NIP-98 event is bound to another HTTP method",
        ));
    }
    let body = request.body.unwrap_or_default();
    match tags.payload {
        Some(expected) if !options.unchecked_payload && expected != sha256(body) => {
            return Err(Error::new(
                ErrorCode::PayloadMismatch,
                "the NIP-98 payload hash does not match the request body",
            ))
        }
        None if options.require_payload && !body.is_empty() => {
            return Err(Error::new(
                ErrorCode::PayloadMismatch,
                "the request has a body but the NIP-98 event has no `payload` tag",
            ))
        }
        _ => {}
    }
    let mut claims = Object::new();
    claims.insert("u", Value::from(tags.url));
    claims.insert("method", Value::from(tags.method));
    if let Some(p) = tags.payload {
        claims.insert("payload", Value::from(hex_encode(&p)));
    }
    let signer = event.pubkey.to_hex();
    Ok(Identity {
        format: Format::Nip98,
        alg: crate::jws::Algorithm::Bip340,
        issuer: Some(signer.clone()),
        subject: signer,
        audience: Vec::new(),
        expires_at: Some(event.created_at.saturating_add(policy.nip98_max_age.max(0))),
        not_before: None,
        issued_at: Some(event.created_at),
        id: Some(event.id_hex()),
        kid: None,
        claims: claims.into(),
    })
}

/// Builds and signs a NIP-98 event for one request at `now`: tags `u`,
/// `method`, and `payload` (SHA-256 of `body`) when a body is given; empty
/// content.
pub fn issue_nip98(
    secret: &NostrSecretKey,
    url: &str,
    method: &str,
    body: Option<&[u8]>,
    now: i64,
) -> Result<Event> {
    let mut tags = vec![
        vec!["u".to_owned(), url.to_owned()],
        vec!["method".to_owned(), method.to_owned()],
    ];
    if let Some(body) = body {
        tags.push(vec!["payload".to_owned(), hex_encode(&sha256(body))]);
    }
    Event::sign(secret, now, NIP98_KIND, tags, "")
}

/// The `Authorization` value for a NIP-98 event: `Nostr <standard base64,
/// padded, of the event JSON>`, as nostr-tools writes it.
pub fn nip98_authorization(event: &Event) -> String {
    format!("Nostr {}", b64std_encode(event.to_json().as_bytes()))
}
