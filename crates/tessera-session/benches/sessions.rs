//! Sessions per backend: login (NIP-98, verification + store writes),
//! refresh (atomic rotation), and the per-request access-token check
//! (warm: in-process revocation picture and verified-credential cache),
//! with a bare ES256 signature verification on the same machine for scale.
//!
//!   cargo bench -p tessera-session --bench sessions
//!
//! PostgreSQL and Redis run when TESSERA_TEST_POSTGRES_URL /
//! TESSERA_TEST_REDIS_URL are set (scripts/bench-sessions sets them).

use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;
use std::time::Duration;
use tessera_core::internal::nostr::{issue_nip98, nip98_authorization, NostrSecretKey};
use tessera_core::{Algorithm, Clock, SystemClock};
use tessera_core::{KeySet, SigningKey};
use tessera_session::{SessionConfig, Sessions};

fn config() -> SessionConfig {
    let url = "http://bench.tessera".to_string();
    SessionConfig {
        issuer: url.clone(),
        audience: url.clone(),
        siwe_domain: "bench.tessera".into(),
        siwe_uri: url.clone(),
        chain_id: 1,
        siwe_chain_ids: Vec::new(),
        login_url: format!("{url}/v1/auth/login"),
        nwt_audiences: vec![url],
        access_ttl: 900,
        refresh_ttl: 86400,
        grace: 0,
        leeway: 60,
        nonce_ttl: 300,
        self_issued_max_lifetime: None,
        verify_cache: Default::default(),
    }
}

fn stores() -> Vec<(&'static str, String)> {
    let pid = std::process::id();
    let mut v = vec![(
        "sqlite",
        format!(
            "sqlite://{}/tessera-bench-{pid}/t.db",
            std::env::temp_dir().display()
        ),
    )];
    if let Ok(u) = std::env::var("TESSERA_TEST_POSTGRES_URL") {
        let sep = if u.contains('?') { '&' } else { '?' };
        v.push(("postgres", format!("{u}{sep}schema=bench_{pid}")));
    } else {
        eprintln!("!!! TESSERA_TEST_POSTGRES_URL unset: PostgreSQL not benchmarked");
    }
    if let Ok(u) = std::env::var("TESSERA_TEST_REDIS_URL") {
        let sep = if u.contains('?') { '&' } else { '?' };
        v.push(("redis", format!("{u}{sep}prefix=bench_{pid}")));
    } else {
        eprintln!("!!! TESSERA_TEST_REDIS_URL unset: Redis not benchmarked");
    }
    v
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let signer = Arc::new(SigningKey::generate(Algorithm::ES256).expect("key"));
    let vk = signer.verifying_key().expect("public");

    let mut g = c.benchmark_group("sessions");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);

    // Scale: one bare ES256 verification of an access token's signing input.
    let msg = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9";
    let sig = signer.sign(msg).expect("sign");
    g.bench_function("bare_es256_verify", |b| {
        b.iter(|| vk.verify(msg, &sig).expect("ok"))
    });

    for (name, url) in stores() {
        let store = rt.block_on(tessera_store::open(&url)).expect("store");
        let sessions = rt.block_on(async {
            Sessions::new(
                config(),
                store,
                Arc::clone(&signer),
                KeySet::single(vk.clone()),
                NostrSecretKey::generate().public_key(),
            )
        });
        let user = NostrSecretKey::generate();
        let login_url = "http://bench.tessera/v1/auth/login";
        g.bench_function(format!("{name}/login_nip98"), |b| {
            b.iter_batched(
                // A new key each time: two events of one key in one second
                // with the same tags have the same id (and are a replay).
                || {
                    let k = NostrSecretKey::generate();
                    nip98_authorization(
                        &issue_nip98(&k, login_url, "POST", None, SystemClock.now())
                            .expect("nip98"),
                    )
                },
                |auth| {
                    rt.block_on(sessions.login_nostr(&auth, b""))
                        .expect("login")
                },
                criterion::BatchSize::SmallInput,
            )
        });
        let auth = nip98_authorization(
            &issue_nip98(&user, login_url, "POST", None, SystemClock.now()).expect("nip98"),
        );
        let pair = rt
            .block_on(sessions.login_nostr(&auth, b""))
            .expect("login");
        let mut refresh = pair.refresh_token.clone();
        g.bench_function(format!("{name}/refresh"), |b| {
            b.iter(|| {
                let next = rt.block_on(sessions.refresh(&refresh)).expect("refresh");
                refresh = next.refresh_token;
            })
        });
        rt.block_on(sessions.check_access(&pair.access_token))
            .expect("warm");
        g.bench_function(format!("{name}/check_access_warm"), |b| {
            b.iter(|| {
                rt.block_on(sessions.check_access(&pair.access_token))
                    .expect("check")
            })
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("tessera-bench-{}", std::process::id())),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
