//! SIGKILL of `tessera serve` on SQLite under load, and a restart on its
//! data directory: nothing acknowledged is lost, the signing keys stay.

use super::*;

#[test]
fn sigkill_and_restart_on_sqlite_under_load() {
    let _serial = serial();
    let started = Instant::now();
    let dir = TempDir::new("faults-sqlite-kill");
    let mut server = serve(dir.root(), None);
    let jwks_before = client(server.addr)
        .get("/.well-known/jwks.json", &[])
        .map(|a| a.json_or_null())
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
    let jwks_after = client(server.addr)
        .get("/.well-known/jwks.json", &[])
        .map(|a| a.json_or_null())
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
