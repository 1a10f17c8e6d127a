//! Refresh: rotating a refresh token into a new pair of the same session.

use tessera_store::{NewRefreshToken, RefreshFamily, RotateOutcome};

use super::{invalid_grant, Sessions, TokenPair};
use crate::error::{SessionError, SessionErrorCode, SessionErrorKind};
use crate::revocation::RevocationEvent;
use crate::tokens::{new_refresh_token, random_id, refresh_hash, sign_access_token, AccessClaims};

impl Sessions {
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

    pub(super) fn pair_for(
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
                SessionErrorCode::Internal,
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
}
