//! Fault and load tests of the `tessera serve` process (docs/faults.md).
//!
//! Each test starts the real binary on a free loopback port with a data
//! directory of its own and drives it from several threads over HTTP/1.1
//! keep-alive connections, with the small client below (the workspace has
//! no HTTP client crate):
//! - `redis_outage_under_load`: a private `redis-server` is killed twice
//!   under load and restarted on the same port and directory;
//! - `postgres_outage_under_load`: the same with a private PostgreSQL
//!   cluster stopped with `pg_ctl stop -m immediate`;
//! - `sigkill_and_restart_on_sqlite_under_load`: the server itself is
//!   killed with SIGKILL under load and restarted on its data directory;
//! - `memory_bounded_under_garbage_credentials`: 100 000 distinct garbage
//!   credentials against `/v1/verify`, with the server's peak RSS;
//! - `pipelined_answers_are_not_held_back`: two pipelined requests are
//!   answered without waiting for a delayed ACK (TCP_NODELAY);
//! - `idle_and_half_sent_connections_do_not_starve_healthz`: 1,000 idle and
//!   1,000 half-sent connections held for 60 s, `/healthz` p99 < 100 ms;
//! - `sigterm_finishes_in_flight_requests_within_the_grace`: SIGTERM with a
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

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tessera_core::encoding::{b64std_encode, b64url_encode, hex_encode};
use tessera_core::nostr::{issue_nip98, nip98_authorization, NostrSecretKey};
use tessera_core::{Clock, SystemClock};

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

/// Straight to the real stderr: libtest captures `println!` of passing
/// tests, and the summary lines are the point of these tests.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn loud_skip(why: &str) {
    let bar = "!".repeat(76);
    report(&format!("\n{bar}\n!!! {why}\n{bar}"));
}

/// Whether this is a CI run (`CI` set to anything but empty, `false`, `0`).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "tessera-faults-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
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

// ------------------------------------------------------------ HTTP client

struct Answer {
    status: u16,
    body: Vec<u8>,
    took: Duration,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// A blocking HTTP/1.1 client on one keep-alive connection, reconnecting
/// after an error. It never retries: a request that got no answer may or
/// may not have been carried out, and the caller must treat it so.
struct Client {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

impl Client {
    fn new(addr: SocketAddr) -> Client {
        Client { addr, conn: None }
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, String> {
        let start = Instant::now();
        match self.exchange(method, path, headers, body) {
            Ok((status, body, close)) => {
                if close {
                    self.conn = None;
                }
                Ok(Answer {
                    status,
                    body,
                    took: start.elapsed(),
                })
            }
            Err(e) => {
                self.conn = None;
                Err(format!("{:?} after {:?}", e.kind(), start.elapsed()))
            }
        }
    }

    fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Result<Answer, String> {
        self.send("GET", path, headers, b"")
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>, bool)> {
        use std::io::{Error, ErrorKind};
        if self.conn.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))?;
            s.set_read_timeout(Some(SOCKET_TIMEOUT))?;
            s.set_write_timeout(Some(SOCKET_TIMEOUT))?;
            s.set_nodelay(true)?;
            self.conn = Some(BufReader::new(s));
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(Error::new(ErrorKind::NotConnected, "no connection"));
        };
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(k);
            req.push_str(": ");
            req.push_str(v);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        conn.get_mut().write_all(&bytes)?;
        read_answer(conn)
    }
}

/// Reads one answer (status, body, whether the server closes) from `conn`.
fn read_answer(conn: &mut BufReader<TcpStream>) -> std::io::Result<(u16, Vec<u8>, bool)> {
    use std::io::{Error, ErrorKind};
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(Error::new(
            ErrorKind::UnexpectedEof,
            "closed before answering",
        ));
    }
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| Error::new(ErrorKind::InvalidData, "bad status line"))?;
    let (mut length, mut chunked, mut close) = (None, false, false);
    loop {
        line.clear();
        if conn.read_line(&mut line)? == 0 {
            return Err(Error::new(ErrorKind::UnexpectedEof, "closed in the head"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => length = v.parse::<usize>().ok(),
                "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
    }
    let body = if chunked {
        read_chunked(conn)?
    } else if let Some(n) = length {
        let mut b = vec![0; n];
        conn.read_exact(&mut b)?;
        b
    } else if status == 204 || status == 304 || status < 200 {
        Vec::new()
    } else {
        close = true;
        let mut b = Vec::new();
        conn.read_to_end(&mut b)?;
        b
    };
    Ok((status, body, close))
}

fn read_chunked(conn: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunk");
    let mut out = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        conn.read_line(&mut line)?;
        let size = line.trim().split(';').next().unwrap_or("");
        let n = usize::from_str_radix(size, 16).map_err(|_| bad())?;
        if n == 0 {
            loop {
                line.clear();
                if conn.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(out);
                }
            }
        }
        let start = out.len();
        out.resize(start + n, 0);
        conn.read_exact(&mut out[start..])?;
        let mut crlf = [0; 2];
        conn.read_exact(&mut crlf)?;
    }
}

/// One request on a fresh connection: the status, or `None`.
fn status_of(addr: SocketAddr, path: &str) -> Option<u16> {
    Client::new(addr).get(path, &[]).ok().map(|a| a.status)
}

// ------------------------------------------------------------ the server

/// `tessera serve` as a child process, killed (by its own handle) when
/// dropped, also when the test panics.
struct Tessera {
    child: Option<Child>,
    addr: SocketAddr,
    url: String,
    data_dir: PathBuf,
    store: Option<String>,
    log: PathBuf,
    /// `TESSERA_*` settings of this test, over the harness's own.
    env: Vec<(String, String)>,
}

impl Tessera {
    /// Starts the server on `127.0.0.1:<free port>` with its data in `dir`.
    fn start(dir: &Path, store: Option<&str>) -> Tessera {
        Self::start_with(dir, store, &[])
    }

    /// As [`Tessera::start`], with `TESSERA_*` settings of the test's own.
    fn start_with(dir: &Path, store: Option<&str>, env: &[(&str, &str)]) -> Tessera {
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let mut t = Tessera {
            child: None,
            addr,
            url: format!("http://{addr}"),
            data_dir: dir.join("data"),
            store: store.map(str::to_owned),
            log: dir.join("serve.log"),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        t.spawn();
        t
    }

    /// (Re)starts the process with the same address, data and store (the
    /// same public URL, so earlier access tokens still name this server).
    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
        cmd.arg("serve")
            .arg("--listen")
            .arg(self.addr.to_string())
            .arg("--data-dir")
            .arg(&self.data_dir);
        if let Some(store) = &self.store {
            cmd.arg("--store").arg(store);
        }
        // Only this test's configuration: no TESSERA_* from the environment.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("TESSERA_") {
                cmd.env_remove(name);
            }
        }
        // The limiter would answer 429 to a load test; with no reuse grace
        // a spent refresh token is refused outright, so "spent" has one
        // meaning in the checks below.
        cmd.env("TESSERA_RATE_LIMIT_PER_MINUTE", "0")
            .env("TESSERA_REFRESH_REUSE_GRACE_SECONDS", "0")
            .env("TESSERA_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        self.child = Some(cmd.spawn().expect("start tessera serve"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if status_of(self.addr, "/healthz") == Some(200) {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "tessera serve exited early ({status}):\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "tessera serve did not answer /healthz within 30 s:\n{}",
            self.log_tail()
        );
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGKILL: no graceful shutdown, no chance to flush anything.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The server's last log lines (it never logs tokens).
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// The server's `(VmHWM, VmRSS)` in KiB, from /proc.
    fn memory_kib(&self) -> (u64, u64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        (field("VmHWM:"), field("VmRSS:"))
    }

    fn wait_ready(&self, want: u16, within: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < within {
            if status_of(self.addr, "/readyz") == Some(want) {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Tessera {
    fn drop(&mut self) {
        self.kill();
    }
}

// ------------------------------------------------------------ private stores

/// A `redis-server` of the test's own on a free port, with an append-only
/// file synced on every write, so that an acknowledged write survives
/// SIGKILL (without persistence a restarted Redis is empty: that is the
/// operator's configuration, not tessera's doing).
struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    fn available() -> bool {
        Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn start(dir: &Path) -> RedisServer {
        let mut r = RedisServer {
            child: None,
            port: free_port(),
            dir: dir.to_path_buf(),
        };
        r.spawn();
        r
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "yes"])
            .args(["--appendfsync", "always"])
            .args(["--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
                if s.write_all(b"PING\r\n").is_ok() {
                    let mut line = String::new();
                    if BufReader::new(&s).read_line(&mut line).is_ok() && line.starts_with("+PONG")
                    {
                        return;
                    }
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL (`graceful == false`) or SIGTERM (Redis then finishes its
    /// AOF and exits), and waits for the process to be gone.
    fn stop(&mut self, graceful: bool) {
        if let Some(mut c) = self.child.take() {
            if graceful {
                let _ = Command::new("kill")
                    .args(["-TERM", &c.id().to_string()])
                    .status();
                let deadline = Instant::now() + Duration::from_secs(10);
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = c.try_wait() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop(false);
    }
}

/// A PostgreSQL 15 cluster of the test's own: trust authentication, a free
/// port on 127.0.0.1, its unix socket in its own directory. `initdb`
/// refuses to run as root, so as root every command runs as the
/// `postgres` OS user (`runuser`).
struct PgCluster {
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    running: bool,
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next().map(|u| u == "0"))
        })
        .unwrap_or(false)
}

impl PgCluster {
    /// A new cluster under `dir` (which must not be shared), started.
    fn create(dir: &Path) -> Result<PgCluster, String> {
        for tool in ["initdb", "pg_ctl", "postgres"] {
            if !Path::new(PG_BIN).join(tool).exists() {
                return Err(format!("{PG_BIN}/{tool} is missing"));
            }
        }
        let as_postgres = running_as_root();
        if as_postgres {
            let chown = Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir)
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !chown.success() {
                return Err("cannot give the cluster directory to the postgres user".into());
            }
        }
        let mut cluster = PgCluster {
            dir: dir.to_path_buf(),
            port: free_port(),
            as_postgres,
            running: false,
        };
        let data = cluster.data();
        let out = cluster
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        cluster.start()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("pgdata")
    }

    fn command(&self, tool: &str) -> Command {
        let path = Path::new(PG_BIN).join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn start(&mut self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=50",
            self.port,
            self.dir.display()
        );
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("postgres.log"))
            .args(["-w", "-t", "30", "-o", &options, "start"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("pg_ctl start: {e}"))?;
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
            return Err(format!(
                "pg_ctl start failed: {}{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        self.running = true;
        Ok(())
    }

    /// `pg_ctl stop -m immediate`: every backend is killed at once, no
    /// checkpoint; the restart replays the WAL (as after a crash).
    fn stop_immediate(&mut self) {
        if !self.running {
            return;
        }
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "-t", "30", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        self.running = false;
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop_immediate();
    }
}

// ------------------------------------------------------------ load model

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Store and server up (and, after a fault, `/readyz` answered 200).
    Up,
    /// The fault is being made or undone: anything may happen but a 5xx
    /// other than 503, a hang or a lost acknowledgement.
    Transition,
    /// The store (or the server) is dead.
    Down,
}

#[derive(Debug, Clone, Copy)]
struct PhaseState {
    generation: u64,
    phase: Phase,
    since: Instant,
}

/// What the controlling thread tells the load threads.
struct Control {
    state: Mutex<PhaseState>,
    stop: AtomicBool,
    deadline: Instant,
}

impl Control {
    fn new(limit: Duration) -> Arc<Control> {
        Arc::new(Control {
            state: Mutex::new(PhaseState {
                generation: 0,
                phase: Phase::Up,
                since: Instant::now(),
            }),
            stop: AtomicBool::new(false),
            deadline: Instant::now() + limit,
        })
    }

    fn now(&self) -> PhaseState {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, phase: Phase) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.generation += 1;
        s.phase = phase;
        s.since = Instant::now();
    }

    fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed) && Instant::now() < self.deadline
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Login,
    Refresh,
    Logout,
    RevokeSession,
    RevokeAccess,
    VerifyLive,
    VerifyRevoked,
}

const OPS: [Op; 7] = [
    Op::Login,
    Op::Refresh,
    Op::Logout,
    Op::RevokeSession,
    Op::RevokeAccess,
    Op::VerifyLive,
    Op::VerifyRevoked,
];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Login => "login",
            Op::Refresh => "refresh",
            Op::Logout => "logout",
            Op::RevokeSession => "revoke_session",
            Op::RevokeAccess => "revoke_access",
            Op::VerifyLive => "verify_live",
            Op::VerifyRevoked => "verify_revoked",
        }
    }

    /// What the answer is when the store is up.
    fn expected(self) -> u16 {
        match self {
            Op::Login | Op::Refresh | Op::RevokeSession | Op::RevokeAccess | Op::VerifyLive => 200,
            Op::Logout => 204,
            Op::VerifyRevoked => 401,
        }
    }
}

/// An access token and the fault generation it was issued in.
#[derive(Clone)]
struct Access {
    token: String,
    generation: u64,
}

/// One session as acknowledged by the server.
#[derive(Clone)]
struct Session {
    /// Access tokens acknowledged and not revoked one by one.
    access: Vec<Access>,
    /// Access tokens whose revocation was acknowledged (200).
    revoked_access: Vec<String>,
    /// The latest refresh token acknowledged, never presented since.
    refresh: String,
    /// Refresh tokens acknowledged as spent (their rotation answered 200).
    spent: Vec<String>,
    /// Logout (204) or revocation (200) acknowledged.
    ended: bool,
}

#[derive(Default)]
struct Stats {
    requests: u64,
    /// The answer the model expected with the store up.
    ok: u64,
    answered_503: u64,
    /// No answer at all (only while the server itself is dead).
    no_answer: u64,
    /// Anything else: each one is also a violation.
    other: u64,
    /// `/v1/verify` 200 from the in-process picture right after the store
    /// died (within `PICTURE_GRACE`).
    from_picture: u64,
    /// 503 answers in strict outage windows, per operation.
    outage_503: [u64; 7],
    /// Expected answers after a recovery, per operation.
    ok_after_recovery: [u64; 7],
    /// 503 later than `RECOVERY_SETTLE` after `/readyz` came back.
    late_503: u64,
    /// Sessions dropped from the model because an answer was not an
    /// acknowledgement.
    uncertain: u64,
    max_latency: Duration,
    violations: Vec<String>,
}

impl Stats {
    fn violation(&mut self, what: String) {
        if self.violations.len() < 20 {
            self.violations.push(what);
        }
    }

    fn merge(&mut self, o: Stats) {
        self.requests += o.requests;
        self.ok += o.ok;
        self.answered_503 += o.answered_503;
        self.no_answer += o.no_answer;
        self.other += o.other;
        self.from_picture += o.from_picture;
        for i in 0..OPS.len() {
            self.outage_503[i] += o.outage_503[i];
            self.ok_after_recovery[i] += o.ok_after_recovery[i];
        }
        self.late_503 += o.late_503;
        self.uncertain += o.uncertain;
        self.max_latency = self.max_latency.max(o.max_latency);
        for v in o.violations {
            self.violation(v);
        }
    }
}

/// How one answer counts for the model.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// The expected answer: an acknowledgement for a write.
    Acknowledged,
    /// Certainly not carried out: refused while the store was dead all
    /// along (503), or the connection was refused. The model stays as it
    /// was, and the audit checks that nothing changed.
    NotDone,
    /// Anything else: the effect of a write is unknown.
    Unknown,
}

struct Judge {
    /// The server process itself is killed in this test (no answer is
    /// then expected while it is down).
    server_dies: bool,
    /// When the last recovery (readyz 200 after a fault) was seen.
    recovered: Arc<Mutex<Option<Instant>>>,
}

impl Judge {
    fn judge(
        &self,
        stats: &mut Stats,
        op: Op,
        result: &Result<Answer, String>,
        start: PhaseState,
        end: PhaseState,
    ) -> Verdict {
        stats.requests += 1;
        let i = OPS.iter().position(|o| *o == op).unwrap_or(0);
        let strict_down = start.phase == Phase::Down && start.generation == end.generation;
        let steady_up = start.phase == Phase::Up && start.generation == end.generation;
        let where_ = format!("{:?}/{}", start.phase, start.generation);
        let answer = match result {
            Ok(a) => a,
            Err(e) => {
                if self.server_dies && !steady_up {
                    stats.no_answer += 1;
                } else {
                    stats.other += 1;
                    stats.violation(format!("{} in {where_}: no answer ({e})", op.name()));
                }
                // Nothing was sent on a refused connection.
                return if e.starts_with("ConnectionRefused") {
                    Verdict::NotDone
                } else {
                    Verdict::Unknown
                };
            }
        };
        stats.max_latency = stats.max_latency.max(answer.took);
        let sent_at = Instant::now()
            .checked_sub(answer.took)
            .unwrap_or(start.since);
        if answer.took > HANG_BOUND {
            stats.other += 1;
            stats.violation(format!(
                "{} in {where_}: answered {} after {:?} (bound {HANG_BOUND:?})",
                op.name(),
                answer.status,
                answer.took
            ));
            return Verdict::Unknown;
        }
        let status = answer.status;
        if status == 503 {
            stats.answered_503 += 1;
            if strict_down {
                stats.outage_503[i] += 1;
                return Verdict::NotDone;
            }
            if steady_up {
                let recovered = *self.recovered.lock().unwrap_or_else(|p| p.into_inner());
                // Up from the start, or well after the last recovery.
                if recovered.is_none_or(|r| sent_at > r + RECOVERY_SETTLE) {
                    stats.late_503 += 1;
                    stats.violation(format!("{} in {where_}: 503 with the store up", op.name()));
                }
            }
            return Verdict::Unknown;
        }
        if strict_down && !self.server_dies {
            // The store is dead: writes fail closed; an access token is
            // refused or, until the feed notices, judged from the picture.
            let fine = match op {
                Op::VerifyLive if status == 200 => {
                    if sent_at.saturating_duration_since(start.since) <= PICTURE_GRACE {
                        stats.from_picture += 1;
                        return Verdict::Acknowledged;
                    }
                    false
                }
                Op::VerifyRevoked => status == 401,
                _ => false,
            };
            if fine {
                stats.ok += 1;
                return Verdict::Acknowledged;
            }
            stats.other += 1;
            stats.violation(format!(
                "{} during the outage ({where_}): {} {} instead of 503",
                op.name(),
                status,
                answer.error()
            ));
            return Verdict::Unknown;
        }
        if status == op.expected() {
            stats.ok += 1;
            if start.generation > 0 && steady_up {
                stats.ok_after_recovery[i] += 1;
            }
            return Verdict::Acknowledged;
        }
        stats.other += 1;
        stats.violation(format!(
            "{} in {where_}: {} {} (expected {})",
            op.name(),
            status,
            answer.error(),
            op.expected()
        ));
        Verdict::Unknown
    }
}

/// The requests of the model.
struct Api {
    client: Client,
    url: String,
}

impl Api {
    fn new(addr: SocketAddr, url: &str) -> Api {
        Api {
            client: Client::new(addr),
            url: url.to_owned(),
        }
    }

    /// NIP-98 login with a fresh key (so every event is new: the replay
    /// guard remembers event ids).
    fn login(&mut self) -> Result<Answer, String> {
        let key = NostrSecretKey::generate();
        let login_url = format!("{}/v1/auth/login", self.url);
        let event = issue_nip98(&key, &login_url, "POST", None, SystemClock.now())
            .map_err(|e| format!("nip98: {}", e.message()))?;
        let auth = nip98_authorization(&event);
        self.client
            .send("POST", "/v1/auth/login", &[("Authorization", &auth)], b"")
    }

    fn refresh(&mut self, token: &str) -> Result<Answer, String> {
        let body = serde_json::json!({ "refresh_token": token }).to_string();
        self.client.send(
            "POST",
            "/v1/auth/refresh",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    }

    fn logout(&mut self, refresh: &str, access: Option<&str>) -> Result<Answer, String> {
        let body = serde_json::json!({ "refresh_token": refresh }).to_string();
        let bearer = access.map(|a| format!("Bearer {a}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(b) = &bearer {
            headers.push(("Authorization", b));
        }
        self.client
            .send("POST", "/v1/auth/logout", &headers, body.as_bytes())
    }

    fn revoke(&mut self, token: &str, hint: &str) -> Result<Answer, String> {
        // Access tokens and refresh tokens are base64url (and dots): no
        // percent-encoding needed.
        let body = format!("token={token}&token_type_hint={hint}");
        self.client.send(
            "POST",
            "/v1/oauth/revoke",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    }

    fn verify(&mut self, access: &str) -> Result<Answer, String> {
        let bearer = format!("Bearer {access}");
        self.client
            .get("/v1/verify", &[("Authorization", bearer.as_str())])
    }
}

/// A token pair from a 200 login/refresh answer.
fn pair_of(answer: &Answer) -> Option<(String, String)> {
    let v = answer.json();
    Some((
        v["access_token"].as_str()?.to_owned(),
        v["refresh_token"].as_str()?.to_owned(),
    ))
}

/// One load thread: a random mix of logins, refreshes, logouts,
/// revocations and verifications until told to stop; returns its counts
/// and its model.
fn load_thread(
    id: u64,
    addr: SocketAddr,
    url: String,
    control: Arc<Control>,
    judge: Arc<Judge>,
) -> (Stats, Vec<Session>) {
    let mut api = Api::new(addr, &url);
    let mut rng = Rng::new(id + 1);
    let mut stats = Stats::default();
    let mut live: Vec<Session> = Vec::new();
    let mut ended: Vec<Session> = Vec::new();
    let mut n = 0;
    while control.running() && n < MAX_OPS_PER_THREAD {
        n += 1;
        let (unanswered, unavailable) = (stats.no_answer, stats.answered_503);
        let r = rng.below(100);
        // More logins than endings, so that sessions from before a fault
        // are still alive (and checked) at the end.
        let op = if live.len() < 4 || r < 25 {
            Op::Login
        } else if r < 50 {
            Op::Refresh
        } else if r < 75 {
            Op::VerifyLive
        } else if r < 85 {
            Op::VerifyRevoked
        } else if r < 91 {
            Op::Logout
        } else if r < 95 {
            Op::RevokeSession
        } else {
            Op::RevokeAccess
        };
        let start = control.now();
        match op {
            Op::Login => {
                let result = api.login();
                let end = control.now();
                if judge.judge(&mut stats, op, &result, start, end) == Verdict::Acknowledged {
                    if let Some((access, refresh)) = result.as_ref().ok().and_then(pair_of) {
                        live.push(Session {
                            access: vec![Access {
                                token: access,
                                generation: start.generation,
                            }],
                            revoked_access: Vec::new(),
                            refresh,
                            spent: Vec::new(),
                            ended: false,
                        });
                    }
                }
            }
            Op::Refresh => {
                let k = rng.below(live.len());
                let result = api.refresh(&live[k].refresh);
                let end = control.now();
                let verdict = judge.judge(&mut stats, op, &result, start, end);
                match result.as_ref().ok().and_then(pair_of) {
                    Some((access, refresh)) if verdict == Verdict::Acknowledged => {
                        let s = &mut live[k];
                        let old = std::mem::replace(&mut s.refresh, refresh);
                        s.spent.push(old);
                        s.access.push(Access {
                            token: access,
                            generation: start.generation,
                        });
                    }
                    _ if verdict == Verdict::NotDone => {}
                    _ => {
                        live.swap_remove(k);
                        stats.uncertain += 1;
                    }
                }
            }
            Op::Logout | Op::RevokeSession => {
                let k = rng.below(live.len());
                let result = if op == Op::Logout {
                    let access = live[k].access.last().map(|a| a.token.clone());
                    api.logout(&live[k].refresh, access.as_deref())
                } else {
                    api.revoke(&live[k].refresh, "refresh_token")
                };
                let end = control.now();
                match judge.judge(&mut stats, op, &result, start, end) {
                    Verdict::Acknowledged => {
                        let mut s = live.swap_remove(k);
                        s.ended = true;
                        ended.push(s);
                    }
                    Verdict::NotDone => {}
                    Verdict::Unknown => {
                        live.swap_remove(k);
                        stats.uncertain += 1;
                    }
                }
            }
            Op::RevokeAccess => {
                let k = rng.below(live.len());
                if live[k].access.len() < 2 {
                    continue;
                }
                let j = rng.below(live[k].access.len());
                let token = live[k].access[j].token.clone();
                let result = api.revoke(&token, "access_token");
                let end = control.now();
                match judge.judge(&mut stats, op, &result, start, end) {
                    Verdict::Acknowledged => {
                        live[k].access.swap_remove(j);
                        live[k].revoked_access.push(token);
                    }
                    Verdict::NotDone => {}
                    Verdict::Unknown => {
                        live[k].access.swap_remove(j);
                    }
                }
            }
            Op::VerifyLive => {
                let k = rng.below(live.len());
                if live[k].access.is_empty() {
                    continue;
                }
                let j = rng.below(live[k].access.len());
                let result = api.verify(&live[k].access[j].token);
                let end = control.now();
                judge.judge(&mut stats, op, &result, start, end);
            }
            Op::VerifyRevoked => {
                let token = if !ended.is_empty() && rng.below(2) == 0 {
                    let s = &ended[rng.below(ended.len())];
                    s.access.last().map(|a| a.token.clone())
                } else {
                    let s = &live[rng.below(live.len())];
                    s.revoked_access.last().cloned()
                };
                let Some(token) = token else { continue };
                let result = api.verify(&token);
                let end = control.now();
                judge.judge(&mut stats, op, &result, start, end);
            }
        }
        if stats.no_answer > unanswered {
            // Back off a little while the server is unreachable...
            std::thread::sleep(Duration::from_millis(5));
        } else if stats.answered_503 > unavailable {
            // ...or says so (a real client honours Retry-After; this one
            // keeps the pressure up, but not in a busy loop).
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    live.extend(ended);
    (stats, live)
}

/// The end of a run, with the store up and no load: everything the model
/// holds as acknowledged must still be in effect.
#[derive(Default)]
struct Audit {
    acknowledged: u64,
    lost: u64,
    /// Access tokens issued before the first fault that still verify.
    first_generation_verified: u64,
    details: Vec<String>,
}

impl Audit {
    fn check(&mut self, what: &str, result: Result<Answer, String>, want: u16, code: &str) {
        self.acknowledged += 1;
        let fine = match &result {
            Ok(a) => a.status == want && (code.is_empty() || a.error() == code),
            Err(_) => false,
        };
        if !fine {
            self.lost += 1;
            if self.details.len() < 20 {
                let got = match &result {
                    Ok(a) => format!("{} {}", a.status, a.error()),
                    Err(e) => format!("no answer ({e})"),
                };
                self.details
                    .push(format!("{what}: got {got}, expected {want} {code}"));
            }
        }
    }
}

/// The audit of every session, from `THREADS` threads.
fn audit(addr: SocketAddr, url: &str, sessions: &[Session]) -> Audit {
    let chunk = sessions.len().div_ceil(THREADS).max(1);
    let parts: Vec<Audit> = std::thread::scope(|scope| {
        let handles: Vec<_> = sessions
            .chunks(chunk)
            .map(|part| scope.spawn(move || audit_part(addr, url, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("audit thread panicked"))
            .collect()
    });
    let mut all = Audit::default();
    for p in parts {
        all.acknowledged += p.acknowledged;
        all.lost += p.lost;
        all.first_generation_verified += p.first_generation_verified;
        for d in p.details {
            if all.details.len() < 20 {
                all.details.push(d);
            }
        }
    }
    all
}

fn audit_part(addr: SocketAddr, url: &str, sessions: &[Session]) -> Audit {
    let mut api = Api::new(addr, url);
    let mut a = Audit::default();
    for (i, s) in sessions.iter().enumerate() {
        // The first access token and the last are enough per session.
        let n = s.access.len();
        let access: Vec<&Access> = s
            .access
            .iter()
            .enumerate()
            .filter(|(j, _)| *j == 0 || *j + 1 == n)
            .map(|(_, t)| t)
            .collect();
        if s.ended {
            for t in &access {
                a.check(
                    "ended session: access token",
                    api.verify(&t.token),
                    401,
                    "revoked",
                );
            }
            a.check(
                "ended session: refresh token",
                api.refresh(&s.refresh),
                400,
                "invalid_grant",
            );
            if let Some(spent) = s.spent.last() {
                a.check(
                    "ended session: spent refresh token",
                    api.refresh(spent),
                    400,
                    "invalid_grant",
                );
            }
            continue;
        }
        for t in &access {
            let before = a.lost;
            a.check("live session: access token", api.verify(&t.token), 200, "");
            if t.generation == 0 && a.lost == before {
                a.first_generation_verified += 1;
            }
        }
        for t in s.revoked_access.iter().take(1) {
            a.check("revoked access token", api.verify(t), 401, "revoked");
        }
        if i % 2 == 1 && !s.spent.is_empty() {
            // A spent token is refused (and, with no grace, ends the
            // session as a detected reuse).
            a.check(
                "spent refresh token",
                api.refresh(&s.spent[s.spent.len() - 1]),
                400,
                "invalid_grant",
            );
            a.check(
                "refresh token of a session ended by reuse detection",
                api.refresh(&s.refresh),
                400,
                "invalid_grant",
            );
        } else {
            // The unspent token works exactly once.
            a.check("unspent refresh token", api.refresh(&s.refresh), 200, "");
            a.check(
                "refresh token presented a second time",
                api.refresh(&s.refresh),
                400,
                "invalid_grant",
            );
        }
    }
    a
}

/// Runs the load threads until `control` says stop.
fn spawn_load(
    server: &Tessera,
    threads: usize,
    control: &Arc<Control>,
    judge: &Arc<Judge>,
) -> Vec<std::thread::JoinHandle<(Stats, Vec<Session>)>> {
    (0..threads as u64)
        .map(|id| {
            let (addr, url) = (server.addr, server.url.clone());
            let (control, judge) = (Arc::clone(control), Arc::clone(judge));
            std::thread::spawn(move || load_thread(id, addr, url, control, judge))
        })
        .collect()
}

fn join_load(
    handles: Vec<std::thread::JoinHandle<(Stats, Vec<Session>)>>,
) -> (Stats, Vec<Session>) {
    let mut stats = Stats::default();
    let mut sessions = Vec::new();
    for h in handles {
        let (s, m) = h.join().expect("load thread panicked");
        stats.merge(s);
        sessions.extend(m);
    }
    (stats, sessions)
}

fn per_op(counts: &[u64; 7]) -> String {
    OPS.iter()
        .zip(counts)
        .map(|(op, n)| format!("{}={n}", op.name()))
        .collect::<Vec<_>>()
        .join(",")
}

// ------------------------------------------------------------ store outages

/// How a store is taken away and given back.
trait Fault {
    fn name(&self) -> &'static str;
    /// Takes the store away (the `round`th time); returns how.
    fn kill(&mut self, round: u32) -> &'static str;
    fn restart(&mut self);
    /// How long each outage lasts.
    fn outage(&self) -> Duration;
    /// Load threads.
    fn threads(&self) -> usize {
        THREADS
    }
}

struct RedisFault(RedisServer);

impl Fault for RedisFault {
    fn name(&self) -> &'static str {
        "redis"
    }
    fn kill(&mut self, round: u32) -> &'static str {
        let graceful = round % 2 == 1;
        self.0.stop(graceful);
        if graceful {
            "SIGTERM"
        } else {
            "SIGKILL"
        }
    }
    fn restart(&mut self) {
        self.0.spawn();
    }
    fn outage(&self) -> Duration {
        Duration::from_millis(2500)
    }
}

struct PgFault(PgCluster);

impl Fault for PgFault {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn kill(&mut self, _round: u32) -> &'static str {
        self.0.stop_immediate();
        "pg_ctl stop -m immediate"
    }
    fn restart(&mut self) {
        if let Err(e) = self.0.start() {
            panic!("restart PostgreSQL: {e}");
        }
    }
    /// Longer than Redis': against a stopped PostgreSQL each request
    /// waits for the pool's acquire timeout (2 s) before its 503.
    fn outage(&self) -> Duration {
        Duration::from_secs(4)
    }
    /// More clients than for Redis, for the same reason: each one waits
    /// ~2 s per request during the outage.
    fn threads(&self) -> usize {
        2 * THREADS
    }
}

const OUTAGES: u32 = 2;
/// Concurrent `/v1/verify` requests with one access token, sent at the
/// start of each outage.
const BURST: usize = 16;

struct Burst {
    answered_503: usize,
    max_latency: Duration,
    surprises: Vec<String>,
}

/// `BURST` concurrent checks of one access token while the store is down:
/// each must fail closed within `HANG_BOUND` (they must not queue behind
/// one another's store timeouts).
fn verify_burst(server: &Tessera, access: &str, down: Instant) -> Burst {
    let results: Vec<(Instant, Result<Answer, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..BURST)
            .map(|_| {
                scope.spawn(|| {
                    let mut api = Api::new(server.addr, &server.url);
                    (Instant::now(), api.verify(access))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("burst thread panicked"))
            .collect()
    });
    let mut b = Burst {
        answered_503: 0,
        max_latency: Duration::ZERO,
        surprises: Vec::new(),
    };
    for (sent, r) in results {
        match r {
            Ok(a) => {
                b.max_latency = b.max_latency.max(a.took);
                let from_picture =
                    a.status == 200 && sent.saturating_duration_since(down) <= PICTURE_GRACE;
                if a.status == 503 {
                    b.answered_503 += 1;
                } else if !from_picture {
                    b.surprises.push(format!("answered {}", a.status));
                }
                if a.took > HANG_BOUND {
                    b.surprises.push(format!("answered after {:?}", a.took));
                }
            }
            Err(e) => b.surprises.push(format!("no answer ({e})")),
        }
    }
    b
}

/// Load, then `OUTAGES` times: take the store away for a while under load,
/// give it back, wait for `/readyz`, load again. Then the audit.
fn store_outage_under_load(fault: &mut dyn Fault, server: &Tessera) {
    let started = Instant::now();
    assert_eq!(status_of(server.addr, "/readyz"), Some(200));
    let control = Control::new(Duration::from_secs(90));
    let recovered = Arc::new(Mutex::new(None));
    let judge = Arc::new(Judge {
        server_dies: false,
        recovered: Arc::clone(&recovered),
    });
    // An access token of a session outside the model, for the bursts.
    let probe = Api::new(server.addr, &server.url)
        .login()
        .ok()
        .filter(|a| a.status == 200)
        .as_ref()
        .and_then(pair_of)
        .map(|(access, _)| access)
        .expect("probe login");
    let threads = fault.threads();
    let handles = spawn_load(server, threads, &control, &judge);
    std::thread::sleep(Duration::from_secs(2));
    let mut readyz_down = Vec::new();
    let mut recovery = Vec::new();
    let mut how = Vec::new();
    let mut bursts = Vec::new();
    for round in 0..OUTAGES {
        control.set(Phase::Transition);
        how.push(fault.kill(round));
        control.set(Phase::Down);
        let down = Instant::now();
        readyz_down.push(status_of(server.addr, "/readyz"));
        bursts.push(verify_burst(server, &probe, down));
        while down.elapsed() < fault.outage() {
            readyz_down.push(status_of(server.addr, "/readyz"));
            std::thread::sleep(Duration::from_millis(250));
        }
        control.set(Phase::Transition);
        fault.restart();
        let back = Instant::now();
        let Some(_) = server.wait_ready(200, Duration::from_secs(20)) else {
            control.stop.store(true, Ordering::Relaxed);
            let _ = join_load(handles);
            panic!(
                "{}: /readyz not 200 within 20 s of the restart:\n{}",
                fault.name(),
                server.log_tail()
            );
        };
        recovery.push(back.elapsed());
        *recovered.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        control.set(Phase::Up);
        std::thread::sleep(Duration::from_millis(2500));
    }
    control.stop.store(true, Ordering::Relaxed);
    let (stats, sessions) = join_load(handles);
    let live = sessions.iter().filter(|s| !s.ended).count();
    let audit = audit(server.addr, &server.url, &sessions);
    let (hwm, _) = server.memory_kib();
    let readyz_503 = readyz_down.iter().filter(|s| **s == Some(503)).count();
    let burst_max = bursts
        .iter()
        .map(|b| b.max_latency)
        .max()
        .unwrap_or_default();
    let burst_503: usize = bursts.iter().map(|b| b.answered_503).sum();
    report(&format!(
        "FAULT {}: outages={OUTAGES} ({}) requests={} ok={} answered_503={} other={} \
         verify_from_picture={} late_503={} max_latency_ms={} readyz_503={readyz_503}/{} \
         recovery_ms={:?} sessions={} (live={live}) uncertain={} acknowledged={} lost={} \
         peak_rss_kib={hwm} runtime_s={:.1}",
        fault.name(),
        how.join(", "),
        stats.requests,
        stats.ok,
        stats.answered_503,
        stats.other,
        stats.from_picture,
        stats.late_503,
        stats.max_latency.as_millis(),
        readyz_down.len(),
        recovery.iter().map(Duration::as_millis).collect::<Vec<_>>(),
        sessions.len(),
        stats.uncertain,
        audit.acknowledged,
        audit.lost,
        started.elapsed().as_secs_f64()
    ));
    report(&format!(
        "FAULT {}: 503 during outages: {}; ok after recovery: {}; \
         concurrent verify bursts: {}x{BURST} requests, 503={burst_503}, max_latency_ms={}",
        fault.name(),
        per_op(&stats.outage_503),
        per_op(&stats.ok_after_recovery),
        bursts.len(),
        burst_max.as_millis()
    ));
    let tail = || server.log_tail();
    assert!(
        stats.violations.is_empty() && stats.other == 0,
        "{}: {} unexpected answers, first ones:\n{}\nserver log:\n{}",
        fault.name(),
        stats.other,
        stats.violations.join("\n"),
        tail()
    );
    assert_eq!(
        readyz_503,
        readyz_down.len(),
        "/readyz during the outage: {readyz_down:?}"
    );
    for b in &bursts {
        assert!(
            b.surprises.is_empty(),
            "{}: concurrent /v1/verify during the outage: {:?}",
            fault.name(),
            b.surprises
        );
    }
    assert_eq!(
        audit.lost,
        0,
        "{}: acknowledged state lost:\n{}",
        fault.name(),
        audit.details.join("\n")
    );
    // The outages were really exercised, under load (how many of each
    // operation fall into an outage depends on how long the server takes
    // to fail closed: at once on Redis, ~2 s on PostgreSQL), and the server
    // came back for every kind of request.
    assert!(
        stats.outage_503.iter().sum::<u64>() >= threads as u64,
        "{}: too few requests fell into the outages",
        fault.name()
    );
    assert!(
        stats.outage_503[..5].iter().sum::<u64>() > 0,
        "{}: no write answered 503 during the outages",
        fault.name()
    );
    for (i, op) in OPS.iter().enumerate() {
        if *op != Op::RevokeAccess {
            assert!(
                stats.ok_after_recovery[i] > 0,
                "{}: no {} succeeded after a recovery",
                fault.name(),
                op.name()
            );
        }
    }
    assert!(audit.acknowledged > 100, "too little was acknowledged");
}

#[test]
fn redis_outage_under_load() {
    let _serial = serial();
    if !RedisServer::available() {
        if in_ci() {
            panic!("redis-server is not installed, but CI is set: the Redis outage test must run");
        }
        loud_skip(
            "redis-server not found on PATH: SKIPPING the Redis outage test of tessera serve",
        );
        return;
    }
    let dir = TempDir::new("redis");
    let redis_dir = dir.path().join("redis");
    std::fs::create_dir_all(&redis_dir).expect("redis dir");
    let redis = RedisServer::start(&redis_dir);
    let server = Tessera::start(dir.path(), Some(&redis.url()));
    let mut fault = RedisFault(redis);
    store_outage_under_load(&mut fault, &server);
    drop(server);
}

#[test]
fn postgres_outage_under_load() {
    let _serial = serial();
    let expected = std::env::var("TESSERA_TEST_POSTGRES_URL").is_ok_and(|v| !v.trim().is_empty());
    if !expected && !in_ci() {
        loud_skip(
            "TESSERA_TEST_POSTGRES_URL is not set: SKIPPING the PostgreSQL outage test of tessera serve",
        );
        return;
    }
    let dir = TempDir::new("postgres");
    let pg_dir = dir.path().join("pg");
    std::fs::create_dir_all(&pg_dir).expect("pg dir");
    let cluster = match PgCluster::create(&pg_dir) {
        Ok(c) => c,
        Err(e) => {
            if in_ci() {
                panic!("cannot create a private PostgreSQL cluster, but CI is set: {e}");
            }
            loud_skip(&format!(
                "cannot create a private PostgreSQL cluster ({e}): SKIPPING the PostgreSQL outage test"
            ));
            return;
        }
    };
    let server = Tessera::start(dir.path(), Some(&cluster.url()));
    let mut fault = PgFault(cluster);
    store_outage_under_load(&mut fault, &server);
    drop(server);
}

// ------------------------------------------------------------ SIGKILL on SQLite

#[test]
fn sigkill_and_restart_on_sqlite_under_load() {
    let _serial = serial();
    let started = Instant::now();
    let dir = TempDir::new("sqlite-kill");
    let mut server = Tessera::start(dir.path(), None);
    let jwks_before = Client::new(server.addr)
        .get("/.well-known/jwks.json", &[])
        .map(|a| a.json())
        .expect("jwks");
    let control = Control::new(Duration::from_secs(60));
    let recovered = Arc::new(Mutex::new(None));
    let judge = Arc::new(Judge {
        server_dies: true,
        recovered: Arc::clone(&recovered),
    });
    let handles = spawn_load(&server, THREADS, &control, &judge);
    std::thread::sleep(Duration::from_secs(3));
    control.set(Phase::Transition);
    server.kill();
    control.set(Phase::Down);
    std::thread::sleep(Duration::from_millis(500));
    control.set(Phase::Transition);
    let back = Instant::now();
    server.spawn();
    let restart = back.elapsed();
    *recovered.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    control.set(Phase::Up);
    std::thread::sleep(Duration::from_secs(2));
    control.stop.store(true, Ordering::Relaxed);
    let (stats, sessions) = join_load(handles);
    let jwks_after = Client::new(server.addr)
        .get("/.well-known/jwks.json", &[])
        .map(|a| a.json())
        .expect("jwks");
    let audit = audit(server.addr, &server.url, &sessions);
    let live = sessions.iter().filter(|s| !s.ended).count();
    let first_gen = sessions
        .iter()
        .filter(|s| !s.ended)
        .flat_map(|s| s.access.iter())
        .filter(|a| a.generation == 0)
        .count();
    report(&format!(
        "FAULT sqlite-sigkill: kills=1 requests={} ok={} answered_503={} no_answer={} other={} \
         max_latency_ms={} restart_ms={} sessions={} (live={live}) uncertain={} acknowledged={} \
         lost={} pre_kill_access_tokens_verified={} runtime_s={:.1}",
        stats.requests,
        stats.ok,
        stats.answered_503,
        stats.no_answer,
        stats.other,
        stats.max_latency.as_millis(),
        restart.as_millis(),
        sessions.len(),
        stats.uncertain,
        audit.acknowledged,
        audit.lost,
        audit.first_generation_verified,
        started.elapsed().as_secs_f64()
    ));
    assert!(
        stats.violations.is_empty() && stats.other == 0,
        "{} unexpected answers, first ones:\n{}\nserver log:\n{}",
        stats.other,
        stats.violations.join("\n"),
        server.log_tail()
    );
    assert_eq!(
        audit.lost,
        0,
        "acknowledged state lost after SIGKILL:\n{}",
        audit.details.join("\n")
    );
    assert_eq!(
        jwks_before, jwks_after,
        "the signing keys changed across the restart"
    );
    assert!(
        first_gen > 0 && audit.first_generation_verified > 0,
        "no access token from before the kill was checked"
    );
    assert!(
        stats.ok_after_recovery.iter().sum::<u64>() > 0,
        "nothing succeeded after the restart"
    );
    assert!(audit.acknowledged > 100, "too little was acknowledged");
}

// ------------------------------------------------- slow and idle connections

/// Idle and half-sent connections held by the load.
const SLOW_EACH: usize = 1_000;
/// How long they are held.
const SLOW_HOLD: Duration = Duration::from_secs(60);
/// The server's default `header_read_timeout_seconds` (this test runs it
/// with its defaults).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The soft and hard open-file limits of this process, from /proc.
fn nofile_limits() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let mut nums = line.split_whitespace().filter_map(|w| {
        w.parse::<u64>()
            .ok()
            .or((w == "unlimited").then_some(u64::MAX))
    });
    Some((nums.next()?, nums.next()?))
}

/// One held connection: when it was opened, and whether it is half-sent.
struct Held {
    conn: TcpStream,
    opened: Instant,
    half_sent: bool,
}

fn open_held(addr: SocketAddr, half_sent: bool) -> Option<Held> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    if half_sent {
        // A request head that never ends (slowloris).
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: tessera\r\nX-Slow: a")
            .ok()?;
    }
    conn.set_nonblocking(true).ok()?;
    Some(Held {
        conn,
        opened: Instant::now(),
        half_sent,
    })
}

/// Whether the server has closed `conn` (a non-blocking read sees EOF or a
/// reset; `WouldBlock` means still open).
fn closed_by_server(conn: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    match conn.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false, // an answer (none expected): still open
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

/// The finding: half-sent or silent connections stayed open forever, and
/// with a low descriptor limit 140 idle sockets made `/healthz` time out.
/// Now: 1,000 idle and 1,000 half-sent connections are held for 60 s (each
/// one the server closes is opened again at once) while `/healthz`, on a
/// fresh connection every 50 ms, answers within 100 ms at p99; and the
/// server closes every held connection after its header-read timeout.
#[test]
fn idle_and_half_sent_connections_do_not_starve_healthz() {
    let _one = serial();
    let started = Instant::now();
    // This process holds 2 × SLOW_EACH sockets, and so does the server
    // (which raises its own soft limit to the hard one and sizes its
    // connection cap to it). Raise the soft limit if need be; if the hard
    // limit is too low, hold fewer connections and say so.
    let needed = 2 * SLOW_EACH as u64 + 512;
    if nofile_limits().is_some_and(|(soft, _)| soft < needed) {
        let _ = rlimit::increase_nofile_limit(needed);
    }
    let (soft, hard) = nofile_limits().unwrap_or((needed, needed));
    let each = if soft >= needed {
        SLOW_EACH
    } else {
        ((soft.saturating_sub(512)) / 2) as usize
    };
    if each < SLOW_EACH {
        loud_skip(&format!(
            "open-file limit {soft} (hard {hard}): holding {each} idle + {each} half-sent connections instead of {SLOW_EACH} each"
        ));
    }
    let dir = TempDir::new("slow");
    let server = Tessera::start(dir.path(), None);
    let (_, rss_before) = server.memory_kib();

    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let stop = Arc::clone(&stop);
        let addr = server.addr;
        std::thread::spawn(move || {
            let (mut took, mut failed) = (Vec::new(), 0u64);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match Client::new(addr).get("/healthz", &[]) {
                    Ok(a) if a.status == 200 => took.push(t.elapsed()),
                    _ => failed += 1,
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            (took, failed)
        })
    };

    let mut held: Vec<Held> = Vec::with_capacity(2 * each);
    let mut open_failed = 0u64;
    for i in 0..2 * each {
        match open_held(server.addr, i % 2 == 1) {
            Some(h) => held.push(h),
            None => open_failed += 1,
        }
    }
    let opened_in = started.elapsed();
    let hold_start = Instant::now();
    let (mut closed_idle, mut closed_half) = (0u64, 0u64);
    let (mut min_life, mut max_life) = (Duration::MAX, Duration::ZERO);
    let mut reopened = 0u64;
    while hold_start.elapsed() < SLOW_HOLD {
        std::thread::sleep(Duration::from_millis(250));
        for h in held.iter_mut() {
            if !closed_by_server(&mut h.conn) {
                continue;
            }
            let life = h.opened.elapsed();
            min_life = min_life.min(life);
            max_life = max_life.max(life);
            if h.half_sent {
                closed_half += 1;
            } else {
                closed_idle += 1;
            }
            // Keep the pressure on: the attacker reconnects.
            match open_held(server.addr, h.half_sent) {
                Some(fresh) => {
                    *h = fresh;
                    reopened += 1;
                }
                None => open_failed += 1,
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (mut took, failed) = prober.join().expect("prober");
    let (peak_rss, _) = server.memory_kib();
    drop(held);
    took.sort();
    let pct = |p: f64| {
        took.get(((took.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(Duration::MAX)
    };
    let (p50, p99, max) = (pct(0.50), pct(0.99), pct(1.0));
    report(&format!(
        "LOAD slow-connections: idle={each} half_sent={each} hold_s={} healthz_probes={} failed={failed} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} closed_by_server idle={closed_idle} half_sent={closed_half} lifetime_s=[{:.1}, {:.1}] (header_read_timeout {}) reopened={reopened} open_failed={open_failed} opened_in_ms={} nofile_soft={soft} rss_kib_before={rss_before} peak_rss_kib={peak_rss} runtime_s={:.1}",
        SLOW_HOLD.as_secs(),
        took.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        min_life.as_secs_f64(),
        max_life.as_secs_f64(),
        HEADER_READ_TIMEOUT.as_secs(),
        opened_in.as_millis(),
        started.elapsed().as_secs_f64(),
    ));
    assert_eq!(
        failed,
        0,
        "/healthz failed {failed} times:\n{}",
        server.log_tail()
    );
    assert_eq!(open_failed, 0, "could not hold the connections");
    assert!(took.len() > 500, "{} probes", took.len());
    assert!(p99 < Duration::from_millis(100), "/healthz p99 {p99:?}");
    // Every connection of the first wave was closed by the server, after
    // the header-read timeout and not long past it.
    assert!(
        closed_idle >= each as u64 && closed_half >= each as u64,
        "closed idle={closed_idle} half={closed_half} of {each} each"
    );
    assert!(
        min_life + Duration::from_secs(1) >= HEADER_READ_TIMEOUT
            && max_life <= HEADER_READ_TIMEOUT + Duration::from_secs(5),
        "lifetimes [{min_life:?}, {max_life:?}]"
    );
    assert_eq!(status_of(server.addr, "/healthz"), Some(200));
}

/// SIGTERM: the server stops accepting, closes idle connections, finishes
/// the request in flight, and exits 0; a request that never completes holds
/// the exit only for `shutdown_grace_seconds`.
#[test]
fn sigterm_finishes_in_flight_requests_within_the_grace() {
    let _one = serial();
    let dir = TempDir::new("sigterm");
    let started = Instant::now();
    let mut server =
        Tessera::start_with(dir.path(), None, &[("TESSERA_SHUTDOWN_GRACE_SECONDS", "3")]);
    let term = |pid: u32| {
        let ok = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM {pid}");
    };
    let wait_exit = |server: &mut Tessera, within: Duration| {
        let t = Instant::now();
        while t.elapsed() < within {
            if let Some(Ok(Some(status))) = server.child.as_mut().map(|c| c.try_wait()) {
                server.child = None;
                return Some((status, t.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    };
    let mut busy = TcpStream::connect(server.addr).expect("connect");
    busy.write_all(
        b"POST /v1/auth/challenge HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{",
    )
    .expect("head and half the body");
    let mut idle = TcpStream::connect(server.addr).expect("connect");
    std::thread::sleep(Duration::from_millis(300));
    term(server.pid());
    std::thread::sleep(Duration::from_millis(300));
    let refused = TcpStream::connect_timeout(&server.addr, Duration::from_secs(1)).is_err();
    idle.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let idle_closed = matches!(idle.read(&mut [0u8; 16]), Ok(0) | Err(_));
    busy.write_all(b"}").expect("rest of the body");
    let mut reader = BufReader::new(busy.try_clone().expect("clone"));
    reader
        .get_mut()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let in_flight = read_answer(&mut reader).map(|(s, _, _)| s).ok();
    let exit = wait_exit(&mut server, Duration::from_secs(5));

    // A request that never completes: the exit waits for the grace only.
    let mut server2 =
        Tessera::start_with(dir.path(), None, &[("TESSERA_SHUTDOWN_GRACE_SECONDS", "2")]);
    let mut stuck = TcpStream::connect(server2.addr).expect("connect");
    stuck
        .write_all(b"POST /v1/auth/challenge HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n\r\n{")
        .expect("a body that never ends");
    std::thread::sleep(Duration::from_millis(300));
    term(server2.pid());
    let bounded = wait_exit(&mut server2, Duration::from_secs(6));
    report(&format!(
        "FAULT sigterm: in_flight_answer={in_flight:?} refused_new={refused} idle_closed={idle_closed} exit={:?} stuck_request_exit={:?} (grace 2 s) runtime_s={:.1}",
        exit.map(|(s, t)| (s.code(), t.as_millis())),
        bounded.map(|(s, t)| (s.code(), t.as_millis())),
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(in_flight, Some(200), "{}", server.log_tail());
    assert!(refused, "still accepting after SIGTERM");
    assert!(idle_closed, "idle connection kept open after SIGTERM");
    let (status, _) = exit.expect("exited after finishing the request");
    assert_eq!(status.code(), Some(0));
    let (status, took) = bounded.expect("exited within the grace");
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(4), "{took:?}");
}

// ------------------------------------------------------------ memory under garbage

/// The kinds of garbage sent to `/v1/verify`.
#[derive(Debug, Clone, Copy)]
enum Garbage {
    /// `Bearer <random base64url text>`.
    RandomBearer,
    /// A JWT with a plausible header (the server's own `kid`, ES256,
    /// `at+jwt`) and claims, and a random signature: the signature check
    /// runs and fails.
    ForgedJwt,
    /// A JWT with an unknown `kid`.
    UnknownKidJwt,
    /// `Nostr <base64 of random bytes>`.
    NostrJunk,
    /// `Nostr <base64 of a NIP-98-shaped event>` with random id and
    /// signature.
    NostrForgedEvent,
    /// An `Authorization` value past `max_authorization_bytes` (8 KiB).
    Oversize,
}

fn garbage(rng: &mut Rng, n: u64, url: &str, kid: &str) -> (Garbage, String) {
    let now = SystemClock.now();
    let kind = if n % 97 == 0 {
        Garbage::Oversize
    } else {
        match n % 5 {
            0 => Garbage::RandomBearer,
            1 => Garbage::ForgedJwt,
            2 => Garbage::UnknownKidJwt,
            3 => Garbage::NostrJunk,
            _ => Garbage::NostrForgedEvent,
        }
    };
    let jwt = |rng: &mut Rng, kid: &str| {
        let header = serde_json::json!({"alg": "ES256", "typ": "at+jwt", "kid": kid});
        let claims = serde_json::json!({
            "iss": url, "aud": url, "sub": hex_encode(&rng.bytes(32)),
            "iat": now, "nbf": now, "exp": now + 600,
            "jti": rng.text(22), "sid": rng.text(22), "ver": 0, "amr": ["nostr"],
        });
        format!(
            "Bearer {}.{}.{}",
            b64url_encode(header.to_string().as_bytes()),
            b64url_encode(claims.to_string().as_bytes()),
            b64url_encode(&rng.bytes(64))
        )
    };
    let value = match kind {
        Garbage::RandomBearer => {
            let len = 16 + rng.below(300);
            format!("Bearer {}", rng.text(len))
        }
        Garbage::ForgedJwt => jwt(rng, kid),
        Garbage::UnknownKidJwt => {
            let kid = rng.text(43);
            jwt(rng, &kid)
        }
        Garbage::NostrJunk => {
            let len = 8 + rng.below(600);
            format!("Nostr {}", b64std_encode(&rng.bytes(len)))
        }
        Garbage::NostrForgedEvent => {
            let event = serde_json::json!({
                "id": hex_encode(&rng.bytes(32)),
                "pubkey": hex_encode(&rng.bytes(32)),
                "created_at": now,
                "kind": 27235,
                "tags": [["u", format!("{url}/v1/verify")], ["method", "GET"]],
                "content": "",
                "sig": hex_encode(&rng.bytes(64)),
            });
            format!("Nostr {}", b64std_encode(event.to_string().as_bytes()))
        }
        Garbage::Oversize => {
            let len = 8 * 1024 + 1 + rng.below(24 * 1024);
            format!("Bearer {}", rng.text(len))
        }
    };
    (kind, value)
}

const GARBAGE_REQUESTS: u64 = 100_000;
/// Bound on the growth of the server's peak RSS over the garbage run.
/// Garbage is never cached (only verified credentials enter the verifier
/// cache), the rate limiter is off, and nothing reaches the store, so the
/// growth is allocator noise and per-connection buffers (4 connections,
/// headers up to 32 KiB): a quarter of a MiB when measured. 16 MiB over
/// 100 000 requests is ~170 bytes per request: keeping anything the size
/// of a credential (or of its parsed form) per request would exceed it
/// within the run.
const RSS_GROWTH_BOUND_KIB: u64 = 16 * 1024;

#[test]
fn memory_bounded_under_garbage_credentials() {
    let _serial = serial();
    let started = Instant::now();
    let dir = TempDir::new("garbage");
    let server = Tessera::start(dir.path(), None);
    let jwks = Client::new(server.addr)
        .get("/.well-known/jwks.json", &[])
        .map(|a| a.json())
        .expect("jwks");
    let kid = jwks["keys"][0]["kid"].as_str().unwrap_or("k").to_owned();
    // Warm up (allocator arenas, the runtime's threads), then measure.
    {
        let mut c = Client::new(server.addr);
        let mut rng = Rng::new(99);
        for n in 0..2000 {
            let (_, value) = garbage(&mut rng, n, &server.url, &kid);
            let _ = c.get("/v1/verify", &[("Authorization", &value)]);
        }
    }
    let (hwm_before, rss_before) = server.memory_kib();
    let sent = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(100);
    let per_thread = GARBAGE_REQUESTS / THREADS as u64;
    let handles: Vec<_> = (0..THREADS as u64)
        .map(|id| {
            let (addr, url, kid, sent) = (
                server.addr,
                server.url.clone(),
                kid.clone(),
                Arc::clone(&sent),
            );
            std::thread::spawn(move || {
                let mut c = Client::new(addr);
                let mut rng = Rng::new(1000 + id);
                // status -> count; and the first few surprises.
                let mut counts = std::collections::BTreeMap::<u16, u64>::new();
                let mut surprises = Vec::new();
                let mut max_latency = Duration::ZERO;
                for i in 0..per_thread {
                    if Instant::now() > deadline {
                        break;
                    }
                    let (kind, value) = garbage(&mut rng, id * per_thread + i, &url, &kid);
                    sent.fetch_add(1, Ordering::Relaxed);
                    match c.get("/v1/verify", &[("Authorization", &value)]) {
                        Ok(a) => {
                            *counts.entry(a.status).or_default() += 1;
                            max_latency = max_latency.max(a.took);
                            let want = match kind {
                                Garbage::Oversize => 431,
                                _ => 401,
                            };
                            if a.status != want && surprises.len() < 10 {
                                surprises.push(format!("{kind:?}: {} {}", a.status, a.error()));
                            }
                        }
                        Err(e) => {
                            *counts.entry(0).or_default() += 1;
                            if surprises.len() < 10 {
                                surprises.push(format!("{kind:?}: no answer ({e})"));
                            }
                        }
                    }
                }
                (counts, surprises, max_latency)
            })
        })
        .collect();
    let mut counts = std::collections::BTreeMap::<u16, u64>::new();
    let mut surprises = Vec::new();
    let mut max_latency = Duration::ZERO;
    for h in handles {
        let (c, s, m) = h.join().expect("garbage thread panicked");
        for (k, v) in c {
            *counts.entry(k).or_default() += v;
        }
        surprises.extend(s);
        max_latency = max_latency.max(m);
    }
    let (hwm_after, rss_after) = server.memory_kib();
    let total = sent.load(Ordering::Relaxed);
    let growth = hwm_after.saturating_sub(hwm_before);
    let count = |s: u16| counts.get(&s).copied().unwrap_or(0);
    let other = total - count(401) - count(431);
    let secs = started.elapsed().as_secs_f64();
    report(&format!(
        "LOAD garbage: requests={total} answered_401={} answered_431={} other={other} \
         max_latency_ms={} peak_rss_kib_before={hwm_before} peak_rss_kib_after={hwm_after} \
         growth_kib={growth} (bound {RSS_GROWTH_BOUND_KIB}) rss_kib_before={rss_before} \
         rss_kib_after={rss_after} runtime_s={secs:.1}",
        count(401),
        count(431),
        max_latency.as_millis(),
    ));
    assert_eq!(
        total, GARBAGE_REQUESTS,
        "the run hit its deadline before sending every request"
    );
    assert!(
        other == 0 && surprises.is_empty(),
        "answers other than 401/431: {counts:?}\n{}",
        surprises.join("\n")
    );
    assert!(counts.keys().all(|s| *s < 500), "5xx answers: {counts:?}");
    assert!(
        growth < RSS_GROWTH_BOUND_KIB,
        "peak RSS grew by {growth} KiB over {total} garbage requests (bound {RSS_GROWTH_BOUND_KIB} KiB)"
    );
    assert_eq!(status_of(server.addr, "/healthz"), Some(200));
}

// ------------------------------------------- NWT cache within its bound

/// Bytes the server's verified-credential caches may hold in this test.
const NWT_CACHE_BOUND: usize = 8 * 1024 * 1024;
/// Maximal NWTs sent.
const MAXIMAL_NWTS: u64 = 2_000;

/// An NWT as large as the server takes (the `Authorization` value just
/// under 8 KiB) with as many tags and values as an NWT may carry
/// (`MAX_NWT_TAGS`, `MAX_NWT_TAG_VALUES`): the most claim objects per
/// credential that get into the cache.
fn maximal_nwt(key: &NostrSecretKey, url: &str, n: u64) -> String {
    use tessera_core::nostr::{Event, MAX_NWT_TAGS, MAX_NWT_TAG_VALUES, NWT_KIND};
    let now = SystemClock.now();
    let mut tags = vec![
        vec!["aud".to_owned(), url.to_owned()],
        vec!["exp".to_owned(), (now + 600).to_string()],
    ];
    let per_tag = (MAX_NWT_TAG_VALUES - 2) / (MAX_NWT_TAGS - 2);
    for t in 0..MAX_NWT_TAGS - 2 {
        let mut tag = vec![format!("c{t}")];
        tag.extend((0..per_tag).map(|v| format!("{n:08}-{t:03}-{v:03}")));
        tags.push(tag);
    }
    let event = Event::sign(key, now, NWT_KIND, tags, "").expect("sign an NWT");
    tessera_core::nostr::nwt_authorization(&event)
}

/// Issue 17, finding 3: 2 000 valid NWTs with 430 one-letter tags each made
/// the NWT cache hold about seven times the bytes it counted (96 MiB of RSS
/// for 13.9 MiB counted). Now an NWT carries at most `MAX_NWT_TAGS` tags
/// and an entry is costed by what it holds: 2 000 maximal NWTs through
/// `/v1/verify`, with the caches bounded to 8 MiB, grow the server's peak
/// RSS by less than 1.5 times that bound.
#[test]
fn nwt_cache_stays_within_its_bound() {
    let _serial = serial();
    let started = Instant::now();
    let dir = TempDir::new("nwt-cache");
    let bound = NWT_CACHE_BOUND.to_string();
    let server = Tessera::start_with(
        dir.path(),
        None,
        &[("TESSERA_VERIFY_CACHE_BYTES", bound.as_str())],
    );
    // The attack's shape is refused before anything is cached.
    let key = NostrSecretKey::generate();
    let attack = {
        let now = SystemClock.now();
        let mut tags = vec![
            vec!["aud".to_owned(), server.url.clone()],
            vec!["exp".to_owned(), (now + 600).to_string()],
        ];
        tags.extend(
            (0..430).map(|i| vec![format!("{}", (b'a' + (i % 26) as u8) as char), "x".into()]),
        );
        let event = tessera_core::nostr::Event::sign(&key, now, 27519, tags, "").expect("sign");
        tessera_core::nostr::nwt_authorization(&event)
    };
    let refused = Client::new(server.addr)
        .get("/v1/verify", &[("Authorization", &attack)])
        .expect("answer");
    assert_eq!(
        (refused.status, refused.error()),
        (401, "token_too_large".to_owned())
    );
    // Warm up the allocator and the runtime's threads with requests that
    // are not cached, then measure.
    {
        let mut c = Client::new(server.addr);
        for _ in 0..200 {
            let _ = c.get("/v1/verify", &[("Authorization", &attack)]);
        }
    }
    let (hwm_before, rss_before) = server.memory_kib();
    let largest = maximal_nwt(&key, &server.url, 0).len();
    assert!(largest < 8 * 1024, "{largest} bytes");
    let deadline = Instant::now() + Duration::from_secs(120);
    let per_thread = MAXIMAL_NWTS / THREADS as u64;
    let handles: Vec<_> = (0..THREADS as u64)
        .map(|id| {
            let (addr, url) = (server.addr, server.url.clone());
            std::thread::spawn(move || {
                let key = NostrSecretKey::generate();
                let mut c = Client::new(addr);
                let mut counts = std::collections::BTreeMap::<u16, u64>::new();
                for i in 0..per_thread {
                    if Instant::now() > deadline {
                        break;
                    }
                    let auth = maximal_nwt(&key, &url, id * per_thread + i);
                    let status = c
                        .get("/v1/verify", &[("Authorization", &auth)])
                        .map_or(0, |a| a.status);
                    *counts.entry(status).or_default() += 1;
                }
                counts
            })
        })
        .collect();
    let mut counts = std::collections::BTreeMap::<u16, u64>::new();
    for h in handles {
        for (k, v) in h.join().expect("NWT thread panicked") {
            *counts.entry(k).or_default() += v;
        }
    }
    let (hwm_after, rss_after) = server.memory_kib();
    let growth = hwm_after.saturating_sub(hwm_before);
    let bound_kib = (NWT_CACHE_BOUND / 1024) as u64;
    let limit_kib = bound_kib * 3 / 2;
    let ok = counts.get(&200).copied().unwrap_or(0);
    report(&format!(
        "LOAD nwt-cache: nwts={MAXIMAL_NWTS} nwt_bytes={largest} answered_200={ok} \
         statuses={counts:?} cache_bound_kib={bound_kib} peak_rss_kib_before={hwm_before} \
         peak_rss_kib_after={hwm_after} growth_kib={growth} (bound {limit_kib}) \
         rss_kib_before={rss_before} rss_kib_after={rss_after} runtime_s={:.1}",
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(ok, MAXIMAL_NWTS, "every maximal NWT verifies: {counts:?}");
    assert!(
        growth < limit_kib,
        "peak RSS grew by {growth} KiB for {MAXIMAL_NWTS} cached NWTs; the caches are bounded to {bound_kib} KiB (limit 1.5x: {limit_kib} KiB)"
    );
}

// ----------------------------------------- one process per SQLite store

/// Issue 17, finding 7: two processes on one SQLite data directory did not
/// share revocations. The second `tessera serve` on the directory now
/// exits non-zero, pointing to PostgreSQL or Redis; the first keeps
/// serving; after the first dies (SIGKILL: no clean-up), a new one starts.
/// Also finding 14: the database is created 0600 in a directory that
/// existed before.
#[test]
fn second_server_on_one_sqlite_data_dir_is_refused() {
    let _serial = serial();
    let started = Instant::now();
    let dir = TempDir::new("two-servers");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data directory");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let mut first = Tessera::start(dir.path(), None);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("tessera.db"))
            .expect("tessera.db")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "tessera.db is {mode:o}");
    }
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.arg("serve")
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--data-dir")
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TESSERA_") {
            cmd.env_remove(name);
        }
    }
    let mut second = cmd.spawn().expect("start a second tessera serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = second.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            panic!("the second server on one SQLite data directory kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut e) = second.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(!status.success(), "the second server exited with {status}");
    assert!(
        stderr.contains("PostgreSQL or Redis") && stderr.contains(&data.display().to_string()),
        "{stderr}"
    );
    assert_eq!(
        status_of(addr, "/healthz"),
        None,
        "the second one never listened"
    );
    assert_eq!(status_of(first.addr, "/healthz"), Some(200));
    // SIGKILL leaves no stale lock: a new server starts on the directory.
    first.kill();
    let restart = Instant::now();
    first.spawn();
    assert_eq!(status_of(first.addr, "/readyz"), Some(200));
    report(&format!(
        "FAULT two-servers: second_exit={} message_names_postgres_redis=true \
         restart_after_sigkill_ms={} db_mode=0600 runtime_s={:.1}",
        status.code().unwrap_or(-1),
        restart.elapsed().as_millis(),
        started.elapsed().as_secs_f64()
    ));
}

// ------------------------------------------------- pipelined requests

/// Two requests written at once on one connection (HTTP/1.1 pipelining)
/// are answered at once. Without TCP_NODELAY on the server's sockets the
/// second answer waited for the client's delayed ACK: about 40 ms per
/// round on Linux, every round. The median of 20 rounds must stay far
/// below that.
#[test]
fn pipelined_answers_are_not_held_back() {
    let _one = serial();
    let dir = std::env::temp_dir().join(format!("tessera-pipeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("test directory");
    let server = Tessera::start(&dir, None);
    let conn = TcpStream::connect(server.addr).expect("connect");
    conn.set_nodelay(true).expect("client TCP_NODELAY");
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let mut conn = BufReader::new(conn);
    let one = b"GET /healthz HTTP/1.1\r\nHost: tessera\r\n\r\n";
    let mut rounds = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        conn.get_mut()
            .write_all(&[&one[..], &one[..]].concat())
            .expect("write two requests");
        for n in 1..=2 {
            let (status, _, close) = read_answer(&mut conn).expect("read an answer");
            assert_eq!((status, close), (200, false), "answer {n} of 2");
        }
        rounds.push(started.elapsed());
    }
    rounds.sort();
    let median = rounds[rounds.len() / 2];
    report(&format!(
        "LOAD pipelined: rounds=20 median_ms={:.2} max_ms={:.2}",
        median.as_secs_f64() * 1e3,
        rounds[rounds.len() - 1].as_secs_f64() * 1e3
    ));
    assert!(
        median < Duration::from_millis(20),
        "two pipelined answers took {median:?} (median of 20 rounds): the second one waits for a delayed ACK"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
