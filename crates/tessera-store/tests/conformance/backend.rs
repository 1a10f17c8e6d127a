//! What a store says of itself (its backend, the ping), and what only
//! SQLite does (a private in-memory database, the file's mode).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tessera_store::LatencyObserver;
use tessera_testkit::store::{base, hash, Backend, Kind};

use crate::{family, is_rotated, token};

pub(crate) async fn ping_answers(b: &Backend) {
    let s = b.open().await;
    s.ping().await.unwrap();
    let name = s.backend();
    let want = match b.kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
        Kind::Redis => "redis",
    };
    assert_eq!(name, want);
}

/// `sqlite::memory:` keeps its state across calls (one connection holds
/// the private database).
#[tokio::test]
async fn sqlite_in_memory_keeps_state() {
    let s = tessera_store::open("sqlite::memory:").await.unwrap();
    let t = base();
    s.put_nonce("n", t + 10).await.unwrap();
    s.create_family(&family("f", "alice", t, t + 100), &token(1, t + 50))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(s.consume_nonce("n", t).await.unwrap());
    let o = s
        .rotate_refresh(&hash(1), &token(2, t + 50), t, 0)
        .await
        .unwrap();
    assert!(is_rotated(&o), "{o:?}");
    // Another in-memory store is another database.
    let other = tessera_store::open("sqlite::memory:").await.unwrap();
    assert_eq!(other.family("f").await.unwrap(), None);
}

/// Issue 17, finding 14: the database is created 0600 also when its
/// directory exists already (SQLite alone would use the umask: 0644), and
/// its WAL follows.
#[cfg(unix)]
#[tokio::test]
async fn sqlite_database_is_created_0600_in_an_existing_directory() {
    use std::os::unix::fs::PermissionsExt;
    let b = Backend::new(Kind::Sqlite).expect("sqlite");
    let path = b.url.trim_start_matches("sqlite://").to_string();
    let dir = std::path::Path::new(&path)
        .parent()
        .expect("dir")
        .to_owned();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = b.open().await;
    s.put_nonce("n", base() + 10).await.unwrap();
    for file in [path.clone(), format!("{path}-wal")] {
        let mode = std::fs::metadata(&file).expect(&file).permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file} is {mode:o}");
    }
}

/// Records what a store reports of its calls.
#[derive(Default)]
struct Seen(Mutex<Vec<(&'static str, bool)>>);

impl LatencyObserver for Seen {
    fn observe(&self, operation: &'static str, elapsed: Duration, answered: bool) {
        assert!(elapsed < Duration::from_secs(5), "{operation}: {elapsed:?}");
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((operation, answered));
    }
}

/// Every call of a store reports its latency, named by the `Store` method,
/// to the observer registered for that store (one per store); a refusal
/// such as a conflict is an answer.
pub(crate) async fn latency_is_reported_per_operation(b: &Backend) {
    let s = b.open().await;
    let other = b.open().await;
    let seen = Arc::new(Seen::default());
    assert!(s.observe_latency(seen.clone()));
    assert!(
        !s.observe_latency(Arc::new(Seen::default())),
        "a second observer"
    );
    let t = base();
    s.put_nonce("n", t + 10).await.unwrap();
    assert!(s.consume_nonce("n", t).await.unwrap());
    s.create_family(&family("f", "alice", t, t + 100), &token(1, t + 50))
        .await
        .unwrap();
    s.create_family(&family("f", "alice", t, t + 100), &token(2, t + 50))
        .await
        .expect_err("the family exists");
    let o = s
        .rotate_refresh(&hash(1), &token(3, t + 50), t, 0)
        .await
        .unwrap();
    assert!(is_rotated(&o), "{o:?}");
    assert!(!s.is_jti_revoked("j", t).await.unwrap());
    s.ping().await.unwrap();
    // Another store instance reports to its own observer, if any.
    other.ping().await.unwrap();
    assert_eq!(
        *seen.0.lock().unwrap_or_else(|p| p.into_inner()),
        [
            ("put_nonce", true),
            ("consume_nonce", true),
            ("create_family", true),
            ("create_family", true),
            ("rotate_refresh", true),
            ("is_jti_revoked", true),
            ("ping", true),
        ]
    );
}
