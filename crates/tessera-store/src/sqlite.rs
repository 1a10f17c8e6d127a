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
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::Row;
use tokio::sync::broadcast;

use crate::error::from_sqlx;
use crate::events::Bus;
use crate::rotation::{decide, Step, TokenRow};
use crate::{
    Invalidation, NewRefreshToken, RefreshFamily, RevocationSnapshot, RotateOutcome, Store,
    StoreError, Timestamp,
};

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

const FAMILY_COLUMNS: &str = "id, subject, amr, created_at, expires_at, revoked, token_version";

/// A store in one SQLite database file (or in memory).
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    bus: Arc<Bus>,
}

impl SqliteStore {
    pub(crate) async fn open(url: &str) -> Result<Self, StoreError> {
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
        let pool = pool_options
            .acquire_timeout(crate::CONNECT_TIMEOUT + BUSY_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| from_sqlx("open sqlite database", e))?;
        migrate(&pool).await?;
        Ok(SqliteStore {
            pool,
            bus: Arc::new(Bus::new()),
        })
    }
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

async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let e = |x| from_sqlx("apply sqlite migrations", x);
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(e)?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS tessera_schema_migrations (version INTEGER PRIMARY KEY NOT NULL)",
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
            "the SQLite database has schema version {current}, newer than this build's {latest}"
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

fn family_from_row(row: &SqliteRow) -> Result<RefreshFamily, sqlx::Error> {
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

fn to_i64(what: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::invalid(format!("{what} {v} is out of range")))
}

impl SqliteStore {
    async fn rotate(
        &self,
        presented: &[u8; 32],
        successor: &NewRefreshToken,
        now: Timestamp,
        grace_seconds: i64,
    ) -> Result<RotateOutcome, StoreError> {
        let e = |x| from_sqlx("rotate refresh token", x);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(e)?;
        let token = sqlx::query(
            "SELECT t.family_id, t.expires_at, t.spent_at, t.replaced, t.successor, \
                    s.spent_at IS NOT NULL AS successor_spent \
             FROM tessera_refresh_tokens t LEFT JOIN tessera_refresh_tokens s ON s.hash = t.successor \
             WHERE t.hash = $1",
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
        let token = TokenRow {
            family_id: token.try_get("family_id").map_err(e)?,
            expires_at: token.try_get("expires_at").map_err(e)?,
            spent_at: token.try_get("spent_at").map_err(e)?,
            replaced: token.try_get("replaced").map_err(e)?,
            successor_spent: token.try_get("successor_spent").map_err(e)?,
        };
        let family = sqlx::query(&format!(
            "SELECT {FAMILY_COLUMNS} FROM tessera_refresh_families WHERE id = $1"
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
                            "UPDATE tessera_refresh_tokens SET replaced = 1 WHERE hash = $1",
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
                sqlx::query(
                    "UPDATE tessera_refresh_families SET revoked = 1, revoked_at = $1 WHERE id = $2",
                )
                .bind(now)
                .bind(&family.id)
                .execute(&mut *tx)
                .await
                .map_err(e)?;
                tx.commit().await.map_err(e)?;
                self.bus.local(Invalidation::Family(family.id.clone()));
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
        let version = to_i64("token_version", family.token_version)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(e)?;
        sqlx::query(&format!(
            "INSERT INTO tessera_refresh_families ({FAMILY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&family.id)
        .bind(&family.subject)
        .bind(&family.amr)
        .bind(family.created_at)
        .bind(family.expires_at)
        .bind(family.revoked)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(e)?;
        sqlx::query(
            "INSERT INTO tessera_refresh_tokens (hash, family_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(first.hash.as_slice())
        .bind(&family.id)
        .bind(first.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(e)?;
        tx.commit().await.map_err(e)
    }

    async fn snapshot(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<RevocationSnapshot, StoreError> {
        let e = |x| from_sqlx("revocation snapshot", x);
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
        // One read transaction: the three lists are from the same moment.
        let mut tx = self.pool.begin().await.map_err(e)?;
        let jtis: Vec<(String, i64)> = sqlx::query_as(
            "SELECT jti, expires_at FROM tessera_revoked_jtis WHERE expires_at > $1 ORDER BY expires_at DESC LIMIT $2",
        )
        .bind(now)
        .bind(fetch)
        .fetch_all(&mut *tx)
        .await
        .map_err(e)?;
        let families: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM tessera_refresh_families WHERE revoked = 1 AND expires_at > $1 ORDER BY expires_at DESC LIMIT $2",
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(e)?;
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

/// Cuts each list at `limit` and converts versions.
pub(crate) fn build_snapshot(
    mut jtis: Vec<(String, i64)>,
    mut families: Vec<String>,
    mut versions: Vec<(String, i64)>,
    limit: usize,
) -> Result<RevocationSnapshot, StoreError> {
    let complete = jtis.len() <= limit && families.len() <= limit && versions.len() <= limit;
    jtis.truncate(limit);
    families.truncate(limit);
    versions.truncate(limit);
    let versions = versions
        .into_iter()
        .map(|(s, v)| {
            u64::try_from(v)
                .map(|v| (s, v))
                .map_err(|_| StoreError::corrupt(format!("negative token version {v}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RevocationSnapshot {
        jtis,
        families,
        versions,
        complete,
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn put_nonce(&self, nonce: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        timed(async {
            sqlx::query(
                "INSERT INTO tessera_nonces (nonce, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at",
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
                 ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at \
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
        let done = timed(async {
            sqlx::query(
                "UPDATE tessera_refresh_families SET revoked = 1, revoked_at = $1 \
                 WHERE id = $2 AND revoked = 0",
            )
            .bind(now)
            .bind(family_id)
            .execute(&self.pool)
            .await
            .map_err(|e| from_sqlx("revoke refresh family", e))
        })
        .await?;
        let revoked = done.rows_affected() == 1;
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
        let ids: Vec<String> = timed(async {
            sqlx::query_scalar(
                "UPDATE tessera_refresh_families SET revoked = 1, revoked_at = $1 \
                 WHERE subject = $2 AND revoked = 0 AND expires_at > $1 RETURNING id",
            )
            .bind(now)
            .bind(subject)
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
        let expires_at: i64 = timed(async {
            sqlx::query_scalar(
                "INSERT INTO tessera_revoked_jtis (jti, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at) \
                 RETURNING expires_at",
            )
            .bind(jti)
            .bind(expires_at)
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
        let version: i64 = timed(async {
            sqlx::query_scalar(
                "INSERT INTO tessera_token_versions (subject, version) VALUES ($1, max(1, $2)) \
                 ON CONFLICT (subject) DO UPDATE SET version = max(version + 1, $2) RETURNING version",
            )
            .bind(subject)
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
