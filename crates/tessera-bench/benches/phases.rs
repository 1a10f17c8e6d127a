//! Where tessera's verification time goes, phase by phase, for one HS256
//! JWT, one NWT and one Portal JWT (diagnostics for BENCHMARKS.md; not part
//! of the summary table). `cargo bench -p tessera-bench --bench phases`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;
use tessera_core::internal::jwt::Claims;
use tessera_core::Object;
use tessera_core::{
    internal::jws, jwt, Algorithm, Clock, FormatHint, Policy, SystemClock, Verifier,
};
use tessera_core::{KeySet, SigningKey, VerifyingKey};

use tessera_bench::{jwt_claims, nwt_credential, nwt_event, nwt_policy, EXP, IAT};

fn hs256(crit: &mut Criterion) {
    let secret = [7u8; 32];
    let sk = SigningKey::hmac(Algorithm::HS256, &secret).expect("key");
    let c = jwt_claims();
    let mut h = Object::new();
    h.insert("typ", "JWT".into());
    let token = jwt::sign(&sk, &h, &c).expect("sign");
    let keys = KeySet::single(VerifyingKey::hmac(Algorithm::HS256, &secret).expect("key"));
    let policy = tessera_bench::jwt_policy();
    let verifier = Verifier::new(policy.clone(), keys.clone());
    let decoded = jws::decode(&token, usize::MAX).expect("decode");
    let claims = Claims::parse(&decoded.payload).expect("claims");
    let now = SystemClock.now();

    let mut g = crit.benchmark_group("Phases-HS256");
    g.bench_function("verifier", |b| {
        b.iter(|| verifier.verify_jwt(black_box(&token)))
    });
    g.bench_function("jwt_verify", |b| {
        b.iter(|| jwt::verify(black_box(&token), &keys, &policy, now))
    });
    g.bench_function("jws_decode", |b| {
        b.iter(|| jws::decode(black_box(&token), policy.max_token_size))
    });
    g.bench_function("signature", |b| {
        b.iter(|| black_box(&decoded).verify(&keys, &policy))
    });
    g.bench_function("claims_parse", |b| {
        b.iter(|| Claims::parse(black_box(&decoded.payload)))
    });
    g.bench_function("claims_validate", |b| {
        b.iter(|| black_box(&claims).validate(&policy, now))
    });
    g.bench_function("clock", |b| b.iter(|| SystemClock.now()));
    g.finish();
}

fn nwt(crit: &mut Criterion) {
    use tessera_core::internal::nostr::{
        decode_authorization_event, verify_nwt, NostrSecretKey, NwtClaimSet,
    };
    let event = nwt_event(&NostrSecretKey::generate());
    let credential = nwt_credential(&event);
    let policy = nwt_policy();
    let verifier = Verifier::new(policy.clone(), KeySet::new());
    let now = SystemClock.now();
    let json = event.to_json();
    verify_nwt(&event, &policy, &[], now).expect("tessera verifies its NWT");

    let mut g = crit.benchmark_group("Phases-NWT");
    g.bench_function("verifier", |b| {
        b.iter(|| verifier.verify_nostr(black_box(&credential), None, FormatHint::Nwt))
    });
    g.bench_function("decode_event", |b| {
        b.iter(|| decode_authorization_event(black_box(&credential), &policy))
    });
    g.bench_function("event_from_json", |b| {
        b.iter(|| tessera_core::internal::nostr::Event::from_json(black_box(json.as_bytes())))
    });
    g.bench_function("json_parse", |b| {
        b.iter(|| tessera_core::internal::json::parse(black_box(json.as_bytes())))
    });
    g.bench_function("event_verify", |b| b.iter(|| black_box(&event).verify()));
    g.bench_function("verify_nwt", |b| {
        b.iter(|| verify_nwt(black_box(&event), &policy, &[], now))
    });
    g.bench_function("claim_set", |b| {
        b.iter(|| NwtClaimSet::from_tags(black_box(&event.tags)))
    });
    g.bench_function("serialize_for_id", |b| {
        b.iter(|| black_box(&event).serialize_for_id())
    });
    g.bench_function("nostr_from_json", |b| {
        b.iter(|| {
            ::nostr::event::Event::from_json(black_box(json.as_bytes()))
                .map(drop)
                .map_err(drop)
        })
    });
    g.finish();
}

fn portal(crit: &mut Criterion) {
    use tessera_core::internal::nostr::{issue_portal, verify_portal, NostrSecretKey};
    let signer = NostrSecretKey::generate();
    let target = NostrSecretKey::generate().public_key();
    let token = issue_portal(&signer, &target, IAT, EXP - IAT).expect("Portal JWT");
    let signer = signer.public_key();
    let policy = Policy::default();
    let now = SystemClock.now();
    let mut g = crit.benchmark_group("Phases-Portal");
    g.bench_function("verify_portal", |b| {
        b.iter(|| verify_portal(black_box(&token), &signer, &policy, now))
    });
    g.bench_function("even_y_point", |b| {
        b.iter(|| black_box(&signer).even_y_point())
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = hs256, nwt, portal
}
criterion_main!(benches);
