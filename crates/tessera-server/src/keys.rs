//! The server's own keys, kept in the data directory (files mode 0600):
//! access-token signers (current and retired) and the server's Nostr key.
//!
//! Instances that share a store must share this directory's `keys/` too
//! (mount or copy it): every instance signs and verifies with the same keys.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tessera_core::internal::encoding::hex_encode;
use tessera_core::internal::json;
use tessera_core::Algorithm;
use tessera_core::{KeySet, SigningKey};
use tessera_core::{Object, Value};

/// An access-token signer and its life.
#[derive(Debug)]
pub struct StoredSigner {
    /// The key (its kid is its RFC 7638 thumbprint).
    pub key: Arc<SigningKey>,
    /// When it was generated.
    pub created_at: i64,
    /// When a newer signer replaced it.
    pub retired_at: Option<i64>,
}

/// The server's keys.
#[derive(Debug)]
pub struct ServerKeys {
    signers: Vec<StoredSigner>,
    nostr_secret: secp256k1::SecretKey,
}

/// A key-file problem.
#[derive(Debug)]
pub struct KeyError(pub String);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

fn io_err(path: &Path, e: impl std::fmt::Display) -> KeyError {
    KeyError(format!("{}: {e}", path.display()))
}

fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

/// Writes `contents` to `path` atomically with mode 0600.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).map_err(|e| io_err(&tmp, e))?;
    f.write_all(contents).map_err(|e| io_err(&tmp, e))?;
    f.sync_all().map_err(|e| io_err(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn generate_signer(alg: Algorithm, now: i64) -> Result<StoredSigner, KeyError> {
    let key = SigningKey::generate(alg).map_err(|e| KeyError(e.message().to_owned()))?;
    let kid = key
        .verifying_key()
        .ok()
        .and_then(|k| k.thumbprint())
        .ok_or_else(|| KeyError("cannot compute the key id".into()))?;
    Ok(StoredSigner {
        key: Arc::new(key.with_kid(kid)),
        created_at: now,
        retired_at: None,
    })
}

impl ServerKeys {
    /// Loads the keys from `data_dir/keys`, generating what is missing.
    pub fn load_or_create(data_dir: &Path, alg: Algorithm, now: i64) -> Result<Self, KeyError> {
        let dir = keys_dir(data_dir);
        std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        let nostr_path = dir.join("nostr.key");
        let nostr_secret = if nostr_path.exists() {
            let text = std::fs::read_to_string(&nostr_path).map_err(|e| io_err(&nostr_path, e))?;
            let bytes: [u8; 32] = tessera_core::internal::encoding::hex_decode_lower_array(
                text.trim(),
            )
            .map_err(|_| {
                KeyError(format!(
                    "{} must hold 64 lowercase hex characters",
                    nostr_path.display()
                ))
            })?;
            secp256k1::SecretKey::from_secret_bytes(bytes).map_err(|_| {
                KeyError(format!(
                    "{} is not a valid secp256k1 secret",
                    nostr_path.display()
                ))
            })?
        } else {
            let sk = secp256k1::SecretKey::new(&mut secp256k1::rand::rng());
            write_private(&nostr_path, hex_encode(&sk.to_secret_bytes()).as_bytes())?;
            sk
        };
        let signers_path = dir.join(SIGNERS_FILE);
        let mut keys = if signers_path.exists() {
            ServerKeys {
                signers: parse_signers_file(&read_signers_file(data_dir)?)
                    .map_err(|e| io_err(&signers_path, e))?,
                nostr_secret,
            }
        } else {
            ServerKeys {
                signers: Vec::new(),
                nostr_secret,
            }
        };
        if keys.signers.is_empty() {
            keys.signers.push(generate_signer(alg, now)?);
            keys.save(data_dir)?;
        }
        Ok(keys)
    }

    /// Adds a new current signer; the previous one retires now and stays
    /// published until its tokens have expired. Returns the new kid.
    pub fn rotate(
        &mut self,
        data_dir: &Path,
        alg: Algorithm,
        now: i64,
    ) -> Result<String, KeyError> {
        for s in &mut self.signers {
            if s.retired_at.is_none() {
                s.retired_at = Some(now);
            }
        }
        let signer = generate_signer(alg, now)?;
        let kid = signer.key.kid().unwrap_or_default().to_owned();
        self.signers.push(signer);
        self.save(data_dir)?;
        Ok(kid)
    }

    /// Drops signers retired longer ago than `keep_seconds`.
    pub fn prune(&mut self, now: i64, keep_seconds: i64) {
        self.signers.retain(|s| {
            s.retired_at
                .is_none_or(|r| r.saturating_add(keep_seconds) > now)
        });
    }

    fn save(&self, data_dir: &Path) -> Result<(), KeyError> {
        let mut list = Vec::new();
        for s in &self.signers {
            let mut o = Object::new();
            o.insert(
                "jwk",
                Value::Object(
                    s.key
                        .to_private_jwk()
                        .map_err(|e| KeyError(e.message().to_owned()))?,
                ),
            );
            o.insert("created_at", s.created_at.into());
            o.insert("retired_at", s.retired_at.map_or(Value::Null, Value::from));
            list.push(Value::Object(o));
        }
        let mut doc = Object::new();
        doc.insert("signers", Value::Array(list));
        write_private(
            &keys_dir(data_dir).join(SIGNERS_FILE),
            Value::Object(doc).to_json().as_bytes(),
        )
    }

    /// The newest signer (what `tessera keys rotate` just added).
    pub fn current(&self) -> &Arc<SigningKey> {
        // load_or_create and set_signers guarantee at least one signer.
        &self.signers[self.signers.len() - 1].key
    }

    /// The key to sign with at `now`: the newest signer published for at
    /// least `publish_delay` seconds (`created_at + publish_delay <= now`),
    /// so that every instance sharing `keys/` verifies its tokens before
    /// any instance makes one. When none is that old (a fresh data
    /// directory), the oldest signer.
    pub fn signing_key(&self, now: i64, publish_delay: i64) -> &Arc<SigningKey> {
        &self
            .signers
            .iter()
            .rev()
            .find(|s| s.created_at.saturating_add(publish_delay) <= now)
            .unwrap_or(&self.signers[0])
            .key
    }

    /// Replaces the signers with those read again from the data directory
    /// (`parse_signers_file` refuses an empty list).
    pub fn set_signers(&mut self, signers: Vec<StoredSigner>) {
        if !signers.is_empty() {
            self.signers = signers;
        }
    }

    /// The server's Nostr public key.
    pub fn nostr_public(&self) -> tessera_core::NostrPublicKey {
        tessera_core::internal::nostr::NostrSecretKey::from_secret(self.nostr_secret).public_key()
    }

    /// All signers, oldest first.
    pub fn signers(&self) -> &[StoredSigner] {
        &self.signers
    }

    /// Verification keys: the current signer and retired ones whose tokens
    /// may still be alive (`retired_at + token_life > now`).
    pub fn verification_keys(&self, now: i64, token_life: i64) -> KeySet {
        let mut set = KeySet::new();
        for s in &self.signers {
            if s.retired_at
                .is_none_or(|r| r.saturating_add(token_life) > now)
            {
                if let Ok(k) = s.key.verifying_key() {
                    let _ = set.push(k);
                }
            }
        }
        set
    }

    /// The server's Nostr secret key.
    pub fn nostr_secret(&self) -> &secp256k1::SecretKey {
        &self.nostr_secret
    }

    /// The server's Nostr public key, 64 hex (x-only).
    pub fn nostr_pubkey_hex(&self) -> String {
        let (x, _) = self.nostr_secret.x_only_public_key();
        hex_encode(&x.to_byte_array())
    }
}

/// The signers' file in `data_dir/keys`.
const SIGNERS_FILE: &str = "signers.json";

/// Largest signers' file read (one signer takes about 300 bytes).
const MAX_SIGNERS_FILE_BYTES: u64 = 1024 * 1024;

/// The bytes of `data_dir/keys/signers.json`, at most 1 MiB.
pub fn read_signers_file(data_dir: &Path) -> Result<Vec<u8>, KeyError> {
    use std::io::Read;
    let path = keys_dir(data_dir).join(SIGNERS_FILE);
    let file = std::fs::File::open(&path).map_err(|e| io_err(&path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_SIGNERS_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_err(&path, e))?;
    if bytes.len() as u64 > MAX_SIGNERS_FILE_BYTES {
        return Err(KeyError(format!(
            "{} is larger than {MAX_SIGNERS_FILE_BYTES} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// The signers in a signers' file, oldest first. Refuses a file that is
/// not the JSON `tessera keys rotate` writes, that holds no signer, or a
/// signer without a `kid`. The message names what is wrong, never a
/// key's value.
pub fn parse_signers_file(bytes: &[u8]) -> Result<Vec<StoredSigner>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8".to_owned())?;
    let signers = parse_signers(text)?;
    if signers.is_empty() {
        return Err("the `signers` array is empty".into());
    }
    if signers.iter().any(|s| s.key.kid().is_none()) {
        return Err("a signer's `jwk` has no `kid`".into());
    }
    Ok(signers)
}

fn parse_signers(text: &str) -> Result<Vec<StoredSigner>, String> {
    let doc = json::parse_object(text.as_bytes()).map_err(|e| e.message().to_owned())?;
    let list = doc
        .get("signers")
        .and_then(Value::as_array)
        .ok_or("no `signers` array")?;
    let mut out = Vec::new();
    for item in list {
        let o = item.as_object().ok_or("signer entries must be objects")?;
        let jwk = o
            .get("jwk")
            .and_then(Value::as_object)
            .ok_or("signer without `jwk`")?;
        let key = SigningKey::from_jwk_object(jwk, None).map_err(|e| e.message().to_owned())?;
        let int = |name: &str| {
            o.get(name)
                .and_then(Value::as_number)
                .and_then(|n| n.as_exact_i64())
        };
        out.push(StoredSigner {
            key: Arc::new(key),
            created_at: int("created_at").ok_or("signer without `created_at`")?,
            retired_at: int("retired_at"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("tessera-keys-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        p
    }

    #[test]
    fn created_once_with_private_modes_and_reloaded() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tmp("create");
        let a = ServerKeys::load_or_create(&dir, Algorithm::ES256, 1000).unwrap();
        for f in ["signers.json", "nostr.key"] {
            let mode = std::fs::metadata(dir.join("keys").join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        let b = ServerKeys::load_or_create(&dir, Algorithm::ES256, 2000).unwrap();
        assert_eq!(a.current().kid(), b.current().kid());
        assert_eq!(a.nostr_pubkey_hex(), b.nostr_pubkey_hex());
        assert_eq!(a.nostr_pubkey_hex().len(), 64);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rotation_keeps_previous_key_until_its_tokens_expire() {
        let dir = tmp("rotate");
        let mut k = ServerKeys::load_or_create(&dir, Algorithm::EdDSA, 1000).unwrap();
        let old = k.current().kid().unwrap().to_owned();
        let new = k.rotate(&dir, Algorithm::ES256, 2000).unwrap();
        assert_ne!(old, new);
        assert_eq!(k.current().kid(), Some(new.as_str()));
        let set = k.verification_keys(2500, 900);
        assert_eq!(set.keys().len(), 2);
        let set = k.verification_keys(2900, 900);
        assert_eq!(
            set.keys().len(),
            1,
            "retired key dropped once its tokens are dead"
        );
        // Survives a reload.
        let reloaded = ServerKeys::load_or_create(&dir, Algorithm::ES256, 3000).unwrap();
        assert_eq!(reloaded.signers().len(), 2);
        assert_eq!(reloaded.current().kid(), Some(new.as_str()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
