//! The checks of presented credentials: access tokens (per request) and
//! credentials the subject made, against the in-process revocation
//! picture, reloading it from the store when it is stale.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tessera_core::{ErrorCode, Identity};

use super::{nwt_revocation_id, unauthorized, Sessions, SNAPSHOT_LIMIT};
use crate::error::{SessionError, SessionErrorCode, SessionErrorKind};
use crate::revocation::{Presented, RevocationSnapshot, Revoked};
use crate::tokens::AccessClaims;

impl Sessions {
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
                    SessionErrorCode::Unavailable,
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
}
