//! Benchmarks only: see `benches/verify.rs` and `BENCHMARKS.md` at the
//! workspace root. Run them with `scripts/bench`.
//!
//! The fixtures every benchmark and the `instructions` example share, so
//! that they all measure the same tokens.
#![forbid(unsafe_code)]

use tessera_core::internal::nostr::{
    issue_nwt, nwt_authorization, Event, NostrSecretKey, NwtClaims,
};
use tessera_core::Object;
use tessera_core::Policy;

/// 2026-01-01T00:00:00Z.
pub const IAT: i64 = 1_767_225_600;
/// 2100-01-01T00:00:00Z: far in the future, so every run verifies.
pub const EXP: i64 = 4_102_444_800;

/// The claims every benchmarked JWT carries.
pub fn jwt_claims() -> Object {
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

/// The claims of [`jwt_claims`], as the peer crates deserialize them. The
/// fields are read by serde only.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
pub struct PeerClaims {
    sub: String,
    iat: u64,
    exp: u64,
    role: String,
    scope: String,
    tenant: u64,
    email: String,
}

/// The audience the benchmarked NWT names.
pub const NWT_AUDIENCE: &str = "https://api.example.com";

/// The policy NWTs are verified under: the default, expecting
/// [`NWT_AUDIENCE`] (a verifier expecting none refuses a token that names
/// one, RFC 7519 §4.1.3).
pub fn nwt_policy() -> Policy {
    Policy {
        audiences: vec![NWT_AUDIENCE.to_owned()],
        ..Policy::default()
    }
}

/// The benchmarked NWT's claims: one audience, `exp`, two custom claims.
pub fn nwt_claims() -> NwtClaims {
    NwtClaims {
        aud: vec![NWT_AUDIENCE.to_owned()],
        exp: Some(EXP),
        custom: vec![
            ("role".to_owned(), "admin".to_owned()),
            ("scope".to_owned(), "read write".to_owned()),
        ],
        ..NwtClaims::default()
    }
}

/// A fresh NWT by `secret` with [`nwt_claims`].
pub fn nwt_event(secret: &NostrSecretKey) -> Event {
    issue_nwt(secret, &nwt_claims(), "Sign in to api.example.com", IAT).expect("NWT")
}

/// The credential of an `Authorization: Nostr` value for `event` (the
/// scheme removed).
pub fn nwt_credential(event: &Event) -> String {
    nwt_authorization(event)
        .strip_prefix("Nostr ")
        .expect("`Nostr ` scheme")
        .to_owned()
}
