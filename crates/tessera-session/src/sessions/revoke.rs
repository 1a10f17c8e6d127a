//! Logout (one session, everywhere) and RFC 7009 revocation.

use tessera_core::{ErrorCode, FormatHint};

use super::{nwt_revocation_id, unauthorized, Revocation, Sessions};
use crate::error::SessionError;
use crate::revocation::RevocationEvent;
use crate::tokens::{refresh_hash, AccessClaims};

impl Sessions {
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
}
