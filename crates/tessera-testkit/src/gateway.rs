//! Real gateways (nginx, Caddy) in front of a tiny upstream, for the
//! forward-auth end-to-end suite: [`EchoUpstream`] answers every request
//! with the request head it received (so a test sees exactly which
//! headers the gateway passed on), and [`Process`] runs a gateway binary
//! and kills it (by its own handle) when dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An HTTP/1.1 server on 127.0.0.1 answering `200` with the request head
/// as its body (`Connection: close`), on a thread of its own that ends
/// with the test process.
pub struct EchoUpstream {
    pub addr: SocketAddr,
}

impl EchoUpstream {
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
