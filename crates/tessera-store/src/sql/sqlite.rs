//! SQLite backend (the embedded default).
//!
//! WAL journal with `synchronous=FULL`: a call that returned has been
//! written to the WAL and synced. Every read-modify-write runs in a
//! transaction opened with `BEGIN IMMEDIATE`, which takes the database's
//! write lock up front, so concurrent callers — in this process or in
//! another one with its own pool — are serialized. Single-statement writes
//! use conditional `UPSERT`/`DELETE ... RETURNING`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteQueryResult, SqliteSynchronous,
};
use sqlx::Row;

use super::rotation::TokenRow;
use super::{migrate, Dialect, SqlStore};
use crate::error::from_sqlx;
use crate::events::Bus;
use crate::{Invalidation, NewRefreshToken, RefreshFamily, StoreError, Timestamp};

/// How long a writer waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(4);

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE tessera_nonces (
    nonce TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tessera_nonces_expires ON tessera_nonces (expires_at);

CREATE TABLE tessera_seen_ids (
    id TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tessera_seen_ids_expires ON tessera_seen_ids (expires_at);

CREATE TABLE tessera_refresh_families (
    id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    amr TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER,
    token_version INTEGER NOT NULL
);
CREATE INDEX tessera_refresh_families_subject ON tessera_refresh_families (subject);
CREATE INDEX tessera_refresh_families_expires ON tessera_refresh_families (expires_at);

CREATE TABLE tessera_refresh_tokens (
    hash BLOB PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL REFERENCES tessera_refresh_families (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    spent_at INTEGER
);
CREATE INDEX tessera_refresh_tokens_family ON tessera_refresh_tokens (family_id);
CREATE INDEX tessera_refresh_tokens_expires ON tessera_refresh_tokens (expires_at);

CREATE TABLE tessera_revoked_jtis (
    jti TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tessera_revoked_jtis_expires ON tessera_revoked_jtis (expires_at);

CREATE TABLE tessera_token_versions (
    subject TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    ),
    (
        2,
        // One live successor per refresh token (rotation.rs): the latest
        // successor issued for a token, and whether a reissue replaced it.
        r#"
ALTER TABLE tessera_refresh_tokens ADD COLUMN successor BLOB;
ALTER TABLE tessera_refresh_tokens ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;
"#,
    ),
];

/// The SQLite dialect: no row locks (the write transaction holds the
/// database's write lock), no cross-process feed.
pub(crate) struct SqliteDialect;

/// A store in one SQLite database file (or in memory).
pub(crate) type SqliteStore = SqlStore<SqliteDialect>;

pub(crate) async fn open(url: &str) -> Result<SqliteStore, StoreError> {
    let memory = url.contains(":memory:") || url.contains("mode=memory");
    let mut options = SqliteConnectOptions::from_str(url)
        .map_err(|e| from_sqlx("parse sqlite URL", e))?
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let pool_options = if memory {
        // One connection keeps the private in-memory database alive and
        // serializes access to it.
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::config(format!(
                        "cannot create directory {} for the SQLite database: {e}",
                        dir.display()
                    ))
                })?;
            }
        }
        create_private(options.get_filename())?;
        options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        SqlitePoolOptions::new().max_connections(4)
    };
    let pool: SqlitePool = pool_options
        .acquire_timeout(crate::CONNECT_TIMEOUT + BUSY_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| from_sqlx("open sqlite database", e))?;
    migrate(&pool, &SqliteDialect).await?;
    Ok(SqlStore::new(pool, Arc::new(Bus::new()), SqliteDialect))
}

/// Creates the database file readable by its owner only (0600) when it
/// does not exist yet: it holds refresh-token hashes and sessions, and
/// SQLite would create it with the umask's mode (0644 when the directory
/// already existed). SQLite gives its `-wal` and `-shm` files the mode of
/// the database file.
fn create_private(path: &std::path::Path) -> Result<(), StoreError> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::config(format!(
            "cannot create the SQLite database {}: {e}",
            path.display()
        ))),
    }
}

#[async_trait]
impl Dialect for SqliteDialect {
    type DB = Sqlite;
    const BACKEND: &'static str = "sqlite";
    const MIGRATIONS: &'static [(i64, &'static str)] = MIGRATIONS;
    const MIGRATIONS_TABLE: &'static str =
        "CREATE TABLE IF NOT EXISTS tessera_schema_migrations (version INTEGER PRIMARY KEY NOT NULL)";
    const SCHEMA_OWNER: &'static str = "the SQLite database has schema";
    const BEGIN_WRITE: Option<&'static str> = Some("BEGIN IMMEDIATE");
    const BEGIN_SNAPSHOT: Option<&'static str> = None;
    const FOR_UPDATE: &'static str = "";

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    async fn before_migrations(&self, _: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn read_token(
        conn: &mut SqliteConnection,
        presented: &[u8; 32],
    ) -> Result<Option<(TokenRow, Option<Vec<u8>>)>, sqlx::Error> {
        let token = sqlx::query(
            "SELECT t.family_id, t.expires_at, t.spent_at, t.replaced, t.successor, \
                    s.spent_at IS NOT NULL AS successor_spent \
             FROM tessera_refresh_tokens t LEFT JOIN tessera_refresh_tokens s ON s.hash = t.successor \
             WHERE t.hash = $1",
        )
        .bind(presented.as_slice())
        .fetch_optional(conn)
        .await?;
        let Some(token) = token else {
            return Ok(None);
        };
        let previous: Option<Vec<u8>> = token.try_get("successor")?;
        let row = TokenRow {
            family_id: token.try_get("family_id")?,
            expires_at: token.try_get("expires_at")?,
            spent_at: token.try_get("spent_at")?,
            replaced: token.try_get("replaced")?,
            successor_spent: token.try_get("successor_spent")?,
        };
        Ok(Some((row, previous)))
    }

    /// In-process only: the caller delivers the event to its own bus.
    async fn notify(
        &self,
        _: &mut SqliteConnection,
        _: &Bus,
        _: &Invalidation,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn create_family(
        &self,
        pool: &SqlitePool,
        family: &RefreshFamily,
        token_version: i64,
        first: &NewRefreshToken,
    ) -> Result<(), sqlx::Error> {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        super::bind_family(
            sqlx::query(
                "INSERT INTO tessera_refresh_families \
                 (id, subject, amr, created_at, expires_at, revoked, token_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            ),
            family,
            token_version,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO tessera_refresh_tokens (hash, family_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(first.hash.as_slice())
        .bind(&family.id)
        .bind(first.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    async fn revoke_family(
        &self,
        pool: &SqlitePool,
        _: &Bus,
        family_id: &str,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE tessera_refresh_families SET revoked = 1, revoked_at = $1 \
             WHERE id = $2 AND revoked = 0",
        )
        .bind(now)
        .bind(family_id)
        .execute(pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_subject_families(
        &self,
        pool: &SqlitePool,
        _: &Bus,
        subject: &str,
        now: Timestamp,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "UPDATE tessera_refresh_families SET revoked = 1, revoked_at = $1 \
             WHERE subject = $2 AND revoked = 0 AND expires_at > $1 RETURNING id",
        )
        .bind(now)
        .bind(subject)
        .fetch_all(pool)
        .await
    }

    async fn revoke_jti(
        &self,
        pool: &SqlitePool,
        _: &Bus,
        jti: &str,
        expires_at: Timestamp,
    ) -> Result<Timestamp, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO tessera_revoked_jtis (jti, expires_at) VALUES ($1, $2) \
             ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at) \
             RETURNING expires_at",
        )
        .bind(jti)
        .bind(expires_at)
        .fetch_one(pool)
        .await
    }

    async fn bump_token_version(
        &self,
        pool: &SqlitePool,
        _: &Bus,
        subject: &str,
        now: Timestamp,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO tessera_token_versions (subject, version) VALUES ($1, max(1, $2)) \
             ON CONFLICT (subject) DO UPDATE SET version = max(version + 1, $2) RETURNING version",
        )
        .bind(subject)
        .bind(now)
        .fetch_one(pool)
        .await
    }
}
