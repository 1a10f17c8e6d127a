//! The driver both store outages share: load, then `OUTAGES` times the
//! store taken away under load and given back, then the audit.

use super::*;

/// How a store is taken away and given back.
pub(crate) trait Fault {
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

pub(crate) const OUTAGES: u32 = 2;
/// Concurrent `/v1/verify` requests with one access token, sent at the
/// start of each outage.
pub(crate) const BURST: usize = 16;

pub(crate) struct Burst {
    pub(crate) answered_503: usize,
    pub(crate) max_latency: Duration,
    pub(crate) surprises: Vec<String>,
}

/// `BURST` concurrent checks of one access token while the store is down:
/// each must fail closed within `HANG_BOUND` (they must not queue behind
/// one another's store timeouts).
pub(crate) fn verify_burst(server: &Tessera, access: &str, down: Instant) -> Burst {
    let results: Vec<(Instant, Result<Resp, String>)> = std::thread::scope(|scope| {
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
pub(crate) fn store_outage_under_load(fault: &mut dyn Fault, server: &Tessera) {
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
