//! Reading the configuration: a TOML file over the defaults, then
//! `TESSERA_*` environment overrides.

use super::{Config, ConfigError, SignerAlg};
use std::path::{Path, PathBuf};

fn parse_env<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError> {
    value
        .parse()
        .map_err(|_| ConfigError(format!("{name}={value:?} is not a valid value")))
}

/// A comma-separated list (`TESSERA_ALLOWED_CHAIN_IDS=1,10`); empty is [].
fn parse_env_list<T: std::str::FromStr>(name: &str, value: &str) -> Result<Vec<T>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| parse_env(name, v))
        .collect()
}

impl Config {
    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        let mut config: Config = toml::from_str(&text)
            .map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))?;
        crate::issuers::resolve_paths(&mut config.issuer, path);
        Ok(config)
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
                "STORE_CONNECT_TIMEOUT_SECONDS" => {
                    self.store_connect_timeout_seconds = parse_env(&name, &value)?
                }
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
                "KEY_PUBLISH_DELAY_SECONDS" => {
                    self.key_publish_delay_seconds = parse_env(&name, &value)?
                }
                "KEY_RELOAD_INTERVAL_SECONDS" => {
                    self.key_reload_interval_seconds = parse_env(&name, &value)?
                }
                "CHAIN_ID" => self.chain_id = parse_env(&name, &value)?,
                "NONCE_TTL_SECONDS" => self.nonce_ttl_seconds = parse_env(&name, &value)?,
                "MAX_BODY_BYTES" => self.max_body_bytes = parse_env(&name, &value)?,
                "MAX_AUTHORIZATION_BYTES" => {
                    self.max_authorization_bytes = parse_env(&name, &value)?
                }
                "RATE_LIMIT_PER_MINUTE" => self.rate_limit_per_minute = parse_env(&name, &value)?,
                "TRUST_FORWARDED_FOR" => self.trust_forwarded_for = Some(parse_env(&name, &value)?),
                "HEADER_READ_TIMEOUT_SECONDS" => {
                    self.header_read_timeout_seconds = parse_env(&name, &value)?
                }
                "REQUEST_TIMEOUT_SECONDS" => {
                    self.request_timeout_seconds = parse_env(&name, &value)?
                }
                "MAX_CONNECTIONS" => self.max_connections = parse_env(&name, &value)?,
                "SHUTDOWN_GRACE_SECONDS" => self.shutdown_grace_seconds = parse_env(&name, &value)?,
                "ALLOWED_CHAIN_IDS" => {
                    self.allowed_chain_ids = Some(parse_env_list(&name, &value)?)
                }
                "FORWARD_AUTH_TRUSTED_PROXIES" => {
                    self.forward_auth.trusted_proxies = parse_env_list(&name, &value)?
                }
                "FORWARD_AUTH_GATEWAY" => {
                    self.forward_auth.gateway = Some(
                        value
                            .parse()
                            .map_err(|e| ConfigError(format!("{name}: {e}")))?,
                    )
                }
                "FORWARD_AUTH_PATH_PREFIX" => self.forward_auth.path_prefix = Some(value),
                "FORWARD_AUTH_CLAIM_HEADERS" => {
                    self.forward_auth.claim_headers = parse_env_list(&name, &value)?
                }
                "FORWARD_AUTH_GRPC_LISTEN" => self.forward_auth.grpc_listen = Some(value),
                "FORWARD_AUTH_ASSERTION_AUDIENCE" => {
                    self.forward_auth.assertion_audience = Some(value)
                }
                "COOKIE_SECURE" => self.cookie_secure = parse_env(&name, &value)?,
                "VERIFY_CACHE_ENTRIES" => self.verify_cache_entries = parse_env(&name, &value)?,
                "VERIFY_CACHE_BYTES" => self.verify_cache_bytes = parse_env(&name, &value)?,
                "NOSTR_MAX_LIFETIME_SECONDS" => {
                    self.nostr_max_lifetime_seconds = parse_env(&name, &value)?
                }
                // Test-only and unrelated TESSERA_* variables are not config keys.
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            tessera_core::CacheConfig::default().max_entries
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
    fn limits_proxies_and_chains_from_the_environment() {
        let mut c = Config::default();
        c.apply_env(
            [
                ("TESSERA_HEADER_READ_TIMEOUT_SECONDS", "5"),
                ("TESSERA_REQUEST_TIMEOUT_SECONDS", "7"),
                ("TESSERA_MAX_CONNECTIONS", "64"),
                ("TESSERA_SHUTDOWN_GRACE_SECONDS", "3"),
                ("TESSERA_ALLOWED_CHAIN_IDS", "1, 10,137"),
                (
                    "TESSERA_FORWARD_AUTH_TRUSTED_PROXIES",
                    "10.0.0.0/8,192.168.1.7,fd00::/8",
                ),
                ("TESSERA_FORWARD_AUTH_GRPC_LISTEN", "127.0.0.1:9191"),
                ("TESSERA_FORWARD_AUTH_ASSERTION_AUDIENCE", "upstream"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
        .unwrap();
        assert_eq!(
            (
                c.header_read_timeout_seconds,
                c.request_timeout_seconds,
                c.max_connections,
                c.shutdown_grace_seconds
            ),
            (5, 7, 64, 3)
        );
        assert_eq!(c.allowed_chain_ids(), [1, 10, 137]);
        c.validate().unwrap();
        let nets = c.trusted_proxies().unwrap();
        assert_eq!(nets.len(), 3);
        assert!(nets[1].contains(&"192.168.1.7".parse::<std::net::IpAddr>().unwrap()));
        assert_eq!(
            c.grpc_listen().unwrap(),
            Some("127.0.0.1:9191".parse().unwrap())
        );
        assert_eq!(c.assertion_audience().unwrap(), Some("upstream"));
        // --print-config shows them.
        let text = c.to_masked_toml();
        assert!(text.contains("grpc_listen = \"127.0.0.1:9191\""), "{text}");
        assert!(text.contains("assertion_audience = \"upstream\""), "{text}");
    }

    #[test]
    fn toml_file_unknown_keys_refused() {
        assert!(toml::from_str::<Config>("listen = \"0.0.0.0:1\"\nbogus = 1\n").is_err());
        let c: Config = toml::from_str("access_ttl_seconds = 60\n").unwrap();
        assert_eq!(c.access_ttl_seconds, 60);
        assert_eq!(c.refresh_ttl_seconds, 2_592_000);
    }
}
