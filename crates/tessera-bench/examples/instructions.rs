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
//! wall time of one operation (`ns_per_op=`). Operations, for any JWT
//! algorithm (lowercase, `hs256` shown): `hs256` (full verification under
//! the deployment policy), `hs256-primitive` (the bare signature check),
//! `hs256-read` (verification, then one custom claim read, which builds
//! the claims object), `hs256-hit` (a hit in the verified-credential
//! cache); and `nwt` (signer
//! seen before), `nwt-first` (signer not seen before: no memo),
//! `nostr-event`, `nostr-peer` (the nostr crate, with the NWT checks),
//! `schnorr` (BIP-340 lift + verify), `schnorr-lifted` (the key lifted);
//! `eip191` (personal_sign recovery on a SIWE text), `siwe` (a SIWE
//! message verified) and `thirdweb` (a thirdweb JWT verified): the paths
//! with Keccak-256, as the `EIP-191`, `SIWE` and `Thirdweb` criterion groups.
//!
//! `instructions paired-nwt` times NWTs from signers not seen before and
//! seen before against the nostr crate and against the primitive, and
//! the first against itself (an A/A check of the method);
//! `instructions paired-cache HS256 ES256` a cache hit against the
//! verification it saves, and the memory per cache entry.

use std::hint::black_box;
use tessera_core::internal::nostr::{Event, NostrSecretKey};
use tessera_core::KeySet;
use tessera_core::Object;
use tessera_core::{internal::jws, jwt, Algorithm, FormatHint, Policy, Verifier};

use tessera_bench::paired::{algorithm, alternate, jwt_case, signing_key};
use tessera_bench::{jwt_claims, nwt_credential, nwt_event};

/// `paired ALG...`: full verification and the bare signature check timed
/// in alternating blocks, so that a machine whose speed drifts (a shared
/// VM) slows both alike; prints the median of the per-round ratios.
fn paired(algs: &[String]) {
    println!("| alg | tessera | primitive | overhead (median of 301 paired rounds) |");
    println!("|---|---|---|---|");
    for name in algs {
        let alg = algorithm(name);
        let (token, keys) = jwt_case(alg);
        let v = Verifier::new(tessera_bench::jwt_policy(), keys.clone());
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
        let v = Verifier::new(tessera_bench::jwt_policy(), keys);
        let sk = signing_key(alg);
        let pem = || sk.to_public_pem().expect("public PEM");
        let (peer_alg, key) = match alg {
            Algorithm::HS256 => (
                A::HS256,
                K::from_secret(&tessera_bench::paired::HMAC_SECRET).expect("HMAC key"),
            ),
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
        let mut validation = Validation::new(peer_alg);
        validation.set_audience(&[tessera_bench::JWT_AUDIENCE]);
        validation.set_issuer(&[tessera_bench::JWT_ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
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

/// An NWT verified by a signer not seen before: the free function, which
/// keeps no memo of lifted keys, under the benchmark policy.
fn nwt_first(credential: &str, policy: &Policy) -> bool {
    use tessera_core::Clock;
    tessera_core::internal::nostr::verify_authorization_event(
        credential,
        policy,
        &[],
        None,
        &tessera_core::Nip98Options::default(),
        tessera_core::SystemClock.now(),
    )
    .is_ok()
}

/// `paired-nwt`: NWTs from 64 signers (a fresh key each, new every
/// process), taken in turn, so that no contestant sees the same event
/// twice in a row. Pairs, in alternating blocks as `paired` does, each
/// printed as the median of the per-round ratios:
///
/// - tessera, signer not seen before (`nostr::verify_authorization_event`,
///   no memo: base64, strict parse, lift, id, BIP-340, claims, policy)
///   against the nostr crate on the same credential with the same checks
///   (`tessera_bench::nostr_peer_nwt`: base64url, parse, lift, id,
///   BIP-340, kind, `exp`, `aud`);
/// - tessera's `Verifier::verify_nostr`, every signer seen before (the
///   memo holds the 64 keys), against the nostr crate;
/// - the first against BIP-340 lift + verify (libsecp256k1), and the
///   second against the verification with the key already lifted: the
///   overhead over the primitive, like with like;
/// - an A/A check: the first-time verification against itself.
fn paired_nwt() {
    let events: Vec<Event> = (0..64)
        .map(|_| nwt_event(&NostrSecretKey::generate()))
        .collect();
    let creds: Vec<String> = events.iter().map(nwt_credential).collect();
    let policy = tessera_bench::nwt_policy();
    let v = Verifier::new(tessera_bench::nwt_policy(), KeySet::new());
    for c in &creds {
        assert!(nwt_first(c, &policy) && v.verify_nostr(c, None, FormatHint::Nwt).is_ok());
        assert!(tessera_bench::nostr_peer_nwt(c).is_ok());
    }
    let n = events.len();
    let (mut i, mut j) = (0usize, 0usize);
    let mut first = || {
        i = (i + 1) % n;
        nwt_first(black_box(&creds[i]), &policy)
    };
    let mut peer = || {
        j = (j + 1) % n;
        tessera_bench::nostr_peer_nwt(black_box(&creds[j])).is_ok()
    };
    let (t_first, t_peer, r_first) = alternate(&mut first, &mut peer);
    let (mut k, mut l) = (0usize, 0usize);
    let mut memo = || {
        k = (k + 1) % n;
        v.verify_nostr(black_box(&creds[k]), None, FormatHint::Nwt)
            .is_ok()
    };
    let mut peer2 = || {
        l = (l + 1) % n;
        tessera_bench::nostr_peer_nwt(black_box(&creds[l])).is_ok()
    };
    let (t_memo, t_peer2, r_memo) = alternate(&mut memo, &mut peer2);
    let lifts: Vec<([u8; 32], [u8; 32], [u8; 64])> = events
        .iter()
        .map(|e| (*e.pubkey.as_bytes(), e.id, e.sig))
        .collect();
    let mut m = 0usize;
    let mut lift_verify = || {
        m = (m + 1) % n;
        let (pk, id, sig) = &lifts[m];
        secp256k1::XOnlyPublicKey::from_byte_array(*black_box(pk)).is_ok_and(|key| {
            let sig = secp256k1::schnorr::Signature::from_byte_array(*sig);
            secp256k1::schnorr::verify(&sig, id, &key).is_ok()
        })
    };
    let (mut i2, mut o) = (0usize, 0usize);
    let mut first2 = || {
        i2 = (i2 + 1) % n;
        nwt_first(black_box(&creds[i2]), &policy)
    };
    let (t_first2, t_prim, r_prim) = alternate(&mut first2, &mut lift_verify);
    let mut lifted = || {
        o = (o + 1) % n;
        let e = &events[o];
        e.pubkey.verify_schnorr(black_box(&e.id), &e.sig).is_ok()
    };
    let mut k2 = 0usize;
    let mut memo2 = || {
        k2 = (k2 + 1) % n;
        v.verify_nostr(black_box(&creds[k2]), None, FormatHint::Nwt)
            .is_ok()
    };
    let (t_memo2, t_lifted, r_lifted) = alternate(&mut memo2, &mut lifted);
    // The harness against itself: the same verification in both places,
    // so the ratio shows what the method itself adds (see `alternate`).
    let (mut p, mut q) = (0usize, 0usize);
    let mut same_a = || {
        p = (p + 1) % n;
        nwt_first(black_box(&creds[p]), &policy)
    };
    let mut same_b = || {
        q = (q + 1) % n;
        nwt_first(black_box(&creds[q]), &policy)
    };
    let (t_same_a, t_same_b, r_same) = alternate(&mut same_a, &mut same_b);
    println!("| pair (median of 301 paired rounds) | tessera | other | ratio |");
    println!("|---|---|---|---|");
    let us = |t: f64| format!("{:.2} µs", t / 1e3);
    println!(
        "| NWT, signer not seen before: nostr crate / tessera | {} | {} | {:.3}x |",
        us(t_first),
        us(t_peer),
        1.0 / r_first
    );
    println!(
        "| NWT, signer seen before: nostr crate / tessera | {} | {} | {:.3}x |",
        us(t_memo),
        us(t_peer2),
        1.0 / r_memo
    );
    println!(
        "| NWT, signer not seen before, over BIP-340 lift + verify | {} | {} | {:+.1}% |",
        us(t_first2),
        us(t_prim),
        (r_prim - 1.0) * 100.0
    );
    println!(
        "| NWT, signer seen before, over BIP-340 verify with the key lifted | {} | {} | {:+.1}% |",
        us(t_memo2),
        us(t_lifted),
        (r_lifted - 1.0) * 100.0
    );
    println!(
        "| A/A check: NWT, signer not seen before, against itself | {} | {} | {:.3}x |",
        us(t_same_a),
        us(t_same_b),
        1.0 / r_same
    );
}

/// The JWT algorithm an operation names: `es256`, `es256-primitive`,
/// `es256-read`, `es256-hit` name ES256.
fn jwt_alg(op: &str) -> Option<Algorithm> {
    let (base, suffix) = op.split_once('-').unwrap_or((op, ""));
    if !matches!(suffix, "" | "primitive" | "read" | "hit") {
        return None;
    }
    Algorithm::ALL
        .into_iter()
        .find(|a| a.name().eq_ignore_ascii_case(base))
}

/// Resident set size of this process, bytes (Linux `/proc/self/statm`).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// `paired-cache ALG...`: per algorithm, a hit in the verified-credential
/// cache against the same verification with the cache off (alternating
/// blocks, median ratio), then the memory an entry takes: 20,000 distinct
/// tokens (a `jti` each) verified into a cache, the cache's own estimate
/// per entry and the growth of the resident set per entry.
fn paired_cache(algs: &[String]) {
    use tessera_core::CacheConfig;
    println!("| alg | cache hit | verification, cache off | hit / verification | estimate per entry | resident set per entry |");
    println!("|---|---|---|---|---|---|");
    for name in algs {
        let alg = algorithm(name);
        let (token, keys) = jwt_case(alg);
        let policy = tessera_bench::jwt_policy();
        let cached = Verifier::new(policy.clone(), keys.clone()).with_cache(CacheConfig::default());
        let uncached = Verifier::new(policy.clone(), keys.clone());
        assert!(cached.verify_jwt(&token).is_ok() && uncached.verify_jwt(&token).is_ok());
        let (hit, full, ratio) = alternate(
            || cached.verify_jwt(black_box(&token)).is_ok(),
            || uncached.verify_jwt(black_box(&token)).is_ok(),
        );
        // Memory: distinct tokens, signed before the measurement.
        const N: usize = 20_000;
        let sk = signing_key(alg);
        let mut h = Object::new();
        h.insert("typ", "JWT".into());
        let tokens: Vec<String> = (0..N)
            .map(|i| {
                let mut c = jwt_claims();
                c.insert("jti", format!("{i:016x}").into());
                jwt::sign(&sk, &h, &c).expect("sign")
            })
            .collect();
        let many = Verifier::new(policy, keys).with_cache(CacheConfig::default());
        let before = rss();
        for t in &tokens {
            assert!(many.verify_jwt(t).is_ok());
        }
        let after = rss();
        let cache = many.cache().expect("cache");
        assert_eq!(cache.len(), N);
        println!(
            "| {name} | {:.0} ns | {:.0} ns | {:.1}% | {} B | {} B |",
            hit,
            full,
            ratio * 100.0,
            cache.bytes() / N,
            after.saturating_sub(before) / N
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "hs256".into());
    if op == "paired-nwt" {
        return paired_nwt();
    }
    if op == "paired-cache" {
        return paired_cache(&args.collect::<Vec<_>>());
    }
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
        jwt_op if jwt_alg(jwt_op).is_some() => {
            let alg = jwt_alg(jwt_op).expect("a JWT algorithm");
            let (token, keys) = jwt_case(alg);
            if op.ends_with("-primitive") {
                let d = jws::decode(&token, usize::MAX).expect("decode");
                let (input, sig) = (d.signing_input.to_vec(), d.signature.clone());
                let key = keys.candidates(alg, None).expect("key")[0].clone();
                Box::new(move || key.verify(black_box(&input), black_box(&sig)).is_ok())
            } else if op.ends_with("-hit") {
                // A hit in the verified-credential cache.
                let v = Verifier::new(tessera_bench::jwt_policy(), keys)
                    .with_cache(tessera_core::CacheConfig::default());
                assert!(v.verify_jwt(&token).is_ok());
                Box::new(move || v.verify_jwt(black_box(&token)).is_ok())
            } else if op.ends_with("-read") {
                // Verification, then one custom claim read: the claims
                // object is built (see `ClaimSet`).
                let v = Verifier::new(tessera_bench::jwt_policy(), keys);
                Box::new(move || {
                    v.verify_jwt(black_box(&token))
                        .is_ok_and(|id| id.claims.get("role").is_some())
                })
            } else {
                let v = Verifier::new(tessera_bench::jwt_policy(), keys);
                Box::new(move || v.verify_jwt(black_box(&token)).is_ok())
            }
        }
        "nwt" | "nwt-first" | "nostr-event" | "nostr-peer" | "schnorr" | "schnorr-lifted" => {
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
                "nwt-first" => {
                    // The verification without the verifier's memo of
                    // lifted keys: what an NWT by a signer not seen before
                    // costs (the free function keeps nothing).
                    let policy = tessera_bench::nwt_policy();
                    Box::new(move || nwt_first(black_box(&credential), &policy))
                }
                "schnorr-lifted" => {
                    // The signature check alone, with the key already
                    // lifted (what the memo saves is the lift).
                    let key = event.pubkey;
                    let (id, sig) = (event.id, event.sig);
                    Box::new(move || key.verify_schnorr(black_box(&id), black_box(&sig)).is_ok())
                }
                "nostr-event" => Box::new(move || {
                    Event::from_json(black_box(json.as_bytes()))
                        .and_then(|e| e.verify())
                        .is_ok()
                }),
                "nostr-peer" => {
                    Box::new(move || tessera_bench::nostr_peer_nwt(black_box(&credential)).is_ok())
                }
                _ => {
                    let (pk, id, sig) = (*event.pubkey.as_bytes(), event.id, event.sig);
                    Box::new(move || {
                        secp256k1::XOnlyPublicKey::from_byte_array(*black_box(&pk)).is_ok_and(
                            |key| {
                                let sig = secp256k1::schnorr::Signature::from_byte_array(sig);
                                secp256k1::schnorr::verify(&sig, &id, &key).is_ok()
                            },
                        )
                    })
                }
            }
        }
        "eip191" | "siwe" | "thirdweb" => ethereum_op(&op),
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

/// The Ethereum operations, with a fixed key (ECDSA signing is
/// deterministic, so every process verifies the same signature).
fn ethereum_op(op: &str) -> Box<dyn FnMut() -> bool> {
    use tessera_bench::IAT;
    use tessera_core::internal::ethereum::siwe::{self, SiweExpectations};
    use tessera_core::internal::ethereum::{eip191, verify_siwe_message, EthereumSecretKey};
    let secret = EthereumSecretKey::from_bytes([0x42; 32]).expect("secret key");
    let address = secret.address();
    let (domain, nonce) = (tessera_bench::SIWE_DOMAIN, tessera_bench::SIWE_NONCE);
    match op {
        "eip191" | "siwe" => {
            let message = tessera_bench::siwe_message(address);
            let text = message.to_string();
            if op == "eip191" {
                let sig = eip191::sign(&secret, text.as_bytes());
                return Box::new(move || {
                    eip191::recover(black_box(text.as_bytes()), black_box(&sig))
                        .is_ok_and(|a| a == address)
                });
            }
            let sig_hex = format!(
                "0x{}",
                tessera_core::internal::encoding::hex_encode(&siwe::sign(&message, &secret))
            );
            let now = IAT + 60;
            Box::new(move || {
                let expect = SiweExpectations::new(domain, nonce, now);
                verify_siwe_message(black_box(&text), black_box(&sig_hex), &expect).is_ok()
            })
        }
        _ => {
            let (token, v) = tessera_bench::thirdweb_fixture(&secret);
            Box::new(move || v.verify_thirdweb(black_box(&token)).is_ok())
        }
    }
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
