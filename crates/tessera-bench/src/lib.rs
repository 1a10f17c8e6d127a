//! Benchmarks only: see `benches/verify/main.rs` and `BENCHMARKS.md` at the
//! workspace root. Run them with `scripts/bench`.
//!
//! The fixtures every benchmark and the `instructions` example share, so
//! that they all measure the same tokens.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod load;
pub mod paired;

use tessera_core::internal::ethereum::siwe::SiweMessage;
use tessera_core::internal::ethereum::{
    issue_thirdweb, EthereumSecretKey, Rfc3339Time, ThirdwebClaims,
};
use tessera_core::internal::nostr::{
    issue_nwt, nwt_authorization, Event, NostrSecretKey, NwtClaims,
};
use tessera_core::Address;
use tessera_core::Object;
use tessera_core::Policy;
use tessera_core::{KeySet, Verifier};

/// 2026-01-01T00:00:00Z.
pub const IAT: i64 = 1_767_225_600;
/// 2100-01-01T00:00:00Z: far in the future, so every run verifies.
pub const EXP: i64 = 4_102_444_800;

/// The issuer every benchmarked JWT names and every verifier requires.
pub const JWT_ISSUER: &str = "https://auth.example.com";
/// The audience every benchmarked JWT names and every verifier requires.
pub const JWT_AUDIENCE: &str = "https://api.example.com";

/// The claims every benchmarked JWT carries: `iss`, `aud` and `exp`, as a
/// deployment's tokens do, and four application claims.
pub fn jwt_claims() -> Object {
    let mut c = Object::new();
    c.insert("iss", JWT_ISSUER.into());
    c.insert("aud", JWT_AUDIENCE.into());
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
    iss: String,
    aud: String,
    sub: String,
    iat: u64,
    exp: u64,
    role: String,
    scope: String,
    tenant: u64,
    email: String,
}

/// The application claims of [`jwt_claims`] (its registered claims left
/// out), as jwt-simple deserializes them into its `JWTClaims<_>`, which
/// reads the registered claims itself. The fields are read by serde only.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
pub struct PeerCustomClaims {
    role: String,
    scope: String,
    tenant: u64,
    email: String,
}

/// The policy a deployment verifies its JWTs under, used for tessera in
/// every JWT benchmark (the peers are configured alike): the audience and
/// the issuer required ([`JWT_AUDIENCE`], [`JWT_ISSUER`]), `exp` required
/// (the default), 60 s leeway (the default).
pub fn jwt_policy() -> Policy {
    Policy {
        audiences: vec![JWT_AUDIENCE.to_owned()],
        issuer: Some(JWT_ISSUER.to_owned()),
        ..Policy::default()
    }
}

/// The audience the benchmarked NWT names.
pub const NWT_AUDIENCE: &str = "https://api.example.com";

/// The policy NWTs are verified under: the default (`exp` required),
/// expecting [`NWT_AUDIENCE`]. No issuer is required: an NWT's issuer is
/// its signer, and a service accepting NWTs from any wallet cannot name it.
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

/// The nostr crate's verification of an NWT credential (the
/// `Authorization: Nostr` value without its scheme) with the checks
/// tessera's NWT verification makes and the crate leaves to its caller:
/// base64url decoding (the `base64` crate, which nostr itself depends
/// on), `Event::from_json` (parse, the x-only key lifted), `Event::verify`
/// (id, BIP-340), then kind 27519, an `exp` tag not passed (60 s leeway,
/// the system clock read on every call) and an `aud` tag naming
/// [`NWT_AUDIENCE`].
pub fn nostr_peer_nwt(credential: &str) -> Result<(), String> {
    use base64::Engine as _;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(credential)
        .map_err(|e| e.to_string())?;
    let event = ::nostr::event::Event::from_json(json).map_err(|e| e.to_string())?;
    event.verify().map_err(|e| e.to_string())?;
    if event.kind.as_u16() != tessera_core::internal::nostr::NWT_KIND {
        return Err("not an NWT".to_owned());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let (mut exp_ok, mut aud_ok) = (false, false);
    for tag in event.tags.iter() {
        match tag.as_slice() {
            [name, exp] if name == "exp" => {
                exp_ok = exp.parse::<u64>().is_ok_and(|exp| exp + 60 > now);
            }
            [name, auds @ ..] if name == "aud" => {
                aud_ok |= auds.iter().any(|a| a == NWT_AUDIENCE);
            }
            _ => {}
        }
    }
    match (exp_ok, aud_ok) {
        (true, true) => Ok(()),
        (false, _) => Err("no `exp`, or expired".to_owned()),
        (_, false) => Err("no matching `aud`".to_owned()),
    }
}

/// The SIWE domain of the Ethereum benchmarks.
pub const SIWE_DOMAIN: &str = "api.example.com";
/// The SIWE nonce of the Ethereum benchmarks.
pub const SIWE_NONCE: &str = "32891756abcdef01";

/// The SIWE message the Ethereum benchmarks sign and verify: `address`
/// signs in to [`SIWE_DOMAIN`] with [`SIWE_NONCE`], issued at [`IAT`],
/// expiring at [`EXP`].
pub fn siwe_message(address: Address) -> SiweMessage {
    SiweMessage::builder(
        SIWE_DOMAIN,
        address,
        "https://api.example.com/login",
        1,
        SIWE_NONCE,
        Rfc3339Time::from_unix(IAT).expect("time"),
    )
    .statement("Sign in to the API.")
    .expiration_time(Rfc3339Time::from_unix(EXP).expect("time"))
    .build()
    .expect("SIWE message")
}

/// The thirdweb-format JWT the Ethereum benchmarks verify (signed by
/// `secret` for [`SIWE_DOMAIN`], issued at [`IAT`], valid until [`EXP`]),
/// and a verifier that trusts `secret`'s address as its admin.
pub fn thirdweb_fixture(secret: &EthereumSecretKey) -> (String, Verifier) {
    let address = secret.address();
    let claims = ThirdwebClaims {
        ttl: EXP - IAT,
        ..ThirdwebClaims::new(address.to_checksum(), SIWE_DOMAIN)
    };
    let token = issue_thirdweb(secret, &claims, IAT).expect("thirdweb JWT");
    let policy = Policy {
        audiences: vec![SIWE_DOMAIN.to_owned()],
        ..Policy::default()
    };
    let verifier = Verifier::new(policy, KeySet::new()).with_eth_admins(vec![address]);
    (token, verifier)
}
