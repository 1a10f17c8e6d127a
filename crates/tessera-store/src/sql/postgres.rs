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
use sqlx::postgres::{
    PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions, PgQueryResult, Postgres,
};
use sqlx::{Executor, Row};
use tokio::sync::watch;

use super::rotation::TokenRow;
use super::{migrate, Dialect, SqlStore};
use crate::error::from_sqlx;
use crate::events::{follow, Bus};
use crate::{Invalidation, NewRefreshToken, RefreshFamily, StoreError, Timestamp};

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

/// The PostgreSQL dialect: row locks, and `pg_notify` in the statement or
/// transaction that writes.
pub(crate) struct PgDialect {
    /// `schema=NAME` of the URL (a checked identifier).
    schema: Option<String>,
    /// The `NOTIFY` channel of this database/schema.
    channel: String,
    /// Dropped with the store: stops the listener task.
    _shutdown: watch::Sender<()>,
}

/// A store in one PostgreSQL database (and optionally one schema of it).
pub(crate) type PostgresStore = SqlStore<PgDialect>;

pub(crate) async fn open(url: &str) -> Result<PostgresStore, StoreError> {
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
    let channel = match &schema {
        Some(s) => format!("tessera_invalidation_{s}"),
        None => "tessera_invalidation".to_string(),
    };
    let (shutdown, shutdown_rx) = watch::channel(());
    let dialect = PgDialect {
        schema,
        channel,
        _shutdown: shutdown,
    };
    migrate(&pool, &dialect).await?;

    let bus = Arc::new(Bus::new());
    // Listen before returning, so no event after `open` is missed.
    let listener = connect_listener(&pool, &dialect.channel).await?;
    let (task_pool, channel) = (pool.clone(), dialect.channel.clone());
    tokio::spawn(follow(
        "postgres invalidation listener",
        bus.clone(),
        listener,
        shutdown_rx,
        move || {
            let (pool, channel) = (task_pool.clone(), channel.clone());
            async move { connect_listener(&pool, &channel).await }
        },
        |mut listener: PgListener, bus: Arc<Bus>| async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => bus.remote(n.payload()),
                    Ok(None) => return None,
                    Err(e) => return Some(e.to_string()),
                }
            }
        },
    ));
    Ok(SqlStore::new(pool, bus, dialect))
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

#[async_trait]
impl Dialect for PgDialect {
    type DB = Postgres;
    const BACKEND: &'static str = "postgres";
    const MIGRATIONS: &'static [(i64, &'static str)] = MIGRATIONS;
    const MIGRATIONS_TABLE: &'static str =
        "CREATE TABLE IF NOT EXISTS tessera_schema_migrations (version BIGINT PRIMARY KEY)";
    const SCHEMA_OWNER: &'static str = "the PostgreSQL schema has";
    const BEGIN_WRITE: Option<&'static str> = None;
    const BEGIN_SNAPSHOT: Option<&'static str> =
        Some("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const FOR_UPDATE: &'static str = " FOR UPDATE";

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    async fn before_migrations(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        // Several instances may open the same database at once.
        let lock = format!(
            "tessera-store migrations {}",
            self.schema.as_deref().unwrap_or("")
        );
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(lock)
            .execute(&mut *conn)
            .await?;
        if let Some(schema) = &self.schema {
            // `schema` is a checked identifier.
            let create = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
            conn.execute(sqlx::raw_sql(&create)).await?;
        }
        Ok(())
    }

    async fn read_token(
        conn: &mut PgConnection,
        presented: &[u8; 32],
    ) -> Result<Option<(TokenRow, Option<Vec<u8>>)>, sqlx::Error> {
        let token = sqlx::query(
            "SELECT family_id, expires_at, spent_at, replaced, successor FROM tessera_refresh_tokens \
             WHERE hash = $1 FOR UPDATE",
        )
        .bind(presented.as_slice())
        .fetch_optional(&mut *conn)
        .await?;
        let Some(token) = token else {
            return Ok(None);
        };
        let previous: Option<Vec<u8>> = token.try_get("successor")?;
        // The previous successor's row is locked too (after the presented
        // token's, before the family's: always in this order), so that it
        // cannot be rotated while it is being replaced.
        let successor_spent = match &previous {
            Some(p) => sqlx::query_scalar::<_, Option<i64>>(
                "SELECT spent_at FROM tessera_refresh_tokens WHERE hash = $1 FOR UPDATE",
            )
            .bind(p.as_slice())
            .fetch_optional(&mut *conn)
            .await?
            .flatten()
            .is_some(),
            None => false,
        };
        let row = TokenRow {
            family_id: token.try_get("family_id")?,
            expires_at: token.try_get("expires_at")?,
            spent_at: token.try_get("spent_at")?,
            replaced: token.try_get("replaced")?,
            successor_spent,
        };
        Ok(Some((row, previous)))
    }

    async fn notify(
        &self,
        conn: &mut PgConnection,
        bus: &Bus,
        event: &Invalidation,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.channel)
            .bind(bus.encode(event))
            .execute(conn)
            .await
            .map(|_| ())
    }

    async fn create_family(
        &self,
        pool: &PgPool,
        family: &RefreshFamily,
        token_version: i64,
        first: &NewRefreshToken,
    ) -> Result<(), sqlx::Error> {
        // One statement: both rows or neither.
        super::bind_family(
            sqlx::query(
                "WITH f AS (INSERT INTO tessera_refresh_families \
                     (id, subject, amr, created_at, expires_at, revoked, token_version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id) \
                 INSERT INTO tessera_refresh_tokens (hash, family_id, expires_at) \
                 SELECT $8, f.id, $9 FROM f",
            ),
            family,
            token_version,
        )
        .bind(first.hash.as_slice())
        .bind(first.expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    }

    async fn revoke_family(
        &self,
        pool: &PgPool,
        bus: &Bus,
        family_id: &str,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        // The payload refers to the updated row, so `pg_notify` runs once
        // per revoked row and never when nothing changed.
        let prefix = bus.encode(&Invalidation::Family(String::new()));
        let rows: Vec<String> = sqlx::query_scalar(
            "WITH u AS (UPDATE tessera_refresh_families SET revoked = TRUE, revoked_at = $2 \
                        WHERE id = $1 AND NOT revoked RETURNING id) \
             SELECT u.id FROM u, LATERAL (SELECT pg_notify($3, $4 || u.id)) n",
        )
        .bind(family_id)
        .bind(now)
        .bind(&self.channel)
        .bind(prefix)
        .fetch_all(pool)
        .await?;
        Ok(!rows.is_empty())
    }

    async fn revoke_subject_families(
        &self,
        pool: &PgPool,
        bus: &Bus,
        subject: &str,
        now: Timestamp,
    ) -> Result<Vec<String>, sqlx::Error> {
        // Lock the rows in id order so that two such calls cannot deadlock.
        let prefix = bus.encode(&Invalidation::Family(String::new()));
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
        .fetch_all(pool)
        .await
    }

    async fn revoke_jti(
        &self,
        pool: &PgPool,
        bus: &Bus,
        jti: &str,
        expires_at: Timestamp,
    ) -> Result<Timestamp, sqlx::Error> {
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
        .bind(bus.instance())
        .fetch_one(pool)
        .await
    }

    async fn bump_token_version(
        &self,
        pool: &PgPool,
        bus: &Bus,
        subject: &str,
        now: Timestamp,
    ) -> Result<i64, sqlx::Error> {
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
        .bind(bus.instance())
        .bind(now)
        .fetch_one(pool)
        .await
    }
}
