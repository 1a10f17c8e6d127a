//! Verification benchmarks (issue 3): per algorithm, in one criterion run,
//!
//! - `tessera`: full verification, `tessera_core::jwt::verify` (size check,
//!   strict base64url and JSON, header rules, key selection, signature,
//!   typed claims, policy with `exp` required, system clock read each call);
//! - `primitive`: the bare signature check the verifier makes,
//!   `VerifyingKey::verify(signing_input, signature)`, with the token split
//!   and decoded outside the timed loop;
//! - `jsonwebtoken`: `jsonwebtoken::decode` (aws-lc-rs backend), where the
//!   algorithm is supported;
//! - `jwt-simple`: `verify_token` (pure-Rust backend), where supported.
//!
//! One key per algorithm is generated with tessera, exported (PEM, or the
//! raw secret for HMAC) and imported into tessera and each peer, so that all
//! of them verify the very same token with the same claims. Every peer
//! validates `exp` with a 60 s leeway, like tessera's default policy.
//!
//! Wallet credentials (issue 4), in the same run:
//!
//! - `NWT`: tessera's full verification of an `Authorization: Nostr` NWT
//!   (base64url, strict event parse, id recomputation, BIP-340, claims and
//!   policy) against the `nostr` crate's `Event::from_json` + `Event::verify`
//!   on the same event JSON (no base64, no claims); `primitive` is the bare
//!   BIP-340 check over the id;
//! - `NostrEvent`: `Event::verify` alone (id recomputation + BIP-340) on an
//!   already parsed event, tessera's against the `nostr` crate's;
//! - `Portal-ES256K`: `tessera_core::nostr::verify_portal` against
//!   jwt-simple's ES256K `verify_token` with the same `02 || x` key;
//!   `primitive` is tessera's low-S ES256K check;
//! - `EIP-191`: `tessera_core::ethereum::eip191::recover` (hash, recovery,
//!   address); `primitive` is libsecp256k1's `recover_ecdsa` on the digest.
//!
//! Run with `scripts/bench`; a criterion filter narrows it, for example
//! `cargo bench -p tessera-bench --bench verify -- 'ES256K/'`.

use criterion::{criterion_group, criterion_main, Criterion};
use serde::Deserialize;
use std::hint::black_box;
use std::time::Duration;
use tessera_core::encoding::b64url_decode;
use tessera_core::json::{Object, Value};
use tessera_core::keys::{KeySet, SigningKey, VerifyingKey};
use tessera_core::{jws, jwt, Algorithm, Clock, Policy, SystemClock};

/// 2026-01-01T00:00:00Z.
const IAT: i64 = 1_767_225_600;
/// 2100-01-01T00:00:00Z: far in the future, so every run verifies.
const EXP: i64 = 4_102_444_800;

/// The claims every token carries, as the peers deserialize them. The
/// fields are read by serde only.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct PeerClaims {
    sub: String,
    iat: u64,
    exp: u64,
    role: String,
    scope: String,
    tenant: u64,
    email: String,
}

/// The custom (non-registered) claims, for jwt-simple's `JWTClaims<_>`.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct CustomClaims {
    role: String,
    scope: String,
    tenant: u64,
    email: String,
}

fn claims() -> Object {
    let mut c = Object::new();
    c.insert("sub", "user-1234".into());
    c.insert("iat", IAT.into());
    c.insert("exp", EXP.into());
    c.insert("role", "admin".into());
    c.insert("scope", "read write".into());
    c.insert("tenant", 42i64.into());
    c.insert("email", "user@example.com".into());
    c
}

/// One algorithm's key, token and pre-decoded signature.
struct Case {
    alg: Algorithm,
    token: String,
    keys: KeySet,
    key: VerifyingKey,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
    /// SubjectPublicKeyInfo PEM (asymmetric algorithms).
    public_pem: Option<String>,
    /// The raw secret (HMAC).
    secret: Option<Vec<u8>>,
}

impl Case {
    fn new(alg: Algorithm) -> Case {
        let sk = SigningKey::generate(alg).expect("key generation");
        let mut header = Object::new();
        header.insert("typ", "JWT".into());
        let token = jwt::sign(&sk, &header, &claims()).expect("signing");

        // Import the exported key, as a deployment would.
        let (key, public_pem, secret) = if alg.is_hmac() {
            let jwk = sk.to_private_jwk().expect("JWK export");
            let Some(Value::String(k)) = jwk.get("k") else {
                panic!("an oct JWK has `k`")
            };
            let secret = b64url_decode(k.as_bytes()).expect("base64url `k`");
            let key = VerifyingKey::hmac(alg, &secret).expect("HMAC key");
            (key, None, Some(secret))
        } else {
            let pem = sk.to_public_pem().expect("PEM export");
            let key = VerifyingKey::from_pem(&pem, Some(alg)).expect("PEM import");
            (key, Some(pem), None)
        };

        let decoded = jws::decode(&token, usize::MAX).expect("decodes");
        let signing_input = decoded.signing_input.to_vec();
        let signature = decoded.signature.clone();
        Case {
            alg,
            keys: KeySet::single(key.clone()),
            key,
            signing_input,
            signature,
            public_pem,
            secret,
            token,
        }
    }

    fn pem(&self) -> &str {
        self.public_pem.as_deref().expect("public PEM")
    }

    fn secret(&self) -> &[u8] {
        self.secret.as_deref().expect("HMAC secret")
    }
}

/// A peer's full verification of a token.
type PeerVerify = Box<dyn Fn(&str) -> Result<(), String>>;

/// `jsonwebtoken::decode` with `Validation::new(alg)`: signature, `exp`
/// required and checked with 60 s leeway, claims deserialized.
fn jsonwebtoken_peer(c: &Case) -> Option<PeerVerify> {
    use jsonwebtoken::{decode, Algorithm as A, DecodingKey as K, Validation};
    let rsa = |c: &Case| K::from_rsa_pem(c.pem().as_bytes()).expect("jsonwebtoken RSA PEM");
    let ec = |c: &Case| K::from_ec_pem(c.pem().as_bytes()).expect("jsonwebtoken EC PEM");
    let (alg, key) = match c.alg {
        Algorithm::HS256 => (A::HS256, K::from_secret(c.secret())),
        Algorithm::HS384 => (A::HS384, K::from_secret(c.secret())),
        Algorithm::HS512 => (A::HS512, K::from_secret(c.secret())),
        Algorithm::RS256 => (A::RS256, rsa(c)),
        Algorithm::RS384 => (A::RS384, rsa(c)),
        Algorithm::RS512 => (A::RS512, rsa(c)),
        Algorithm::PS256 => (A::PS256, rsa(c)),
        Algorithm::PS384 => (A::PS384, rsa(c)),
        Algorithm::PS512 => (A::PS512, rsa(c)),
        Algorithm::ES256 => (A::ES256, ec(c)),
        Algorithm::ES384 => (A::ES384, ec(c)),
        Algorithm::EdDSA => (
            A::EdDSA,
            K::from_ed_pem(c.pem().as_bytes()).expect("jsonwebtoken Ed25519 PEM"),
        ),
        // Not implemented by jsonwebtoken.
        Algorithm::ES512 | Algorithm::ES256K => return None,
    };
    let validation = Validation::new(alg);
    Some(Box::new(move |token: &str| {
        decode::<PeerClaims>(token, &key, &validation)
            .map(drop)
            .map_err(|e| e.to_string())
    }))
}

/// jwt-simple's `verify_token` with a 60 s time tolerance (its default is
/// 15 minutes); `exp` checked, custom claims deserialized.
fn jwt_simple_peer(c: &Case) -> Option<PeerVerify> {
    use jwt_simple::prelude::{
        ECDSAP256PublicKeyLike, ECDSAP256kPublicKeyLike, ECDSAP384PublicKeyLike, ES256PublicKey,
        ES256kPublicKey, ES384PublicKey, Ed25519PublicKey, EdDSAPublicKeyLike, HS256Key, HS384Key,
        HS512Key, MACLike, PS256PublicKey, PS384PublicKey, PS512PublicKey, RS256PublicKey,
        RS384PublicKey, RS512PublicKey, RSAPublicKeyLike, VerificationOptions,
    };
    let options = VerificationOptions {
        time_tolerance: Some(jwt_simple::prelude::Duration::from_secs(60)),
        ..VerificationOptions::default()
    };
    macro_rules! peer {
        ($key:expr) => {{
            let key = $key;
            Some(Box::new(move |token: &str| {
                key.verify_token::<CustomClaims>(token, Some(options.clone()))
                    .map(drop)
                    .map_err(|e| e.to_string())
            }) as PeerVerify)
        }};
    }
    let pem = |c: &Case| c.pem().to_owned();
    match c.alg {
        Algorithm::HS256 => peer!(HS256Key::from_bytes(c.secret())),
        Algorithm::HS384 => peer!(HS384Key::from_bytes(c.secret())),
        Algorithm::HS512 => peer!(HS512Key::from_bytes(c.secret())),
        Algorithm::RS256 => peer!(RS256PublicKey::from_pem(&pem(c)).expect("RSA PEM")),
        Algorithm::RS384 => peer!(RS384PublicKey::from_pem(&pem(c)).expect("RSA PEM")),
        Algorithm::RS512 => peer!(RS512PublicKey::from_pem(&pem(c)).expect("RSA PEM")),
        Algorithm::PS256 => peer!(PS256PublicKey::from_pem(&pem(c)).expect("RSA PEM")),
        Algorithm::PS384 => peer!(PS384PublicKey::from_pem(&pem(c)).expect("RSA PEM")),
        Algorithm::PS512 => peer!(PS512PublicKey::from_pem(&pem(c)).expect("RSA PEM")),
        Algorithm::ES256 => peer!(ES256PublicKey::from_pem(&pem(c)).expect("P-256 PEM")),
        Algorithm::ES384 => peer!(ES384PublicKey::from_pem(&pem(c)).expect("P-384 PEM")),
        Algorithm::ES256K => peer!(ES256kPublicKey::from_pem(&pem(c)).expect("secp256k1 PEM")),
        Algorithm::EdDSA => peer!(Ed25519PublicKey::from_pem(&pem(c)).expect("Ed25519 PEM")),
        // Not implemented by jwt-simple.
        Algorithm::ES512 => None,
    }
}

fn bench_jwt(crit: &mut Criterion) {
    let policy = Policy::default();
    for alg in Algorithm::ALL {
        let case = Case::new(alg);
        let now = SystemClock.now();
        jwt::verify(&case.token, &case.keys, &policy, now)
            .unwrap_or_else(|e| panic!("tessera rejects its own {alg} token: {e}"));
        case.key
            .verify(&case.signing_input, &case.signature)
            .expect("primitive verifies");

        let mut g = crit.benchmark_group(alg.name());
        g.warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .sample_size(30);

        g.bench_function("tessera", |b| {
            b.iter(|| {
                jwt::verify(
                    black_box(&case.token),
                    &case.keys,
                    &policy,
                    SystemClock.now(),
                )
            })
        });
        g.bench_function("primitive", |b| {
            b.iter(|| {
                case.key
                    .verify(black_box(&case.signing_input), black_box(&case.signature))
            })
        });
        for (name, peer) in [
            ("jsonwebtoken", jsonwebtoken_peer(&case)),
            ("jwt-simple", jwt_simple_peer(&case)),
        ] {
            let Some(peer) = peer else { continue };
            peer(&case.token).unwrap_or_else(|e| panic!("{name} rejects the {alg} token: {e}"));
            g.bench_function(name, |b| b.iter(|| peer(black_box(&case.token))));
        }
        g.finish();
    }
}

/// Portal's payload, as jwt-simple deserializes it (`exp`/`nbf`/`iat` are
/// its registered claims).
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct PortalCustom {
    target_key: String,
}

fn group<'a>(
    crit: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = crit.benchmark_group(name);
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    g
}

fn bench_nostr(crit: &mut Criterion) {
    use tessera_core::nostr::{
        issue_nwt, nwt_authorization, verify_authorization_event, Event, Nip98Options,
        NostrSecretKey, NwtClaims,
    };
    let policy = Policy::default();
    let secret = NostrSecretKey::generate();
    let claims = NwtClaims {
        aud: vec!["https://api.example.com".to_owned()],
        exp: Some(EXP),
        custom: vec![
            ("role".to_owned(), "admin".to_owned()),
            ("scope".to_owned(), "read write".to_owned()),
        ],
        ..NwtClaims::default()
    };
    let event = issue_nwt(&secret, &claims, "Sign in to api.example.com", IAT).expect("NWT");
    let authorization = nwt_authorization(&event);
    let credential = authorization
        .strip_prefix("Nostr ")
        .expect("`Nostr ` scheme")
        .to_owned();
    let json = event.to_json();
    let options = Nip98Options::default();
    let nwt = |now| verify_authorization_event(&credential, &policy, &[], None, &options, now);
    nwt(SystemClock.now()).expect("tessera verifies its NWT");
    let peer = ::nostr::event::Event::from_json(json.as_bytes()).expect("nostr parses the event");
    peer.verify().expect("nostr verifies the event");
    let parsed = Event::from_json(json.as_bytes()).expect("tessera parses the event");

    let mut g = group(crit, "NWT");
    g.bench_function("tessera", |b| b.iter(|| nwt(black_box(SystemClock.now()))));
    g.bench_function("primitive", |b| {
        b.iter(|| {
            parsed
                .pubkey
                .verify_schnorr(black_box(&parsed.id), black_box(&parsed.sig))
        })
    });
    g.bench_function("nostr", |b| {
        b.iter(|| {
            ::nostr::event::Event::from_json(black_box(json.as_bytes()))
                .map_err(|e| e.to_string())
                .and_then(|e| e.verify().map_err(|e| e.to_string()))
        })
    });
    g.finish();

    let mut g = group(crit, "NostrEvent");
    g.bench_function("tessera", |b| b.iter(|| black_box(&parsed).verify()));
    g.bench_function("nostr", |b| b.iter(|| black_box(&peer).verify()));
    g.finish();
}

fn bench_portal(crit: &mut Criterion) {
    use jwt_simple::prelude::{ECDSAP256kPublicKeyLike, ES256kPublicKey, VerificationOptions};
    use tessera_core::jws::secp::es256k_verify;
    use tessera_core::nostr::{issue_portal, verify_portal, NostrSecretKey};
    let policy = Policy::default();
    let signer = NostrSecretKey::generate();
    let target = NostrSecretKey::generate().public_key();
    let token = issue_portal(&signer, &target, IAT, EXP - IAT).expect("Portal JWT");
    let signer = signer.public_key();
    verify_portal(&token, &signer, &policy, SystemClock.now()).expect("tessera verifies");

    let decoded = jws::decode(&token, usize::MAX).expect("decodes");
    let (signing_input, signature) = (decoded.signing_input.to_vec(), decoded.signature.clone());
    let point = signer.even_y_point();

    let mut compressed = vec![0x02];
    compressed.extend_from_slice(signer.as_bytes());
    let peer = ES256kPublicKey::from_bytes(&compressed).expect("jwt-simple key");
    let options = VerificationOptions {
        time_tolerance: Some(jwt_simple::prelude::Duration::from_secs(60)),
        ..VerificationOptions::default()
    };
    let peer_verify = |t: &str| {
        peer.verify_token::<PortalCustom>(t, Some(options.clone()))
            .map(drop)
            .map_err(|e| e.to_string())
    };
    peer_verify(&token).expect("jwt-simple verifies the Portal JWT");

    let mut g = group(crit, "Portal-ES256K");
    g.bench_function("tessera", |b| {
        b.iter(|| verify_portal(black_box(&token), &signer, &policy, SystemClock.now()))
    });
    g.bench_function("primitive", |b| {
        b.iter(|| es256k_verify(&point, black_box(&signing_input), black_box(&signature)))
    });
    g.bench_function("jwt-simple", |b| b.iter(|| peer_verify(black_box(&token))));
    g.finish();
}

fn bench_eip191(crit: &mut Criterion) {
    use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
    use secp256k1::{Message, SECP256K1};
    use tessera_core::ethereum::{eip191, EthereumSecretKey};
    let secret = EthereumSecretKey::generate();
    let message = "api.example.com wants you to sign in with your Ethereum account:\n\
        0x0000000000000000000000000000000000000000\n\nSign in to the API.\n\n\
        URI: https://api.example.com/login\nVersion: 1\nChain ID: 1\n\
        Nonce: 32891756abcdef01\nIssued At: 2026-01-01T00:00:00Z";
    let sig = eip191::sign(&secret, message.as_bytes());
    assert_eq!(
        eip191::recover(message.as_bytes(), &sig).expect("recovers"),
        secret.address()
    );
    let digest = eip191::personal_sign_hash(message.as_bytes());
    let recid = RecoveryId::try_from(i32::from(sig[64] - 27)).expect("v");
    let rsig = RecoverableSignature::from_compact(&sig[..64], recid).expect("signature");

    let mut g = group(crit, "EIP-191");
    g.bench_function("tessera", |b| {
        b.iter(|| eip191::recover(black_box(message.as_bytes()), black_box(&sig)))
    });
    g.bench_function("primitive", |b| {
        b.iter(|| SECP256K1.recover_ecdsa(Message::from_digest(black_box(digest)), &rsig))
    });
    g.finish();
}

criterion_group!(benches, bench_jwt, bench_nostr, bench_portal, bench_eip191);
criterion_main!(benches);
