//! A load generator for Envoy's ext_authz gRPC `Check` (issue 20's
//! benchmark, `scripts/loadtest-gateway`): `connections` HTTP/2
//! connections (tonic channels, as Envoy keeps a few), each carrying
//! `streams` calls in flight, every call the same `CheckRequest` built
//! before the clock starts. One thread (pin it with `taskset`), like the
//! HTTP/1.1 `loadgen`, with the same result line (`tessera_bench::load`).
//!
//! ```sh
//! grpc_loadgen --addr 127.0.0.1:9191 --connections 4 --streams 8 --duration 2 \
//!     --method GET --host api.example --path '/api/orders?page=2' \
//!     [--header 'authorization: Bearer ...'] [--pid SERVER_PID]
//! ```
//!
//! Prints one line of `key=value` pairs: `requests`, `seconds`, `rps`,
//! `non2xx` (calls answered with anything but an `OkHttpResponse`),
//! `errors` (failed calls), `p50_us`, `p99_us`, `server_cpu_s`,
//! `client_cpu_s`.

use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::check_response::HttpResponse;
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, CheckRequest};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_bench::load::{report, CpuSpan, Tally};
use tonic::transport::{Channel, Endpoint};

struct Args {
    addr: String,
    connections: usize,
    streams: usize,
    duration: Duration,
    method: String,
    host: String,
    path: String,
    headers: Vec<(String, String)>,
    pid: Option<u32>,
}

fn usage(msg: &str) -> ! {
    eprintln!("grpc_loadgen: {msg}");
    eprintln!(
        "usage: grpc_loadgen --addr HOST:PORT [--connections N] [--streams N] [--duration SECONDS] \
         [--method GET] [--host api.example] [--path /] [--header 'name: value']... [--pid PID]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        addr: String::new(),
        connections: 4,
        streams: 8,
        duration: Duration::from_secs(10),
        method: "GET".into(),
        host: "api.example".into(),
        path: "/".into(),
        headers: Vec::new(),
        pid: None,
    };
    let number = |v: String, flag: &str| -> usize {
        v.parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| usage(&format!("{flag}: a positive number")))
    };
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--addr" => a.addr = value(),
            "--connections" => a.connections = number(value(), "--connections"),
            "--streams" => a.streams = number(value(), "--streams"),
            "--duration" => {
                let s: f64 = value()
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .unwrap_or_else(|| usage("--duration: positive seconds"));
                a.duration = Duration::from_secs_f64(s);
            }
            "--method" => a.method = value(),
            "--host" => a.host = value(),
            "--path" => a.path = value(),
            "--header" => {
                let h = value();
                let (k, v) = h
                    .split_once(':')
                    .unwrap_or_else(|| usage("--header: 'name: value'"));
                a.headers
                    .push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
            "--pid" => a.pid = Some(number(value(), "--pid") as u32),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if a.addr.is_empty() {
        usage("--addr is required");
    }
    a
}

/// What Envoy reports for the request: attributes and headers, with the
/// pseudo-headers Envoy includes.
fn check_request(a: &Args) -> CheckRequest {
    let mut headers: HashMap<String, String> = a.headers.iter().cloned().collect();
    headers.insert(":authority".into(), a.host.clone());
    headers.insert(":method".into(), a.method.clone());
    headers.insert(":path".into(), a.path.clone());
    headers.insert(":scheme".into(), "https".into());
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(Request {
                http: Some(HttpRequest {
                    method: a.method.clone(),
                    scheme: "https".into(),
                    host: a.host.clone(),
                    path: a.path.clone(),
                    protocol: "HTTP/1.1".into(),
                    headers,
                    ..HttpRequest::default()
                }),
                ..Request::default()
            }),
            ..AttributeContext::default()
        }),
    }
}

/// One call in flight at a time on `channel`, until `stop`.
async fn stream(channel: Channel, request: Arc<CheckRequest>, stop: Arc<AtomicBool>) -> Tally {
    let mut client = AuthorizationClient::new(channel);
    let mut tally = Tally::default();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        match client.check((*request).clone()).await {
            Ok(resp) => {
                let us = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                tally.latencies_us.push(us);
                let ok = matches!(
                    resp.into_inner().http_response,
                    Some(HttpResponse::OkResponse(_))
                );
                if !ok {
                    tally.non2xx += 1;
                }
            }
            Err(e) => {
                eprintln!("grpc_loadgen: {e}");
                tally.errors += 1;
                break;
            }
        }
    }
    tally
}

fn main() {
    let args = parse_args();
    let request = Arc::new(check_request(&args));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (tallies, seconds, cpu) = rt.block_on(async {
        let mut channels = Vec::new();
        for _ in 0..args.connections {
            // One HTTP/2 connection each (connect, not connect_lazy: the
            // clock starts with every connection open).
            let endpoint = Endpoint::from_shared(format!("http://{}", args.addr))
                .unwrap_or_else(|e| usage(&format!("--addr: {e}")))
                .tcp_nodelay(true);
            match endpoint.connect().await {
                Ok(c) => channels.push(c),
                Err(e) => {
                    eprintln!("grpc_loadgen: cannot connect to {}: {e}", args.addr);
                    std::process::exit(1);
                }
            }
        }
        let cpu = CpuSpan::start(args.pid);
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let tasks: Vec<_> = channels
            .iter()
            .flat_map(|c| std::iter::repeat_n(c, args.streams))
            .map(|c| tokio::spawn(stream(c.clone(), request.clone(), stop.clone())))
            .collect();
        tokio::time::sleep(args.duration).await;
        stop.store(true, Ordering::Relaxed);
        let mut tallies = Vec::new();
        for t in tasks {
            tallies.push(t.await.expect("stream task"));
        }
        (tallies, start.elapsed().as_secs_f64(), cpu.stop())
    });
    report(&tallies, seconds, cpu);
}
