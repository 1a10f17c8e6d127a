//! Runs one verification N times, for instruction counts that do not
//! depend on what else the machine is doing:
//!
//! ```sh
//! cargo build --profile bench -p tessera-bench --example instructions
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --toggle-collect='*measured*' \
//!     target/release/examples/instructions hs256 1000
//! ```
//!
//! Only the timed loop is counted; divide by N.
//!
//! `instructions paired-peer RS256 ES256 ...` times tessera against
//! jsonwebtoken the same way (ratio jsonwebtoken / tessera).
//!
//! `instructions paired RS256 ES256 ...` instead times full verification
//! against the bare signature check in alternating blocks and prints the
//! median overhead (see BENCHMARKS.md). `instructions time OP` prints the
//! wall time of one operation (`ns_per_op=`). Operations: `hs256`, `hs256-primitive`, `rs256`,
//! `rs256-primitive`, `hs256-read`, `rs256-read` (verification, then one
//! custom claim read, which builds the claims object), `nwt`,
//! `nostr-event`, `nostr-peer`, `schnorr`.

use std::hint::black_box;
use tessera_core::internal::nostr::{Event, NostrSecretKey};
use tessera_core::Object;
use tessera_core::{internal::jws, jwt, Algorithm, FormatHint, Policy, Verifier};
use tessera_core::{KeySet, SigningKey};

use tessera_bench::{jwt_claims, nwt_credential, nwt_event};

/// The same key in every process (RSA key generation costs a varying
/// number of instructions): kept in the temporary directory.
fn signing_key(alg: Algorithm) -> SigningKey {
    if alg.is_hmac() {
        return SigningKey::hmac(alg, &[7u8; 64]).expect("HMAC key");
    }
    let path = std::env::temp_dir().join(format!("tessera-instructions-{}.pem", alg.name()));
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return SigningKey::from_pem(&pem, Some(alg)).expect("stored key");
    }
    let sk = SigningKey::generate(alg).expect("key");
    std::fs::write(&path, sk.to_pkcs8_pem().expect("PEM")).expect("store the key");
    sk
}

fn jwt_case(alg: Algorithm) -> (String, KeySet) {
    let sk = signing_key(alg);
    let c = jwt_claims();
    let mut h = Object::new();
    h.insert("typ", "JWT".into());
    let token = jwt::sign(&sk, &h, &c).expect("sign");
    let keys = KeySet::single(sk.verifying_key().expect("public key"));
    (token, keys)
}

/// Times `a` and `b` in alternating blocks of about 2 ms each, 301
/// rounds, so that a machine whose speed drifts (a shared VM) slows both
/// alike. Returns the median ns per call of each and the median of the
/// per-round ratios a/b.
fn alternate(mut a: impl FnMut() -> bool, mut b: impl FnMut() -> bool) -> (f64, f64, f64) {
    use std::time::Instant;
    const ROUNDS: usize = 301;
    let t = Instant::now();
    assert!(a(), "the operation must succeed");
    let block = (2_000_000 / t.elapsed().as_nanos().max(1) as usize).clamp(4, 4_000);
    let (mut ratios, mut ta, mut tb) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        for _ in 0..block {
            black_box(a());
        }
        let t1 = Instant::now();
        for _ in 0..block {
            black_box(b());
        }
        let t2 = Instant::now();
        let (x, y) = ((t1 - t0).as_nanos() as f64, (t2 - t1).as_nanos() as f64);
        ratios.push(x / y);
        ta.push(x / block as f64);
        tb.push(y / block as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut ta), median(&mut tb), median(&mut ratios))
}

fn algorithm(name: &str) -> Algorithm {
    Algorithm::ALL
        .into_iter()
        .find(|a| a.name() == name)
        .unwrap_or_else(|| panic!("unknown algorithm {name}"))
}

/// `paired ALG...`: full verification and the bare signature check timed
/// in alternating blocks, so that a machine whose speed drifts (a shared
/// VM) slows both alike; prints the median of the per-round ratios.
fn paired(algs: &[String]) {
    println!("| alg | tessera | primitive | overhead (median of 301 paired rounds) |");
    println!("|---|---|---|---|");
    for name in algs {
        let alg = algorithm(name);
        let (token, keys) = jwt_case(alg);
        let v = Verifier::new(Policy::default(), keys.clone());
        let d = jws::decode(&token, usize::MAX).expect("decode");
        let (input, sig) = (d.signing_input.to_vec(), d.signature.clone());
        let key = keys.candidates(alg, None).expect("key")[0].clone();
        let (full, bare, ratio) = alternate(
            || v.verify_jwt(black_box(&token)).is_ok(),
            || key.verify(black_box(&input), black_box(&sig)).is_ok(),
        );
        println!(
            "| {name} | {:.2} µs | {:.2} µs | {:+.1}% |",
            full / 1e3,
            bare / 1e3,
            (ratio - 1.0) * 100.0
        );
    }
}

/// `paired-peer ALG...`: tessera's full verification against
/// jsonwebtoken's `decode` (signature, `exp` with 60 s leeway, claims
/// deserialized) on the same token, in alternating blocks as `paired`
/// does; prints the median of the per-round ratios jsonwebtoken/tessera
/// (above 1: tessera is faster).
fn paired_peer(algs: &[String]) {
    use jsonwebtoken::{Algorithm as A, DecodingKey as K, Validation};
    println!(
        "| alg | tessera | jsonwebtoken | jsonwebtoken / tessera (median of 301 paired rounds) |"
    );
    println!("|---|---|---|---|");
    for name in algs {
        let alg = algorithm(name);
        let (token, keys) = jwt_case(alg);
        let v = Verifier::new(Policy::default(), keys);
        let sk = signing_key(alg);
        let pem = || sk.to_public_pem().expect("public PEM");
        let (peer_alg, key) = match alg {
            Algorithm::HS256 => (A::HS256, K::from_secret(&[7u8; 64]).expect("HMAC key")),
            Algorithm::RS256 => (
                A::RS256,
                K::from_rsa_pem(pem().as_bytes()).expect("RSA PEM"),
            ),
            Algorithm::PS256 => (
                A::PS256,
                K::from_rsa_pem(pem().as_bytes()).expect("RSA PEM"),
            ),
            Algorithm::ES256 => (A::ES256, K::from_ec_pem(pem().as_bytes()).expect("EC PEM")),
            Algorithm::ES384 => (A::ES384, K::from_ec_pem(pem().as_bytes()).expect("EC PEM")),
            Algorithm::EdDSA => (
                A::EdDSA,
                K::from_ed_pem(pem().as_bytes()).expect("Ed25519 PEM"),
            ),
            other => panic!("paired-peer covers HS256 RS256 PS256 ES256 ES384 EdDSA, not {other}"),
        };
        let validation = Validation::new(peer_alg);
        let peer = || {
            jsonwebtoken::decode::<tessera_bench::PeerClaims>(black_box(&token), &key, &validation)
                .is_ok()
        };
        assert!(peer() && v.verify_jwt(&token).is_ok(), "both verify");
        let (ours, theirs, ratio) = alternate(|| v.verify_jwt(black_box(&token)).is_ok(), peer);
        println!(
            "| {name} | {:.2} µs | {:.2} µs | {:.2}x |",
            ours / 1e3,
            theirs / 1e3,
            1.0 / ratio
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "hs256".into());
    if op == "paired" {
        return paired(&args.collect::<Vec<_>>());
    }
    if op == "paired-peer" {
        return paired_peer(&args.collect::<Vec<_>>());
    }
    // `time OP`: wall time per operation instead (for scripts/loadtest's
    // bound, measured on the server's CPU in the same run).
    let timed = op == "time";
    let op = if timed {
        args.next().unwrap_or_else(|| "schnorr".into())
    } else {
        op
    };
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let mut run: Box<dyn FnMut() -> bool> = match op.as_str() {
        "hs256" | "rs256" | "hs256-primitive" | "rs256-primitive" | "hs256-read" | "rs256-read" => {
            let alg = if op.starts_with("hs") {
                Algorithm::HS256
            } else {
                Algorithm::RS256
            };
            let (token, keys) = jwt_case(alg);
            if op.ends_with("-primitive") {
                let d = jws::decode(&token, usize::MAX).expect("decode");
                let (input, sig) = (d.signing_input.to_vec(), d.signature.clone());
                let key = keys.candidates(alg, None).expect("key")[0].clone();
                Box::new(move || key.verify(black_box(&input), black_box(&sig)).is_ok())
            } else if op.ends_with("-read") {
                // Verification, then one custom claim read: the claims
                // object is built (see `ClaimSet`).
                let v = Verifier::new(Policy::default(), keys);
                Box::new(move || {
                    v.verify_jwt(black_box(&token))
                        .is_ok_and(|id| id.claims.get("role").is_some())
                })
            } else {
                let v = Verifier::new(Policy::default(), keys);
                Box::new(move || v.verify_jwt(black_box(&token)).is_ok())
            }
        }
        "nwt" | "nostr-event" | "nostr-peer" | "schnorr" => {
            // One event for every process (BIP-340 signing draws fresh
            // auxiliary randomness, and the verification cost depends a
            // little on the signature): kept in the temporary directory.
            let path = std::env::temp_dir().join("tessera-instructions-nwt.json");
            let event = match std::fs::read(&path) {
                Ok(json) => Event::from_json(&json).expect("stored event"),
                Err(_) => {
                    let event = nwt_event(&NostrSecretKey::generate());
                    std::fs::write(&path, event.to_json()).expect("store the event");
                    event
                }
            };
            let credential = nwt_credential(&event);
            let json = event.to_json();
            match op.as_str() {
                "nwt" => {
                    let v = Verifier::new(tessera_bench::nwt_policy(), KeySet::new());
                    assert!(v.verify_nostr(&credential, None, FormatHint::Nwt).is_ok());
                    Box::new(move || {
                        v.verify_nostr(black_box(&credential), None, FormatHint::Nwt)
                            .is_ok()
                    })
                }
                "nostr-event" => Box::new(move || {
                    Event::from_json(black_box(json.as_bytes()))
                        .and_then(|e| e.verify())
                        .is_ok()
                }),
                "nostr-peer" => Box::new(move || {
                    ::nostr::event::Event::from_json(black_box(json.as_bytes()))
                        .is_ok_and(|e| e.verify().is_ok())
                }),
                _ => {
                    let (pk, id, sig) = (*event.pubkey.as_bytes(), event.id, event.sig);
                    Box::new(move || {
                        secp256k1::XOnlyPublicKey::from_byte_array(black_box(pk)).is_ok_and(|key| {
                            let sig = secp256k1::schnorr::Signature::from_byte_array(sig);
                            secp256k1::SECP256K1.verify_schnorr(&sig, &id, &key).is_ok()
                        })
                    })
                }
            }
        }
        other => {
            eprintln!("unknown operation {other}");
            std::process::exit(2);
        }
    };
    if timed {
        return time_per_op(&mut run);
    }
    let ok = measured(&mut run, n);
    assert_eq!(ok, n, "every verification must succeed");
}

/// Prints `ns_per_op=...`: the median of 9 blocks of about 0.1 s each.
fn time_per_op(run: &mut dyn FnMut() -> bool) {
    use std::time::Instant;
    let t = Instant::now();
    assert!(run(), "the operation must succeed");
    let block = (100_000_000 / t.elapsed().as_nanos().max(1) as usize).clamp(10, 1_000_000);
    let mut per_op: Vec<f64> = (0..9)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(
                measured(run, block),
                block,
                "every verification must succeed"
            );
            t.elapsed().as_nanos() as f64 / block as f64
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    println!("ns_per_op={:.0}", per_op[per_op.len() / 2]);
}

/// The loop alone: `valgrind --tool=callgrind --toggle-collect='*measured*'`
/// counts only this.
#[inline(never)]
fn measured(run: &mut dyn FnMut() -> bool, n: usize) -> usize {
    let mut ok = 0usize;
    for _ in 0..n {
        ok += usize::from(run());
    }
    ok
}
