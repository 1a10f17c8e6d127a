//! Property tests, per algorithm: sign-then-verify round-trips for
//! arbitrary claims, and any single flipped bit in any of the three
//! segments is refused.
//!
//! Keys are generated once per algorithm (RSA: 2048 bits) and shared by the
//! cases; each algorithm runs [`CASES`] cases.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use std::sync::OnceLock;
use tessera_core::internal::encoding::{b64url_decode, b64url_encode};
use tessera_core::{jwt, Algorithm, Policy};
use tessera_core::{KeySet, SigningKey};
use tessera_core::{Object, Value};

const CASES: u32 = 48;
const NOW: i64 = 1_800_000_000;

struct Keys {
    signer: SigningKey,
    set: KeySet,
}

fn keys(alg: Algorithm) -> &'static Keys {
    static ALL: OnceLock<Vec<(Algorithm, Keys)>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        Algorithm::ALL
            .iter()
            .map(|&a| {
                let signer = SigningKey::generate(a).unwrap().with_kid(format!("k-{a}"));
                let set = KeySet::single(signer.verifying_key().unwrap());
                (a, Keys { signer, set })
            })
            .collect()
    });
    &all.iter().find(|(a, _)| *a == alg).unwrap().1
}

/// Arbitrary claims: registered ones with arbitrary strings, an audience
/// list, times around `NOW`, and custom claims of every JSON kind.
#[derive(Debug, Clone)]
struct Claims {
    sub: String,
    iss: String,
    aud: Vec<String>,
    exp_in: i64,
    iat_ago: i64,
    custom: String,
    number: i64,
    flag: bool,
    list: Vec<String>,
}

fn claims() -> impl Strategy<Value = Claims> {
    (
        any::<String>(),
        "\\PC{0,40}",
        prop::collection::vec(any::<String>(), 0..4),
        1i64..10_000_000,
        0i64..1_000_000,
        any::<String>(),
        any::<i64>(),
        any::<bool>(),
        prop::collection::vec("[ -~]{0,12}", 0..5),
    )
        .prop_map(
            |(sub, iss, aud, exp_in, iat_ago, custom, number, flag, list)| Claims {
                sub,
                iss,
                aud,
                exp_in,
                iat_ago,
                custom,
                number,
                flag,
                list,
            },
        )
}

impl Claims {
    fn object(&self) -> Object {
        let mut o = Object::new();
        o.insert("sub", self.sub.as_str().into());
        o.insert("iss", self.iss.as_str().into());
        o.insert(
            "aud",
            Value::Array(self.aud.iter().map(|a| a.as_str().into()).collect()),
        );
        o.insert("exp", (NOW + self.exp_in).into());
        o.insert("iat", (NOW - self.iat_ago).into());
        o.insert("custom", self.custom.as_str().into());
        o.insert("n", self.number.into());
        o.insert("flag", self.flag.into());
        let mut nested = Object::new();
        nested.insert(
            "list",
            Value::Array(self.list.iter().map(|s| s.as_str().into()).collect()),
        );
        nested.insert("null", Value::Null);
        o.insert("nested", nested.into());
        o
    }
}

/// The claims carry an arbitrary audience list, which is not what is
/// tested here: any audience is accepted.
fn policy() -> Policy {
    Policy {
        accept_any_audience: true,
        ..Policy::default()
    }
}

/// Flips one bit of the *decoded* bytes of segment `seg` and re-encodes
/// canonically; `None` when the segment is empty.
fn flip_decoded(token: &str, seg: usize, bit: Index) -> Option<String> {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut bytes = b64url_decode(parts[seg].as_bytes()).unwrap();
    if bytes.is_empty() {
        return None;
    }
    let i = bit.index(bytes.len() * 8);
    bytes[i / 8] ^= 1 << (i % 8);
    parts[seg] = b64url_encode(&bytes);
    Some(parts.join("."))
}

/// Flips one bit of one *character* of segment `seg` of the token text
/// (which may leave the base64url alphabet, or only touch unused bits).
fn flip_text(token: &str, seg: usize, bit: Index) -> String {
    let start: usize = token.split('.').take(seg).map(|p| p.len() + 1).sum();
    let len = token.split('.').nth(seg).unwrap().len();
    let i = bit.index(len * 7); // ASCII: the low 7 bits
    let mut bytes = token.as_bytes().to_vec();
    bytes[start + i / 7] ^= 1 << (i % 7);
    String::from_utf8(bytes).unwrap()
}

fn run(alg: Algorithm) {
    let k = keys(alg);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        claims(),
        0usize..3,
        any::<Index>(),
        0usize..3,
        any::<Index>(),
    );
    runner
        .run(&strategy, |(c, seg_a, bit_a, seg_b, bit_b)| {
            let mut header = Object::new();
            header.insert("typ", "JWT".into());
            let token = jwt::sign(&k.signer, &header, &c.object()).unwrap();

            let id = jwt::verify(&token, &k.set, &policy(), NOW)
                .map_err(|e| TestCaseError::fail(format!("{alg}: {e}")))?;
            prop_assert_eq!(id.alg.name(), alg.name());
            prop_assert_eq!(&id.subject, &c.sub);
            prop_assert_eq!(id.issuer.as_deref(), Some(c.iss.as_str()));
            prop_assert_eq!(&id.audience, &c.aud);
            prop_assert_eq!(id.expires_at, Some(NOW + c.exp_in));
            prop_assert_eq!(id.kid.clone(), Some(format!("k-{alg}")));
            prop_assert_eq!(&id.claims, &c.object());

            if let Some(bad) = flip_decoded(&token, seg_a, bit_a) {
                prop_assert!(
                    jwt::verify(&bad, &k.set, &policy(), NOW).is_err(),
                    "{} accepted a flipped bit in decoded segment {}",
                    alg,
                    seg_a
                );
            }
            let bad = flip_text(&token, seg_b, bit_b);
            prop_assert!(
                jwt::verify(&bad, &k.set, &policy(), NOW).is_err(),
                "{} accepted a flipped bit in segment {} text",
                alg,
                seg_b
            );
            Ok(())
        })
        .unwrap();
}

/// Exhaustive on one token per algorithm: every bit of every decoded
/// signature byte, and every bit of the header and payload text.
fn every_bit(alg: Algorithm) {
    let k = keys(alg);
    let mut claims = Object::new();
    claims.insert("sub", "alice".into());
    claims.insert("exp", (NOW + 600).into());
    let token = jwt::sign(&k.signer, &Object::new(), &claims).unwrap();
    jwt::verify(&token, &k.set, &policy(), NOW).unwrap();
    let sig_bits = b64url_decode(token.rsplit('.').next().unwrap().as_bytes())
        .unwrap()
        .len()
        * 8;
    let mut tried = 0;
    for bit in 0..sig_bits {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut sig = b64url_decode(parts[2].as_bytes()).unwrap();
        sig[bit / 8] ^= 1 << (bit % 8);
        parts[2] = b64url_encode(&sig);
        assert!(
            jwt::verify(&parts.join("."), &k.set, &policy(), NOW).is_err(),
            "{alg}: signature bit {bit}"
        );
        tried += 1;
    }
    let signed_len = token.rfind('.').unwrap();
    for i in 0..signed_len * 7 {
        let mut bytes = token.as_bytes().to_vec();
        bytes[i / 7] ^= 1 << (i % 7);
        let bad = String::from_utf8(bytes).unwrap();
        assert!(
            jwt::verify(&bad, &k.set, &policy(), NOW).is_err(),
            "{alg}: text bit {i}"
        );
        tried += 1;
    }
    assert!(tried > 0);
}

macro_rules! per_alg {
    ($($name:ident => $alg:ident),* $(,)?) => {
        mod roundtrip {
            use super::*;
            $(#[test] fn $name() { run(Algorithm::$alg); })*
        }
        mod every_bit {
            use super::*;
            $(#[test] fn $name() { every_bit(Algorithm::$alg); })*
        }
        #[test]
        fn every_algorithm_is_covered() {
            let covered = [$(Algorithm::$alg),*];
            assert_eq!(covered.len(), Algorithm::ALL.len());
            for a in Algorithm::ALL {
                assert!(covered.contains(&a), "{a} has no property test");
            }
        }
    };
}

per_alg! {
    hs256 => HS256, hs384 => HS384, hs512 => HS512,
    rs256 => RS256, rs384 => RS384, rs512 => RS512,
    ps256 => PS256, ps384 => PS384, ps512 => PS512,
    es256 => ES256, es384 => ES384, es512 => ES512,
    es256k => ES256K, eddsa => EdDSA,
}
