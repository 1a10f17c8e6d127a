//! Challenges and logins: SIWE, `Nostr` (NIP-98, NWT) and Portal, each
//! ending in a new session and its first pair.

use std::sync::Arc;

use tessera_core::internal::encoding::hex_encode;
use tessera_core::internal::ethereum::eip191::parse_signature_hex;
use tessera_core::internal::ethereum::siwe::{SiweExpectations, SiweMessage};
use tessera_core::internal::ethereum::{Address, Rfc3339Time};
use tessera_core::internal::nostr::{verify_portal, HttpRequest, NostrPublicKey};
use tessera_core::internal::sha::sha256;
use tessera_core::{ErrorCode, FormatHint, Identity, Policy, Verifier};
use tessera_store::{NewRefreshToken, RefreshFamily};

use super::{unauthorized, Challenge, Sessions, TokenPair};
use crate::error::{SessionError, SessionErrorCode, SessionErrorKind};
use crate::tokens::{new_nonce, new_refresh_token, random_id};

impl Sessions {
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
                            SessionErrorCode::Internal,
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
}
