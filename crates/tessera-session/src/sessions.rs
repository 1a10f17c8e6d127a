//! [`Sessions`]: wallet logins, access/refresh pairs, rotation, logout,
//! revocation and the per-request check, over any [`Store`].

use crate::error::{SessionError, SessionErrorKind};
use crate::revocation::{
    Presented, RevocationCache, RevocationEntries, RevocationEvent, RevocationSnapshot, Revoked,
};
use crate::tokens::{
    new_nonce, new_refresh_token, random_id, refresh_hash, sign_access_token, AccessClaims,
    ACCESS_TOKEN_TYP,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tessera_core::internal::encoding::hex_encode;
use tessera_core::internal::ethereum::eip191::parse_signature_hex;
use tessera_core::internal::ethereum::siwe::{SiweExpectations, SiweMessage};
use tessera_core::internal::ethereum::Rfc3339Time;
use tessera_core::internal::nostr::verify_portal;
use tessera_core::internal::sha::sha256;
use tessera_core::Address;
use tessera_core::CacheConfig;
use tessera_core::{
    Clock, ErrorCode, FormatHint, Identity, KeySet, Policy, SigningKey, SystemClock, Verifier,
};
use tessera_core::{HttpRequest, NostrPublicKey};
use tessera_store::{
    Invalidation, NewRefreshToken, RefreshFamily, RotateOutcome, Store, StoreError,
};
use tokio::sync::broadcast::error::RecvError;

/// Most revocation entries loaded per list into the in-process picture;
/// past it the check asks the store for each request instead.
const SNAPSHOT_LIMIT: usize = 200_000;

/// What the session layer needs to know about the server it runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Access-token `iss`: the server's public URL.
    pub issuer: String,
    /// Access-token `aud`: the server's public URL.
    pub audience: String,
    /// The SIWE `domain` (host[:port] of the public URL).
    pub siwe_domain: String,
    /// The SIWE `URI`.
    pub siwe_uri: String,
    /// The SIWE `Chain ID` put into challenges.
    pub chain_id: u64,
    /// The SIWE `Chain ID`s a login may name; empty: just `chain_id`.
    pub siwe_chain_ids: Vec<u64>,
    /// The absolute URL a NIP-98 login event must name (method `POST`).
    pub login_url: String,
    /// Audiences an NWT login may name (the public URL and its host).
    pub nwt_audiences: Vec<String>,
    /// Access-token life, seconds.
    pub access_ttl: i64,
    /// Refresh-token (and session) life, seconds.
    pub refresh_ttl: i64,
    /// Window in which a rotated refresh token presented again gets a new
    /// pair instead of killing the family, seconds. The new pair replaces
    /// the one it got before (one live successor per token), and only
    /// while that one has not been used.
    pub grace: i64,
    /// Clock-skew allowance, seconds.
    pub leeway: i64,
    /// Life of a challenge nonce, seconds.
    pub nonce_ttl: i64,
    /// Longest life (`exp - iat`, `exp - now` without `iat`) of the
    /// credentials users sign themselves for this server: NWTs (login and
    /// verification) and wallet-signed Portal JWTs (login). Longer ones are
    /// `invalid_claim`. `None`: no cap.
    pub self_issued_max_lifetime: Option<i64>,
    /// Bounds of each verified-credential cache: the access tokens' and the
    /// Nostr verifier's (NWTs) have one each.
    pub verify_cache: CacheConfig,
}

/// A SIWE challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The single-use nonce.
    pub nonce: String,
    /// When it stops being accepted (Unix seconds).
    pub expires_at: i64,
    /// The domain the message must name.
    pub domain: String,
    /// The URI the message names.
    pub uri: String,
    /// The chain id.
    pub chain_id: u64,
    /// A ready EIP-4361 message, when an address was given.
    pub message: Option<String>,
}

/// What a login or refresh hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// The signed `at+jwt` access token.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The opaque refresh token (only its hash is stored).
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
    /// The subject: a 64-hex Nostr key or an EIP-55 address.
    pub subject: String,
    /// The session (refresh family) id.
    pub session_id: String,
    /// The login method (`siwe`, `nostr`, `portal`).
    pub method: String,
}

/// The outcome of RFC 7009 revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// An access token's `jti` was revoked.
    AccessToken,
    /// A refresh token's whole session was revoked.
    RefreshToken,
    /// An NWT for this server was revoked by its event id until it
    /// expires.
    NostrToken,
    /// Nothing known by that token (RFC 7009 still answers 200).
    Unknown,
}

struct Signer {
    key: Arc<SigningKey>,
    verifier: Verifier,
}

/// Sessions over one store.
pub struct Sessions {
    config: SessionConfig,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    signer: RwLock<Arc<Signer>>,
    server_nostr: NostrPublicKey,
    revocations: Arc<RevocationCache>,
    /// Verifies `Nostr` credentials (NWT, NIP-98): built once, so that its
    /// cache (NWTs; NIP-98 events are never cached) and its memo of signer
    /// keys last across requests.
    nostr: Verifier,
    /// Held while the picture is reloaded; holds whether the last reload
    /// could not reach the store.
    reload: tokio::sync::Mutex<bool>,
    /// Reloads finished (successful or not), to tell whether one ran while
    /// a check waited for `reload`.
    reloads: AtomicU64,
    listener: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("backend", &self.store.backend())
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl Drop for Sessions {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

fn unauthorized(code: ErrorCode, message: &str) -> SessionError {
    SessionError::unauthorized(code, message)
}

fn invalid_grant(detail: &'static str, message: &str) -> SessionError {
    SessionError::new(SessionErrorKind::BadRequest, "invalid_grant", message).with_detail(detail)
}

impl Sessions {
    /// Sessions signing access tokens with `signer` (and accepting tokens
    /// of every key in `verify_keys`), for the server whose Nostr key is
    /// `server_nostr`. Starts the task that follows the store's
    /// invalidation feed; must be called inside a Tokio runtime.
    pub fn new(
        config: SessionConfig,
        store: Arc<dyn Store>,
        signer: Arc<SigningKey>,
        verify_keys: KeySet,
        server_nostr: NostrPublicKey,
    ) -> Self {
        Self::with_clock(
            config,
            store,
            signer,
            verify_keys,
            server_nostr,
            Arc::new(SystemClock),
        )
    }

    /// As [`Sessions::new`], with a clock of the caller's choosing.
    pub fn with_clock(
        config: SessionConfig,
        store: Arc<dyn Store>,
        signer: Arc<SigningKey>,
        verify_keys: KeySet,
        server_nostr: NostrPublicKey,
        clock: Arc<dyn Clock>,
    ) -> Self {
        // An ended session's access tokens are accepted until `exp +
        // leeway`, at most `access_ttl` after it ended; one more leeway
        // covers clocks of instances that differ.
        let retention = config
            .access_ttl
            .saturating_add(config.leeway.max(0).saturating_mul(2));
        let revocations = Arc::new(RevocationCache::new(retention, Arc::clone(&clock)));
        let listener = tokio::spawn(follow_feed(store.subscribe(), Arc::clone(&revocations)));
        let signer = Arc::new(Signer {
            verifier: access_verifier(&config, verify_keys, &clock),
            key: signer,
        });
        let nostr = nostr_verifier(&config, &clock);
        Sessions {
            config,
            store,
            clock,
            signer: RwLock::new(signer),
            server_nostr,
            revocations,
            nostr,
            reload: tokio::sync::Mutex::new(false),
            reloads: AtomicU64::new(0),
            listener,
        }
    }

    /// Replaces the signer and the keys access tokens are verified with
    /// (key rotation: keep the retired keys whose tokens are still alive).
    pub fn set_signer(&self, signer: Arc<SigningKey>, verify_keys: KeySet) {
        let next = Arc::new(Signer {
            verifier: access_verifier(&self.config, verify_keys, &self.clock),
            key: signer,
        });
        match self.signer.write() {
            Ok(mut g) => *g = next,
            Err(p) => *p.into_inner() = next,
        }
    }

    /// Replaces the keys access tokens are verified with and keeps the
    /// signer (an app that verifies a tessera server's tokens by the
    /// server's JWKS, which rotates).
    pub fn set_verify_keys(&self, verify_keys: KeySet) {
        self.set_signer(Arc::clone(&self.signer().key), verify_keys);
    }

    fn signer(&self) -> Arc<Signer> {
        match self.signer.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The current time.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Issues a SIWE challenge: a single-use nonce (stored with its TTL)
    /// and, when `address` is given, the EIP-4361 message to sign.
    pub async fn challenge(&self, address: Option<&str>) -> Result<Challenge, SessionError> {
        let address =
            match address {
                Some(a) => Some(Address::parse(a).map_err(|e| {
                    SessionError::bad_request(format!("`address`: {}", e.message()))
                })?),
                None => None,
            };
        let now = self.now();
        let nonce = new_nonce();
        let expires_at = now.saturating_add(self.config.nonce_ttl);
        let message = match address {
            Some(address) => {
                let at = |t: i64| {
                    Rfc3339Time::from_unix(t).map_err(|_| {
                        SessionError::new(
                            SessionErrorKind::Internal,
                            "internal",
                            "the clock is out of range",
                        )
                    })
                };
                let msg = SiweMessage::builder(
                    self.config.siwe_domain.clone(),
                    address,
                    self.config.siwe_uri.clone(),
                    self.config.chain_id,
                    nonce.clone(),
                    at(now)?,
                )
                .statement(format!("Sign in to {}", self.config.siwe_domain))
                .expiration_time(at(expires_at)?)
                .build()
                .map_err(|e| SessionError::bad_request(e.message().to_owned()))?;
                Some(msg.to_string())
            }
            None => None,
        };
        self.store.put_nonce(&nonce, expires_at).await?;
        Ok(Challenge {
            nonce,
            expires_at,
            domain: self.config.siwe_domain.clone(),
            uri: self.config.siwe_uri.clone(),
            chain_id: self.config.chain_id,
            message,
        })
    }

    /// Login by a SIWE message for this server's domain, carrying a nonce
    /// from [`Sessions::challenge`] (spent here), signed by its address.
    pub async fn login_siwe(
        &self,
        message: &str,
        signature: &str,
    ) -> Result<TokenPair, SessionError> {
        let msg = SiweMessage::parse(message)?;
        let sig = parse_signature_hex(signature)?;
        let now = self.now();
        let mut expect = SiweExpectations::new(&self.config.siwe_domain, msg.nonce(), now);
        expect.leeway = self.config.leeway.min(5);
        // What the server knows of itself (issue 17, item 11): its URI (a
        // message may name it or a page under it), its scheme, its chains,
        // and that a nonce lives `nonce_ttl`: a message issued before that
        // cannot carry one of ours.
        let own_chain = [self.config.chain_id];
        expect.uri = Some(&self.config.siwe_uri);
        expect.scheme = self.config.siwe_uri.split_once("://").map(|(s, _)| s);
        expect.chain_ids = if self.config.siwe_chain_ids.is_empty() {
            &own_chain
        } else {
            &self.config.siwe_chain_ids
        };
        expect.issued_at_max_age = Some(self.config.nonce_ttl.saturating_add(self.config.leeway));
        expect.issued_at_max_future = Some(self.config.leeway);
        // Signature (and domain, times) first: a forged request must not
        // burn somebody's nonce.
        let identity = msg.verify(&sig, &expect)?;
        // A message issued at or before the subject's logout-all is dead
        // like every other credential of theirs (issue 17, finding 1).
        self.check_issued(&identity).await?;
        if !self.store.consume_nonce(msg.nonce(), now).await? {
            return Err(unauthorized(
                ErrorCode::NonceMismatch,
                "the SIWE nonce is unknown, expired or already used: ask /v1/auth/challenge for a new one",
            ));
        }
        self.issue_pair(&identity.subject, "siwe").await
    }

    /// Login by a `Nostr` Authorization value: a NIP-98 event for
    /// `POST <login_url>` (with `body` as the request body), or an NWT whose
    /// `aud` names this server. Each event logs in once.
    pub async fn login_nostr(
        &self,
        authorization: &str,
        body: &[u8],
    ) -> Result<TokenPair, SessionError> {
        let identity = self
            .verify_nostr_for(authorization, &self.config.login_url, "POST", body)
            .await?;
        self.remember_once(&identity).await?;
        self.issue_pair(&identity.subject, "nostr").await
    }

    /// The verifier of `Nostr` credentials (one for the life of `self`).
    pub fn nostr_verifier(&self) -> &Verifier {
        &self.nostr
    }

    /// Verifies a `Nostr` credential (NWT for this server, or NIP-98 bound
    /// to `url`/`method`/`body`), then the session checks: an NWT revoked
    /// by its event id, and any credential of a subject who logged out
    /// everywhere at or after its issue time, is `revoked`. Without the
    /// replay guard ([`Sessions::remember_once`]).
    pub async fn verify_nostr_for(
        &self,
        authorization: &str,
        url: &str,
        method: &str,
        body: &[u8],
    ) -> Result<Arc<Identity>, SessionError> {
        let request = HttpRequest {
            url,
            method,
            body: Some(body),
        };
        let id = self.nostr.verify_authorization(
            authorization,
            Some(&request),
            FormatHint::Auto,
            false,
        )?;
        if !matches!(
            id.format,
            tessera_core::Format::Nwt | tessera_core::Format::Nip98
        ) {
            return Err(unauthorized(
                ErrorCode::Malformed,
                "expected `Authorization: Nostr <event>` (an NWT or a NIP-98 event)",
            ));
        }
        self.check_issued(&id).await?;
        Ok(id)
    }

    /// The session checks of a credential the subject made (issue 17,
    /// finding 1): revoked by id (NWTs, see [`Sessions::revoke`]), or
    /// issued at or before the subject's logout-all. From the in-process
    /// picture, like [`Sessions::check_access`]. The server applies it to
    /// every credential a trusted `[[issuer]]` made, too.
    pub async fn check_issued(&self, identity: &Identity) -> Result<(), SessionError> {
        let revocation_id = nwt_revocation_id(identity);
        let presented = Presented::Issued {
            revocation_id: revocation_id.as_deref(),
            subject: &identity.subject,
            issued_at: identity.issued_at,
        };
        let verdict = match self.revocations.check_presented(&presented) {
            Some(v) => v,
            None => self.check_slow(&presented).await?,
        };
        match verdict {
            Ok(()) => Ok(()),
            Err(Revoked::Subject) => Err(unauthorized(
                ErrorCode::Revoked,
                "the subject logged out everywhere after this credential was issued (or in the same second); make a new one",
            )),
            Err(_) => Err(unauthorized(
                ErrorCode::Revoked,
                "this credential was revoked",
            )),
        }
    }

    /// The replay guard: refuses (`replayed`) a credential id seen before
    /// and still valid. Ids are remembered until the credential expires.
    pub async fn remember_once(&self, identity: &Identity) -> Result<(), SessionError> {
        let now = self.now();
        let id = match &identity.id {
            Some(id) => format!("{}:{id}", identity.format.as_str()),
            None => {
                return Err(unauthorized(
                    ErrorCode::Malformed,
                    "the credential has no id to guard against replay",
                ))
            }
        };
        let until = identity
            .expires_at
            .unwrap_or(now.saturating_add(3600))
            .saturating_add(self.config.leeway)
            .max(now.saturating_add(1));
        if self.store.remember_once(&id, until, now).await? {
            Ok(())
        } else {
            Err(unauthorized(
                ErrorCode::Replayed,
                "this credential was already used; make a new one",
            ))
        }
    }

    /// Login by a Portal wallet JWT signed by `pubkey` (hex or `npub`)
    /// whose `target_key` is this server's Nostr key. Each token logs in
    /// once.
    pub async fn login_portal(&self, token: &str, pubkey: &str) -> Result<TokenPair, SessionError> {
        let signer = NostrPublicKey::parse(pubkey.trim())
            .map_err(|e| SessionError::bad_request(format!("`pubkey`: {}", e.message())))?;
        let policy = Policy {
            audiences: vec![self.server_nostr.to_hex()],
            leeway: self.config.leeway,
            max_lifetime: self.config.self_issued_max_lifetime,
            ..Policy::default()
        };
        let mut identity = verify_portal(token, &signer, &policy, self.now())?;
        identity.id = Some(hex_encode(&sha256(token.as_bytes())));
        self.check_issued(&identity).await?;
        self.remember_once(&identity).await?;
        self.issue_pair(&identity.subject, "portal").await
    }

    async fn issue_pair(&self, subject: &str, method: &str) -> Result<TokenPair, SessionError> {
        let now = self.now();
        let version = self.store.token_version(subject).await?;
        let family = RefreshFamily {
            id: random_id(),
            subject: subject.to_owned(),
            amr: method.to_owned(),
            created_at: now,
            expires_at: now.saturating_add(self.config.refresh_ttl),
            revoked: false,
            token_version: version,
        };
        let (refresh, hash) = new_refresh_token();
        let first = NewRefreshToken {
            hash,
            expires_at: family.expires_at,
        };
        self.store.create_family(&family, &first).await?;
        self.pair_for(&family, refresh, first.expires_at, now)
    }

    fn pair_for(
        &self,
        family: &RefreshFamily,
        refresh_token: String,
        refresh_expires_at: i64,
        now: i64,
    ) -> Result<TokenPair, SessionError> {
        let refresh_expires_at = refresh_expires_at.min(family.expires_at);
        let expires_at = now
            .saturating_add(self.config.access_ttl)
            .min(family.expires_at);
        let claims = AccessClaims {
            issuer: self.config.issuer.clone(),
            audience: self.config.audience.clone(),
            subject: family.subject.clone(),
            issued_at: now,
            expires_at,
            jti: random_id(),
            sid: family.id.clone(),
            amr: family.amr.clone(),
            ver: family.token_version,
        };
        let access_token = sign_access_token(&self.signer().key, &claims).map_err(|e| {
            SessionError::new(
                SessionErrorKind::Internal,
                "internal",
                format!("cannot sign the access token: {}", e.message()),
            )
        })?;
        Ok(TokenPair {
            access_token,
            expires_in: expires_at - now,
            refresh_token,
            refresh_expires_in: refresh_expires_at - now,
            subject: family.subject.clone(),
            session_id: family.id.clone(),
            method: family.amr.clone(),
        })
    }

    /// Rotates a refresh token: a new pair in the same session, the
    /// presented token spent. Presented again within the grace window, it
    /// gets a pair that replaces the previous one. A token spent more than
    /// the grace window ago, a replaced one, or one whose successor was
    /// already used revokes the whole session (`invalid_grant`, detail
    /// `reuse_detected`).
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, SessionError> {
        if refresh_token.is_empty() || refresh_token.len() > 512 {
            return Err(invalid_grant("malformed", "the refresh token is malformed"));
        }
        let now = self.now();
        let presented = refresh_hash(refresh_token);
        let (next, hash) = new_refresh_token();
        let successor = NewRefreshToken {
            hash,
            expires_at: now.saturating_add(self.config.refresh_ttl),
        };
        let outcome = self
            .store
            .rotate_refresh(&presented, &successor, now, self.config.grace)
            .await?;
        let family = match outcome {
            RotateOutcome::Rotated { family } | RotateOutcome::Reissued { family } => family,
            RotateOutcome::ReuseDetected { family_id, subject } => {
                self.note(RevocationEvent::Family(family_id));
                tracing::warn!(
                    subject = %subject,
                    "refresh token reused after rotation: the whole session was revoked"
                );
                return Err(invalid_grant(
                    "reuse_detected",
                    "this refresh token was already used; the session has been ended for safety — log in again",
                ));
            }
            RotateOutcome::Revoked => {
                return Err(invalid_grant(
                    "revoked",
                    "the session of this refresh token has ended; log in again",
                ))
            }
            RotateOutcome::Expired => {
                return Err(invalid_grant(
                    "expired",
                    "the refresh token has expired; log in again",
                ))
            }
            RotateOutcome::NotFound => {
                return Err(invalid_grant(
                    "not_found",
                    "unknown refresh token; log in again",
                ))
            }
        };
        // A session created while its subject logged out everywhere keeps
        // the old token version: end it rather than mint dead tokens.
        let current = match self.revocations.version(&family.subject) {
            Some(v) => v,
            None => self.store.token_version(&family.subject).await?,
        };
        if family.token_version < current {
            self.store.revoke_family(&family.id, now).await?;
            self.note(RevocationEvent::Family(family.id));
            return Err(invalid_grant(
                "revoked",
                "the subject logged out everywhere; log in again",
            ));
        }
        self.pair_for(&family, next, successor.expires_at, now)
    }

    /// The per-request check of an access token: signature, `typ`,
    /// issuer, audience and times (cached after the first success), then
    /// revoked `jti`, ended session and token version from the in-process
    /// picture (no store round trip while the invalidation feed is up; one
    /// reload when it is not; failing closed when the store is down).
    pub async fn check_access(&self, token: &str) -> Result<Arc<Identity>, SessionError> {
        let identity = self.signer().verifier.verify_jwt(token)?;
        let (jti, sid, ver) = AccessClaims::session_parts(&identity.claims).ok_or_else(|| {
            unauthorized(
                ErrorCode::MissingClaim,
                "an access token carries `jti`, `sid` and `ver`",
            )
        })?;
        let presented = Presented::Access {
            jti,
            sid,
            subject: &identity.subject,
            ver,
        };
        let verdict = match self.revocations.check_presented(&presented) {
            Some(v) => v,
            None => self.check_slow(&presented).await?,
        };
        match verdict {
            Ok(()) => Ok(identity),
            Err(Revoked::Token) => Err(unauthorized(
                ErrorCode::Revoked,
                "this access token was revoked",
            )),
            Err(Revoked::Session) => Err(unauthorized(
                ErrorCode::Revoked,
                "the session of this access token has ended",
            )),
            Err(Revoked::Subject) => Err(unauthorized(
                ErrorCode::Revoked,
                "the subject logged out everywhere after this token was issued",
            )),
        }
    }

    /// The picture is stale: reload it once (one snapshot query), or, if
    /// the store holds more than fits, ask it about this one credential.
    async fn check_slow(
        &self,
        presented: &Presented<'_>,
    ) -> Result<Result<(), Revoked>, SessionError> {
        let seen = self.reloads.load(Ordering::Acquire);
        {
            let mut last_unreachable = self.reload.lock().await;
            if let Some(v) = self.revocations.check_presented(presented) {
                return Ok(v);
            }
            // A reload ran while this check waited, and could not reach the
            // store: fail closed now. Trying again would make every queued
            // check wait out its own store timeout, one after the other (with
            // the store down, the n-th concurrent check answered after n
            // timeouts).
            if *last_unreachable && self.reloads.load(Ordering::Acquire) != seen {
                return Err(SessionError::new(
                    SessionErrorKind::Unavailable,
                    "unavailable",
                    "the session store cannot be reached; try again shortly",
                ));
            }
            let reloaded = self.reload_revocations().await;
            *last_unreachable =
                matches!(&reloaded, Err(e) if e.kind() == SessionErrorKind::Unavailable);
            self.reloads.fetch_add(1, Ordering::Release);
            if reloaded? {
                if let Some(v) = self.revocations.check_presented(presented) {
                    return Ok(v);
                }
            }
        }
        let now = self.now();
        match *presented {
            Presented::Access {
                jti,
                sid,
                subject,
                ver,
            } => {
                if self.store.is_jti_revoked(jti, now).await? {
                    return Ok(Err(Revoked::Token));
                }
                match self.store.family(sid).await? {
                    Some(f) if !f.revoked => {}
                    _ => return Ok(Err(Revoked::Session)),
                }
                if ver < self.store.token_version(subject).await? {
                    return Ok(Err(Revoked::Subject));
                }
                Ok(Ok(()))
            }
            Presented::Issued {
                revocation_id,
                subject,
                issued_at,
            } => {
                if let Some(id) = revocation_id {
                    if self.store.is_jti_revoked(id, now).await? {
                        return Ok(Err(Revoked::Token));
                    }
                }
                let instant = self.store.token_version(subject).await?;
                Ok(crate::revocation::issued_after(issued_at, instant))
            }
        }
    }

    /// Loads the revocation picture from the store; `Ok(false)` when it
    /// does not fit in memory or events were lost meanwhile.
    pub async fn reload_revocations(&self) -> Result<bool, SessionError> {
        self.revocations.begin_reload();
        let snapshot = match self
            .store
            .revocation_snapshot(self.now(), SNAPSHOT_LIMIT)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                self.revocations.abort_reload();
                return Err(e.into());
            }
        };
        if !snapshot.complete {
            self.revocations.abort_reload();
            return Ok(false);
        }
        Ok(self.revocations.load(RevocationSnapshot {
            jtis: snapshot.jtis.into_iter().collect(),
            families: snapshot.families.into_iter().collect(),
            versions: snapshot.versions.into_iter().collect(),
        }))
    }

    /// Verifies an access token's signature and claims (for logout and
    /// introspection), without the session checks.
    pub fn verify_access_signature(&self, token: &str) -> Result<Arc<Identity>, SessionError> {
        Ok(self.signer().verifier.verify_jwt(token)?)
    }

    /// Ends the session of a (valid) access token: its `jti` and its whole
    /// refresh family are revoked.
    pub async fn logout_access(&self, token: &str) -> Result<(), SessionError> {
        let identity = self.verify_access_signature(token)?;
        let (jti, sid, _) = AccessClaims::session_parts(&identity.claims)
            .ok_or_else(|| unauthorized(ErrorCode::MissingClaim, "not a tessera access token"))?;
        let now = self.now();
        let until = identity
            .expires_at
            .unwrap_or(now)
            .saturating_add(self.config.leeway);
        self.store.revoke_jti(jti, until).await?;
        self.note(RevocationEvent::Jti {
            jti: jti.to_owned(),
            exp: until,
        });
        self.store.revoke_family(sid, now).await?;
        self.note(RevocationEvent::Family(sid.to_owned()));
        Ok(())
    }

    /// Ends the session a refresh token belongs to; `false` when the token
    /// is unknown.
    pub async fn logout_refresh(&self, refresh_token: &str) -> Result<bool, SessionError> {
        if refresh_token.is_empty() || refresh_token.len() > 512 {
            return Ok(false);
        }
        match self
            .store
            .family_of_token(&refresh_hash(refresh_token))
            .await?
        {
            Some(f) => {
                self.store.revoke_family(&f.id, self.now()).await?;
                self.note(RevocationEvent::Family(f.id));
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Logout everywhere: every token of `subject` issued before now stops
    /// working (token version bumped, every session revoked). Returns the
    /// number of sessions ended.
    pub async fn logout_all(&self, subject: &str) -> Result<u64, SessionError> {
        // The new version is also the logout-all instant, which credentials
        // with an issue time (NWT, NIP-98, Portal) are compared with.
        let version = self.store.bump_token_version(subject, self.now()).await?;
        self.note(RevocationEvent::Subject {
            subject: subject.to_owned(),
            version,
        });
        Ok(self
            .store
            .revoke_subject_families(subject, self.now())
            .await?)
    }

    /// RFC 7009: revokes an access token (by `jti`), a refresh token (its
    /// whole session), or an NWT for this server (its event id, until it
    /// expires; the token is the base64url event, with or without the
    /// `Nostr ` scheme). Unknown or invalid tokens are not an error.
    pub async fn revoke(
        &self,
        token: &str,
        hint: Option<&str>,
    ) -> Result<Revocation, SessionError> {
        let try_access = |s: &Self| -> Option<(String, i64)> {
            let id = s.verify_access_signature(token).ok()?;
            let (jti, _, _) = AccessClaims::session_parts(&id.claims)?;
            Some((jti.to_owned(), id.expires_at.unwrap_or(0)))
        };
        let access_first = hint != Some("refresh_token") && token.contains('.');
        if access_first {
            if let Some((jti, exp)) = try_access(self) {
                self.revoke_jti(jti, exp).await?;
                return Ok(Revocation::AccessToken);
            }
        }
        if self.logout_refresh(token).await? {
            return Ok(Revocation::RefreshToken);
        }
        if !access_first && token.contains('.') {
            if let Some((jti, exp)) = try_access(self) {
                self.revoke_jti(jti, exp).await?;
                return Ok(Revocation::AccessToken);
            }
        }
        if hint != Some("refresh_token") && !token.contains('.') {
            if let Some((id, exp)) = self.nwt_to_revoke(token) {
                self.revoke_jti(id, exp).await?;
                return Ok(Revocation::NostrToken);
            }
        }
        Ok(Revocation::Unknown)
    }

    /// The revocation id and expiry of a valid NWT for this server (an NWT
    /// that does not verify here has nothing to revoke).
    fn nwt_to_revoke(&self, token: &str) -> Option<(String, i64)> {
        let token = token.trim();
        let bare = match token.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("nostr") => rest,
            _ => token,
        };
        let id = self
            .nostr
            .verify_authorization(&format!("Nostr {bare}"), None, FormatHint::Nwt, false)
            .ok()?;
        Some((nwt_revocation_id(&id)?, id.expires_at?))
    }

    async fn revoke_jti(&self, jti: String, exp: i64) -> Result<(), SessionError> {
        let until = exp.saturating_add(self.config.leeway);
        self.store.revoke_jti(&jti, until).await?;
        self.note(RevocationEvent::Jti { jti, exp: until });
        Ok(())
    }

    /// Applies this instance's own change to its picture at once (the feed
    /// delivers it too, a moment later; applying twice is harmless).
    fn note(&self, event: RevocationEvent) {
        self.revocations.apply(event);
    }

    /// RFC 7662: the identity of an access token that is valid now
    /// (including the session checks), or `None`. Refresh tokens are not
    /// introspectable (RFC 7662 §2.2 allows answering inactive).
    pub async fn introspect(&self, token: &str) -> Result<Option<Arc<Identity>>, SessionError> {
        match self.check_access(token).await {
            Ok(id) => Ok(Some(id)),
            Err(e) if e.kind() == SessionErrorKind::Unavailable => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// Deletes expired state from the store, and from the in-process
    /// picture what no live token needs any more.
    pub async fn purge_expired(&self) -> Result<u64, SessionError> {
        let now = self.now();
        self.revocations.prune();
        Ok(self.store.purge_expired(now).await?)
    }

    /// How many entries the in-process revocation picture holds, by kind.
    pub fn revocation_entries(&self) -> RevocationEntries {
        self.revocations.entries()
    }

    /// One round trip to the store (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}

/// The key an NWT is revoked under: its event id, apart from access-token
/// `jti`s.
fn nwt_revocation_id(identity: &Identity) -> Option<String> {
    match (&identity.format, &identity.id) {
        (tessera_core::Format::Nwt, Some(id)) => Some(format!("nwt:{id}")),
        _ => None,
    }
}

/// The verifier of `Nostr` credentials: NWTs must name this server.
fn nostr_verifier(config: &SessionConfig, clock: &Arc<dyn Clock>) -> Verifier {
    let policy = Policy {
        audiences: config.nwt_audiences.clone(),
        leeway: config.leeway,
        max_lifetime: config.self_issued_max_lifetime,
        ..Policy::default()
    };
    Verifier::new(policy, KeySet::new())
        .with_clock(Arc::clone(clock))
        .with_cache(config.verify_cache)
}

fn access_verifier(config: &SessionConfig, keys: KeySet, clock: &Arc<dyn Clock>) -> Verifier {
    let policy = Policy {
        audiences: vec![config.audience.clone()],
        issuer: Some(config.issuer.clone()),
        leeway: config.leeway,
        required_typ: Some(ACCESS_TOKEN_TYP.to_owned()),
        required_claims: vec!["jti".into(), "sid".into(), "sub".into()],
        ..Policy::default()
    };
    Verifier::new(policy, keys)
        .with_clock(Arc::clone(clock))
        .with_cache(config.verify_cache)
}

/// Follows the store's invalidation feed into the in-process picture.
async fn follow_feed(
    mut rx: tokio::sync::broadcast::Receiver<Invalidation>,
    cache: Arc<RevocationCache>,
) {
    loop {
        let event = match rx.recv().await {
            Ok(Invalidation::Jti { jti, expires_at }) => RevocationEvent::Jti {
                jti,
                exp: expires_at,
            },
            Ok(Invalidation::Family(id)) => RevocationEvent::Family(id),
            Ok(Invalidation::Subject { subject, version }) => {
                RevocationEvent::Subject { subject, version }
            }
            Ok(Invalidation::Resync) | Err(RecvError::Lagged(_)) => RevocationEvent::Resync,
            Err(RecvError::Closed) => {
                cache.apply(RevocationEvent::Resync);
                return;
            }
        };
        cache.apply(event);
    }
}
