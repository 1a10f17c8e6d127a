//! Private store servers a test may kill and restart: a `redis-server`
//! and a PostgreSQL 15 cluster of the test's own, on free loopback ports,
//! their files in a directory of the test's. (The shared servers of
//! `TESSERA_TEST_*_URL` must never be stopped: other suites use them.)

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` on a free port, with an append-only file synced on
/// every write, so that an acknowledged write survives SIGKILL (without
/// persistence a restarted Redis is empty: that is the operator's
/// configuration, not tessera's doing).
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Whether `redis-server` is on PATH.
    pub fn available() -> bool {
        Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Whether a test that kills a private Redis can run: `true` when
    /// `redis-server` is on PATH; otherwise a loud skip notice naming
    /// `test`, or, when `CI` is set, a panic (CI must run it).
    pub fn available_for(test: &str) -> bool {
        if Self::available() {
            return true;
        }
        if crate::in_ci() {
            panic!("redis-server is not installed, but CI is set: {test} must run");
        }
        crate::loud_skip(&format!("redis-server not found on PATH: SKIPPING {test}"));
        false
    }

    /// Starts one with its files in `dir`, and waits for `PING`.
    pub fn start(dir: &Path) -> std::io::Result<RedisServer> {
        let mut r = RedisServer {
            child: None,
            port: crate::free_port(),
            dir: dir.to_path_buf(),
        };
        r.spawn()?;
        Ok(r)
    }

    /// (Re)starts the process on the same port and directory.
    pub fn spawn(&mut self) -> std::io::Result<()> {
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
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                s.set_read_timeout(Some(Duration::from_secs(1)))?;
                if s.write_all(b"PING\r\n").is_ok() {
                    let mut line = String::new();
                    if BufReader::new(&s).read_line(&mut line).is_ok() && line.starts_with("+PONG")
                    {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(std::io::Error::other("redis-server did not start"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL (`graceful == false`: no chance to save or say goodbye) or
    /// SIGTERM (Redis then finishes its AOF and exits); waits for the
    /// process to be gone.
    pub fn stop(&mut self, graceful: bool) {
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

    /// SIGKILL, then a new process on the same port and directory.
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.stop(false);
        self.spawn()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop(false);
    }
}

/// A PostgreSQL 15 cluster: trust authentication, a free port on
/// 127.0.0.1, its unix socket in its own directory. `initdb` refuses to
/// run as root, so as root every command runs as the `postgres` OS user
/// (`runuser`).
pub struct PgCluster {
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
    pub fn create(dir: &Path) -> Result<PgCluster, String> {
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
            port: crate::free_port(),
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

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl start`, waiting until it accepts connections.
    pub fn start(&mut self) -> Result<(), String> {
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
    pub fn stop_immediate(&mut self) {
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
