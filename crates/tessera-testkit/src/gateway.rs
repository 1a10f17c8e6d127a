//! Real gateways (nginx, Caddy) in front of a tiny upstream, for the
//! forward-auth end-to-end suites: [`EchoUpstream`] answers every request
//! with the request head it received (so a test sees exactly which
//! headers the gateway passed on), [`Process`] runs a gateway binary and
//! kills it (by its own handle) when dropped, and [`nginx_example`] /
//! [`caddy_example`] run the shipped example configurations as written
//! (only addresses changed).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An HTTP/1.1 server on 127.0.0.1 answering `200` with the request head
/// as its body (`Connection: close`; a request body is read and
/// dropped), on a thread of its own that ends with the test process.
pub struct EchoUpstream {
    /// Where it listens: the upstream a gateway's configuration names.
    pub addr: SocketAddr,
}

impl EchoUpstream {
    /// Binds a free loopback port and starts answering.
    pub fn start() -> EchoUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn);
                    let mut head = String::new();
                    // The head only (at most 64 KiB); a body is not echoed.
                    while head.len() < 64 * 1024 {
                        let mut line = String::new();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => break,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => head.push_str(&line),
                        }
                    }
                    // Read (and drop) a body of at most 1 MiB, so that
                    // closing does not reset the connection under the
                    // gateway while it still sends.
                    let length = echoed_header(&head, "content-length")
                        .first()
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                        .min(1 << 20);
                    let _ = std::io::copy(&mut (&mut reader).take(length), &mut std::io::sink());
                    let mut conn = reader.into_inner();
                    let _ = write!(
                        conn,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
                        head.len()
                    );
                });
            }
        });
        EchoUpstream { addr }
    }
}

/// The values of header `name` (case-insensitive) in an echoed head.
pub fn echoed_header<'a>(head: &'a str, name: &str) -> Vec<&'a str> {
    head.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

/// A gateway process; killed and reaped when dropped.
pub struct Process {
    child: Child,
    log: std::path::PathBuf,
}

impl Process {
    /// Starts `cmd` with stdout and stderr to `log`, then waits (at most
    /// 20 s) until `port` on 127.0.0.1 accepts connections.
    pub fn start(mut cmd: Command, log: &Path, port: u16) -> Process {
        let file = std::fs::File::create(log).expect("gateway log");
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone().expect("log handle"))
            .stderr(file);
        let mut p = Process {
            child: cmd.spawn().expect("start the gateway"),
            log: log.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return p;
            }
            if let Ok(Some(status)) = p.child.try_wait() {
                panic!("the gateway exited ({status}):\n{}", p.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = p.log_text();
        let _ = p.child.kill();
        panic!("the gateway did not listen on {port} within 20 s:\n{log}");
    }

    /// What the gateway logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of `name` on `PATH`, if it is there (or in /usr/sbin, where
/// Debian puts nginx).
pub fn find_binary(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([std::path::PathBuf::from("/usr/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The binary `name`, or None after a loud skip (a failure in CI, where
/// `.ci/run` installs nginx and Caddy).
pub fn gateway_binary(name: &str) -> Option<std::path::PathBuf> {
    let found = find_binary(name);
    if found.is_none() {
        let why = format!("{name} is not installed: SKIPPING the real-gateway test that needs it (apt-get install {name})");
        assert!(!crate::in_ci(), "{why}");
        crate::loud_skip(&why);
    }
    found
}

/// A file of the repository (`examples/...`).
pub fn repo_file(rel: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Replaces `from` (which must be there) with `to`.
fn set(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the example no longer has {from:?}");
    text.replace(from, to)
}

/// Debian's nginx running `examples/nginx.conf` as written (only its
/// listen address and its two upstream addresses changed) on
/// `127.0.0.1:front`, in front of tessera at `tessera` and the app at
/// `app`; its files in `dir`. None (after a loud skip) without nginx.
pub fn nginx_example(
    dir: &crate::TempDir,
    front: u16,
    tessera: SocketAddr,
    app: SocketAddr,
) -> Option<Process> {
    let nginx = gateway_binary("nginx")?;
    let site = std::fs::read_to_string(repo_file("examples/nginx.conf")).expect("example");
    let site = set(
        site,
        "listen 443 ssl;",
        &format!("listen 127.0.0.1:{front};"),
    );
    let site = set(
        site,
        "server 127.0.0.1:8787;",
        &format!("server {tessera};"),
    );
    let site = set(site, "server 127.0.0.1:3000;", &format!("server {app};"));
    let site_path = dir.write("site.conf", &site);
    let root = dir.root().display().to_string();
    let main = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n  fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n  include {site_path};\n}}\n"
    );
    let conf = dir.write("nginx.conf", &main);
    let mut cmd = Command::new(nginx);
    cmd.args(["-p", &root, "-e", &format!("{root}/error.log"), "-c", &conf]);
    Some(Process::start(cmd, &dir.join("nginx.log"), front))
}

/// Debian's Caddy running `examples/caddy/Caddyfile` as written (its
/// addresses from its own environment placeholders) on
/// `http://127.0.0.1:front`, in front of tessera at `tessera` and the app
/// at `app`; its files in `dir`. None (after a loud skip) without Caddy.
pub fn caddy_example(
    dir: &crate::TempDir,
    front: u16,
    tessera: SocketAddr,
    app: SocketAddr,
) -> Option<Process> {
    let caddy = gateway_binary("caddy")?;
    let mut cmd = Command::new(caddy);
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(repo_file("examples/caddy/Caddyfile"))
        .env("TESSERA_SITE", format!("http://127.0.0.1:{front}"))
        .env("TESSERA_ADDR", tessera.to_string())
        .env("APP_ADDR", app.to_string())
        .env("CADDY_ADMIN", format!("127.0.0.1:{}", crate::free_port()))
        .env("HOME", dir.root())
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"));
    Some(Process::start(cmd, &dir.join("caddy.log"), front))
}
