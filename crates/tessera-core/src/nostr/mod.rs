//! Nostr credentials: keys (NIP-19), events (NIP-01), Nostr Web Tokens
//! (kind 27519), NIP-98 HTTP Auth (kind 27235), and Portal wallet JWTs
//! (ES256K by a Nostr key).
//!
//! NWTs and NIP-98 events both arrive as `Authorization: Nostr <base64>`;
//! [`verify_authorization_event`] decodes either and branches on `kind`.

pub mod bech32;
pub mod event;
pub mod keys;
pub mod nip98;
pub mod nwt;
pub mod portal;

pub use event::{decode_authorization_event, decode_authorization_event_with, Event};
pub use keys::{verify_bip340, KeyMemo, NostrPublicKey, NostrSecretKey};
pub use nip98::{
    issue_nip98, nip98_authorization, verify_nip98, HttpRequest, Nip98Options, NIP98_KIND,
};
pub use nwt::{
    issue_nwt, nwt_authorization, verify_nwt, NwtClaimSet, NwtClaims, MAX_NWT_TAGS,
    MAX_NWT_TAG_VALUES, NWT_KIND,
};
pub use portal::{issue_portal, verify_portal, PortalClaims};
// For the verifier: the id computed while reading the event (issue 22).
pub(crate) use event::decode_for_verification;
pub(crate) use nip98::verify_nip98_with_id;
pub(crate) use nwt::verify_nwt_with_id;

use crate::error::{Error, ErrorCode, Result};
use crate::identity::Identity;
use crate::policy::Policy;

/// Verifies the credential of an `Authorization: Nostr <credential>` value
/// (scheme removed): decodes it ([`decode_authorization_event`]), then
/// verifies it as an NWT (kind 27519) or, given the request, a NIP-98 event
/// (kind 27235). Any other kind is `wrong_kind`; a NIP-98 event without a
/// request to match is `url_mismatch`.
pub fn verify_authorization_event(
    credential: &str,
    policy: &Policy,
    trusted_signers: &[NostrPublicKey],
    request: Option<&HttpRequest<'_>>,
    options: &Nip98Options,
    now: i64,
) -> Result<Identity> {
    let (event, id) = decode_for_verification(credential, policy, NostrPublicKey::from_bytes)?;
    match (event.kind, request) {
        (NWT_KIND, _) => verify_nwt_with_id(&event, Some(&id), policy, trusted_signers, now),
        (NIP98_KIND, Some(req)) => verify_nip98_with_id(
            &event,
            Some(&id),
            policy,
            trusted_signers,
            req,
            options,
            now,
        ),
        (NIP98_KIND, None) => Err(Error::new(
            ErrorCode::UrlMismatch,
            "a NIP-98 event can only be verified against the request it is bound to",
        )),
        (kind, _) => Err(Error::with_message(
            ErrorCode::WrongKind,
            format!(
                "a Nostr credential has kind {NWT_KIND} (NWT) or {NIP98_KIND} (NIP-98), not {kind}"
            ),
        )),
    }
}
