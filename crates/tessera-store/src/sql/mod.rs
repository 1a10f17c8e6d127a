//! The SQL backends: one [`Store`] over sqlx for SQLite and PostgreSQL,
//! with the places where the two differ as [`Dialect`] hooks
//! (`sqlite.rs`, `postgres.rs`).
//!
//! What differs:
//! - how a write transaction starts: SQLite takes the database's write
//!   lock up front (`BEGIN IMMEDIATE`), PostgreSQL locks rows
//!   (`SELECT ... FOR UPDATE`, always token, previous successor, family);
//! - how rotation reads the presented token and its previous successor;
//! - the schema DDL, and what runs before migrations (PostgreSQL: an
//!   advisory lock and the schema);
//! - the writes that publish an invalidation: PostgreSQL sends
//!   `pg_notify` in the same statement or transaction as the write, SQLite
//!   delivers in-process only.
//!
//! Everything else (nonces, the replay guard, reads, the rotation flow,
//! the snapshot, purging, migrations) is the code below, once.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Transaction, Type,
};

use crate::error::from_sqlx;
use crate::events::Bus;
use crate::timed::Timer;
use crate::{Invalidation, NewRefreshToken, RefreshFamily, StoreError, Timestamp};

mod rotation;
mod store;

#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

use rotation::TokenRow;

const FAMILY_COLUMNS: &str = "id, subject, amr, created_at, expires_at, revoked, token_version";

/// Binds a new family's values in the order of [`FAMILY_COLUMNS`], which
/// both dialects' `create_family` INSERT names: one list, so the two
/// cannot bind the columns differently.
fn bind_family<'q, DB: Database>(
    query: sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>,
    family: &'q RefreshFamily,
    token_version: i64,
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    &'q str: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(family.id.as_str())
        .bind(family.subject.as_str())
        .bind(family.amr.as_str())
        .bind(family.created_at)
        .bind(family.expires_at)
        .bind(family.revoked)
        .bind(token_version)
}

/// A connection of a dialect's database.
pub(crate) type Conn<D> = <<D as Dialect>::DB as Database>::Connection;

/// What SQLite and PostgreSQL do differently. Statements shared by both
/// use syntax both accept (`TRUE` is the integer 1 in SQLite).
#[async_trait]
pub(crate) trait Dialect: Send + Sync + Sized + 'static {
    /// The sqlx database.
    type DB: Database;
    /// [`Store::backend`].
    const BACKEND: &'static str;
    /// `(version, DDL)`, applied in order.
    const MIGRATIONS: &'static [(i64, &'static str)];
    /// Creates the table of applied migration versions if missing.
    const MIGRATIONS_TABLE: &'static str;
    /// Names the database in the "newer schema" error.
    const SCHEMA_OWNER: &'static str;
    /// The statement that opens a read-modify-write transaction (`None`:
    /// sqlx's plain `BEGIN`).
    const BEGIN_WRITE: Option<&'static str>;
    /// The statement that opens the snapshot's read transaction.
    const BEGIN_SNAPSHOT: Option<&'static str>;
    /// Appended to the rotation's family read (row lock, or nothing).
    const FOR_UPDATE: &'static str;

    /// Rows a statement changed (sqlx has no trait for it).
    fn rows_affected(result: &<Self::DB as Database>::QueryResult) -> u64;

    /// Runs first in the migration transaction.
    async fn before_migrations(&self, conn: &mut Conn<Self>) -> Result<(), sqlx::Error>;

    /// The presented token of a rotation (locked where the dialect locks
    /// rows) and the hash of its latest successor.
    async fn read_token(
        conn: &mut Conn<Self>,
        presented: &[u8; 32],
    ) -> Result<Option<(TokenRow, Option<Vec<u8>>)>, sqlx::Error>;

    /// Publishes `event` to other instances as part of the transaction
    /// (when it commits).
    async fn notify(
        &self,
        conn: &mut Conn<Self>,
        bus: &Bus,
        event: &Invalidation,
    ) -> Result<(), sqlx::Error>;

    /// Inserts the family and its first token: both or neither.
    async fn create_family(
        &self,
        pool: &Pool<Self::DB>,
        family: &RefreshFamily,
        token_version: i64,
        first: &NewRefreshToken,
    ) -> Result<(), sqlx::Error>;

    /// Revokes a live family and publishes it; `true` if it was live.
    async fn revoke_family(
        &self,
        pool: &Pool<Self::DB>,
        bus: &Bus,
        family_id: &str,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error>;

    /// Revokes the subject's live families and publishes each; their ids.
    async fn revoke_subject_families(
        &self,
        pool: &Pool<Self::DB>,
        bus: &Bus,
        subject: &str,
        now: Timestamp,
    ) -> Result<Vec<String>, sqlx::Error>;

    /// Revokes a `jti` (the later expiry wins) and publishes it; the
    /// expiry in force.
    async fn revoke_jti(
        &self,
        pool: &Pool<Self::DB>,
        bus: &Bus,
        jti: &str,
        expires_at: Timestamp,
    ) -> Result<Timestamp, sqlx::Error>;

    /// Sets the version to `max(previous + 1, now)` and publishes it; the
    /// new version.
    async fn bump_token_version(
        &self,
        pool: &Pool<Self::DB>,
        bus: &Bus,
        subject: &str,
        now: Timestamp,
    ) -> Result<i64, sqlx::Error>;
}

/// A store in one SQL database.
pub(crate) struct SqlStore<D: Dialect> {
    pool: Pool<D::DB>,
    bus: Arc<Bus>,
    dialect: D,
    timer: Timer,
}

impl<D: Dialect> SqlStore<D> {
    pub(crate) fn new(pool: Pool<D::DB>, bus: Arc<Bus>, dialect: D) -> Self {
        SqlStore {
            pool,
            bus,
            dialect,
            timer: Timer::default(),
        }
    }
}

async fn begin<DB: Database>(
    pool: &Pool<DB>,
    statement: Option<&'static str>,
) -> Result<Transaction<'static, DB>, sqlx::Error> {
    match statement {
        Some(s) => pool.begin_with(s).await,
        None => pool.begin().await,
    }
}

fn to_i64(what: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::invalid(format!("{what} {v} is out of range")))
}

fn to_version(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::corrupt("negative token version"))
}

/// Applies the migrations this build knows and the database lacks, in one
/// transaction.
pub(crate) async fn migrate<D: Dialect>(pool: &Pool<D::DB>, dialect: &D) -> Result<(), StoreError>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::DB>,
    for<'q> <D::DB as Database>::Arguments<'q>: IntoArguments<'q, D::DB>,
    for<'q> i64: Encode<'q, D::DB> + Decode<'q, D::DB> + Type<D::DB>,
    usize: ColumnIndex<<D::DB as Database>::Row>,
{
    let e = |x| from_sqlx(&format!("apply {} migrations", D::BACKEND), x);
    let mut tx = begin(pool, D::BEGIN_WRITE).await.map_err(e)?;
    dialect.before_migrations(&mut tx).await.map_err(e)?;
    sqlx::raw_sql(D::MIGRATIONS_TABLE)
        .execute(&mut *tx)
        .await
        .map_err(e)?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM tessera_schema_migrations")
            .fetch_one(&mut *tx)
            .await
            .map_err(e)?;
    let current = current.unwrap_or(0);
    let latest = D::MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if current > latest {
        return Err(StoreError::config(format!(
            "{} version {current}, newer than this build's {latest}",
            D::SCHEMA_OWNER
        )));
    }
    for (version, sql) in D::MIGRATIONS.iter().filter(|m| m.0 > current) {
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(e)?;
        sqlx::query("INSERT INTO tessera_schema_migrations (version) VALUES ($1)")
            .bind(*version)
            .execute(&mut *tx)
            .await
            .map_err(e)?;
    }
    tx.commit().await.map_err(e)
}

fn family_from_row<R: Row>(row: &R) -> Result<RefreshFamily, sqlx::Error>
where
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'a> &'a str: ColumnIndex<R>,
{
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
