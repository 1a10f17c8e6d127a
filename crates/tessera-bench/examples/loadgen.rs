//! A lean HTTP/1.1 load generator for `scripts/loadtest`: every request is
//! built before the clock starts, so sending one costs a `write` and a
//! `read`, not a script. One thread (pin it with `taskset`), keep-alive
//! connections, one request in flight on each (no pipelining).
//!
//! ```sh
//! loadgen --url http://127.0.0.1:8080/v1/verify --connections 32 --duration 8 \
//!     [--header 'Authorization: Bearer ...'] [--authorizations FILE] [--pid SERVER_PID]
//! ```
//!
//! `--authorizations FILE`: one `Authorization` value per line, each sent
//! once; the run ends early when they are used up, so no credential is
//! ever sent twice. `--pid`: the server's process, whose CPU time (user +
//! system, from `/proc/PID/stat`) is reported beside the throughput, so
//! the cost per request can be read even when the load generator shares
//! the machine.
//!
//! Prints one line of `key=value` pairs: `requests`, `seconds`, `rps`,
//! `non2xx`, `errors`, `p50_us`, `p99_us`, `server_cpu_s`, `client_cpu_s`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tessera_bench::load::{report, CpuSpan, Tally};
use tokio::net::TcpStream;

struct Args {
    host: String,
    path: String,
    connections: usize,
    duration: Duration,
    headers: Vec<String>,
    authorizations: Option<String>,
    pid: Option<u32>,
    spin: bool,
    pipeline: usize,
}

fn usage(msg: &str) -> ! {
    eprintln!("loadgen: {msg}");
    eprintln!(
        "usage: loadgen --url http://HOST:PORT/PATH [--connections N] [--duration SECONDS] \
         [--header 'Name: value']... [--authorizations FILE] [--pid PID]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let (mut url, mut connections, mut duration) = (None, 32usize, 10.0f64);
    let (mut headers, mut authorizations, mut pid) = (Vec::new(), None, None);
    let (mut spin, mut pipeline) = (false, 1usize);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--url" => url = Some(value()),
            "--connections" => {
                connections = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--connections: a number"))
            }
            "--duration" => {
                duration = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--duration: seconds"))
            }
            "--header" => headers.push(value()),
            "--spin" => spin = true,
            "--pipeline" => {
                pipeline = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--pipeline: a number"))
            }
            "--authorizations" => authorizations = Some(value()),
            "--pid" => pid = Some(value().parse().unwrap_or_else(|_| usage("--pid: a number"))),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let url = url.unwrap_or_else(|| usage("--url is required"));
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| usage("--url must start with http://"));
    let (host, path) = match rest.find('/') {
        Some(i) => (rest[..i].to_owned(), rest[i..].to_owned()),
        None => (rest.to_owned(), "/".to_owned()),
    };
    if connections == 0 || pipeline == 0 || !duration.is_finite() || duration <= 0.0 {
        usage("--connections, --pipeline and --duration must be positive");
    }
    if pipeline > 1 && !spin {
        usage("--pipeline needs --spin");
    }
    Args {
        host,
        path,
        connections,
        duration: Duration::from_secs_f64(duration),
        headers,
        authorizations,
        pid,
        spin,
        pipeline,
    }
}

fn request(args: &Args, authorization: Option<&str>) -> Vec<u8> {
    let mut r = format!("GET {} HTTP/1.1\r\nHost: {}\r\n", args.path, args.host);
    for h in &args.headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    if let Some(a) = authorization {
        r.push_str("Authorization: ");
        r.push_str(a);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// Appends what the socket has (waiting for at least one byte) to `buf`.
/// (`try_read` and `readable` need only tokio's `net` feature, which the
/// workspace already builds.)
async fn read_some(conn: &TcpStream, chunk: &mut [u8], buf: &mut Vec<u8>) -> std::io::Result<()> {
    loop {
        match conn.try_read(chunk) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "closed",
                ))
            }
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(());
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => conn.readable().await?,
            Err(e) => return Err(e),
        }
    }
}

async fn write_all(conn: &TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        match conn.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => conn.writable().await?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A complete response at the start of `buf`: its status and length, or
/// `None` while more bytes are needed.
fn parse_response(buf: &[u8]) -> std::io::Result<Option<(u16, usize)>> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > 64 * 1024 {
            return Err(bad("response head over 64 KiB"));
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| bad("head is not UTF-8"))?;
    let status: u16 = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let length = head
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .ok_or_else(|| bad("no Content-Length"))?;
    let total = end + 4 + length;
    Ok((buf.len() >= total).then_some((status, total)))
}

/// Reads one response; returns its status. Only one request is in flight
/// on a connection, so nothing follows the body.
async fn response(conn: &TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        read_some(conn, &mut chunk, buf).await?;
        if let Some((status, _)) = parse_response(buf)? {
            return Ok(status);
        }
    }
}

async fn connection(
    host: String,
    requests: Arc<Vec<Vec<u8>>>,
    next: Arc<AtomicUsize>,
    once: bool,
    stop: Arc<AtomicBool>,
) -> Tally {
    let mut tally = Tally::default();
    let conn = match TcpStream::connect(&host).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("loadgen: cannot connect to {host}: {e}");
            tally.errors += 1;
            return tally;
        }
    };
    let _ = conn.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    while !stop.load(Ordering::Relaxed) {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if once && i >= requests.len() {
            stop.store(true, Ordering::Relaxed);
            break;
        }
        let req = &requests[i % requests.len()];
        let t = Instant::now();
        let result = async {
            write_all(&conn, req).await?;
            response(&conn, &mut buf).await
        }
        .await;
        match result {
            Ok(status) => {
                let us = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
                tally.latencies_us.push(us);
                if !(200..300).contains(&status) {
                    tally.non2xx += 1;
                }
            }
            Err(e) => {
                eprintln!("loadgen: {e}");
                tally.errors += 1;
                break;
            }
        }
    }
    tally
}

/// The default mode: one tokio task per connection on a current-thread
/// runtime; the thread sleeps while every request is in flight.
fn evented(args: &Args, requests: Arc<Vec<Vec<u8>>>, once: bool) -> Vec<Tally> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let next = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..args.connections)
            .map(|_| {
                tokio::spawn(connection(
                    args.host.clone(),
                    requests.clone(),
                    next.clone(),
                    once,
                    stop.clone(),
                ))
            })
            .collect();
        let timer = {
            let (stop, duration) = (stop.clone(), args.duration);
            tokio::spawn(async move {
                tokio::time::sleep(duration).await;
                stop.store(true, Ordering::Relaxed);
            })
        };
        let mut tallies = Vec::new();
        for t in tasks {
            tallies.push(t.await.expect("connection task"));
        }
        timer.abort();
        tallies
    })
}

/// `--spin`: non-blocking sockets polled in a busy loop, for a load
/// generator pinned to a core of its own. The thread never sleeps, so the
/// server's answers never have to wake it: on a VM, waking a sleeping
/// thread on another CPU is an inter-processor interrupt that costs the
/// *sender* (the server) several microseconds per response.
///
/// With `--pipeline N`, each connection writes N requests at once and then
/// reads the N answers (HTTP/1.1 pipelining).
fn spin(args: &Args, requests: &[Vec<u8>], once: bool) -> Vec<Tally> {
    use std::io::{ErrorKind, Read, Write};
    /// The requests in flight on one connection.
    struct Batch {
        bytes: Vec<u8>,
        written: usize,
        answers_due: usize,
        began: Instant,
    }
    struct Conn {
        sock: std::net::TcpStream,
        buf: Vec<u8>,
        batch: Option<Batch>,
    }
    let mut tally = Tally::default();
    let fail = |mut tally: Tally, e: &dyn std::fmt::Display| {
        eprintln!("loadgen: {e}");
        tally.errors += 1;
        vec![tally]
    };
    let mut conns = Vec::new();
    for _ in 0..args.connections {
        let sock = std::net::TcpStream::connect(&args.host)
            .unwrap_or_else(|e| usage(&format!("cannot connect to {}: {e}", args.host)));
        let _ = sock.set_nodelay(true);
        sock.set_nonblocking(true).expect("non-blocking socket");
        conns.push(Conn {
            sock,
            buf: Vec::with_capacity(4096),
            batch: None,
        });
    }
    let deadline = Instant::now() + args.duration;
    let mut next = 0usize;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut spins = 0u32;
    let mut draining = false;
    loop {
        spins = spins.wrapping_add(1);
        if spins.is_multiple_of(64) && Instant::now() >= deadline {
            draining = true;
        }
        let mut busy = false;
        for c in conns.iter_mut() {
            if c.batch.is_none() && !draining {
                let mut bytes = Vec::new();
                let mut n = 0;
                while n < args.pipeline && !(once && next >= requests.len()) {
                    bytes.extend_from_slice(&requests[next % requests.len()]);
                    next += 1;
                    n += 1;
                }
                if n == 0 {
                    draining = true;
                    continue;
                }
                c.batch = Some(Batch {
                    bytes,
                    written: 0,
                    answers_due: n,
                    began: Instant::now(),
                });
            }
            let Some(b) = c.batch.as_mut() else { continue };
            busy = true;
            if b.written < b.bytes.len() {
                match c.sock.write(&b.bytes[b.written..]) {
                    Ok(n) => b.written += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    Err(e) => return fail(tally, &e),
                }
            }
            match c.sock.read(&mut chunk) {
                Ok(0) => return fail(tally, &"the server closed a connection"),
                Ok(n) => c.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => return fail(tally, &e),
            }
            loop {
                match parse_response(&c.buf) {
                    Ok(None) => break,
                    Ok(Some((status, len))) => {
                        let us = b.began.elapsed().as_micros().min(u32::MAX as u128) as u32;
                        tally.latencies_us.push(us);
                        if !(200..300).contains(&status) {
                            tally.non2xx += 1;
                        }
                        c.buf.drain(..len);
                        b.answers_due -= 1;
                        if b.answers_due == 0 {
                            break;
                        }
                    }
                    Err(e) => return fail(tally, &e),
                }
            }
            if b.answers_due == 0 {
                if !c.buf.is_empty() {
                    return fail(tally, &"more answers than requests");
                }
                c.batch = None;
            }
        }
        if draining && !busy {
            return vec![tally];
        }
    }
}

fn main() {
    let args = parse_args();
    let (requests, once) = match &args.authorizations {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .unwrap_or_else(|e| usage(&format!("cannot read {file}: {e}")));
            let reqs: Vec<Vec<u8>> = text
                .lines()
                .filter(|l| !l.is_empty())
                .map(|l| request(&args, Some(l)))
                .collect();
            if reqs.is_empty() {
                usage(&format!("{file} holds no Authorization values"));
            }
            (reqs, true)
        }
        None => (vec![request(&args, None)], false),
    };
    let cpu = CpuSpan::start(args.pid);
    let start = Instant::now();
    let tallies = if args.spin {
        spin(&args, &requests, once)
    } else {
        evented(&args, Arc::new(requests), once)
    };
    let seconds = start.elapsed().as_secs_f64();
    report(&tallies, seconds, cpu.stop());
}
