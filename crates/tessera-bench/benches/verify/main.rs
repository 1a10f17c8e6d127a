//! Verification benchmarks, all in one criterion run
//! (`cargo bench -p tessera-bench --bench verify`, or `scripts/bench`,
//! which also prints the summary table; see BENCHMARKS.md).
//!
//! Per JWT algorithm, one group named after it:
//!
//! - `tessera`: full verification through the public API,
//!   [`Verifier::verify_jwt`] with the cache disabled (the default): size
//!   check, strict base64url and JSON, header rules, key selection, the
//!   signature, typed claims, a deployment's policy (audience, issuer and
//!   `exp` required: `tessera_bench::jwt_policy`), the system clock read
//!   on every call, and the `Arc<Identity>` it returns;
//! - `tessera-claim` (HS256, RS256, ES256): the same, then one custom
//!   claim read through `Identity::claims` (which builds the claims
//!   object): what the peers always do, as they deserialize every claim;
//! - `primitive`: the bare signature check on the same signing input and
//!   signature, straight from the backend: aws-lc-rs `hmac::verify` or
//!   `ParsedPublicKey::verify_sig` (which hash the input), or for ES256K
//!   SHA-256 then libsecp256k1's `verify_ecdsa`; the token is split and
//!   decoded outside the timed loop, so `tessera / primitive - 1` is
//!   tessera's whole overhead;
//! - `jsonwebtoken`: `jsonwebtoken::decode` (aws-lc-rs backend), where the
//!   algorithm is supported, audience, issuer and `exp` required;
//! - `jwt-simple`: `verify_token` with its **pure-Rust backend**, not its
//!   default (BoringSSL, which this workspace does not build; its default
//!   configuration is measured by `scripts/bench-default-peers`, see
//!   BENCHMARKS.md), where supported, audience and issuer required and
//!   `exp` checked present.
//!
//! One key per algorithm is generated with tessera, exported (PEM, or the
//! raw secret for HMAC) and imported into tessera, the primitive and each
//! peer, so that all of them verify the very same token with the same
//! claims. Every peer validates `exp` with a 60 s leeway, like tessera's
//! policy, requires the same audience and issuer, and deserializes the
//! claims.
//!
//! Wallet credentials, in the same run:
//!
//! - `NWT`: [`Verifier::verify_nostr`] on an `Authorization: Nostr` NWT
//!   (base64url, strict event parse, id recomputation, BIP-340, claims and
//!   policy) against the `nostr` crate with the same checks
//!   (`tessera_bench::nostr_peer_nwt`: base64url, `Event::from_json`,
//!   `Event::verify`, kind, `exp`, `aud`); `primitive` is BIP-340
//!   `Verify` with libsecp256k1 (lifting the x-only key, then the signature
//!   check over the stated id), the primitive of `tessera-first-key`;
//!   `primitive-lifted` the signature check on the key already lifted, the
//!   primitive of `tessera` (whose memo holds the lifted key);
//!   `tessera-first-key` is the same without the verifier's memo of lifted
//!   signer keys (a signer's first NWT: the free function
//!   `nostr::verify_authorization_event`, which keeps nothing); `tessera`
//!   sees the same signer again, as a service does;
//! - `NostrEvent`: like for like, `Event::from_json` + `Event::verify` (strict
//!   parse, id recomputation, BIP-340), tessera's against the `nostr`
//!   crate's; `primitive` as for `NWT`;
//! - `Portal-ES256K`: [`Verifier::verify_portal`] (the signer's x-only key
//!   trusted) against jwt-simple's ES256K `verify_token` with the same
//!   `02 || x` key; `primitive` is SHA-256 + libsecp256k1 `verify_ecdsa`;
//! - `EIP-191`: `ethereum::eip191::recover` on a SIWE-sized message (hash,
//!   recovery, address); `primitive` is libsecp256k1's `recover_ecdsa` on
//!   the precomputed digest (so the overhead includes both Keccak-256s);
//! - `Thirdweb`: [`Verifier::verify_thirdweb`] (the admin trusted);
//!   `primitive` as for EIP-191, on the payload's digest;
//! - `SIWE`: `ethereum::verify_siwe_message` (strict EIP-4361 parse, domain,
//!   nonce and time checks, re-serialisation, EIP-191 recovery, address
//!   match); `primitive` as for EIP-191.
//!
//! The verified-credential cache:
//!
//! - `Cache` (ES256) and `Cache-HS256`: `hit` is [`Verifier::verify_jwt`]
//!   with the cache enabled on the token it has already verified (hash,
//!   shard read lock, whole text compare, time re-check against the
//!   clock); `signature` is the bare signature check on the same token and
//!   `uncached` the verification with the cache off, for the ratios.
//!
//! A criterion filter narrows a run, for example
//! `cargo bench -p tessera-bench --bench verify -- 'ES256K/'`.

use criterion::{criterion_group, criterion_main, Criterion};
use serde::Deserialize;
use std::hint::black_box;
use std::time::Duration;
use tessera_core::internal::encoding::{b64url_decode, hex_encode};
use tessera_core::CacheConfig;
use tessera_core::{internal::jws, jwt, Algorithm, Clock, FormatHint, Policy, Verifier};
use tessera_core::{KeySet, SigningKey, VerifyingKey};
use tessera_core::{Object, Value};

mod primitive;
use primitive::{es256k_primitive, Primitive};

use tessera_bench::{
    jwt_claims as claims, nwt_credential, nwt_event, PeerClaims, PeerCustomClaims, EXP, IAT,
    JWT_AUDIENCE, JWT_ISSUER,
};

/// One algorithm's key, token and pre-decoded signature.
struct Case {
    alg: Algorithm,
    token: String,
    keys: KeySet,
    primitive: Primitive,
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
        let primitive = Primitive::new(alg, public_pem.as_deref(), secret.as_deref());
        Case {
            alg,
            keys: KeySet::single(key),
            primitive,
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
    use jsonwebtoken::{decode, Algorithm as A, DecodingKey as K};
    let rsa = |c: &Case| K::from_rsa_pem(c.pem().as_bytes()).expect("jsonwebtoken RSA PEM");
    let ec = |c: &Case| K::from_ec_pem(c.pem().as_bytes()).expect("jsonwebtoken EC PEM");
    let (alg, key) = match c.alg {
        Algorithm::HS256 => (
            A::HS256,
            K::from_secret(c.secret()).expect("jsonwebtoken HMAC key"),
        ),
        Algorithm::HS384 => (
            A::HS384,
            K::from_secret(c.secret()).expect("jsonwebtoken HMAC key"),
        ),
        Algorithm::HS512 => (
            A::HS512,
            K::from_secret(c.secret()).expect("jsonwebtoken HMAC key"),
        ),
        // Wallet schemes: not JOSE algorithms, never a JWT case.
        Algorithm::Bip340 | Algorithm::Eip191 => return None,
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
    let validation = jsonwebtoken_validation(alg);
    Some(Box::new(move |token: &str| {
        decode::<PeerClaims>(token, &key, &validation)
            .map(drop)
            .map_err(|e| e.to_string())
    }))
}

/// `Validation::new(alg)` (`exp` required and checked with 60 s leeway)
/// with the deployment's audience and issuer, both required.
fn jsonwebtoken_validation(alg: jsonwebtoken::Algorithm) -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(alg);
    v.set_audience(&[JWT_AUDIENCE]);
    v.set_issuer(&[JWT_ISSUER]);
    v.set_required_spec_claims(&["exp", "aud", "iss"]);
    v
}

/// jwt-simple's options for the deployment policy: the audience and the
/// issuer required, a 60 s time tolerance (its default is 15 minutes).
/// jwt-simple has no option requiring `exp`: its closures check that the
/// verified claims have one.
fn jwt_simple_options() -> jwt_simple::prelude::VerificationOptions {
    jwt_simple::prelude::VerificationOptions {
        time_tolerance: Some(jwt_simple::prelude::Duration::from_secs(60)),
        allowed_audiences: Some([JWT_AUDIENCE.to_owned()].into()),
        allowed_issuers: Some([JWT_ISSUER.to_owned()].into()),
        ..Default::default()
    }
}

/// jwt-simple's `verify_token` under [`jwt_simple_options`], `exp`
/// required, custom claims deserialized.
fn jwt_simple_peer(c: &Case) -> Option<PeerVerify> {
    use jwt_simple::prelude::{
        ECDSAP256PublicKeyLike, ECDSAP256kPublicKeyLike, ECDSAP384PublicKeyLike, ES256PublicKey,
        ES256kPublicKey, ES384PublicKey, Ed25519PublicKey, EdDSAPublicKeyLike, HS256Key, HS384Key,
        HS512Key, MACLike, PS256PublicKey, PS384PublicKey, PS512PublicKey, RS256PublicKey,
        RS384PublicKey, RS512PublicKey, RSAPublicKeyLike,
    };
    let options = jwt_simple_options();
    macro_rules! peer {
        ($key:expr) => {{
            let key = $key;
            Some(Box::new(move |token: &str| {
                let claims = key
                    .verify_token::<PeerCustomClaims>(token, Some(options.clone()))
                    .map_err(|e| e.to_string())?;
                claims
                    .expires_at
                    .map(drop)
                    .ok_or_else(|| "no `exp`".to_owned())
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
        // Wallet schemes: not JOSE algorithms, never a JWT case.
        Algorithm::Bip340 | Algorithm::Eip191 => None,
    }
}

fn bench_jwt(crit: &mut Criterion) {
    for alg in Algorithm::ALL {
        let case = Case::new(alg);
        // The cache is off unless `with_cache` is called.
        let verifier = Verifier::new(tessera_bench::jwt_policy(), case.keys.clone());
        assert!(verifier.cache().is_none());
        verifier
            .verify_jwt(&case.token)
            .unwrap_or_else(|e| panic!("tessera rejects its own {alg} token: {e}"));
        assert!(
            case.primitive.verify(&case.signing_input, &case.signature),
            "the {alg} primitive verifies"
        );

        let mut g = crit.benchmark_group(alg.name());
        g.bench_function("tessera", |b| {
            b.iter(|| verifier.verify_jwt(black_box(&case.token)))
        });
        if matches!(alg, Algorithm::HS256 | Algorithm::RS256 | Algorithm::ES256) {
            // Verification, then one custom claim read (which builds the
            // claims object): what the peers' rows always include, as
            // they deserialize every claim up front.
            g.bench_function("tessera-claim", |b| {
                b.iter(|| {
                    verifier
                        .verify_jwt(black_box(&case.token))
                        .is_ok_and(|id| id.claims.get("role").is_some())
                })
            });
        }
        g.bench_function("primitive", |b| {
            b.iter(|| {
                case.primitive
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

        if matches!(alg, Algorithm::ES256 | Algorithm::HS256) {
            bench_cache(crit, &case);
        }
    }
}

/// Issue 8: a hit in the verified-credential cache against the signature
/// check it saves.
fn bench_cache(crit: &mut Criterion, case: &Case) {
    let verifier = Verifier::new(tessera_bench::jwt_policy(), case.keys.clone())
        .with_cache(CacheConfig::default());
    let first = verifier.verify_jwt(&case.token).expect("verifies");
    assert_eq!(verifier.cache().map(|c| c.len()), Some(1));
    let again = verifier.verify_jwt(&case.token).expect("hit");
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "the second call hits"
    );

    // The same verification with the cache off, for the ratio.
    let uncached = Verifier::new(tessera_bench::jwt_policy(), case.keys.clone());
    let group = match case.alg {
        Algorithm::ES256 => "Cache".to_owned(),
        other => format!("Cache-{other}"),
    };
    let mut g = crit.benchmark_group(group);
    g.bench_function("hit", |b| {
        b.iter(|| verifier.verify_jwt(black_box(&case.token)))
    });
    g.bench_function("signature", |b| {
        b.iter(|| {
            case.primitive
                .verify(black_box(&case.signing_input), black_box(&case.signature))
        })
    });
    g.bench_function("uncached", |b| {
        b.iter(|| uncached.verify_jwt(black_box(&case.token)))
    });
    g.finish();
}

/// Portal's payload, as jwt-simple deserializes it (`exp`/`nbf`/`iat` are
/// its registered claims).
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct PortalCustom {
    target_key: String,
}

fn bench_nostr(crit: &mut Criterion) {
    use tessera_core::internal::nostr::{Event, NostrSecretKey};
    let event = nwt_event(&NostrSecretKey::generate());
    let credential = nwt_credential(&event);
    let json = event.to_json();
    let verifier = Verifier::new(tessera_bench::nwt_policy(), KeySet::new());
    let nwt = |c: &str| verifier.verify_nostr(c, None, FormatHint::Nwt);
    nwt(&credential).expect("tessera verifies its NWT");
    // NWT: the nostr crate with the same checks (kind, exp, aud).
    let peer_nwt = || tessera_bench::nostr_peer_nwt(black_box(&credential));
    peer_nwt().expect("nostr verifies the NWT");
    let peer = || {
        ::nostr::event::Event::from_json(black_box(json.as_bytes()))
            .map_err(|e| e.to_string())
            .and_then(|e| e.verify().map_err(|e| e.to_string()))
    };
    peer().expect("nostr verifies the event");
    let own = || Event::from_json(black_box(json.as_bytes())).and_then(|e| e.verify());
    own().expect("tessera verifies the event");

    // BIP-340 `Verify(pk, m, sig)` as specified: lifting the x-only key
    // (a field square root) and the signature check, on the stated id.
    let (pk, id, sig) = (*event.pubkey.as_bytes(), event.id, event.sig);
    let schnorr = |pk: &[u8; 32], id: &[u8; 32], sig: &[u8; 64]| {
        secp256k1::XOnlyPublicKey::from_byte_array(*pk).is_ok_and(|key| {
            let sig = secp256k1::schnorr::Signature::from_byte_array(*sig);
            secp256k1::schnorr::verify(&sig, id, &key).is_ok()
        })
    };
    assert!(schnorr(&pk, &id, &sig));
    // The signature check alone, the key already lifted: the primitive of
    // a signer seen before (what the memo saves is the lift).
    let lifted = event.pubkey;
    assert!(lifted.verify_schnorr(&id, &sig).is_ok());

    // The same verification without the verifier's memo of lifted keys:
    // what a signer's first NWT costs (the free function keeps nothing).
    let policy = tessera_bench::nwt_policy();
    let cold = |c: &str| {
        tessera_core::internal::nostr::verify_authorization_event(
            c,
            &policy,
            &[],
            None,
            &tessera_core::Nip98Options::default(),
            tessera_core::SystemClock.now(),
        )
    };
    cold(&credential).expect("tessera verifies its NWT without the memo");

    let mut g = crit.benchmark_group("NWT");
    g.bench_function("tessera", |b| b.iter(|| nwt(black_box(&credential))));
    g.bench_function("tessera-first-key", |b| {
        b.iter(|| cold(black_box(&credential)))
    });
    g.bench_function("primitive", |b| {
        b.iter(|| schnorr(black_box(&pk), black_box(&id), black_box(&sig)))
    });
    g.bench_function("primitive-lifted", |b| {
        b.iter(|| lifted.verify_schnorr(black_box(&id), black_box(&sig)))
    });
    g.bench_function("nostr", |b| b.iter(peer_nwt));
    g.finish();

    // Like for like: parse the event JSON and verify it (id, signature).
    let mut g = crit.benchmark_group("NostrEvent");
    g.bench_function("tessera", |b| b.iter(own));
    g.bench_function("primitive", |b| {
        b.iter(|| schnorr(black_box(&pk), black_box(&id), black_box(&sig)))
    });
    g.bench_function("nostr", |b| b.iter(peer));
    g.finish();
}

fn bench_portal(crit: &mut Criterion) {
    use jwt_simple::prelude::{ECDSAP256kPublicKeyLike, ES256kPublicKey, VerificationOptions};
    use tessera_core::internal::nostr::{issue_portal, NostrSecretKey};
    let signer = NostrSecretKey::generate();
    let target = NostrSecretKey::generate().public_key();
    let token = issue_portal(&signer, &target, IAT, EXP - IAT).expect("Portal JWT");
    let signer = signer.public_key();
    let verifier = Verifier::new(Policy::default(), KeySet::new()).with_nostr_keys(vec![signer]);
    verifier.verify_portal(&token).expect("tessera verifies");

    let decoded = jws::decode(&token, usize::MAX).expect("decodes");
    let (signing_input, signature) = (decoded.signing_input.to_vec(), decoded.signature.clone());
    let point = signer.even_y_point();
    assert!(es256k_primitive(&point, &signing_input, &signature));

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

    let mut g = crit.benchmark_group("Portal-ES256K");
    g.bench_function("tessera", |b| {
        b.iter(|| verifier.verify_portal(black_box(&token)))
    });
    g.bench_function("primitive", |b| {
        b.iter(|| es256k_primitive(&point, black_box(&signing_input), black_box(&signature)))
    });
    g.bench_function("jwt-simple", |b| b.iter(|| peer_verify(black_box(&token))));
    g.finish();
}

/// libsecp256k1's public-key recovery from a 65-byte `r||s||v` signature
/// over a precomputed digest: the curve operation every EIP-191 check makes.
fn recover_primitive(
    digest: [u8; 32],
    sig65: &[u8],
) -> impl Fn([u8; 32]) -> Option<secp256k1::PublicKey> {
    use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
    let recid = RecoveryId::try_from(i32::from(sig65[64] % 27)).expect("v");
    let rsig = RecoverableSignature::from_compact(&sig65[..64], recid).expect("signature");
    assert!(rsig
        .recover_ecdsa(secp256k1::Message::from_digest(digest))
        .is_ok());
    move |d| rsig.recover_ecdsa(secp256k1::Message::from_digest(d)).ok()
}

fn bench_ethereum(crit: &mut Criterion) {
    use tessera_core::internal::ethereum::siwe::{self, SiweExpectations};
    use tessera_core::internal::ethereum::{eip191, verify_siwe_message, EthereumSecretKey};
    let secret = EthereumSecretKey::generate();
    let address = secret.address();
    let (domain, nonce) = (tessera_bench::SIWE_DOMAIN, tessera_bench::SIWE_NONCE);
    let message = tessera_bench::siwe_message(address);
    let text = message.to_string();

    // EIP-191 personal_sign recovery, on the SIWE text.
    let sig = eip191::sign(&secret, text.as_bytes());
    assert_eq!(
        eip191::recover(text.as_bytes(), &sig).expect("recovers"),
        address
    );
    let digest = eip191::personal_sign_hash(text.as_bytes());
    let recover = recover_primitive(digest, &sig);
    let mut g = crit.benchmark_group("EIP-191");
    g.bench_function("tessera", |b| {
        b.iter(|| eip191::recover(black_box(text.as_bytes()), black_box(&sig)))
    });
    g.bench_function("primitive", |b| b.iter(|| recover(black_box(digest))));
    g.finish();

    // SIWE: parse, expectations, re-serialisation, recovery, address match.
    let sig_hex = format!("0x{}", hex_encode(&siwe::sign(&message, &secret)));
    let now = tessera_core::SystemClock;
    let siwe_verify = |t: &str, s: &str| {
        use tessera_core::Clock;
        verify_siwe_message(t, s, &SiweExpectations::new(domain, nonce, now.now()))
    };
    siwe_verify(&text, &sig_hex).expect("tessera verifies its SIWE message");
    let mut g = crit.benchmark_group("SIWE");
    g.bench_function("tessera", |b| {
        b.iter(|| siwe_verify(black_box(&text), black_box(&sig_hex)))
    });
    g.bench_function("primitive", |b| b.iter(|| recover(black_box(digest))));
    g.finish();

    // thirdweb-format JWT: EIP-191 by the admin over the payload bytes.
    let (token, verifier) = tessera_bench::thirdweb_fixture(&secret);
    verifier.verify_thirdweb(&token).expect("tessera verifies");
    let payload = b64url_decode(token.split('.').nth(1).expect("payload").as_bytes())
        .expect("base64url payload");
    let sig_segment = b64url_decode(token.rsplit('.').next().expect("sig").as_bytes())
        .expect("base64url signature");
    let sig_text = std::str::from_utf8(&sig_segment).expect("ASCII");
    let sig = eip191::parse_signature_hex(sig_text).expect("0x + hex");
    let digest = eip191::personal_sign_hash(&payload);
    let recover = recover_primitive(digest, &sig);
    let mut g = crit.benchmark_group("Thirdweb");
    g.bench_function("tessera", |b| {
        b.iter(|| verifier.verify_thirdweb(black_box(&token)))
    });
    g.bench_function("primitive", |b| b.iter(|| recover(black_box(digest))));
    g.finish();
}

/// Short runs (the machine is shared; a full run takes a few minutes).
/// Command-line options (`--warm-up-time`, `--measurement-time`, …) still
/// override these.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_jwt, bench_nostr, bench_portal, bench_ethereum
}
criterion_main!(benches);
