//! Server configuration: defaults, an optional TOML file, `TESSERA_*`
//! environment variables, then flags (contracts.md, "HTTP server").

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Access-token signing algorithm of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignerAlg {
    /// ECDSA P-256 (default).
    ES256,
    /// Ed25519.
    EdDSA,
}

impl SignerAlg {
    /// The core algorithm.
    pub fn algorithm(self) -> tessera_core::Algorithm {
        match self {
            SignerAlg::ES256 => tessera_core::Algorithm::ES256,
            SignerAlg::EdDSA => tessera_core::Algorithm::EdDSA,
        }
    }
}

/// The effective configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to bind.
    pub listen: String,
    /// SQLite file and generated keys live here.
    pub data_dir: PathBuf,
    /// `sqlite://PATH`, `postgres://...`, `redis://...`; default SQLite in `data_dir`.
    pub store: Option<String>,
    /// The server's own URL (access-token `iss`/`aud`, SIWE domain and URI, NIP-98 base).
    pub public_url: Option<String>,
    /// Bearer secret for admin routes; none means admin routes answer 403.
    pub admin_token: Option<String>,
    /// Access-token life.
    pub access_ttl_seconds: i64,
    /// Refresh-token life.
    pub refresh_ttl_seconds: i64,
    /// A rotated refresh token presented again within this window gets a new pair.
    pub refresh_reuse_grace_seconds: i64,
    /// Clock skew allowance.
    pub leeway_seconds: i64,
    /// Access-token signer algorithm for newly generated keys.
    pub signing_alg: SignerAlg,
    /// SIWE `Chain ID` offered in challenges.
    pub chain_id: u64,
    /// Life of a login challenge nonce.
    pub nonce_ttl_seconds: i64,
    /// Largest request body, bytes (413 above).
    pub max_body_bytes: usize,
    /// Largest `Authorization` value, bytes (431 above).
    pub max_authorization_bytes: usize,
    /// Per-client-IP requests per minute on challenge, login and refresh (0 = unlimited).
    pub rate_limit_per_minute: u32,
    /// Trust `X-Forwarded-For` for the client IP (set when behind a proxy).
    pub trust_forwarded_for: bool,
    /// Mark cookies `Secure` (default true; turn off only for plain-HTTP local development).
    pub cookie_secure: bool,
    /// Most entries in each verified-credential cache (0 turns them off).
    /// There are two, each with these bounds: one of access tokens and one
    /// of NWTs.
    pub verify_cache_entries: usize,
    /// Most bytes each verified-credential cache holds (what each entry
    /// really holds: credential text, identity and claims, bookkeeping);
    /// the two together hold at most twice this.
    pub verify_cache_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8787".into(),
            data_dir: PathBuf::from("./tessera-data"),
            store: None,
            public_url: None,
            admin_token: None,
            access_ttl_seconds: 900,
            refresh_ttl_seconds: 2_592_000,
            refresh_reuse_grace_seconds: 10,
            leeway_seconds: 60,
            signing_alg: SignerAlg::ES256,
            chain_id: 1,
            nonce_ttl_seconds: 300,
            max_body_bytes: 64 * 1024,
            max_authorization_bytes: 8 * 1024,
            rate_limit_per_minute: 60,
            trust_forwarded_for: false,
            cookie_secure: true,
            verify_cache_entries: 100_000,
            verify_cache_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A configuration problem, with what to do about it.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn parse_env<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError> {
    value
        .parse()
        .map_err(|_| ConfigError(format!("{name}={value:?} is not a valid value")))
}

impl Config {
    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        toml::from_str(&text)
            .map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))
    }

    /// Applies `TESSERA_<KEY>` environment overrides.
    pub fn apply_env(
        &mut self,
        vars: impl Iterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        for (name, value) in vars {
            let Some(key) = name.strip_prefix("TESSERA_") else {
                continue;
            };
            match key {
                "LISTEN" => self.listen = value,
                "DATA_DIR" => self.data_dir = PathBuf::from(value),
                "STORE" => self.store = Some(value),
                "PUBLIC_URL" => self.public_url = Some(value),
                "ADMIN_TOKEN" => self.admin_token = Some(value),
                "ACCESS_TTL_SECONDS" => self.access_ttl_seconds = parse_env(&name, &value)?,
                "REFRESH_TTL_SECONDS" => self.refresh_ttl_seconds = parse_env(&name, &value)?,
                "REFRESH_REUSE_GRACE_SECONDS" => {
                    self.refresh_reuse_grace_seconds = parse_env(&name, &value)?
                }
                "LEEWAY_SECONDS" => self.leeway_seconds = parse_env(&name, &value)?,
                "SIGNING_ALG" => {
                    self.signing_alg = match value.as_str() {
                        "ES256" => SignerAlg::ES256,
                        "EdDSA" => SignerAlg::EdDSA,
                        _ => return Err(ConfigError(format!("{name} must be ES256 or EdDSA"))),
                    }
                }
                "CHAIN_ID" => self.chain_id = parse_env(&name, &value)?,
                "NONCE_TTL_SECONDS" => self.nonce_ttl_seconds = parse_env(&name, &value)?,
                "MAX_BODY_BYTES" => self.max_body_bytes = parse_env(&name, &value)?,
                "MAX_AUTHORIZATION_BYTES" => {
                    self.max_authorization_bytes = parse_env(&name, &value)?
                }
                "RATE_LIMIT_PER_MINUTE" => self.rate_limit_per_minute = parse_env(&name, &value)?,
                "TRUST_FORWARDED_FOR" => self.trust_forwarded_for = parse_env(&name, &value)?,
                "COOKIE_SECURE" => self.cookie_secure = parse_env(&name, &value)?,
                "VERIFY_CACHE_ENTRIES" => self.verify_cache_entries = parse_env(&name, &value)?,
                "VERIFY_CACHE_BYTES" => self.verify_cache_bytes = parse_env(&name, &value)?,
                // Test-only and unrelated TESSERA_* variables are not config keys.
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks values and ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("access_ttl_seconds", self.access_ttl_seconds),
            ("refresh_ttl_seconds", self.refresh_ttl_seconds),
            ("nonce_ttl_seconds", self.nonce_ttl_seconds),
        ];
        for (name, v) in positive {
            if v <= 0 {
                return Err(ConfigError(format!("{name} must be positive, got {v}")));
            }
        }
        if self.refresh_reuse_grace_seconds < 0 || self.leeway_seconds < 0 {
            return Err(ConfigError(
                "refresh_reuse_grace_seconds and leeway_seconds cannot be negative".into(),
            ));
        }
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError(format!(
                "listen {:?} is not an address like 127.0.0.1:8787",
                self.listen
            )));
        }
        if let Some(url) = &self.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError(format!(
                    "public_url {url:?} must start with http:// or https://"
                )));
            }
        }
        if self.admin_token.as_deref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError(
                "admin_token must be at least 16 characters".into(),
            ));
        }
        Ok(())
    }

    /// The server's own URL, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// host[:port] of the public URL (the SIWE domain).
    pub fn public_host(&self) -> String {
        let url = self.public_url();
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest).to_owned()
    }

    /// The store URL, defaulting to SQLite in the data directory.
    pub fn store_url(&self) -> String {
        match &self.store {
            Some(s) => s.clone(),
            None => format!("sqlite://{}", self.data_dir.join("tessera.db").display()),
        }
    }

    /// The configuration as TOML with secrets masked (`--print-config`).
    pub fn to_masked_toml(&self) -> String {
        let mut shown = self.clone();
        shown.store = Some(mask_url_password(&self.store_url()));
        shown.public_url = Some(self.public_url());
        if shown.admin_token.is_some() {
            shown.admin_token = Some("********".into());
        }
        toml::to_string(&shown).unwrap_or_else(|e| format!("# cannot render configuration: {e}\n"))
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:********@host/db`.
pub fn mask_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            if userinfo.contains(':') {
                format!("{scheme}://{user}:********@{host}{path}")
            } else {
                format!("{scheme}://{user}@{host}{path}")
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_contracts() {
        let c = Config::default();
        assert_eq!(c.listen, "127.0.0.1:8787");
        assert_eq!(c.data_dir, PathBuf::from("./tessera-data"));
        assert_eq!(c.store_url(), "sqlite://./tessera-data/tessera.db");
        assert_eq!(c.public_url(), "http://127.0.0.1:8787");
        assert_eq!(c.public_host(), "127.0.0.1:8787");
        assert_eq!(c.access_ttl_seconds, 900);
        assert_eq!(c.refresh_ttl_seconds, 2_592_000);
        assert_eq!(c.refresh_reuse_grace_seconds, 10);
        assert_eq!(c.leeway_seconds, 60);
        assert!(c.admin_token.is_none());
    }

    #[test]
    fn env_overrides_keys() {
        let mut c = Config::default();
        c.apply_env(
            [
                ("TESSERA_REFRESH_TTL_SECONDS".to_owned(), "60".to_owned()),
                (
                    "TESSERA_STORE".to_owned(),
                    "redis://127.0.0.1:6379".to_owned(),
                ),
                ("OTHER".to_owned(), "x".to_owned()),
                ("TESSERA_VERIFY_CACHE_ENTRIES".to_owned(), "0".to_owned()),
                (
                    "TESSERA_VERIFY_CACHE_BYTES".to_owned(),
                    "1048576".to_owned(),
                ),
            ]
            .into_iter(),
        )
        .unwrap();
        assert_eq!(c.verify_cache_entries, 0);
        assert_eq!(c.verify_cache_bytes, 1 << 20);
        assert_eq!(
            Config::default().verify_cache_entries,
            tessera_core::cache::CacheConfig::default().max_entries
        );
        assert!(c
            .clone()
            .apply_env([("TESSERA_VERIFY_CACHE_BYTES".into(), "lots".into())].into_iter())
            .is_err());
        assert_eq!(c.refresh_ttl_seconds, 60);
        assert_eq!(c.store_url(), "redis://127.0.0.1:6379");
        let bad =
            c.apply_env([("TESSERA_LEEWAY_SECONDS".to_owned(), "soon".to_owned())].into_iter());
        assert!(bad.is_err());
    }

    #[test]
    fn print_config_masks_secrets() {
        let c = Config {
            admin_token: Some("super-secret-admin-token".into()),
            store: Some("postgres://app:hunter2@db:5432/tessera".into()),
            ..Config::default()
        };
        let text = c.to_masked_toml();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("super-secret-admin-token"), "{text}");
        assert!(text.contains("postgres://app:********@db:5432/tessera"));
    }

    #[test]
    fn toml_file_unknown_keys_refused() {
        assert!(toml::from_str::<Config>("listen = \"0.0.0.0:1\"\nbogus = 1\n").is_err());
        let c: Config = toml::from_str("access_ttl_seconds = 60\n").unwrap();
        assert_eq!(c.access_ttl_seconds, 60);
        assert_eq!(c.refresh_ttl_seconds, 2_592_000);
    }
}
