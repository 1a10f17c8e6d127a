//! Memory under 100 000 distinct garbage credentials at `/v1/verify`.

use super::*;

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
    let kind = if n.is_multiple_of(97) {
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
    let dir = TempDir::new("faults-garbage");
    let server = serve(dir.root(), None);
    let jwks = client(server.addr)
        .get("/.well-known/jwks.json", &[])
        .map(|a| a.json_or_null())
        .expect("jwks");
    let kid = jwks["keys"][0]["kid"].as_str().unwrap_or("k").to_owned();
    // Warm up (allocator arenas, the runtime's threads), then measure.
    {
        let c = client(server.addr);
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
                let c = client(addr);
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
