//! The real `tessera serve` as a child process on `127.0.0.1:<free port>`,
//! with its data directory and log in a directory of the test's, killed
//! (by its own handle) when dropped, also when the test panics.

use crate::http::status_of;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running (or killed, or exited) `tessera serve`.
pub struct Tessera {
    child: Option<Child>,
    bin: PathBuf,
    /// `127.0.0.1:<port>`, the same across restarts.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`: the public URL (issuer and audience).
    pub url: String,
    data_dir: PathBuf,
    store: Option<String>,
    log: PathBuf,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

impl Tessera {
    /// Starts `bin serve` with its data in `dir/data` and its log in
    /// `dir/serve.log`, on `store` (SQLite in the data directory when
    /// `None`), with the rate limiter off and `env` (`TESSERA_*` settings
    /// of the test's own; no `TESSERA_*` comes from the environment).
    /// Returns once `GET /healthz` answers 200.
    pub fn start(bin: &str, dir: &Path, store: Option<&str>, env: &[(&str, &str)]) -> Tessera {
        Self::start_with_args(bin, dir, store, env, &[])
    }

    /// As [`Tessera::start`], with more `serve` arguments (`--config FILE`).
    pub fn start_with_args(
        bin: &str,
        dir: &Path,
        store: Option<&str>,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Tessera {
        let addr: SocketAddr = ([127, 0, 0, 1], crate::free_port()).into();
        let mut t = Tessera {
            child: None,
            bin: PathBuf::from(bin),
            addr,
            url: format!("http://{addr}"),
            data_dir: dir.join("data"),
            store: store.map(str::to_owned),
            log: dir.join("serve.log"),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        };
        t.spawn();
        t
    }

    /// (Re)starts the process with the same address, data and store (the
    /// same public URL, so earlier access tokens still name this server).
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let mut cmd = crate::cli::clean_command(&self.bin.to_string_lossy());
        cmd.arg("serve")
            .arg("--listen")
            .arg(self.addr.to_string())
            .arg("--data-dir")
            .arg(&self.data_dir);
        if let Some(store) = &self.store {
            cmd.arg("--store").arg(store);
        }
        cmd.args(&self.args);
        // Tests log in many times from one address; the limiter has tests
        // of its own.
        cmd.env("TESSERA_RATE_LIMIT_PER_MINUTE", "0")
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
            if let Some(status) = self.try_exit() {
                panic!(
                    "tessera serve exited early ({status}):\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "tessera serve did not answer GET /healthz on {} within 30 s:\n{}",
            self.addr,
            self.log_tail()
        );
    }

    /// The process id (0 once it is gone).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGKILL: no graceful shutdown, no chance to flush anything.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The exit status, once the process has exited (it is then gone).
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        self.child = None;
        Some(status)
    }

    /// The server's last 40 log lines (it never logs tokens).
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// The server's `(VmHWM, VmRSS)` in KiB, from /proc.
    pub fn memory_kib(&self) -> (u64, u64) {
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

    /// How long until `GET /readyz` answered `want`, polled every 50 ms
    /// for at most `within`.
    pub fn wait_ready(&self, want: u16, within: Duration) -> Option<Duration> {
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
