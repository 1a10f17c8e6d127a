//! Verify a JWT from an issuer you already have (an identity provider,
//! another service): its JWK Set or PEM public key, the `iss` and your
//! audience.
//!
//! ```sh
//! # A demo: an issuer (played by the jsonwebtoken crate) signs tokens,
//! # tessera verifies them by its JWK Set and by its PEM key; exits 0.
//! cargo run -p tessera-core --example verify_token
//! # Your own: a JWKS or PEM file, a token, its issuer and your audience.
//! cargo run -p tessera-core --example verify_token -- idp.jwks.json "$TOKEN" https://idp.example api.example
//! ```

use std::time::{SystemTime, UNIX_EPOCH};
use tessera_core::{jwt, Error, ErrorCode, Identity, KeySet, Policy, VerifyingKey};

// ANCHOR: verify
/// Verifies `token` with the issuer's public keys, given as a JWK Set
/// (`{"keys":[...]}`, what `jwks_uri` serves) or a PEM public key.
fn verify(keys_text: &str, token: &str, issuer: &str, audience: &str) -> Result<Identity, Error> {
    let keys = if keys_text.trim_start().starts_with("-----BEGIN") {
        // An EC or Ed25519 key implies its algorithm; an RSA key needs one.
        KeySet::single(VerifyingKey::from_pem(keys_text, None)?)
    } else {
        // Each key is pinned to its `alg` (or its curve's one): a token
        // naming another algorithm is refused, never tried.
        KeySet::from_jwks(keys_text, None)?
    };
    let policy = Policy {
        issuer: Some(issuer.into()),
        audiences: vec![audience.into()],
        ..Policy::default() // exp required, 60 s leeway, 8 KiB at most
    };
    jwt::verify(token, &keys, &policy, unix_now())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
// ANCHOR_END: verify

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [keys_file, token, issuer, audience] = args.as_slice() {
        let keys_text = std::fs::read_to_string(keys_file)?;
        return match verify(&keys_text, token, issuer, audience) {
            Ok(id) => {
                println!("valid: subject {} (kid {:?})", id.subject, id.kid);
                Ok(())
            }
            Err(e) => Err(format!("invalid: {} ({})", e.message(), e.code()).into()),
        };
    }
    if !args.is_empty() {
        return Err("usage: verify_token [<jwks.json|key.pem> <token> <issuer> <audience>]".into());
    }
    demo()
}

/// An issuer that is not tessera: the `jsonwebtoken` crate signs ES256
/// tokens with a key whose JWK Set and PEM it publishes.
struct Issuer {
    key: jsonwebtoken::EncodingKey,
    jwks: String,
    public_pem: String,
}

impl Issuer {
    fn new() -> Result<Self, Box<dyn std::error::Error>> {
        // A fresh P-256 key in PKCS#8 PEM (any tool's would do).
        let pair = tessera_core::SigningKey::generate(tessera_core::Algorithm::ES256)?;
        let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.to_pkcs8_pem()?.as_bytes())?;
        let mut jwk =
            jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES256)?;
        jwk.common.key_id = Some("idp-2026-01".into());
        let jwks = serde_json::to_string(&jsonwebtoken::jwk::JwkSet { keys: vec![jwk] })?;
        Ok(Issuer {
            key,
            jwks,
            public_pem: pair.to_public_pem()?,
        })
    }

    fn token(&self, claims: serde_json::Value) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("idp-2026-01".into());
        jsonwebtoken::encode(&header, &claims, &self.key)
    }
}

fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let idp = Issuer::new()?;
    let now = unix_now();
    let claims = |aud: &str, exp: i64| {
        serde_json::json!({
            "iss": "https://idp.example", "sub": "alice", "aud": aud,
            "iat": now, "exp": exp, "scope": "orders:read",
        })
    };
    let good = idp.token(claims("api.example", now + 300))?;

    // By the JWK Set, and by the PEM key: the same identity.
    for keys_text in [&idp.jwks, &idp.public_pem] {
        let id = verify(keys_text, &good, "https://idp.example", "api.example")?;
        assert_eq!(id.subject, "alice");
        assert_eq!(id.audience, ["api.example"]);
        let scope = id.claims.get("scope").and_then(|v| v.as_str());
        assert_eq!(scope, Some("orders:read"));
        println!(
            "accepted: sub={} scope={:?} kid={:?}",
            id.subject, scope, id.kid
        );
    }

    // What is refused, each with its stable error code.
    let refusals = [
        (
            "another audience",
            idp.token(claims("billing.example", now + 300))?,
            ErrorCode::AudienceMismatch,
        ),
        (
            "expired",
            idp.token(claims("api.example", now - 3600))?,
            ErrorCode::Expired,
        ),
        (
            "another issuer's key",
            Issuer::new()?.token(claims("api.example", now + 300))?,
            ErrorCode::BadSignature,
        ),
    ];
    for (what, token, code) in refusals {
        let err = verify(&idp.jwks, &token, "https://idp.example", "api.example")
            .expect_err("must be refused");
        assert_eq!(err.code(), code, "{what}: {}", err.message());
        println!("refused ({what}): {}", err.code());
    }
    let wrong_iss = verify(&idp.jwks, &good, "https://other.example", "api.example");
    assert_eq!(
        wrong_iss.map_err(|e| e.code()).err(),
        Some(ErrorCode::IssuerMismatch)
    );
    println!(
        "refused (another iss expected): {}",
        ErrorCode::IssuerMismatch
    );
    println!("verify_token: OK");
    Ok(())
}
