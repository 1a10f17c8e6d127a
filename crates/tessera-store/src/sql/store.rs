//! [`Store`] for both SQL dialects.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};
use tokio::sync::broadcast;

use super::rotation::{decide, Step};
use super::{begin, family_from_row, to_i64, to_version, Conn, Dialect, SqlStore, FAMILY_COLUMNS};
use crate::error::from_sqlx;
use crate::{
    Invalidation, LatencyObserver, NewRefreshToken, RefreshFamily, RevocationSnapshot,
    RotateOutcome, Store, StoreError, Timestamp,
};

#[async_trait]
impl<D: Dialect> Store for SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::DB>,
    for<'q> <D::DB as Database>::Arguments<'q>: IntoArguments<'q, D::DB>,
    for<'q> i64: Encode<'q, D::DB> + Decode<'q, D::DB> + Type<D::DB>,
    for<'q> String: Decode<'q, D::DB> + Type<D::DB>,
    for<'q> bool: Encode<'q, D::DB> + Decode<'q, D::DB> + Type<D::DB>,
    for<'q> Vec<u8>: Decode<'q, D::DB> + Type<D::DB>,
    for<'q> &'q str: Encode<'q, D::DB> + Type<D::DB>,
    for<'q> &'q [u8]: Encode<'q, D::DB> + Type<D::DB>,
    usize: ColumnIndex<<D::DB as Database>::Row>,
    for<'a> &'a str: ColumnIndex<<D::DB as Database>::Row>,
{
    fn backend(&self) -> &'static str {
        D::BACKEND
    }

    async fn put_nonce(&self, nonce: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        self.timer
            .timed("put_nonce", async {
                sqlx::query(
                    "INSERT INTO tessera_nonces (nonce, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at",
                )
                .bind(nonce)
                .bind(expires_at)
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err(|e| from_sqlx("store nonce", e))
            })
            .await
    }

    async fn consume_nonce(&self, nonce: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.timer
            .timed("consume_nonce", async {
                let exp: Option<i64> = sqlx::query_scalar(
                    "DELETE FROM tessera_nonces WHERE nonce = $1 RETURNING expires_at",
                )
                .bind(nonce)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| from_sqlx("consume nonce", e))?;
                Ok(exp.is_some_and(|exp| now < exp))
            })
            .await
    }

    async fn remember_once(
        &self,
        id: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.timer
            .timed("remember_once", async {
                let done = sqlx::query(
                    "INSERT INTO tessera_seen_ids (id, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at \
                 WHERE tessera_seen_ids.expires_at <= $3",
                )
                .bind(id)
                .bind(expires_at)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(|e| from_sqlx("remember credential id", e))?;
                Ok(D::rows_affected(&done) == 1)
            })
            .await
    }

    async fn create_family(
        &self,
        family: &RefreshFamily,
        first: &NewRefreshToken,
    ) -> Result<(), StoreError> {
        self.timer
            .timed("create_family", async {
                let version = to_i64("token_version", family.token_version)?;
                self.dialect
                    .create_family(&self.pool, family, version, first)
                    .await
                    .map_err(|e| from_sqlx("create refresh family", e))
            })
            .await
    }

    async fn rotate_refresh(
        &self,
        presented: &[u8; 32],
        successor: &NewRefreshToken,
        now: Timestamp,
        grace_seconds: i64,
    ) -> Result<RotateOutcome, StoreError> {
        self.timer.timed("rotate_refresh", async {
            let e = |x| from_sqlx("rotate refresh token", x);
            let mut tx = begin(&self.pool, D::BEGIN_WRITE).await.map_err(e)?;
            let Some((token, previous)) = D::read_token(&mut tx, presented).await.map_err(e)?
            else {
                let _ = tx.rollback().await;
                return Ok(RotateOutcome::NotFound);
            };
            let family = sqlx::query(&format!(
                "SELECT {FAMILY_COLUMNS} FROM tessera_refresh_families WHERE id = $1{}",
                D::FOR_UPDATE
            ))
            .bind(token.family_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(e)?;
            let Some(family) = family else {
                let _ = tx.rollback().await;
                return Ok(RotateOutcome::NotFound);
            };
            let family = family_from_row(&family).map_err(e)?;
            let step = decide(&token, &family, now, grace_seconds);
            match step {
                Step::Revoked | Step::Expired => {
                    let _ = tx.rollback().await;
                    Ok(if step == Step::Revoked {
                        RotateOutcome::Revoked
                    } else {
                        RotateOutcome::Expired
                    })
                }
                Step::Rotate | Step::Reissue => {
                    if step == Step::Reissue {
                        if let Some(previous) = &previous {
                            sqlx::query(
                                "UPDATE tessera_refresh_tokens SET replaced = TRUE WHERE hash = $1",
                            )
                            .bind(previous.as_slice())
                            .execute(&mut *tx)
                            .await
                            .map_err(e)?;
                        }
                    }
                    // A reissue keeps the first `spent_at`: the grace window
                    // runs from the first rotation.
                    sqlx::query(
                        "UPDATE tessera_refresh_tokens SET spent_at = COALESCE(spent_at, $1), successor = $2 \
                         WHERE hash = $3",
                    )
                    .bind(now)
                    .bind(successor.hash.as_slice())
                    .bind(presented.as_slice())
                    .execute(&mut *tx)
                    .await
                    .map_err(e)?;
                    sqlx::query(
                        "INSERT INTO tessera_refresh_tokens (hash, family_id, expires_at) VALUES ($1, $2, $3)",
                    )
                    .bind(successor.hash.as_slice())
                    .bind(family.id.as_str())
                    .bind(successor.expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(e)?;
                    tx.commit().await.map_err(e)?;
                    Ok(if step == Step::Rotate {
                        RotateOutcome::Rotated { family }
                    } else {
                        RotateOutcome::Reissued { family }
                    })
                }
                Step::Reuse => {
                    let event = Invalidation::Family(family.id.clone());
                    sqlx::query(
                        "UPDATE tessera_refresh_families SET revoked = TRUE, revoked_at = $1 WHERE id = $2",
                    )
                    .bind(now)
                    .bind(family.id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(e)?;
                    self.dialect
                        .notify(&mut tx, &self.bus, &event)
                        .await
                        .map_err(e)?;
                    tx.commit().await.map_err(e)?;
                    self.bus.local(event);
                    Ok(RotateOutcome::ReuseDetected {
                        family_id: family.id,
                        subject: family.subject,
                    })
                }
            }
        })
        .await
    }

    async fn family(&self, family_id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        self.timer
            .timed("family", async {
                let e = |x| from_sqlx("read refresh family", x);
                let row = sqlx::query(&format!(
                    "SELECT {FAMILY_COLUMNS} FROM tessera_refresh_families WHERE id = $1"
                ))
                .bind(family_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(e)?;
                row.as_ref().map(family_from_row).transpose().map_err(e)
            })
            .await
    }

    async fn family_of_token(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<RefreshFamily>, StoreError> {
        self.timer.timed("family_of_token", async {
            let e = |x| from_sqlx("read refresh family of token", x);
            let row = sqlx::query(
                "SELECT f.id, f.subject, f.amr, f.created_at, f.expires_at, f.revoked, f.token_version \
                 FROM tessera_refresh_tokens t JOIN tessera_refresh_families f ON f.id = t.family_id \
                 WHERE t.hash = $1",
            )
            .bind(token_hash.as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(e)?;
            row.as_ref().map(family_from_row).transpose().map_err(e)
        })
        .await
    }

    async fn revoke_family(&self, family_id: &str, now: Timestamp) -> Result<bool, StoreError> {
        let revoked = self
            .timer
            .timed("revoke_family", async {
                self.dialect
                    .revoke_family(&self.pool, &self.bus, family_id, now)
                    .await
                    .map_err(|e| from_sqlx("revoke refresh family", e))
            })
            .await?;
        if revoked {
            self.bus.local(Invalidation::Family(family_id.to_string()));
        }
        Ok(revoked)
    }

    async fn revoke_subject_families(
        &self,
        subject: &str,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let ids = self
            .timer
            .timed("revoke_subject_families", async {
                self.dialect
                    .revoke_subject_families(&self.pool, &self.bus, subject, now)
                    .await
                    .map_err(|e| from_sqlx("revoke families of subject", e))
            })
            .await?;
        Ok(self.bus.families_revoked(ids))
    }

    async fn revoke_jti(&self, jti: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        let expires_at = self
            .timer
            .timed("revoke_jti", async {
                self.dialect
                    .revoke_jti(&self.pool, &self.bus, jti, expires_at)
                    .await
                    .map_err(|e| from_sqlx("revoke jti", e))
            })
            .await?;
        self.bus.local(Invalidation::Jti {
            jti: jti.to_string(),
            expires_at,
        });
        Ok(())
    }

    async fn is_jti_revoked(&self, jti: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.timer
            .timed("is_jti_revoked", async {
                let exp: Option<i64> = sqlx::query_scalar(
                    "SELECT expires_at FROM tessera_revoked_jtis WHERE jti = $1",
                )
                .bind(jti)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| from_sqlx("read revoked jti", e))?;
                Ok(exp.is_some_and(|exp| now < exp))
            })
            .await
    }

    async fn token_version(&self, subject: &str) -> Result<u64, StoreError> {
        self.timer
            .timed("token_version", async {
                let v: Option<i64> = sqlx::query_scalar(
                    "SELECT version FROM tessera_token_versions WHERE subject = $1",
                )
                .bind(subject)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| from_sqlx("read token version", e))?;
                to_version(v.unwrap_or(0))
            })
            .await
    }

    async fn bump_token_version(&self, subject: &str, now: Timestamp) -> Result<u64, StoreError> {
        let version = self
            .timer
            .timed("bump_token_version", async {
                self.dialect
                    .bump_token_version(&self.pool, &self.bus, subject, now)
                    .await
                    .map_err(|e| from_sqlx("bump token version", e))
            })
            .await?;
        let version = to_version(version)?;
        Ok(self.bus.subject_version(subject, version))
    }

    async fn revocation_snapshot(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<RevocationSnapshot, StoreError> {
        self.timer.timed("revocation_snapshot", async {
            let e = |x| from_sqlx("revocation snapshot", x);
            let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
            // One read transaction: the three lists are from the same
            // moment.
            let mut tx = begin(&self.pool, D::BEGIN_SNAPSHOT).await.map_err(e)?;
            let jtis: Vec<(String, i64)> = sqlx::query_as(
                "SELECT jti, expires_at FROM tessera_revoked_jtis WHERE expires_at > $1 ORDER BY expires_at DESC LIMIT $2",
            )
            .bind(now)
            .bind(fetch)
            .fetch_all(&mut *tx)
            .await
            .map_err(e)?;
            let families: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM tessera_refresh_families WHERE revoked AND expires_at > $1 ORDER BY expires_at DESC LIMIT $2",
            )
            .bind(now)
            .bind(fetch)
            .fetch_all(&mut *tx)
            .await
            .map_err(e)?;
            let versions: Vec<(String, i64)> = sqlx::query_as(
                "SELECT subject, version FROM tessera_token_versions WHERE version > 0 ORDER BY subject LIMIT $1",
            )
            .bind(fetch)
            .fetch_all(&mut *tx)
            .await
            .map_err(e)?;
            let _ = tx.rollback().await;
            RevocationSnapshot::cut(jtis, families, versions, limit)
        })
        .await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.timer.timed("purge_expired", async {
            let e = |x| from_sqlx("purge expired entries", x);
            let mut tx = begin(&self.pool, D::BEGIN_WRITE).await.map_err(e)?;
            let mut removed = 0;
            for sql in [
                "DELETE FROM tessera_nonces WHERE expires_at <= $1",
                "DELETE FROM tessera_seen_ids WHERE expires_at <= $1",
                "DELETE FROM tessera_revoked_jtis WHERE expires_at <= $1",
                "DELETE FROM tessera_refresh_tokens WHERE expires_at <= $1 OR family_id IN (SELECT id FROM tessera_refresh_families WHERE expires_at <= $1)",
                "DELETE FROM tessera_refresh_families WHERE expires_at <= $1",
            ] {
                let done = sqlx::query(sql)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(e)?;
                removed += D::rows_affected(&done);
            }
            tx.commit().await.map_err(e)?;
            Ok(removed)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.timer
            .timed("ping", async {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(|e| from_sqlx("ping", e))
            })
            .await
    }

    fn subscribe(&self) -> broadcast::Receiver<Invalidation> {
        self.bus.subscribe()
    }

    fn observe_latency(&self, observer: Arc<dyn LatencyObserver>) -> bool {
        self.timer.observe(observer)
    }
}
