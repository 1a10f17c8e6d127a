//! Unit tests of verifier.rs.

use super::*;
use crate::clock::FixedClock;
use crate::json::Object;
use crate::keys::{SigningKey, VerifyingKey};
use crate::{Algorithm, ErrorCode};

struct StepClock(std::sync::atomic::AtomicI64);
impl Clock for StepClock {
    fn now(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn signed(exp: i64) -> (String, KeySet) {
    let key = SigningKey::hmac(Algorithm::HS256, &[1u8; 32]).unwrap();
    let mut claims = Object::new();
    claims.insert("sub", "alice".into());
    claims.insert("exp", exp.into());
    let t = jwt::sign(&key, &Object::new(), &claims).unwrap();
    (
        t,
        KeySet::single(VerifyingKey::hmac(Algorithm::HS256, &[1u8; 32]).unwrap()),
    )
}

#[test]
fn cache_hit_rechecks_expiry_against_the_clock() {
    let (t, keys) = signed(1_000);
    let clock = Arc::new(StepClock(std::sync::atomic::AtomicI64::new(900)));
    let v = Verifier::new(
        Policy {
            leeway: 0,
            ..Policy::default()
        },
        keys,
    )
    .with_clock(clock.clone())
    .with_cache(CacheConfig::default());
    assert_eq!(v.verify_jwt(&t).unwrap().subject, "alice");
    assert_eq!(v.cache().unwrap().len(), 1);
    assert_eq!(v.verify_jwt(&t).unwrap().subject, "alice");
    clock.0.store(1_000, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(v.verify_jwt(&t).unwrap_err().code(), ErrorCode::Expired);
}

#[test]
fn invalid_credentials_are_never_cached() {
    let (t, keys) = signed(1_000);
    let v = Verifier::new(Policy::default(), keys)
        .with_clock(Arc::new(FixedClock(0)))
        .with_cache(CacheConfig::default());
    let forged = format!("{}x", &t[..t.len() - 1]);
    for _ in 0..3 {
        assert!(v.verify_jwt(&forged).is_err());
    }
    assert_eq!(v.cache().unwrap().len(), 0);
    // A different credential never shares the valid one's entry.
    v.verify_jwt(&t).unwrap();
    assert!(v.verify_jwt(&forged).is_err());
}

#[test]
fn the_header_memo_decides_nothing() {
    use crate::encoding::b64url_encode;
    let (good, keys) = signed(1_000);
    let v = Verifier::new(Policy::default(), keys.clone()).with_clock(Arc::new(FixedClock(0)));
    assert_eq!(v.verify_jwt(&good).unwrap().subject, "alice");
    assert_eq!(v.header_memo.len(), 1);
    // Same header text, another payload, the old signature: refused as
    // a full verification refuses it.
    let (h, rest) = good.split_once('.').unwrap();
    let sig = rest.rsplit_once('.').unwrap().1;
    let forged = format!(
        "{h}.{}.{sig}",
        b64url_encode(br#"{"sub":"mallory","exp":1000}"#)
    );
    let full = jwt::verify(&forged, &keys, &Policy::default(), 0).unwrap_err();
    assert_eq!(full.code(), ErrorCode::BadSignature);
    assert_eq!(v.verify_jwt(&forged).unwrap_err().code(), full.code());
    // A header that fails is refused each time with its own code and
    // never remembered.
    let crit = b64url_encode(br#"{"alg":"HS256","crit":["exp"]}"#);
    let with_crit = format!("{crit}.{}", rest);
    for _ in 0..2 {
        assert_eq!(
            v.verify_jwt(&with_crit).unwrap_err().code(),
            ErrorCode::CritUnsupported
        );
    }
    assert_eq!(v.header_memo.len(), 1);
    // Distinct valid headers: bounded.
    for i in 0..200 {
        let h = b64url_encode(format!(r#"{{"alg":"HS256","kid":"k{i}"}}"#).as_bytes());
        let _ = v.verify_jwt(&format!("{h}.{rest}"));
        assert!(v.header_memo.len() <= HEADER_MEMO_CAPACITY);
    }
}

#[test]
fn a_cached_portal_token_is_not_a_cached_jwt() {
    use crate::nostr::{issue_portal, NostrSecretKey};
    let signer = NostrSecretKey::generate();
    let target = NostrSecretKey::generate().public_key();
    let t = issue_portal(&signer, &target, 1_000, 3_600).unwrap();
    let v = Verifier::new(Policy::default(), KeySet::new())
        .with_nostr_keys(vec![signer.public_key()])
        .with_clock(Arc::new(FixedClock(1_100)))
        .with_cache(CacheConfig::default());
    assert_eq!(v.verify_portal(&t).unwrap().format, Format::Portal);
    assert_eq!(v.cache().unwrap().len(), 1);
    // As a standard JWT the same text has no key here: a full
    // verification refuses it, and so must the cache.
    let full = jwt::verify(&t, &KeySet::new(), &Policy::default(), 1_100).unwrap_err();
    let via_cache = v.verify_jwt(&t).unwrap_err();
    assert_eq!(via_cache.code(), full.code());
    assert_eq!(via_cache.code(), ErrorCode::UnknownKey);
    // A clone that trusts other keys does not answer from the original's
    // cache.
    let other = v
        .clone()
        .with_nostr_keys(vec![NostrSecretKey::generate().public_key()]);
    assert_eq!(other.cache().unwrap().len(), 0);
    assert_eq!(
        other.verify_portal(&t).unwrap_err().code(),
        ErrorCode::BadSignature
    );
    // Plain clones still share it.
    assert_eq!(v.clone().cache().unwrap().len(), 1);
}

/// Issue 17, finding 3: an entry counts what it holds. An NWT whose
/// tags became claims costs its identity's claim object, not the
/// credential text plus a constant (which counted a seventh of it).
#[test]
fn cached_nwts_cost_their_claims() {
    use crate::nostr::{issue_nwt, nwt_authorization, NostrSecretKey, NwtClaims};
    let key = NostrSecretKey::generate();
    let claims = NwtClaims {
        aud: vec!["api.example".into()],
        exp: Some(2_000),
        custom: (0..60)
            .map(|i| (format!("c{}", i % 20), "v".to_string()))
            .collect(),
        ..NwtClaims::default()
    };
    let auth = nwt_authorization(&issue_nwt(&key, &claims, "", 1_000).unwrap());
    let v = Verifier::new(
        Policy {
            audiences: vec!["api.example".into()],
            ..Policy::default()
        },
        KeySet::new(),
    )
    .with_clock(Arc::new(FixedClock(1_000)))
    .with_cache(CacheConfig::default());
    let id = v
        .verify_authorization(&auth, None, FormatHint::Nwt, false)
        .unwrap();
    let credential = auth.strip_prefix("Nostr ").unwrap();
    let cost = v.cache().unwrap().bytes();
    let held = id.heap_bytes() + credential.len();
    assert!(
        held > 2 * credential.len(),
        "{held} vs {}",
        credential.len()
    );
    assert!(cost >= held, "counted {cost}, holds at least {held}");
    // ...and not wildly more: the bound stays usable.
    assert!(cost < held + 2_048, "counted {cost} for {held}");
}

/// A claim set kept as text is built before it is cached, so the entry
/// cannot grow after it was counted.
#[test]
fn cached_jwt_claims_are_built_and_counted() {
    let (t, keys) = signed(1_000);
    let v = Verifier::new(Policy::default(), keys)
        .with_clock(Arc::new(FixedClock(0)))
        .with_cache(CacheConfig::default());
    let id = v.verify_jwt(&t).unwrap();
    let before = v.cache().unwrap().bytes();
    assert!(before >= id.heap_bytes() + t.len());
    let built = id.claims.object().heap_bytes();
    assert!(built > 0);
    assert!(
        before >= built + t.len(),
        "{before} < {built} + {}",
        t.len()
    );
}

#[test]
fn thirdweb_tokens_are_detected_whatever_their_signature_starts_with() {
    use crate::ethereum::{issue_thirdweb, EthereumSecretKey, ThirdwebClaims};
    // The signature text is "0x" + hex; its third base64 character
    // depends on the first hex digit, so try many signers.
    for _ in 0..40 {
        let admin = EthereumSecretKey::generate();
        let claims = ThirdwebClaims::new(admin.address().to_checksum(), "example.com");
        let t = issue_thirdweb(&admin, &claims, 1_000).unwrap();
        let v =
            Verifier::new(Policy::default(), KeySet::new()).with_eth_admins(vec![admin.address()]);
        assert_eq!(v.detect_bearer(&t), Format::Thirdweb, "{t}");
    }
    // Without admins configured, the same header means a standard ES256 JWT.
    assert_eq!(
        Verifier::new(Policy::default(), KeySet::new())
            .detect_bearer("eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.e30.MHgw"),
        Format::Jwt
    );
}
