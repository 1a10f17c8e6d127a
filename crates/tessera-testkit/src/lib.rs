//! The harness tessera's test suites share (dev-only, never published).
//!
//! - [`serve`]: the real `tessera serve` binary on a free loopback port
//!   with a data directory of its own (fault and interop suites), and
//!   [`cli`]: one-shot runs of the `tessera` binary;
//! - `inproc` (feature `server`): the same server in-process, on its own
//!   runtime and thread (the server's HTTP tests);
//! - [`http`]: one HTTP client (`ureq`), and [`raw`]: the few raw-socket
//!   helpers for requests a client cannot send (half-sent, pipelined);
//! - `store` (feature `store`): an isolated namespace on SQLite,
//!   PostgreSQL or Redis; [`services`]: private `redis-server` and
//!   PostgreSQL instances a test may kill;
//! - [`gateway`]: real gateways (nginx, Caddy) and an echoing upstream;
//! - [`dir`]: temporary directories; [`fixtures`]: keys, token makers,
//!   SIWE and Nostr helpers.
//!
//! Suites that need PostgreSQL or Redis find them through
//! `TESSERA_TEST_POSTGRES_URL` / `TESSERA_TEST_REDIS_URL`; when unset they
//! skip loudly, and fail when `CI` is set ([`in_ci`]).
#![deny(missing_docs)]

pub mod api;
pub mod cli;
pub mod dir;
pub mod fixtures;
pub mod gateway;
pub mod http;
#[cfg(feature = "server")]
pub mod inproc;
pub mod raw;
pub mod serve;
pub mod services;
#[cfg(feature = "store")]
pub mod store;

pub use dir::TempDir;

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Whether this is a CI run (`CI` set to anything but empty, `false`, `0`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// One line straight to the process's stderr: libtest captures `eprintln!`
/// of passing tests, and skips and summary lines (FAULT, LOAD, interop
/// tallies) must be seen.
pub fn loud(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A skip notice between bars of `!`, straight to stderr.
pub fn loud_skip(why: &str) {
    let bar = "!".repeat(76);
    loud(&format!("\n{bar}\n!!! {why}\n{bar}"));
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name no other test (or test run) uses: `tag`, then digits and `_`
/// (a PostgreSQL schema or Redis prefix when `tag` is lowercase).
pub fn unique(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{tag}_{}_{n}_{nanos}", std::process::id())
}

/// The Unix time now, in seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A free port on 127.0.0.1 (free when asked; a test binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
