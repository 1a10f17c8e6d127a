//! The paired runs' harness (`examples/instructions.rs` modes `paired*`,
//! and the `bench-default-peers` workspace): the same keys and tokens in
//! every process, and two operations timed in alternating blocks in the
//! thread's CPU time. See BENCHMARKS.md, "How things are measured".

use std::hint::black_box;
use tessera_core::Object;
use tessera_core::{jwt, Algorithm, KeySet, SigningKey};

use crate::jwt_claims;

/// The HMAC secret of every benchmarked HS* token.
pub const HMAC_SECRET: [u8; 64] = [7u8; 64];

/// The same key in every process (RSA key generation costs a varying
/// number of instructions, and every benchmark binary should verify the
/// same token): kept in the temporary directory.
pub fn signing_key(alg: Algorithm) -> SigningKey {
    if alg.is_hmac() {
        return SigningKey::hmac(alg, &HMAC_SECRET).expect("HMAC key");
    }
    let path = std::env::temp_dir().join(format!("tessera-instructions-{}.pem", alg.name()));
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return SigningKey::from_pem(&pem, Some(alg)).expect("stored key");
    }
    let sk = SigningKey::generate(alg).expect("key");
    std::fs::write(&path, sk.to_pkcs8_pem().expect("PEM")).expect("store the key");
    sk
}

/// The benchmarked JWT of `alg` (header `typ: JWT`, [`jwt_claims`]),
/// signed with [`signing_key`], and the key set that verifies it.
pub fn jwt_case(alg: Algorithm) -> (String, KeySet) {
    let sk = signing_key(alg);
    let c = jwt_claims();
    let mut h = Object::new();
    h.insert("typ", "JWT".into());
    let token = jwt::sign(&sk, &h, &c).expect("sign");
    let keys = KeySet::single(sk.verifying_key().expect("public key"));
    (token, keys)
}

/// The algorithm named `name` (`RS256`, ...); panics on an unknown name.
pub fn algorithm(name: &str) -> Algorithm {
    Algorithm::ALL
        .into_iter()
        .find(|a| a.name() == name)
        .unwrap_or_else(|| panic!("unknown algorithm {name}"))
}

/// This thread's CPU time in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`):
/// time other processes take the CPU is not counted, as it is in wall
/// time on a shared machine.
pub fn cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// Times `a` and `b` in alternating blocks of about 2 ms each, so that a
/// machine whose speed drifts (a shared VM) slows both alike; in this
/// thread's CPU time ([`cpu_ns`]). A round is four blocks, `a b b a`: on
/// this machine, with the order fixed (`a b`), an A/A test (the same NWT
/// verification in both places, `paired-nwt` prints one) measured `a`
/// 0.1-2 % slower than `b`, most when both take the same credentials in
/// the same order (`b` then re-verifies what `a` just did, its data still
/// in cache): a bias against `a`, which is tessera in every pair here. In
/// `a b b a` each contestant has one block in either place. 301 rounds
/// after 30 of warm-up. Returns the median ns per call of each
/// and the median of the per-round ratios a/b (a's two blocks over b's).
pub fn alternate(mut a: impl FnMut() -> bool, mut b: impl FnMut() -> bool) -> (f64, f64, f64) {
    const ROUNDS: usize = 301;
    const WARM_UP: usize = 30;
    assert!(a() && b(), "the operations must succeed");
    // Blocks sized by the slower of the two.
    let t = cpu_ns();
    for _ in 0..16 {
        black_box(a());
    }
    let ta0 = (cpu_ns() - t) / 16;
    let t = cpu_ns();
    for _ in 0..16 {
        black_box(b());
    }
    let one = ta0.max((cpu_ns() - t) / 16);
    let block = (2_000_000 / one.max(1) as usize).clamp(4, 4_000);
    let (mut ratios, mut ta, mut tb) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..WARM_UP + ROUNDS {
        let a1 = timed(block, &mut a);
        let b1 = timed(block, &mut b);
        let b2 = timed(block, &mut b);
        let a2 = timed(block, &mut a);
        if round < WARM_UP {
            continue;
        }
        let (x, y) = ((a1 + a2) as f64, (b1 + b2) as f64);
        ratios.push(x / y);
        ta.push(x / (2 * block) as f64);
        tb.push(y / (2 * block) as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut ta), median(&mut tb), median(&mut ratios))
}

/// CPU time of `block` calls of `run`.
#[inline(always)]
fn timed(block: usize, run: &mut impl FnMut() -> bool) -> u64 {
    let t = cpu_ns();
    for _ in 0..block {
        black_box(run());
    }
    cpu_ns() - t
}
