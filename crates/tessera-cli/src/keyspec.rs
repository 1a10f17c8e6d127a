//! KEYSPEC parsing (contracts.md, `tessera verify --key`).

use crate::UsageError;
use tessera_core::internal::jws::KeyFamily;
use tessera_core::{internal::json, Algorithm};
use tessera_core::{KeySet, SigningKey, VerifyingKey};

/// Largest key file read (also the bound on a SIWE message file, which
/// core then refuses above its own 16 KiB limit as `token_too_large`).
pub const MAX_KEY_FILE: u64 = 256 * 1024;

/// Largest request body file (`--body-file`) hashed for a NIP-98 payload.
pub const MAX_BODY_FILE: u64 = 16 * 1024 * 1024;

/// Trusted keys gathered from every `--key`.
#[derive(Default)]
pub struct TrustedKeys {
    /// JWT verification keys.
    pub jwt: KeySet,
    /// `nostr:` keys, as given.
    pub nostr: Vec<String>,
    /// `eth:` addresses, as given.
    pub eth: Vec<String>,
}

pub fn read_file(path: &str) -> Result<Vec<u8>, UsageError> {
    read_file_limited(path, MAX_KEY_FILE, "key file")
}

/// Reads the file `path` (called `what` in messages), refusing one larger
/// than `max` bytes without reading more than `max + 1`.
pub fn read_file_limited(path: &str, max: u64, what: &str) -> Result<Vec<u8>, UsageError> {
    let f = std::fs::File::open(path)
        .map_err(|e| UsageError(format!("cannot read {what} {path:?}: {e}; check the path")))?;
    let mut buf = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(f, max + 1), &mut buf)
        .map_err(|e| UsageError(format!("cannot read {what} {path:?}: {e}")))?;
    if buf.len() as u64 > max {
        let hint = if what == "key file" {
            "; is it really a key?"
        } else {
            ""
        };
        return Err(UsageError(format!(
            "{what} {path:?} is larger than {} KiB{hint}",
            max / 1024
        )));
    }
    Ok(buf)
}

fn read_text(path: &str) -> Result<String, UsageError> {
    String::from_utf8(read_file(path)?).map_err(|_| {
        UsageError(format!(
            "key file {path:?} is not UTF-8 text (JWK or PEM expected)"
        ))
    })
}

/// The algorithms a key of `family` may be pinned to, narrowed by `--alg`.
fn candidate_algs(family_of: impl Fn(Algorithm) -> bool, allowed: &[Algorithm]) -> Vec<Algorithm> {
    Algorithm::ALL
        .into_iter()
        .filter(|a| family_of(*a))
        .filter(|a| allowed.is_empty() || allowed.contains(a))
        .collect()
}

fn bad_key(spec: &str, e: tessera_core::Error) -> UsageError {
    UsageError(format!(
        "key {spec:?} cannot be used: {} ({}); pass a JWK, JWK Set, PEM public key or certificate, secret:<file>, nostr:<key> or eth:<address>",
        e.message(),
        e.code()
    ))
}

/// Adds one KEYSPEC to `keys`. Keys whose type serves several algorithms
/// (RSA without `alg`, HMAC secrets) are added once per algorithm, each
/// pinned, narrowed by `--alg`.
pub fn add(keys: &mut TrustedKeys, spec: &str, allowed: &[Algorithm]) -> Result<(), UsageError> {
    if let Some(path) = spec.strip_prefix("secret:") {
        let secret = read_file(path)?;
        refuse_key_file_as_secret(path, &secret)?;
        let algs = candidate_algs(Algorithm::is_hmac, allowed);
        if algs.is_empty() {
            return Err(UsageError(
                "secret: keys are HMAC keys, but --alg names no HS algorithm".into(),
            ));
        }
        let mut added = 0;
        for alg in algs {
            // A secret too short for one hash size may still serve a shorter one.
            if let Ok(k) = VerifyingKey::hmac(alg, &secret) {
                keys.jwt.push(k).map_err(|e| bad_key(spec, e))?;
                added += 1;
            }
        }
        if added == 0 {
            return Err(UsageError(format!(
                "{spec:?} holds {} bytes; HMAC secrets need at least 32 bytes for HS256, 48 for HS384, 64 for HS512 (RFC 7518 §3.2): generate one with `tessera keygen --alg HS256`",
                secret.len()
            )));
        }
        return Ok(());
    }
    if let Some(k) = spec.strip_prefix("nostr:") {
        keys.nostr.push(k.to_owned());
        return Ok(());
    }
    if let Some(a) = spec.strip_prefix("eth:") {
        keys.eth.push(a.to_owned());
        return Ok(());
    }
    let text = read_text(spec)?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let doc = json::parse_object(trimmed.as_bytes()).map_err(|e| bad_key(spec, e))?;
        if doc.contains("keys") {
            let pin = if allowed.len() == 1 {
                Some(allowed[0])
            } else {
                None
            };
            let set = KeySet::from_jwks(trimmed, pin).map_err(|e| bad_key(spec, e))?;
            for k in set.keys() {
                keys.jwt.push(k.clone()).map_err(|e| bad_key(spec, e))?;
            }
            return Ok(());
        }
        // A JWK without `alg` whose type serves several algorithms: an
        // `oct` secret (what jose's exportJWK writes) is pinned once per
        // HMAC algorithm, an RSA key once per RSA algorithm.
        let family: fn(Algorithm) -> bool = match doc.get("kty").and_then(json::Value::as_str) {
            Some("oct") => Algorithm::is_hmac,
            _ => is_rsa,
        };
        return add_expanded(keys, spec, allowed, family, |pin| {
            VerifyingKey::from_jwk_object(&doc, pin)
        });
    }
    if trimmed.starts_with("-----BEGIN") || trimmed.contains("-----BEGIN") {
        return add_expanded(keys, spec, allowed, is_rsa, |pin| {
            VerifyingKey::from_pem(&text, pin)
        });
    }
    Err(UsageError(format!(
        "key file {spec:?} is neither a JWK/JWK Set nor PEM; for an HMAC secret write secret:{spec}"
    )))
}

/// Refuses an HMAC secret whose bytes are a PEM block or a JWK / JWK Set:
/// a public key given as `secret:` would let anyone who has the public key
/// (everyone) sign HS256 tokens that verify (the RS256 -> HS256 confusion,
/// brought back through the command line).
fn refuse_key_file_as_secret(path: &str, secret: &[u8]) -> Result<(), UsageError> {
    let Ok(text) = std::str::from_utf8(secret) else {
        return Ok(()); // Random secret bytes; neither PEM nor JSON.
    };
    if tessera_core::internal::keys::parse_pem(text).is_ok_and(|blocks| !blocks.is_empty()) {
        return Err(UsageError(format!(
            "secret:{path} holds a PEM block, not an HMAC secret; pass a key file as --key {path} (without secret:)"
        )));
    }
    let is_jwk = json::parse_object(text.trim().as_bytes())
        .is_ok_and(|o| o.contains("kty") || o.contains("keys"));
    if is_jwk {
        return Err(UsageError(format!(
            "secret:{path} holds a JWK or JWK Set, not raw HMAC secret bytes; pass it as --key {path} (a JWK of kty \"oct\" is an HMAC key)"
        )));
    }
    Ok(())
}

fn is_rsa(alg: Algorithm) -> bool {
    alg.key_family() == KeyFamily::Rsa
}

/// Builds a key with no pin first; if its type needs one (RSA, or an
/// HMAC secret without `alg`), builds it once per algorithm of `family`
/// allowed by `--alg`, keeping those the key can serve (an HMAC secret
/// serves the hash sizes its length allows, RFC 7518 §3.2). Algorithms of
/// other families in `--alg` are no reason to refuse the key.
fn add_expanded(
    keys: &mut TrustedKeys,
    spec: &str,
    allowed: &[Algorithm],
    family: fn(Algorithm) -> bool,
    build: impl Fn(Option<Algorithm>) -> tessera_core::Result<VerifyingKey>,
) -> Result<(), UsageError> {
    let first = if allowed.len() == 1 {
        build(Some(allowed[0]))
    } else {
        build(None)
    };
    match first {
        Ok(k) => keys.jwt.push(k).map_err(|e| bad_key(spec, e)),
        Err(e)
            if e.code() == tessera_core::ErrorCode::UnsupportedAlgorithm && allowed.len() != 1 =>
        {
            // The key type serves several algorithms: pin one copy to each.
            let algs = candidate_algs(family, allowed);
            if algs.is_empty() {
                let serves: Vec<&str> = candidate_algs(family, &[])
                    .into_iter()
                    .map(Algorithm::name)
                    .collect();
                return Err(UsageError(format!(
                    "key {spec:?} serves {}, and --alg allows none of them",
                    serves.join(", ")
                )));
            }
            let mut added = 0;
            let mut refusal = None;
            for alg in algs {
                match build(Some(alg)) {
                    Ok(k) => {
                        keys.jwt.push(k).map_err(|e| bad_key(spec, e))?;
                        added += 1;
                    }
                    Err(e) => {
                        refusal.get_or_insert(e);
                    }
                }
            }
            if added == 0 {
                return Err(bad_key(spec, refusal.unwrap_or(e)));
            }
            Ok(())
        }
        Err(e) => Err(bad_key(spec, e)),
    }
}

/// Loads a private key for signing from a JWK or PEM file.
pub fn load_signing_key(path: &str, alg: Option<Algorithm>) -> Result<SigningKey, UsageError> {
    let text = read_text(path)?;
    let trimmed = text.trim_start();
    let key = if trimmed.starts_with('{') {
        SigningKey::from_jwk(trimmed, alg)
    } else {
        SigningKey::from_pem(&text, alg)
    };
    key.map_err(|e| {
        UsageError(format!(
            "cannot sign with {path:?}: {} ({}); pass a private JWK or PEM (tessera keygen makes one), and --alg for RSA keys",
            e.message(),
            e.code()
        ))
    })
}
