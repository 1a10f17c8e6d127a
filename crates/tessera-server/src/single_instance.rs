//! One server process per SQLite store (issue 17, finding 7).
//!
//! SQLite is the embedded, single-instance default: its invalidation feed
//! is in-process, so a second process on the same data directory never
//! learns of the first one's revocations (after a logout on one, the other
//! kept accepting the access token until it expired). `tessera serve`
//! therefore holds an exclusive lock on `<data_dir>/tessera.lock` for its
//! whole life, and a second process on the same directory refuses to start
//! and says to use PostgreSQL or Redis instead. The lock is an OS file
//! lock (`flock` on Unix, through `fs4`: std's `File::try_lock` needs Rust
//! 1.89, above this workspace's `rust-version`), released by the kernel
//! when the process ends, however it ends (a SIGKILL leaves no stale lock
//! behind).

use crate::config::Config;
use crate::serve::ServeError;
use fs4::TryLockError;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// The name of the lock file in the data directory.
pub const LOCK_FILE: &str = "tessera.lock";

/// Held for the life of the process; dropping it releases the lock.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Whether the configured store is a SQLite file (not in memory).
fn is_sqlite_file(config: &Config) -> bool {
    let url = config.store_url().to_ascii_lowercase();
    url.starts_with("sqlite:") && !url.contains(":memory:") && !url.contains("mode=memory")
}

/// Creates the data directory if it is missing, readable by the server's
/// user only: the database holds refresh-token hashes and the keys live
/// below.
pub(crate) fn create_data_dir(dir: &Path) -> Result<(), ServeError> {
    let created = !dir.exists();
    std::fs::create_dir_all(dir).map_err(|e| {
        ServeError(format!(
            "cannot create data directory {}: {e}",
            dir.display()
        ))
    })?;
    #[cfg(unix)]
    if created {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// Takes the data directory's lock when the store is a SQLite file; `None`
/// for PostgreSQL, Redis and in-memory SQLite, which several processes may
/// share. Fails when another process holds it.
pub fn lock_for_sqlite(config: &Config) -> Result<Option<DataDirLock>, ServeError> {
    if !is_sqlite_file(config) {
        return Ok(None);
    }
    create_data_dir(&config.data_dir)?;
    let path = config.data_dir.join(LOCK_FILE);
    let mut open = OpenOptions::new();
    open.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut file = open
        .open(&path)
        .map_err(|e| ServeError(format!("cannot open the lock file {}: {e}", path.display())))?;
    // Fully qualified: on newer toolchains std's own `File::try_lock`
    // would be chosen instead.
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim().parse::<u32>() {
                Ok(pid) => format!(" (process {pid})"),
                Err(_) => String::new(),
            };
            return Err(ServeError(format!(
                "another tessera server{holder} is already running on the data directory {}: \
                 the default SQLite store serves a single process, and a second one would not \
                 see the first one's revocations. Stop the other server or give this one its own \
                 --data-dir; to run several instances, share a PostgreSQL or Redis store \
                 (--store postgres://... or --store redis://...)",
                config.data_dir.display()
            )));
        }
        Err(TryLockError::Error(e)) => {
            return Err(ServeError(format!("cannot lock {}: {e}", path.display())))
        }
    }
    // Who holds it, for the next one's message (best effort).
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = writeln!(file, "{}", std::process::id());
    Ok(Some(DataDirLock { _file: file }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path, store: Option<&str>) -> Config {
        Config {
            data_dir: dir.to_owned(),
            store: store.map(str::to_owned),
            ..Config::default()
        }
    }

    #[test]
    fn a_second_lock_on_one_data_dir_is_refused_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!(
            "tessera-lock-test-{}-{}",
            std::process::id(),
            line!()
        ));
        let first = lock_for_sqlite(&config(&dir, None)).expect("first");
        assert!(first.is_some());
        let e = lock_for_sqlite(&config(&dir, None)).expect_err("second");
        assert!(e.0.contains("PostgreSQL or Redis"), "{}", e.0);
        assert!(
            e.0.contains(&format!("process {}", std::process::id())),
            "{}",
            e.0
        );
        // PostgreSQL and Redis stores may share a data directory (keys).
        assert!(
            lock_for_sqlite(&config(&dir, Some("redis://127.0.0.1:6379")))
                .expect("redis")
                .is_none()
        );
        drop(first);
        assert!(lock_for_sqlite(&config(&dir, None))
            .expect("again")
            .is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
