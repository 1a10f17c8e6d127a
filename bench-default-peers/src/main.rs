//! tessera against jwt-simple 0.15 in its **default configuration**
//! (default features: RSA through BoringSSL, the `boring` crate), in
//! paired runs as `crates/tessera-bench/examples/instructions.rs`'s
//! `paired-peer` times tessera against jsonwebtoken. Run it with
//! `scripts/bench-default-peers`; see BENCHMARKS.md, "JWTs: jwt-simple".
//!
//! ```sh
//! taskset -c 1 target/release/default-peers paired-jwt-simple RS256 PS256 ES256 ES256K EdDSA HS256
//! ```
//!
//! For each algorithm: tessera's `Verifier::verify_jwt` under the
//! deployment policy (`tessera_bench::jwt_policy`) against jwt-simple's
//! `verify_token` on the same token (`tessera_bench::paired::jwt_case`,
//! the key shared with `instructions` through the temporary directory),
//! configured alike: `allowed_audiences`, `allowed_issuers`, a 60 s time
//! tolerance, the custom claims deserialized and the result checked for
//! an `exp` (jwt-simple has no option requiring one). The two alternate
//! in blocks of about 2 ms, timed in the thread's CPU time
//! (`tessera_bench::paired::alternate`); printed is the median of the 301
//! per-round ratios jwt-simple / tessera (above 1.00x, tessera is faster).
//!
//! Built with `--no-default-features --features pure-rust`, the same
//! program measures jwt-simple's `pure-rust` backend instead (what the
//! main workspace's criterion benchmarks use); the first line it prints
//! names the backend.
//!
//! This is its own workspace (as `fuzz/` is) so that neither the main
//! workspace nor CI ever builds BoringSSL.

use std::hint::black_box;

use jwt_simple::prelude::{
    Duration, ECDSAP256PublicKeyLike, ECDSAP256kPublicKeyLike, ES256PublicKey, ES256kPublicKey,
    Ed25519PublicKey, EdDSAPublicKeyLike, HS256Key, MACLike, PS256PublicKey, RS256PublicKey,
    RSAPublicKeyLike, VerificationOptions,
};
use tessera_bench::paired::{algorithm, alternate, jwt_case, signing_key, HMAC_SECRET};
use tessera_bench::{jwt_policy, PeerCustomClaims, JWT_AUDIENCE, JWT_ISSUER};
use tessera_core::{jwt, Algorithm, Object, Value, Verifier};

/// The jwt-simple backend this binary was built with.
const BACKEND: &str = if cfg!(feature = "pure-rust") {
    "jwt-simple 0.15, pure-Rust backend (`pure-rust` feature)"
} else {
    "jwt-simple 0.15, default features (BoringSSL through the `boring` crate)"
};

/// jwt-simple's verification, true when the token verifies.
type Peer = Box<dyn Fn(&str) -> bool>;

/// jwt-simple configured as a deployment is (and as the criterion
/// benchmarks configure it): audience and issuer required, a 60 s time
/// tolerance (its default is 15 minutes).
fn options() -> VerificationOptions {
    VerificationOptions {
        time_tolerance: Some(Duration::from_secs(60)),
        allowed_audiences: Some([JWT_AUDIENCE.to_owned()].into()),
        allowed_issuers: Some([JWT_ISSUER.to_owned()].into()),
        ..Default::default()
    }
}

/// jwt-simple's `verify_token` for `alg` with the key of
/// [`signing_key`], under [`options`], the custom claims deserialized and
/// `exp` required; `None` for an algorithm this program does not cover.
fn jwt_simple_peer(alg: Algorithm) -> Option<Peer> {
    let options = options();
    macro_rules! peer {
        ($key:expr) => {{
            let key = $key;
            Some(Box::new(move |token: &str| {
                key.verify_token::<PeerCustomClaims>(token, Some(options.clone()))
                    .is_ok_and(|claims| claims.expires_at.is_some())
            }) as Peer)
        }};
    }
    let pem = || signing_key(alg).to_public_pem().expect("public PEM");
    match alg {
        Algorithm::HS256 => peer!(HS256Key::from_bytes(&HMAC_SECRET)),
        Algorithm::RS256 => peer!(RS256PublicKey::from_pem(&pem()).expect("RSA PEM")),
        Algorithm::PS256 => peer!(PS256PublicKey::from_pem(&pem()).expect("RSA PEM")),
        Algorithm::ES256 => peer!(ES256PublicKey::from_pem(&pem()).expect("P-256 PEM")),
        Algorithm::ES256K => peer!(ES256kPublicKey::from_pem(&pem()).expect("secp256k1 PEM")),
        Algorithm::EdDSA => peer!(Ed25519PublicKey::from_pem(&pem()).expect("Ed25519 PEM")),
        _ => None,
    }
}

/// Both contestants refuse what the deployment policy refuses: the
/// benchmarked claims with another audience, another issuer, no `exp`,
/// an `exp` two minutes past (beyond the 60 s leeway). Checked before
/// timing, so that the two are known to do the same checks.
fn refused_alike(alg: Algorithm, v: &Verifier, peer: &Peer) {
    let sk = signing_key(alg);
    let mut h = Object::new();
    h.insert("typ", "JWT".into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    let cases: [(&str, &str, Option<Value>); 4] = [
        (
            "another audience",
            "aud",
            Some("https://other.example.com".into()),
        ),
        (
            "another issuer",
            "iss",
            Some("https://other.example.com".into()),
        ),
        ("no exp", "exp", None),
        ("expired", "exp", Some((now - 120).into())),
    ];
    for (what, claim, value) in cases {
        let mut c = tessera_bench::jwt_claims();
        match value {
            Some(value) => c.insert(claim, value),
            None => drop(c.remove(claim)),
        }
        let token = jwt::sign(&sk, &h, &c).expect("sign");
        assert!(v.verify_jwt(&token).is_err(), "tessera refuses {what}");
        assert!(!peer(&token), "jwt-simple refuses {what}");
    }
}

/// `paired-jwt-simple ALG...`: per algorithm, tessera against jwt-simple
/// in alternating blocks; prints a Markdown table.
fn paired_jwt_simple(algs: &[String]) {
    println!("peer: {BACKEND}");
    println!("| alg | tessera | jwt-simple | jwt-simple / tessera (median of 301 paired rounds) |");
    println!("|---|---|---|---|");
    for name in algs {
        let alg = algorithm(name);
        let peer = jwt_simple_peer(alg).unwrap_or_else(|| {
            panic!("paired-jwt-simple covers HS256 RS256 PS256 ES256 ES256K EdDSA, not {name}")
        });
        let (token, keys) = jwt_case(alg);
        let v = Verifier::new(jwt_policy(), keys);
        assert!(
            v.verify_jwt(&token).is_ok(),
            "tessera verifies the {name} token"
        );
        assert!(peer(&token), "jwt-simple verifies the {name} token");
        refused_alike(alg, &v, &peer);
        let (ours, theirs, ratio) = alternate(
            || v.verify_jwt(black_box(&token)).is_ok(),
            || peer(black_box(&token)),
        );
        println!(
            "| {name} | {:.2} µs | {:.2} µs | {:.2}x |",
            ours / 1e3,
            theirs / 1e3,
            1.0 / ratio
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((mode, algs)) if mode == "paired-jwt-simple" && !algs.is_empty() => {
            paired_jwt_simple(algs)
        }
        _ => {
            eprintln!("usage: default-peers paired-jwt-simple ALG... (HS256 RS256 PS256 ES256 ES256K EdDSA)");
            std::process::exit(2);
        }
    }
}
