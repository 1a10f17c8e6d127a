//! Nostr Web Tokens (draft NIP "WT", kind 27519), formats.md §4.
//!
//! An NWT is a signed event whose tags are claims. `iss`, `sub`, `iat`,
//! `exp`, `nbf` appear at most once, each as exactly `[name, value]`; `aud`
//! may repeat, and every element after the name is one audience (so both the
//! draft's `["aud","a"],["aud","b"]` and the older `["aud","a","b"]` read as
//! two audiences). Any other tag is an application claim whose values are the
//! elements after the name, repeats adding values. A tag with no value is
//! not a claim: it is `malformed`, as is an empty tag or an empty name.

use super::event::Event;
use super::keys::{NostrPublicKey, NostrSecretKey};
use crate::encoding::b64url_encode;
use crate::error::{Error, ErrorCode, Result};
use crate::identity::{Format, Identity};
use crate::json::{Number, Object, Value};
use crate::jws::truncate;
use crate::policy::{numeric_date_str, Policy, TimeClaims};

/// The NWT event kind (after RFC 7519).
pub const NWT_KIND: u16 = 27519;

const SINGLE: [&str; 5] = ["iss", "sub", "iat", "exp", "nbf"];

/// Most tags an NWT may carry. Each tag becomes a claim, which costs far
/// more memory than its text (a claim object per tag in every cached
/// identity), and anyone can sign an NWT: 2 000 valid NWTs with 430
/// one-letter tags each once made a server's cache hold seven times what
/// it counted (issue 17, finding 3). Real NWTs carry a handful (`aud`,
/// `exp`, `iat`, a few application claims). More is `token_too_large`.
pub const MAX_NWT_TAGS: usize = 64;

/// Most values among all of an NWT's tags (the elements after each tag's
/// name), for the same reason. More is `token_too_large`.
pub const MAX_NWT_TAG_VALUES: usize = 256;

/// The claims of an NWT, read from its tags and typed.
#[derive(Debug, Clone, PartialEq)]
pub struct NwtClaimSet {
    /// `iss`, when present (a Nostr key, hex or `npub`).
    pub iss: Option<NostrPublicKey>,
    /// `sub`, when present (a Nostr key, hex or `npub`).
    pub sub: Option<NostrPublicKey>,
    /// Every `aud` value, in order.
    pub aud: Vec<String>,
    /// `exp`, `nbf` and `iat` as written (no `created_at` default applied).
    pub times: TimeClaims,
    /// Every claim: one value as a string, several as an array of strings,
    /// `exp`/`nbf`/`iat` as integers; in order of first appearance.
    pub all: Object,
}

fn key_claim(name: &str, value: &str) -> Result<NostrPublicKey> {
    NostrPublicKey::parse(value).map_err(|_| {
        Error::with_message(
            ErrorCode::InvalidClaim,
            format!("`{name}` must be a Nostr public key (64 lowercase hex or npub)"),
        )
    })
}

impl NwtClaimSet {
    /// Reads the claims from an event's tags (cardinality and types checked;
    /// nothing about trust or time).
    pub fn from_tags(tags: &[Vec<String>]) -> Result<NwtClaimSet> {
        if tags.len() > MAX_NWT_TAGS {
            return Err(Error::with_message(
                ErrorCode::TokenTooLarge,
                format!(
                    "the NWT has {} tags; the limit is {MAX_NWT_TAGS}",
                    tags.len()
                ),
            ));
        }
        let values: usize = tags.iter().map(|t| t.len().saturating_sub(1)).sum();
        if values > MAX_NWT_TAG_VALUES {
            return Err(Error::with_message(
                ErrorCode::TokenTooLarge,
                format!("the NWT's tags carry {values} values; the limit is {MAX_NWT_TAG_VALUES}"),
            ));
        }
        // A name's values: the tag's own slice while the name appears
        // once (the usual case: nothing allocated), gathered on a repeat.
        enum Values<'a> {
            One(&'a [String]),
            Many(Vec<&'a str>),
        }
        let mut grouped: Vec<(&str, Values<'_>)> = Vec::with_capacity(tags.len());
        for tag in tags {
            let Some((name, values)) = tag.split_first() else {
                return Err(Error::malformed("an NWT tag is empty"));
            };
            if name.is_empty() {
                return Err(Error::malformed("an NWT tag has an empty name"));
            }
            if values.is_empty() {
                return Err(Error::with_message(
                    ErrorCode::Malformed,
                    format!("the NWT tag `{}` has no value", truncate(name, 32)),
                ));
            }
            let single = SINGLE.contains(&name.as_str());
            if single && values.len() != 1 {
                return Err(Error::with_message(
                    ErrorCode::Malformed,
                    format!("the NWT tag `{name}` takes exactly one value"),
                ));
            }
            match grouped.iter_mut().find(|(n, _)| n == name) {
                Some(_) if single => {
                    return Err(Error::with_message(
                        ErrorCode::Malformed,
                        format!("the NWT claim `{name}` appears more than once"),
                    ))
                }
                Some((_, vals)) => {
                    if let Values::One(first) = vals {
                        *vals = Values::Many(first.iter().map(String::as_str).collect());
                    }
                    if let Values::Many(all) = vals {
                        all.extend(values.iter().map(String::as_str));
                    }
                }
                None => grouped.push((name, Values::One(values))),
            }
        }
        let mut set = NwtClaimSet {
            iss: None,
            sub: None,
            aud: Vec::new(),
            times: TimeClaims::default(),
            all: Object::with_capacity(grouped.len()),
        };
        for (name, values) in grouped {
            let single: [&str; 1];
            let owned: Vec<&str>;
            let values: &[&str] = match &values {
                Values::One([v]) => {
                    single = [v.as_str()];
                    &single
                }
                Values::One(several) => {
                    owned = several.iter().map(String::as_str).collect();
                    &owned
                }
                Values::Many(all) => all,
            };
            let value = match (name, values) {
                ("exp" | "nbf" | "iat", [v]) => {
                    let t = numeric_date_str(name, v)?;
                    match name {
                        "exp" => set.times.exp = Some(t),
                        "nbf" => set.times.nbf = Some(t),
                        _ => set.times.iat = Some(t),
                    }
                    Value::Number(Number::Int(t))
                }
                ("iss", [v]) => {
                    set.iss = Some(key_claim(name, v)?);
                    Value::from(*v)
                }
                ("sub", [v]) => {
                    set.sub = Some(key_claim(name, v)?);
                    Value::from(*v)
                }
                (_, [v]) => {
                    if name == "aud" {
                        set.aud.push((*v).to_owned());
                    }
                    Value::from(*v)
                }
                (_, many) => {
                    if name == "aud" {
                        set.aud.extend(many.iter().map(|s| (*s).to_owned()));
                    }
                    Value::Array(many.iter().map(|s| Value::from(*s)).collect())
                }
            };
            set.all.insert(name, value);
        }
        // Verified identities may be cached: keep no spare capacity (there
        // is none: one member per name).
        set.all.shrink_to_fit();
        Ok(set)
    }
}

/// Verifies an NWT at `now` (formats.md §4):
///
/// 1. `kind` is 27519, else `wrong_kind`;
/// 2. NIP-01 id and BIP-340 signature ([`Event::verify`]);
/// 3. with `trusted_signers` non-empty, the signer must be one of them
///    (`untrusted_signer`); with it empty, any signer speaks for itself;
/// 4. claims from tags ([`NwtClaimSet::from_tags`]); a `sub` or `iss` naming
///    a key other than the signer is honoured only from a trusted signer,
///    else `untrusted_signer`;
/// 5. time via [`Policy::check_times`] with `iat` defaulting to
///    `created_at` (`exp` absent means "never", which the default policy
///    refuses as `missing_claim`);
/// 6. audience per the common rule (configured audiences require one of
///    them, and no `aud` then fails; with none configured, an `aud` tag is
///    refused unless [`Policy::accept_any_audience`]), issuer and required
///    claims per policy.
///
/// The identity's issuer and subject are 64-hex keys; its id is the event id.
pub fn verify_nwt(
    event: &Event,
    policy: &Policy,
    trusted_signers: &[NostrPublicKey],
    now: i64,
) -> Result<Identity> {
    verify_nwt_with_id(event, None, policy, trusted_signers, now)
}

/// [`verify_nwt`], given the event's id when it was computed while
/// reading the event (`Event::read_for_verification`).
pub(crate) fn verify_nwt_with_id(
    event: &Event,
    computed_id: Option<&[u8; 32]>,
    policy: &Policy,
    trusted_signers: &[NostrPublicKey],
    now: i64,
) -> Result<Identity> {
    if event.kind != NWT_KIND {
        return Err(Error::with_message(
            ErrorCode::WrongKind,
            format!(
                "an NWT has kind {NWT_KIND}; this event has kind {}",
                event.kind
            ),
        ));
    }
    match computed_id {
        Some(id) => event.verify_with_id(id)?,
        None => event.verify()?,
    }
    let signer_trusted = check_signer(&event.pubkey, trusted_signers)?;
    let claims = NwtClaimSet::from_tags(&event.tags)?;
    for (name, named) in [("sub", &claims.sub), ("iss", &claims.iss)] {
        if let Some(k) = named {
            if *k != event.pubkey && !signer_trusted {
                return Err(Error::with_message(
                    ErrorCode::UntrustedSigner,
                    format!("only a trusted signer may name a `{name}` other than itself"),
                ));
            }
        }
    }
    let times = TimeClaims {
        iat: claims.times.iat.or(Some(event.created_at)),
        ..claims.times
    };
    policy.check_times(&times, now)?;
    policy.check_audience(claims.aud.iter().map(String::as_str))?;
    let issuer_key = claims.iss.unwrap_or(event.pubkey);
    let issuer = issuer_key.to_hex();
    policy.check_issuer(Some(&issuer))?;
    check_required(policy, &claims.all)?;
    let subject_key = claims.sub.unwrap_or(event.pubkey);
    // Usually both are the signer: one hex encoding.
    let subject = if subject_key.as_bytes() == issuer_key.as_bytes() {
        issuer.clone()
    } else {
        subject_key.to_hex()
    };
    Ok(Identity {
        format: Format::Nwt,
        alg: crate::jws::Algorithm::Bip340,
        issuer: Some(issuer),
        subject,
        audience: claims.aud,
        expires_at: times.exp,
        not_before: times.nbf,
        issued_at: times.iat,
        id: Some(event.id_hex()),
        kid: None,
        claims: claims.all.into(),
    })
}

/// Applies the trusted-signer rule: `Ok(true)` when the signer is one of a
/// non-empty trusted list, `Ok(false)` when the list is empty (the signer
/// speaks only for itself), `untrusted_signer` otherwise.
pub(crate) fn check_signer(signer: &NostrPublicKey, trusted: &[NostrPublicKey]) -> Result<bool> {
    if trusted.is_empty() {
        Ok(false)
    } else if trusted.contains(signer) {
        Ok(true)
    } else {
        Err(Error::new(
            ErrorCode::UntrustedSigner,
            "the event's signer is not one of the trusted keys",
        ))
    }
}

pub(crate) fn check_required(policy: &Policy, claims: &Object) -> Result<()> {
    for name in &policy.required_claims {
        if !claims.contains(name) {
            return Err(Error::with_message(
                ErrorCode::MissingClaim,
                format!("the required claim `{}` is absent", truncate(name, 64)),
            ));
        }
    }
    Ok(())
}

/// What to put in an NWT made by [`issue_nwt`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NwtClaims {
    /// Audiences, one `aud` tag each.
    pub aud: Vec<String>,
    /// Absolute expiry (Unix seconds). Wins over `ttl`.
    pub exp: Option<i64>,
    /// Lifetime in seconds from `now`, used when `exp` is `None`.
    pub ttl: Option<i64>,
    /// `sub` (64-hex or npub), when not the signer.
    pub sub: Option<String>,
    /// `iss` (64-hex or npub), when not the signer.
    pub iss: Option<String>,
    /// `nbf` (Unix seconds).
    pub nbf: Option<i64>,
    /// `iat` (Unix seconds); absent, verifiers use `created_at`.
    pub iat: Option<i64>,
    /// Application claims, one tag each, in order (repeat a name for several values).
    pub custom: Vec<(String, String)>,
}

fn tag(name: &str, value: impl Into<String>) -> Vec<String> {
    vec![name.to_owned(), value.into()]
}

/// Builds and signs an NWT at `now` (`created_at = now`). `content` is the
/// human message shown to the signer. Registered names in `custom`, empty
/// names, invalid `sub`/`iss` keys or negative times are refused (`malformed`).
pub fn issue_nwt(
    secret: &NostrSecretKey,
    claims: &NwtClaims,
    content: &str,
    now: i64,
) -> Result<Event> {
    let mut tags = Vec::new();
    for a in &claims.aud {
        tags.push(tag("aud", a.as_str()));
    }
    for (name, v) in [("iss", &claims.iss), ("sub", &claims.sub)] {
        if let Some(v) = v {
            let key = NostrPublicKey::parse(v).map_err(|_| {
                Error::with_message(
                    ErrorCode::Malformed,
                    format!("`{name}` must be a Nostr public key"),
                )
            })?;
            tags.push(tag(name, key.to_hex()));
        }
    }
    let exp = match (claims.exp, claims.ttl) {
        (Some(e), _) => Some(e),
        (None, Some(ttl)) => Some(now.saturating_add(ttl)),
        (None, None) => None,
    };
    for (name, t) in [("iat", claims.iat), ("exp", exp), ("nbf", claims.nbf)] {
        if let Some(t) = t {
            if t < 0 {
                return Err(Error::with_message(
                    ErrorCode::Malformed,
                    format!("`{name}` must be non-negative"),
                ));
            }
            tags.push(tag(name, t.to_string()));
        }
    }
    for (name, value) in &claims.custom {
        if name.is_empty() || SINGLE.contains(&name.as_str()) || name == "aud" {
            return Err(Error::with_message(
                ErrorCode::Malformed,
                format!(
                    "`{}` cannot be an application claim name",
                    truncate(name, 32)
                ),
            ));
        }
        tags.push(tag(name, value.as_str()));
    }
    Event::sign(secret, now, NWT_KIND, tags, content)
}

/// The `Authorization` value for an NWT: `Nostr <base64url, no padding, of
/// the event JSON>` (formats.md §4).
pub fn nwt_authorization(event: &Event) -> String {
    format!("Nostr {}", b64url_encode(event.to_json().as_bytes()))
}
