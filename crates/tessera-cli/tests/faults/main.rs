//! Fault and load tests of the `tessera serve` process (docs/faults.md).
//!
//! Each test starts the real binary on a free loopback port with a data
//! directory of its own (`tessera_testkit::serve`) and drives it from
//! several threads over HTTP/1.1 keep-alive connections (the testkit's
//! client), one file per fault:
//! - `redis_outage_under_load` (redis_outage.rs): a private `redis-server` is killed twice
//!   under load and restarted on the same port and directory;
//! - `postgres_outage_under_load` (postgres_outage.rs): the same with a private PostgreSQL
//!   cluster stopped with `pg_ctl stop -m immediate`;
//! - `sigkill_and_restart_on_sqlite_under_load` (sqlite_sigkill.rs): the server itself is
//!   killed with SIGKILL under load and restarted on its data directory;
//! - `memory_bounded_under_garbage_credentials` (garbage.rs): 100 000 distinct garbage
//!   credentials against `/v1/verify`, with the server's peak RSS;
//! - `pipelined_answers_are_not_held_back` (pipelining.rs): two pipelined requests are
//!   answered without waiting for a delayed ACK (TCP_NODELAY);
//! - `idle_and_half_sent_connections_do_not_starve_healthz`
//!   (slow_connections.rs): 1,000 idle and
//!   1,000 half-sent connections held for 60 s, `/healthz` p99 < 100 ms;
//! - `sigterm_finishes_in_flight_requests_within_the_grace` (sigterm.rs): SIGTERM with a
//!   request in flight, and with one that never completes.
//!
//! The load threads keep a model of what the server acknowledged (sessions,
//! their live and spent refresh tokens, ended sessions, revoked access
//! tokens). An answer that was not an acknowledgement makes the session's
//! state unknown, and it is dropped from the model, unless the request
//! certainly did nothing (503 with the store down all along, or a refused
//! connection): then the model keeps it as it was. Everything in the model
//! is checked again at the end (the audit).
//!
//! The tests share two cores with each other and with the server, so they
//! run one at a time (`serial`). Every loop stops by itself (count and
//! deadline). Tokens never appear in the output: failures name the
//! operation, the phase and the status only.
//!
//! Run alone: `cargo test -p tessera-cli --test faults -- --nocapture`.

mod garbage;
mod load;
mod model;
mod nwt_cache;
mod pipelining;
mod postgres_outage;
mod redis_outage;
mod sigterm;
mod slow_connections;
mod sqlite_sigkill;
mod store_outage;
mod two_servers;

use load::*;
use model::*;
use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use store_outage::*;
use tessera_core::internal::encoding::{b64std_encode, b64url_encode, hex_encode};
use tessera_core::internal::nostr::{issue_nip98, nip98_authorization, NostrSecretKey};
use tessera_core::{Clock, SystemClock};
use tessera_testkit::http::{status_of, Client, Resp};
use tessera_testkit::raw::{challenge_in_flight, read_answer};
use tessera_testkit::serve::Tessera;
use tessera_testkit::services::{PgCluster, RedisServer};
use tessera_testkit::{in_ci, loud as report, loud_skip, tessera_bin, TempDir};

// ------------------------------------------------------------ bounds

/// Longest any one request may take. A store call gives up after 5 s
/// (`tessera_store::OPERATION_TIMEOUT`), and against a dead store the
/// first failing call ends the request: at once on Redis (connection
/// refused), after the pool's 2-s acquire timeout on PostgreSQL. 7 s is
/// generous on a busy 2-core machine, and well below "queued behind other
/// requests' timeouts".
const HANG_BOUND: Duration = Duration::from_secs(7);
/// The client's socket timeout: past it the request counts as a hang.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);
/// After the store dies, the access-token check may still answer from the
/// in-process revocation picture until the invalidation feed notices the
/// lost connection (it sees EOF at once; 2 s covers a loaded machine).
/// Later, an access token needs the store and must get 503.
const PICTURE_GRACE: Duration = Duration::from_secs(2);
/// After `/readyz` is back to 200, a 503 is tolerated this long (pooled
/// connections and the revocation picture are re-established lazily).
const RECOVERY_SETTLE: Duration = Duration::from_secs(2);
/// Load threads (the server gets the two cores' remaining share).
const THREADS: usize = 4;
/// Most operations per load thread, whatever the clock says (the
/// deadline of each test is what normally ends the load).
const MAX_OPS_PER_THREAD: u64 = 100_000;

// ------------------------------------------------------------ helpers

static HEAVY: Mutex<()> = Mutex::new(());

/// One heavy test at a time.
fn serial() -> MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|p| p.into_inner())
}

/// A client of `addr` whose socket gives up after `SOCKET_TIMEOUT`: one
/// keep-alive connection, reconnecting after an error, never retrying.
fn client(addr: SocketAddr) -> Client {
    Client::with_timeout(addr, SOCKET_TIMEOUT)
}

/// `tessera serve` with its data in `dir`, on `store`.
fn serve(dir: &Path, store: Option<&str>) -> Tessera {
    serve_with(dir, store, &[])
}

/// As [`serve`], with `TESSERA_*` settings of the test's own. With no
/// reuse grace a spent refresh token is refused outright, so "spent" has
/// one meaning in the checks.
fn serve_with(dir: &Path, store: Option<&str>, env: &[(&str, &str)]) -> Tessera {
    let mut all = vec![
        ("TESSERA_REFRESH_REUSE_GRACE_SECONDS", "0"),
        ("TESSERA_LOG", "warn"),
    ];
    all.extend_from_slice(env);
    Tessera::start(tessera_bin!(), dir, store, &all)
}

/// xorshift64*: reproducible enough, and no dependency.
struct Rng(u64);

impl Rng {
    fn new(stream: u64) -> Rng {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Rng((nanos ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// `n` characters of the base64url alphabet.
    fn text(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..n).map(|_| char::from(A[self.below(64)])).collect()
    }
}
