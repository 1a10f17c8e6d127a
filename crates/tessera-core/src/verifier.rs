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
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::json::Object;
    use crate::keys::{SigningKey, VerifyingKey};
    use crate::{Algorithm, ErrorCode};

    struct StepClock(std::sync::atomic::AtomicI64);
    impl Clock for StepClock {
        fn now(&self) -> i64 {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    fn signed(exp: i64) -> (String, KeySet) {
        let key = SigningKey::hmac(Algorithm::HS256, &[1u8; 32]).unwrap();
        let mut claims = Object::new();
        claims.insert("sub", "alice".into());
        claims.insert("exp", exp.into());
        let t = jwt::sign(&key, &Object::new(), &claims).unwrap();
        (
            t,
            KeySet::single(VerifyingKey::hmac(Algorithm::HS256, &[1u8; 32]).unwrap()),
        )
    }

    #[test]
    fn cache_hit_rechecks_expiry_against_the_clock() {
        let (t, keys) = signed(1_000);
        let clock = Arc::new(StepClock(std::sync::atomic::AtomicI64::new(900)));
        let v = Verifier::new(
            Policy {
                leeway: 0,
                ..Policy::default()
            },
            keys,
        )
        .with_clock(clock.clone())
        .with_cache(CacheConfig::default());
        assert_eq!(v.verify_jwt(&t).unwrap().subject, "alice");
        assert_eq!(v.cache().unwrap().len(), 1);
        assert_eq!(v.verify_jwt(&t).unwrap().subject, "alice");
        clock.0.store(1_000, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(v.verify_jwt(&t).unwrap_err().code(), ErrorCode::Expired);
    }

    #[test]
    fn invalid_credentials_are_never_cached() {
        let (t, keys) = signed(1_000);
        let v = Verifier::new(Policy::default(), keys)
            .with_clock(Arc::new(FixedClock(0)))
            .with_cache(CacheConfig::default());
        let forged = format!("{}x", &t[..t.len() - 1]);
        for _ in 0..3 {
            assert!(v.verify_jwt(&forged).is_err());
        }
        assert_eq!(v.cache().unwrap().len(), 0);
        // A different credential never shares the valid one's entry.
        v.verify_jwt(&t).unwrap();
        assert!(v.verify_jwt(&forged).is_err());
    }

    #[test]
    fn the_header_memo_decides_nothing() {
        use crate::encoding::b64url_encode;
        let (good, keys) = signed(1_000);
        let v = Verifier::new(Policy::default(), keys.clone()).with_clock(Arc::new(FixedClock(0)));
        assert_eq!(v.verify_jwt(&good).unwrap().subject, "alice");
        assert_eq!(v.header_memo.len(), 1);
        // Same header text, another payload, the old signature: refused as
        // a full verification refuses it.
        let (h, rest) = good.split_once('.').unwrap();
        let sig = rest.rsplit_once('.').unwrap().1;
        let forged = format!(
            "{h}.{}.{sig}",
            b64url_encode(br#"{"sub":"mallory","exp":1000}"#)
        );
        let full = jwt::verify(&forged, &keys, &Policy::default(), 0).unwrap_err();
        assert_eq!(full.code(), ErrorCode::BadSignature);
        assert_eq!(v.verify_jwt(&forged).unwrap_err().code(), full.code());
        // A header that fails is refused each time with its own code and
        // never remembered.
        let crit = b64url_encode(br#"{"alg":"HS256","crit":["exp"]}"#);
        let with_crit = format!("{crit}.{}", rest);
        for _ in 0..2 {
            assert_eq!(
                v.verify_jwt(&with_crit).unwrap_err().code(),
                ErrorCode::CritUnsupported
            );
        }
        assert_eq!(v.header_memo.len(), 1);
        // Distinct valid headers: bounded.
        for i in 0..200 {
            let h = b64url_encode(format!(r#"{{"alg":"HS256","kid":"k{i}"}}"#).as_bytes());
            let _ = v.verify_jwt(&format!("{h}.{rest}"));
            assert!(v.header_memo.len() <= HEADER_MEMO_CAPACITY);
        }
    }

    #[test]
    fn a_cached_portal_token_is_not_a_cached_jwt() {
        use crate::nostr::{issue_portal, NostrSecretKey};
        let signer = NostrSecretKey::generate();
        let target = NostrSecretKey::generate().public_key();
        let t = issue_portal(&signer, &target, 1_000, 3_600).unwrap();
        let v = Verifier::new(Policy::default(), KeySet::new())
            .with_nostr_keys(vec![signer.public_key()])
            .with_clock(Arc::new(FixedClock(1_100)))
            .with_cache(CacheConfig::default());
        assert_eq!(v.verify_portal(&t).unwrap().format, Format::Portal);
        assert_eq!(v.cache().unwrap().len(), 1);
        // As a standard JWT the same text has no key here: a full
        // verification refuses it, and so must the cache.
        let full = jwt::verify(&t, &KeySet::new(), &Policy::default(), 1_100).unwrap_err();
        let via_cache = v.verify_jwt(&t).unwrap_err();
        assert_eq!(via_cache.code(), full.code());
        assert_eq!(via_cache.code(), ErrorCode::UnknownKey);
        // A clone that trusts other keys does not answer from the original's
        // cache.
        let other = v
            .clone()
            .with_nostr_keys(vec![NostrSecretKey::generate().public_key()]);
        assert_eq!(other.cache().unwrap().len(), 0);
        assert_eq!(
            other.verify_portal(&t).unwrap_err().code(),
            ErrorCode::BadSignature
        );
        // Plain clones still share it.
        assert_eq!(v.clone().cache().unwrap().len(), 1);
    }

    /// Issue 17, finding 3: an entry counts what it holds. An NWT whose
    /// tags became claims costs its identity's claim object, not the
    /// credential text plus a constant (which counted a seventh of it).
    #[test]
    fn cached_nwts_cost_their_claims() {
        use crate::nostr::{issue_nwt, nwt_authorization, NostrSecretKey, NwtClaims};
        let key = NostrSecretKey::generate();
        let claims = NwtClaims {
            aud: vec!["api.example".into()],
            exp: Some(2_000),
            custom: (0..60)
                .map(|i| (format!("c{}", i % 20), "v".to_string()))
                .collect(),
            ..NwtClaims::default()
        };
        let auth = nwt_authorization(&issue_nwt(&key, &claims, "", 1_000).unwrap());
        let v = Verifier::new(
            Policy {
                audiences: vec!["api.example".into()],
                ..Policy::default()
            },
            KeySet::new(),
        )
        .with_clock(Arc::new(FixedClock(1_000)))
        .with_cache(CacheConfig::default());
        let id = v
            .verify_authorization(&auth, None, FormatHint::Nwt, false)
            .unwrap();
        let credential = auth.strip_prefix("Nostr ").unwrap();
        let cost = v.cache().unwrap().bytes();
        let held = id.heap_bytes() + credential.len();
        assert!(
            held > 2 * credential.len(),
            "{held} vs {}",
            credential.len()
        );
        assert!(cost >= held, "counted {cost}, holds at least {held}");
        // ...and not wildly more: the bound stays usable.
        assert!(cost < held + 2_048, "counted {cost} for {held}");
    }

    /// A claim set kept as text is built before it is cached, so the entry
    /// cannot grow after it was counted.
    #[test]
    fn cached_jwt_claims_are_built_and_counted() {
        let (t, keys) = signed(1_000);
        let v = Verifier::new(Policy::default(), keys)
            .with_clock(Arc::new(FixedClock(0)))
            .with_cache(CacheConfig::default());
        let id = v.verify_jwt(&t).unwrap();
        let before = v.cache().unwrap().bytes();
        assert!(before >= id.heap_bytes() + t.len());
        let built = id.claims.object().heap_bytes();
        assert!(built > 0);
        assert!(
            before >= built + t.len(),
            "{before} < {built} + {}",
            t.len()
        );
    }

    #[test]
    fn thirdweb_tokens_are_detected_whatever_their_signature_starts_with() {
        use crate::ethereum::{issue_thirdweb, EthereumSecretKey, ThirdwebClaims};
        // The signature text is "0x" + hex; its third base64 character
        // depends on the first hex digit, so try many signers.
        for _ in 0..40 {
            let admin = EthereumSecretKey::generate();
            let claims = ThirdwebClaims::new(admin.address().to_checksum(), "example.com");
            let t = issue_thirdweb(&admin, &claims, 1_000).unwrap();
            let v = Verifier::new(Policy::default(), KeySet::new())
                .with_eth_admins(vec![admin.address()]);
            assert_eq!(v.detect_bearer(&t), Format::Thirdweb, "{t}");
        }
        // Without admins configured, the same header means a standard ES256 JWT.
        assert_eq!(
            Verifier::new(Policy::default(), KeySet::new())
                .detect_bearer("eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.e30.MHgw"),
            Format::Jwt
        );
    }
}
