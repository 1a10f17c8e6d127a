//! The one entry point: policy + keys + clock (+ cache) in, [`Identity`] out.

use crate::cache::{CacheConfig, Slot, VerifiedCache};
use crate::clock::{Clock, SystemClock};
use crate::credential::{parse_authorization, Credential};
use crate::encoding::b64url_decode;
use crate::error::{Error, ErrorCode, Result};
use crate::ethereum::thirdweb::{verify_thirdweb, THIRDWEB_HEADER};
use crate::ethereum::Address;
use crate::identity::{Format, Identity};
use crate::jws::HeaderMemo;
use crate::jwt;
use crate::keys::KeySet;
use crate::nostr::portal::{verify_portal_with_point, PORTAL_HEADER};
use crate::nostr::{
    decode_for_verification, verify_nip98_with_id, verify_nwt_with_id, HttpRequest, KeyMemo,
    Nip98Options, NostrPublicKey, NIP98_KIND, NWT_KIND,
};
use crate::policy::{Policy, TimeClaims};
use std::sync::Arc;

/// Which format to expect; `Auto` chooses by scheme, header and key kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatHint {
    /// Choose: `Nostr` scheme -> NWT or NIP-98 by `kind`; a bearer token with
    /// the thirdweb header whose signature is an `0x` hex text, with `eth:`
    /// admins configured -> thirdweb; a bearer token with Portal's exact
    /// header and a `target_key`, with Nostr keys configured -> Portal; else JWT.
    #[default]
    Auto,
    /// A standard JWT.
    Jwt,
    /// A Portal wallet JWT.
    Portal,
    /// A thirdweb-format wallet JWT.
    Thirdweb,
    /// A Nostr Web Token.
    Nwt,
    /// A NIP-98 event.
    Nip98,
}

/// Nostr signer keys the verifier remembers having lifted (32 bytes and a
/// 64-byte point each: about 100 bytes, so 4096 keys cost under 1 MiB).
const KEY_MEMO_CAPACITY: usize = 4096;
/// Distinct JOSE headers the verifier remembers (a deployment has a few:
/// one per signing key and algorithm).
const HEADER_MEMO_CAPACITY: usize = 64;

/// Verifies credentials against one policy, one key set and one clock.
///
/// Cloning is cheap and clones share the verified-credential cache.
///
/// ```
/// use std::sync::Arc;
/// use tessera_core::{
///     jwt, Algorithm, ErrorCode, FixedClock, FormatHint, KeySet, Object, Policy, SigningKey,
///     Verifier,
/// };
///
/// // The issuer's side: a key and a token for alice, valid for an hour.
/// let key = SigningKey::generate(Algorithm::ES256)?;
/// let mut claims = Object::new();
/// claims.insert("sub", "alice".into());
/// claims.insert("aud", "https://api.example".into());
/// claims.insert("exp", 1_700_003_600i64.into());
/// let token = jwt::sign(&key, &Object::new(), &claims)?;
///
/// // The API's side: the issuer's public key, a policy and a clock.
/// let keys = KeySet::single(key.verifying_key()?);
/// let policy = Policy {
///     audiences: vec!["https://api.example".into()],
///     ..Policy::default()
/// };
/// let verifier = Verifier::new(policy, keys).with_clock(Arc::new(FixedClock(1_700_000_000)));
/// let header = format!("Bearer {token}");
/// let id = verifier.verify_authorization(&header, None, FormatHint::Auto, false)?;
/// assert_eq!(id.subject, "alice");
/// assert_eq!(id.alg, Algorithm::ES256);
///
/// // Another key's token is refused with a stable code.
/// let other = SigningKey::generate(Algorithm::ES256)?;
/// let forged = jwt::sign(&other, &Object::new(), &claims)?;
/// let refused = verifier.verify_jwt(&forged).unwrap_err();
/// assert_eq!(refused.code(), ErrorCode::BadSignature);
/// # Ok::<(), tessera_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    policy: Arc<Policy>,
    keys: Arc<KeySet>,
    clock: Arc<dyn Clock>,
    cache: Option<Arc<VerifiedCache>>,
    nostr_keys: Arc<Vec<NostrPublicKey>>,
    /// `nostr_keys[i].even_y_point()`, computed once (Portal JWTs).
    nostr_points: Arc<Vec<secp256k1::PublicKey>>,
    eth_admins: Arc<Vec<Address>>,
    nip98: Nip98Options,
    /// Nostr signer keys already lifted to points (pure memoization,
    /// shared by clones).
    key_memo: Arc<KeyMemo>,
    /// JOSE headers already validated (pure memoization, shared by clones).
    header_memo: Arc<HeaderMemo>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("policy", &self.policy)
            .field("keys", &self.keys.keys().len())
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier on the system clock, without a cache.
    pub fn new(policy: Policy, keys: KeySet) -> Self {
        Verifier {
            policy: Arc::new(policy),
            keys: Arc::new(keys),
            clock: Arc::new(SystemClock),
            cache: None,
            nostr_keys: Arc::new(Vec::new()),
            nostr_points: Arc::new(Vec::new()),
            eth_admins: Arc::new(Vec::new()),
            nip98: Nip98Options::default(),
            key_memo: Arc::new(KeyMemo::new(KEY_MEMO_CAPACITY)),
            header_memo: Arc::new(HeaderMemo::new(HEADER_MEMO_CAPACITY)),
        }
    }

    /// Trusted Nostr keys: Portal signers, and (when non-empty) the only
    /// accepted NWT/NIP-98 signers. Empty: any Nostr signer is accepted as
    /// itself (never for someone else).
    pub fn with_nostr_keys(mut self, keys: Vec<NostrPublicKey>) -> Self {
        self.detach_cache();
        self.nostr_points = Arc::new(keys.iter().map(NostrPublicKey::even_y_point).collect());
        self.nostr_keys = Arc::new(keys);
        self
    }

    /// Trusted thirdweb admin addresses.
    pub fn with_eth_admins(mut self, admins: Vec<Address>) -> Self {
        self.detach_cache();
        self.eth_admins = Arc::new(admins);
        self
    }

    /// NIP-98 options (require a payload hash for requests with a body).
    pub fn with_nip98_options(mut self, options: Nip98Options) -> Self {
        self.nip98 = options;
        self
    }

    /// The trusted Nostr keys.
    pub fn nostr_keys(&self) -> &[NostrPublicKey] {
        &self.nostr_keys
    }

    /// Replaces the clock (tests, `--now`).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Gives this verifier an empty cache of its own (same bounds) when its
    /// trusted keys change: a clone that trusts other keys must not answer
    /// from what the original verified.
    fn detach_cache(&mut self) {
        if let Some(cache) = &self.cache {
            self.cache = Some(Arc::new(VerifiedCache::new(cache.config())));
        }
    }

    /// Enables the verified-credential cache.
    pub fn with_cache(mut self, config: CacheConfig) -> Self {
        self.cache = Some(Arc::new(VerifiedCache::new(config)));
        self
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The JWT key set.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The cache, when enabled.
    pub fn cache(&self) -> Option<&VerifiedCache> {
        self.cache.as_deref()
    }

    /// The current time according to the verifier's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The identity cached for `credential` verified as `format`, if its
    /// time window still holds at `now`, or where to file the
    /// credential once it has been verified (for [`Verifier::remember`]).
    fn cached(
        &self,
        credential: &str,
        format: Format,
        now: i64,
    ) -> std::result::Result<Arc<Identity>, Option<Slot>> {
        let Some(cache) = self.cache.as_ref() else {
            return Err(None);
        };
        let (hit, slot) = cache.lookup(credential, format);
        let Some(id) = hit else {
            return Err(Some(slot));
        };
        let times = TimeClaims {
            exp: id.expires_at,
            nbf: id.not_before,
            iat: id.issued_at,
        };
        match self.policy.check_times(&times, now) {
            Ok(()) => Ok(id),
            Err(_) => Err(Some(slot)),
        }
    }

    fn remember(
        &self,
        slot: Option<Slot>,
        credential: &str,
        id: Identity,
        now: i64,
    ) -> Arc<Identity> {
        let id = Arc::new(id);
        if let (Some(cache), Some(slot)) = (&self.cache, slot) {
            cache.insert_at(slot, credential, Arc::clone(&id), now);
        }
        id
    }

    /// Verifies a compact JWT.
    pub fn verify_jwt(&self, token: &str) -> Result<Arc<Identity>> {
        let now = self.clock.now();
        let slot = match self.cached(token, Format::Jwt, now) {
            Ok(id) => return Ok(id),
            Err(slot) => slot,
        };
        let id = jwt::verify_with(
            token,
            &self.keys,
            &self.policy,
            now,
            Some(&self.header_memo),
        )?;
        Ok(self.remember(slot, token, id, now))
    }
}

impl Verifier {
    /// Verifies a Portal wallet JWT against the trusted Nostr keys.
    pub fn verify_portal(&self, token: &str) -> Result<Arc<Identity>> {
        let now = self.clock.now();
        let slot = match self.cached(token, Format::Portal, now) {
            Ok(id) => return Ok(id),
            Err(slot) => slot,
        };
        if self.nostr_keys.is_empty() {
            return Err(Error::new(
                ErrorCode::UnknownKey,
                "a Portal JWT is verified against its signer's Nostr key; none is configured",
            ));
        }
        let mut last = Error::new(ErrorCode::UnknownKey, "no Nostr key matched");
        for (key, point) in self.nostr_keys.iter().zip(self.nostr_points.iter()) {
            match verify_portal_with_point(token, key, point, &self.policy, now) {
                Ok(id) => return Ok(self.remember(slot, token, id, now)),
                // Only a signature failure means "try the next key".
                Err(e) if e.code() == ErrorCode::BadSignature => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// Verifies a thirdweb-format JWT against the trusted admin addresses.
    pub fn verify_thirdweb(&self, token: &str) -> Result<Arc<Identity>> {
        let now = self.clock.now();
        let slot = match self.cached(token, Format::Thirdweb, now) {
            Ok(id) => return Ok(id),
            Err(slot) => slot,
        };
        let id = verify_thirdweb(token, &self.eth_admins, &self.policy, now)?;
        Ok(self.remember(slot, token, id, now))
    }

    /// Verifies the credential of a `Nostr` Authorization value: an NWT, or
    /// a NIP-98 event bound to `request`. NIP-98 results are never cached
    /// (they are bound to one request and meant for one use).
    pub fn verify_nostr(
        &self,
        credential: &str,
        request: Option<&HttpRequest<'_>>,
        expect: FormatHint,
    ) -> Result<Arc<Identity>> {
        let now = self.clock.now();
        let mut slot = None;
        if expect != FormatHint::Nip98 {
            match self.cached(credential, Format::Nwt, now) {
                Ok(id) => return Ok(id),
                Err(s) => slot = s,
            }
        }
        let (event, computed_id) =
            decode_for_verification(credential, &self.policy, |b| self.key_memo.lift(b))?;
        let wrong = |want: u16| {
            Error::with_message(
                ErrorCode::WrongKind,
                format!("expected a kind {want} event, got kind {}", event.kind),
            )
        };
        match (event.kind, expect) {
            (NWT_KIND, FormatHint::Nip98) => Err(wrong(NIP98_KIND)),
            (NIP98_KIND, FormatHint::Nwt) => Err(wrong(NWT_KIND)),
            (NWT_KIND, _) => {
                let id = verify_nwt_with_id(
                    &event,
                    Some(&computed_id),
                    &self.policy,
                    &self.nostr_keys,
                    now,
                )?;
                Ok(self.remember(slot, credential, id, now))
            }
            (NIP98_KIND, _) => {
                let req = request.ok_or(Error::new(
                    ErrorCode::UrlMismatch,
                    "a NIP-98 event can only be verified against the request it is bound to",
                ))?;
                verify_nip98_with_id(
                    &event,
                    Some(&computed_id),
                    &self.policy,
                    &self.nostr_keys,
                    req,
                    &self.nip98,
                    now,
                )
                .map(Arc::new)
            }
            (kind, _) => Err(Error::with_message(
                ErrorCode::WrongKind,
                format!("a Nostr credential has kind {NWT_KIND} (NWT) or {NIP98_KIND} (NIP-98), not {kind}"),
            )),
        }
    }

    /// Which bearer format a compact token is, for `FormatHint::Auto`.
    pub fn detect_bearer(&self, token: &str) -> Format {
        let mut parts = token.splitn(3, '.');
        let (Some(h), Some(p), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return Format::Jwt;
        };
        if h == THIRDWEB_HEADER && !self.eth_admins.is_empty() {
            // thirdweb signs `0x` + hex: its signature segment decodes to
            // ASCII starting with "0x" (a real ES256 signature is 64 raw bytes).
            let looks_hex = sig
                .get(..4)
                .and_then(|s| crate::encoding::b64_either_decode(s.as_bytes()).ok())
                .is_some_and(|b| b.starts_with(b"0x"));
            if looks_hex {
                return Format::Thirdweb;
            }
        }
        if h == PORTAL_HEADER && !self.nostr_keys.is_empty() {
            let has_target = b64url_decode(p.as_bytes())
                .ok()
                .and_then(|b| crate::json::read_object(&b).ok())
                .is_some_and(|o| o.contains("target_key"));
            if has_target {
                return Format::Portal;
            }
        }
        Format::Jwt
    }

    /// Verifies a whole `Authorization` value (or, with `allow_bare`, a bare
    /// compact token) in the expected format.
    pub fn verify_authorization(
        &self,
        value: &str,
        request: Option<&HttpRequest<'_>>,
        expect: FormatHint,
        allow_bare: bool,
    ) -> Result<Arc<Identity>> {
        match parse_authorization(value, self.policy.max_token_size, allow_bare)? {
            Credential::Nostr(c) => match expect {
                FormatHint::Auto | FormatHint::Nwt | FormatHint::Nip98 => {
                    self.verify_nostr(c, request, expect)
                }
                _ => Err(Error::malformed(
                    "a `Nostr` credential is an NWT or NIP-98 event, not a JWT",
                )),
            },
            Credential::Bearer(t) => {
                let format = match expect {
                    FormatHint::Auto => self.detect_bearer(t),
                    FormatHint::Jwt => Format::Jwt,
                    FormatHint::Portal => Format::Portal,
                    FormatHint::Thirdweb => Format::Thirdweb,
                    FormatHint::Nwt | FormatHint::Nip98 => {
                        // A bare base64 event given with --format nwt/nip98.
                        return self.verify_nostr(t, request, expect);
                    }
                };
                match format {
                    Format::Portal => self.verify_portal(t),
                    Format::Thirdweb => self.verify_thirdweb(t),
                    _ => self.verify_jwt(t),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
