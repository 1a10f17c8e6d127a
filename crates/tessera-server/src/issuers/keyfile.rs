//! An `[[issuer]]` key file: a JWK, a JWK Set or PEM, told apart by its
//! first bytes and read by tessera-core's strict loaders.

use std::path::Path;
use tessera_core::{Algorithm, KeySet, VerifyingKey};

/// Largest key file read (tessera-core's JWK Set limit).
const MAX_JWKS_LEN: usize = 256 * 1024;

/// The public keys in `path`. `pin` is the algorithm of keys whose type
/// does not imply one (RSA): the issuer's single `algorithms` entry.
/// Errors name the file and what to do.
pub(crate) fn load_key_file(
    path: &Path,
    pin: Option<Algorithm>,
) -> Result<Vec<VerifyingKey>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        format!("keys: cannot read {shown}: {e}; key paths are relative to the configuration file")
    })?;
    if meta.len() > MAX_JWKS_LEN as u64 {
        return Err(format!(
            "keys: {shown} is larger than {MAX_JWKS_LEN} bytes; a key file holds a JWK, a JWK Set or PEM"
        ));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("keys: cannot read {shown}: {e}"))?;
    let trimmed = text.trim_start();
    let bad = |e: tessera_core::Error| {
        let hint = if pin.is_none() && e.message().contains("alg") {
            " (an RSA key names no algorithm: set algorithms = [\"RS256\"] or give the JWK an `alg`)"
        } else {
            ""
        };
        format!("keys: {shown}: {}{hint}", e.message())
    };
    if trimmed.starts_with("-----BEGIN") {
        return VerifyingKey::from_pem(trimmed, pin)
            .map(|k| vec![k])
            .map_err(bad);
    }
    if trimmed.starts_with('{') {
        let doc = tessera_core::internal::json::parse_object(trimmed.as_bytes()).map_err(bad)?;
        if doc.get("keys").is_some() {
            let set = KeySet::from_jwks(trimmed, pin).map_err(bad)?;
            if set.is_empty() {
                return Err(format!("keys: {shown} is a JWK Set without keys"));
            }
            return Ok(set.keys().to_vec());
        }
        return VerifyingKey::from_jwk(trimmed, pin)
            .map(|k| vec![k])
            .map_err(bad);
    }
    Err(format!(
        "keys: {shown} is neither JSON (a JWK or a JWK Set) nor PEM (-----BEGIN PUBLIC KEY-----)"
    ))
}
