//! PostgreSQL backend.
//!
//! Rotation runs in one transaction that locks the presented token's row
//! and then its family's row (`SELECT ... FOR UPDATE`, always in that
//! order), so concurrent rotations of one token — from any number of pools
//! or servers — are serialized and each sees the previous one's result.
//! Every other write is a single statement (conditional `UPDATE`, `UPSERT`,
//! `DELETE ... RETURNING`).
//!
//! Invalidations: the statement (or transaction) that revokes also calls
//! `pg_notify`, so the notification is sent exactly when the write commits.
//! A background task holds a `LISTEN` connection and reconnects by itself;
//! after losing it, it emits [`Invalidation::Resync`].

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::Row;
use tokio::sync::{broadcast, watch};

use crate::error::from_sqlx;
use crate::events::Bus;
use crate::rotation::{decide, Step, TokenRow};
use crate::sqlite::build_snapshot;
use crate::{
    Invalidation, NewRefreshToken, RefreshFamily, RevocationSnapshot, RotateOutcome, Store,
    StoreError, Timestamp,
};

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE tessera_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX tessera_nonces_expires ON tessera_nonces (expires_at);

CREATE TABLE tessera_seen_ids (
    id TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX tessera_seen_ids_expires ON tessera_seen_ids (expires_at);

CREATE TABLE tessera_refresh_families (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    amr TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    revoked_at BIGINT,
    token_version BIGINT NOT NULL
);
CREATE INDEX tessera_refresh_families_subject ON tessera_refresh_families (subject);
CREATE INDEX tessera_refresh_families_expires ON tessera_refresh_families (expires_at);

CREATE TABLE tessera_refresh_tokens (
    hash BYTEA PRIMARY KEY,
    family_id TEXT NOT NULL REFERENCES tessera_refresh_families (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    spent_at BIGINT
);
CREATE INDEX tessera_refresh_tokens_family ON tessera_refresh_tokens (family_id);
CREATE INDEX tessera_refresh_tokens_expires ON tessera_refresh_tokens (expires_at);

CREATE TABLE tessera_revoked_jtis (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX tessera_revoked_jtis_expires ON tessera_revoked_jtis (expires_at);

CREATE TABLE tessera_token_versions (
    subject TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
"#,
    ),
    (
        2,
        // One live successor per refresh token (rotation.rs).
        r#"
ALTER TABLE tessera_refresh_tokens ADD COLUMN successor BYTEA;
ALTER TABLE tessera_refresh_tokens ADD COLUMN replaced BOOLEAN NOT NULL DEFAULT FALSE;
"#,
    ),
];

const FAMILY_COLUMNS: &str = "id, subject, amr, created_at, expires_at, revoked, token_version";

/// A store in one PostgreSQL database (and optionally one schema of it).
pub(crate) struct PostgresStore {
    pool: PgPool,
    bus: Arc<Bus>,
    /// The `NOTIFY` channel of this database/schema.
    channel: String,
    /// Dropped with the store: stops the listener task.
    _shutdown: watch::Sender<()>,
}

impl PostgresStore {
    pub(crate) async fn open(url: &str) -> Result<Self, StoreError> {
        let (url, schema) = crate::url::take_param(url, "schema");
        let schema = match schema {
            Some(s) if crate::url::is_identifier(&s, 40) => Some(s.to_ascii_lowercase()),
            Some(_) => {
                return Err(StoreError::config(
                    "schema= must be 1 to 40 letters, digits or _, not starting with a digit",
                ))
            }
            None => None,
        };
        let mut options =
            PgConnectOptions::from_str(&url).map_err(|e| from_sqlx("parse postgres URL", e))?;
        if let Some(schema) = &schema {
            options = options.options([("search_path", schema.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .min_connections(0)
            .acquire_timeout(crate::CONNECT_TIMEOUT)
            .idle_timeout(Some(Duration::from_secs(300)))
            .connect_with(options)
            .await
            .map_err(|e| from_sqlx("connect to postgres", e))?;
        migrate(&pool, schema.as_deref()).await?;

        let channel = match &schema {
            Some(s) => format!("tessera_invalidation_{s}"),
            None => "tessera_invalidation".to_string(),
        };
        let bus = Arc::new(Bus::new());
        // Listen before returning, so no event after `open` is missed.
        let listener = connect_listener(&pool, &channel).await?;
        let (shutdown, shutdown_rx) = watch::channel(());
        tokio::spawn(listen_task(
            pool.clone(),
            channel.clone(),
            bus.clone(),
            listener,
            shutdown_rx,
        ));
        Ok(PostgresStore {
            pool,
            bus,
            channel,
            _shutdown: shutdown,
        })
    }
}

async fn migrate(pool: &PgPool, schema: Option<&str>) -> Result<(), StoreError> {
    let e = |x| from_sqlx("apply postgres migrations", x);
    let mut tx = pool.begin().await.map_err(e)?;
    // Several instances may open the same database at once.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("tessera-store migrations {}", schema.unwrap_or("")))
        .execute(&mut *tx)
        .await
        .map_err(e)?;
    if let Some(schema) = schema {
        // `schema` is a checked identifier.
        sqlx::raw_sql(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&mut *tx)
            .await
            .map_err(e)?;
    }
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS tessera_schema_migrations (version BIGINT PRIMARY KEY)",
    )
    .execute(&mut *tx)
    .await
    .map_err(e)?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM tessera_schema_migrations")
            .fetch_one(&mut *tx)
            .await
            .map_err(e)?;
    let current = current.unwrap_or(0);
    let latest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if current > latest {
        return Err(StoreError::config(format!(
            "the PostgreSQL schema has version {current}, newer than this build's {latest}"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(e)?;
        sqlx::query("INSERT INTO tessera_schema_migrations (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(e)?;
    }
    tx.commit().await.map_err(e)
}

async fn connect_listener(pool: &PgPool, channel: &str) -> Result<PgListener, StoreError> {
    let fut = async {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.eager_reconnect(false);
        listener.listen(channel).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    match tokio::time::timeout(crate::CONNECT_TIMEOUT * 2, fut).await {
        Ok(r) => r.map_err(|e| from_sqlx("listen for invalidations", e)),
        Err(_) => Err(StoreError::timeout()),
    }
}

/// Receives notifications and forwards other instances' events; on any
/// loss of the connection emits `Resync`, reconnects with backoff, and emits
/// `Resync` again once listening.
async fn listen_task(
    pool: PgPool,
    channel: String,
    bus: Arc<Bus>,
    first: PgListener,
    mut shutdown: watch::Receiver<()>,
) {
    let mut current = Some(first);
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut listener = match current.take() {
            Some(l) => l,
            None => {
                let attempt = tokio::select! {
                    _ = shutdown.changed() => return,
                    r = connect_listener(&pool, &channel) => r,
                };
                match attempt {
                    Ok(l) => {
                        tracing::info!("postgres invalidation listener reconnected");
                        bus.local(Invalidation::Resync);
                        backoff = Duration::from_millis(100);
                        l
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "postgres invalidation listener: reconnect failed");
                        tokio::select! {
                            _ = shutdown.changed() => return,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(2));
                        continue;
                    }
                }
            }
        };
        loop {
            let received = tokio::select! {
                _ = shutdown.changed() => return,
                r = listener.try_recv() => r,
            };
            match received {
                Ok(Some(n)) => bus.remote(n.payload()),
                Ok(None) => {
                    tracing::warn!("postgres invalidation listener: connection lost");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "postgres invalidation listener: connection lost");
                    break;
                }
            }
        }
        bus.local(Invalidation::Resync);
        drop(listener);
    }
}

fn family_from_row(row: &PgRow) -> Result<RefreshFamily, sqlx::Error> {
    let version: i64 = row.try_get("token_version")?;
    Ok(RefreshFamily {
        id: row.try_get("id")?,
        subject: row.try_get("subject")?,
        amr: row.try_get("amr")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked: row.try_get("revoked")?,
        token_version: u64::try_from(version)
            .map_err(|_| sqlx::Error::Decode(format!("negative token_version {version}").into()))?,
    })
}

async fn timed<T>(
    fut: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(crate::OPERATION_TIMEOUT, fut)
        .await
        .unwrap_or_else(|_| Err(StoreError::timeout()))
}

impl PostgresStore {
    fn payload(&self, event: &Invalidation) -> String {
        self.bus.encode(event)
    }

    async fn rotate(
        &self,
        presented: &[u8; 32],
        successor: &NewRefreshToken,
        now: Timestamp,
        grace_seconds: i64,
    ) -> Result<RotateOutcome, StoreError> {
        let e = |x| from_sqlx("rotate refresh token", x);
        let mut tx = self.pool.begin().await.map_err(e)?;
        let token = sqlx::query(
            "SELECT family_id, expires_at, spent_at, replaced, successor FROM tessera_refresh_tokens \
             WHERE hash = $1 FOR UPDATE",
        )
        .bind(presented.as_slice())
        .fetch_optional(&mut *tx)
        .await
        .map_err(e)?;
        let Some(token) = token else {
            let _ = tx.rollback().await;
            return Ok(RotateOutcome::NotFound);
        };
        let previous: Option<Vec<u8>> = token.try_get("successor").map_err(e)?;
        // The previous successor's row is locked too (after the presented
        // token's, before the family's: always in this order), so that it
        // cannot be rotated while it is being replaced.
        let successor_spent = match &previous {
            Some(p) => sqlx::query_scalar::<_, Option<i64>>(
                "SELECT spent_at FROM tessera_refresh_tokens WHERE hash = $1 FOR UPDATE",
            )
            .bind(p.as_slice())
            .fetch_optional(&mut *tx)
            .await
            .map_err(e)?
            .flatten()
            .is_some(),
            None => false,
        };
        let token = TokenRow {
            family_id: token.try_get("family_id").map_err(e)?,
            expires_at: token.try_get("expires_at").map_err(e)?,
            spent_at: token.try_get("spent_at").map_err(e)?,
            replaced: token.try_get("replaced").map_err(e)?,
            successor_spent,
        };
        let family = sqlx::query(&format!(
            "SELECT {FAMILY_COLUMNS} FROM tessera_refresh_families WHERE id = $1 FOR UPDATE"
        ))
        .bind(&token.family_id)
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
                .bind(&family.id)
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
                .bind(&family.id)
                .execute(&mut *tx)
                .await
                .map_err(e)?;
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(&self.channel)
                    .bind(self.payload(&event))
                    .execute(&mut *tx)
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
    }

    async fn create(
        &self,
        family: &RefreshFamily,
        first: &NewRefreshToken,
    ) -> Result<(), StoreError> {
        let e = |x| from_sqlx("create refresh family", x);
        let version = i64::try_from(family.token_version).map_err(|_| {
            StoreError::invalid(format!(
                "token_version {} is out of range",
                family.token_version
            ))
        })?;
        // One statement: both rows or neither.
        sqlx::query(
            "WITH f AS (INSERT INTO tessera_refresh_families \
                 (id, subject, amr, created_at, expires_at, revoked, token_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id) \
             INSERT INTO tessera_refresh_tokens (hash, family_id, expires_at) \
             SELECT $8, f.id, $9 FROM f",
        )
        .bind(&family.id)
        .bind(&family.subject)
        .bind(&family.amr)
        .bind(family.created_at)
        .bind(family.expires_at)
        .bind(family.revoked)
        .bind(version)
        .bind(first.hash.as_slice())
        .bind(first.expires_at)
        .execute(&self.pool)
        .await
        .map_err(e)?;
        Ok(())
    }

    async fn snapshot(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<RevocationSnapshot, StoreError> {
        let e = |x| from_sqlx("revocation snapshot", x);
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(e)?;
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
        build_snapshot(jtis, families, versions, limit)
    }

    async fn purge(&self, now: Timestamp) -> Result<u64, StoreError> {
        let e = |x| from_sqlx("purge expired entries", x);
        let mut tx = self.pool.begin().await.map_err(e)?;
        let mut removed = 0;
        for sql in [
            "DELETE FROM tessera_nonces WHERE expires_at <= $1",
            "DELETE FROM tessera_seen_ids WHERE expires_at <= $1",
            "DELETE FROM tessera_revoked_jtis WHERE expires_at <= $1",
            "DELETE FROM tessera_refresh_tokens WHERE expires_at <= $1 OR family_id IN (SELECT id FROM tessera_refresh_families WHERE expires_at <= $1)",
            "DELETE FROM tessera_refresh_families WHERE expires_at <= $1",
        ] {
            removed += sqlx::query(sql)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(e)?
                .rows_affected();
        }
        tx.commit().await.map_err(e)?;
        Ok(removed)
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn put_nonce(&self, nonce: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        timed(async {
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
        timed(async {
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
        timed(async {
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
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    async fn create_family(
        &self,
        family: &RefreshFamily,
        first: &NewRefreshToken,
    ) -> Result<(), StoreError> {
        timed(self.create(family, first)).await
    }

    async fn rotate_refresh(
        &self,
        presented_hash: &[u8; 32],
        successor: &NewRefreshToken,
        now: Timestamp,
        grace_seconds: i64,
    ) -> Result<RotateOutcome, StoreError> {
        timed(self.rotate(presented_hash, successor, now, grace_seconds)).await
    }

    async fn family(&self, family_id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        timed(async {
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
        timed(async {
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
        let event = Invalidation::Family(family_id.to_string());
        // The payload refers to the updated row, so `pg_notify` runs once
        // per revoked row and never when nothing changed.
        let prefix = self.payload(&Invalidation::Family(String::new()));
        let rows: Vec<String> = timed(async {
            sqlx::query_scalar(
                "WITH u AS (UPDATE tessera_refresh_families SET revoked = TRUE, revoked_at = $2 \
                            WHERE id = $1 AND NOT revoked RETURNING id) \
                 SELECT u.id FROM u, LATERAL (SELECT pg_notify($3, $4 || u.id)) n",
            )
            .bind(family_id)
            .bind(now)
            .bind(&self.channel)
            .bind(prefix)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| from_sqlx("revoke refresh family", e))
        })
        .await?;
        let revoked = !rows.is_empty();
        if revoked {
            self.bus.local(event);
        }
        Ok(revoked)
    }

    async fn revoke_subject_families(
        &self,
        subject: &str,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        // Lock the rows in id order so that two such calls cannot deadlock.
        let prefix = self.payload(&Invalidation::Family(String::new()));
        let ids: Vec<String> = timed(async {
            sqlx::query_scalar(
                "WITH target AS (SELECT id FROM tessera_refresh_families \
                                 WHERE subject = $1 AND NOT revoked AND expires_at > $2 \
                                 ORDER BY id FOR UPDATE), \
                      u AS (UPDATE tessera_refresh_families f SET revoked = TRUE, revoked_at = $2 \
                            FROM target WHERE f.id = target.id AND NOT f.revoked RETURNING f.id) \
                 SELECT u.id FROM u, LATERAL (SELECT pg_notify($3, $4 || u.id)) n",
            )
            .bind(subject)
            .bind(now)
            .bind(&self.channel)
            .bind(prefix)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| from_sqlx("revoke families of subject", e))
        })
        .await?;
        let count = ids.len() as u64;
        for id in ids {
            self.bus.local(Invalidation::Family(id));
        }
        Ok(count)
    }

    async fn revoke_jti(&self, jti: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        let instance = self.bus.instance().to_string();
        let expires_at: i64 = timed(async {
            sqlx::query_scalar(
                "WITH u AS (INSERT INTO tessera_revoked_jtis (jti, expires_at) VALUES ($1, $2) \
                            ON CONFLICT (jti) DO UPDATE \
                            SET expires_at = GREATEST(tessera_revoked_jtis.expires_at, EXCLUDED.expires_at) \
                            RETURNING expires_at) \
                 SELECT u.expires_at FROM u, \
                     LATERAL (SELECT pg_notify($3, $4 || '|j|' || u.expires_at::text || '|' || $1)) n",
            )
            .bind(jti)
            .bind(expires_at)
            .bind(&self.channel)
            .bind(instance)
            .fetch_one(&self.pool)
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
        timed(async {
            let exp: Option<i64> =
                sqlx::query_scalar("SELECT expires_at FROM tessera_revoked_jtis WHERE jti = $1")
                    .bind(jti)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| from_sqlx("read revoked jti", e))?;
            Ok(exp.is_some_and(|exp| now < exp))
        })
        .await
    }

    async fn token_version(&self, subject: &str) -> Result<u64, StoreError> {
        timed(async {
            let v: Option<i64> =
                sqlx::query_scalar("SELECT version FROM tessera_token_versions WHERE subject = $1")
                    .bind(subject)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| from_sqlx("read token version", e))?;
            u64::try_from(v.unwrap_or(0)).map_err(|_| StoreError::corrupt("negative token version"))
        })
        .await
    }

    async fn bump_token_version(&self, subject: &str, now: Timestamp) -> Result<u64, StoreError> {
        let instance = self.bus.instance().to_string();
        let version: i64 = timed(async {
            sqlx::query_scalar(
                "WITH u AS (INSERT INTO tessera_token_versions (subject, version) \
                            VALUES ($1, GREATEST(1, $4::BIGINT)) \
                            ON CONFLICT (subject) DO UPDATE \
                            SET version = GREATEST(tessera_token_versions.version + 1, $4::BIGINT) \
                            RETURNING version) \
                 SELECT u.version FROM u, \
                     LATERAL (SELECT pg_notify($2, $3 || '|s|' || u.version::text || '|' || $1)) n",
            )
            .bind(subject)
            .bind(&self.channel)
            .bind(instance)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| from_sqlx("bump token version", e))
        })
        .await?;
        let version =
            u64::try_from(version).map_err(|_| StoreError::corrupt("negative token version"))?;
        self.bus.local(Invalidation::Subject {
            subject: subject.to_string(),
            version,
        });
        Ok(version)
    }

    async fn revocation_snapshot(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<RevocationSnapshot, StoreError> {
        timed(self.snapshot(now, limit)).await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        timed(self.purge(now)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        timed(async {
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
}
