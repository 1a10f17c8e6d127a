//! Store backends for tests: a fresh, isolated namespace on each of SQLite, PostgreSQL
//! and Redis.
//!
//! PostgreSQL and Redis come from `TESSERA_TEST_POSTGRES_URL` and
//! `TESSERA_TEST_REDIS_URL`. When one is unset the test prints a loud notice
//! and passes without running, except when `CI` is set: then it fails.
//! Every backend gets its own namespace (SQLite: a new file in a new
//! directory; PostgreSQL: a new schema; Redis: a new key prefix), removed
//! again when the [`Backend`] is dropped, so tests run in parallel.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{in_ci, unique};

use tessera_store::{Invalidation, Store};
use tokio::sync::broadcast;

/// A store backend a suite can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A SQLite file in a temporary directory (always available).
    Sqlite,
    /// A schema of its own on the server at [`POSTGRES_ENV`].
    Postgres,
    /// A key prefix of its own on the server at [`REDIS_ENV`].
    Redis,
}

/// The variable naming the PostgreSQL server the suites use.
pub const POSTGRES_ENV: &str = "TESSERA_TEST_POSTGRES_URL";
/// The variable naming the Redis server the suites use.
pub const REDIS_ENV: &str = "TESSERA_TEST_REDIS_URL";

/// The URL in `var`; `None` (with a loud notice) when unset outside CI.
/// Panics when unset in CI, so the suite cannot pass without the servers.
pub fn env_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
        _ => {
            if in_ci() {
                panic!("{var} is not set, but CI is: the store conformance suite must run against every backend in CI");
            }
            // Once per variable and test binary, straight to the real
            // stderr (libtest captures `eprintln!` of passing tests).
            static NOTICE: Mutex<Vec<String>> = Mutex::new(Vec::new());
            let first = match NOTICE.lock() {
                Ok(mut seen) if !seen.iter().any(|v| v == var) => {
                    seen.push(var.to_string());
                    true
                }
                _ => false,
            };
            if first {
                let bar = "!".repeat(76);
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "\n{bar}\n!!! {var} is not set: SKIPPING every store test that needs it.\n\
                     !!! Export it (see crates/tessera-store/README.md) to run them.\n{bar}"
                );
            }
            None
        }
    }
}

/// A distinct 32-byte token hash per `n`.
pub fn hash(n: u64) -> [u8; 32] {
    let mut h = [0x5a; 32];
    h[..8].copy_from_slice(&n.to_le_bytes());
    h
}

/// A base instant for a test: the real time plus a margin, so that Redis'
/// native TTLs (set from the caller's times) never fire during a test.
pub fn base() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(1_700_000_000);
    i64::try_from(now).unwrap_or(i64::MAX / 2) + 10_000
}

fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

enum Cleanup {
    Dir(PathBuf),
    PgSchema { url: String, schema: String },
    RedisPrefix { url: String, prefix: String },
}

/// One isolated namespace on one backend; [`Backend::open`] gives as many
/// independent store instances (separate pools) on it as a test wants.
pub struct Backend {
    /// Which backend.
    pub kind: Kind,
    /// The store URL of this namespace: what `tessera serve --store` and
    /// `tessera_store::open` take.
    pub url: String,
    cleanup: Cleanup,
}

impl Backend {
    /// A fresh namespace, or `None` when the backend's URL is not set.
    pub fn new(kind: Kind) -> Option<Backend> {
        Self::with_options(kind, &[])
    }

    /// Like [`Backend::new`], with extra URL parameters (PostgreSQL and
    /// Redis only).
    pub fn with_options(kind: Kind, extra: &[(&str, &str)]) -> Option<Backend> {
        match kind {
            Kind::Sqlite => {
                let dir = std::env::temp_dir().join(unique("tessera-store-test"));
                // The database sits in a directory that does not exist yet:
                // `open` must create it.
                let url = format!("sqlite://{}/data/tessera.db", dir.display());
                Some(Backend {
                    kind,
                    url,
                    cleanup: Cleanup::Dir(dir),
                })
            }
            Kind::Postgres | Kind::Redis => {
                // Each test gets a schema (PostgreSQL) or key prefix (Redis)
                // of its own on the shared server.
                let (var, param) = match kind {
                    Kind::Postgres => (POSTGRES_ENV, "schema"),
                    _ => (REDIS_ENV, "prefix"),
                };
                let server = env_url(var)?;
                let name = unique("t");
                let mut url = with_param(&server, param, &name);
                for (k, v) in extra {
                    url = with_param(&url, k, v);
                }
                let cleanup = match kind {
                    Kind::Postgres => Cleanup::PgSchema {
                        url: server,
                        schema: name,
                    },
                    _ => Cleanup::RedisPrefix {
                        url: server,
                        prefix: name,
                    },
                };
                Some(Backend { kind, url, cleanup })
            }
        }
    }

    /// A new store instance with its own pool/connections.
    pub async fn open(&self) -> Arc<dyn Store> {
        match tessera_store::open(&self.url).await {
            Ok(s) => s,
            Err(e) => panic!("open {:?} store: {e}", self.kind),
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PgSchema { url, schema } => {
                let (url, schema) = (url.clone(), schema.clone());
                // Drop may run inside a runtime: use a thread of our own.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async {
                        use sqlx::{Connection, Executor};
                        let work = async {
                            let mut con = sqlx::PgConnection::connect(&url).await?;
                            con.execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
                                .await?;
                            con.close().await
                        };
                        let _ = tokio::time::timeout(Duration::from_secs(10), work).await;
                    });
                })
                .join();
            }
            Cleanup::RedisPrefix { url, prefix } => {
                let Ok(client) = redis::Client::open(url.as_str()) else {
                    return;
                };
                let Ok(mut con) = client.get_connection_with_timeout(Duration::from_secs(2)) else {
                    return;
                };
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{prefix}:*"))
                    .query(&mut con)
                    .unwrap_or_default();
                for chunk in keys.chunks(500) {
                    let _: redis::RedisResult<()> = redis::cmd("DEL").arg(chunk).query(&mut con);
                }
            }
        }
    }
}

/// The next event within `within`, if any.
pub async fn next_event(
    rx: &mut broadcast::Receiver<Invalidation>,
    within: Duration,
) -> Option<Invalidation> {
    match tokio::time::timeout(within, rx.recv()).await {
        Ok(Ok(e)) => Some(e),
        Ok(Err(e)) => panic!("invalidation feed: {e}"),
        Err(_) => None,
    }
}

/// Waits for exactly `want` (anything else first fails the test) and
/// returns how long it took.
pub async fn expect_event(
    rx: &mut broadcast::Receiver<Invalidation>,
    want: &Invalidation,
    within: Duration,
) -> Duration {
    let start = Instant::now();
    match next_event(rx, within).await {
        Some(got) => {
            assert_eq!(&got, want, "unexpected invalidation");
            start.elapsed()
        }
        None => panic!("no invalidation within {within:?}; wanted {want:?}"),
    }
}

/// Waits until an event satisfying `pred` arrives (others are skipped).
pub async fn wait_for_event(
    rx: &mut broadcast::Receiver<Invalidation>,
    within: Duration,
    pred: impl Fn(&Invalidation) -> bool,
) -> Option<Duration> {
    let start = Instant::now();
    while let Some(left) = within.checked_sub(start.elapsed()) {
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(e)) if pred(&e) => return Some(start.elapsed()),
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return None,
        }
    }
    None
}
