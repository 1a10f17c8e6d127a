//! What the two load generators (`examples/loadgen.rs` over HTTP/1.1,
//! `examples/grpc_loadgen.rs` over Envoy's gRPC `Check`) share: the CPU
//! time of the server and of the generator, the tally of each connection
//! or stream, and the one result line the load-test scripts read.

/// User + system CPU seconds of a process (`"self"` or a PID), from
/// `/proc/PID/stat`; `None` where that cannot be read.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count from its `)`.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // Linux reports them in USER_HZ, 100 on every architecture it runs on.
    Some(ticks / 100.0)
}

/// What one connection (or stream) saw.
#[derive(Default)]
pub struct Tally {
    /// Each answered request's latency, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Answers other than a success (HTTP non-2xx; gRPC: not an
    /// `OkHttpResponse`).
    pub non2xx: usize,
    /// Requests that failed (connection errors, unreadable answers).
    pub errors: usize,
}

/// The CPU time of the server (`--pid`) and of this process, read when a
/// run starts.
pub struct CpuSpan {
    pid: Option<String>,
    server: Option<f64>,
    client: Option<f64>,
}

impl CpuSpan {
    /// Reads both counters now.
    pub fn start(pid: Option<u32>) -> CpuSpan {
        let pid = pid.map(|p| p.to_string());
        CpuSpan {
            server: pid.as_deref().and_then(cpu_seconds),
            client: cpu_seconds("self"),
            pid,
        }
    }

    /// Server and client CPU seconds since [`CpuSpan::start`].
    pub fn stop(&self) -> (Option<f64>, Option<f64>) {
        let delta = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| b - a);
        (
            delta(self.server, self.pid.as_deref().and_then(cpu_seconds)),
            delta(self.client, cpu_seconds("self")),
        )
    }
}

/// Prints the result line (`requests`, `seconds`, `rps`, `non2xx`,
/// `errors`, `p50_us`, `p99_us`, `server_cpu_s`, `client_cpu_s`, as
/// `key=value` pairs) and exits with 1 when any request failed.
pub fn report(
    tallies: &[Tally],
    seconds: f64,
    (server_cpu, client_cpu): (Option<f64>, Option<f64>),
) {
    let mut lat: Vec<u32> = tallies
        .iter()
        .flat_map(|t| t.latencies_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)));
    let non2xx: usize = tallies.iter().map(|t| t.non2xx).sum();
    let errors: usize = tallies.iter().map(|t| t.errors).sum();
    let fmt = |v: Option<f64>| v.map_or("na".to_owned(), |v| format!("{v:.2}"));
    println!(
        "requests={} seconds={seconds:.3} rps={:.0} non2xx={non2xx} errors={errors} p50_us={} p99_us={} \
         server_cpu_s={} client_cpu_s={}",
        lat.len(),
        lat.len() as f64 / seconds,
        pct(0.50).copied().unwrap_or(0),
        pct(0.99).copied().unwrap_or(0),
        fmt(server_cpu),
        fmt(client_cpu),
    );
    if errors > 0 {
        std::process::exit(1);
    }
}
