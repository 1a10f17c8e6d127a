//! Checking the configuration: values, ranges, and the tables that must
//! agree with each other.

use super::{Config, ConfigError};

impl Config {
    /// Checks values and ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("access_ttl_seconds", self.access_ttl_seconds),
            ("refresh_ttl_seconds", self.refresh_ttl_seconds),
            ("nonce_ttl_seconds", self.nonce_ttl_seconds),
            (
                "nostr_max_lifetime_seconds",
                self.nostr_max_lifetime_seconds,
            ),
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
        let timeouts = [
            (
                "header_read_timeout_seconds",
                self.header_read_timeout_seconds,
            ),
            ("request_timeout_seconds", self.request_timeout_seconds),
            ("shutdown_grace_seconds", self.shutdown_grace_seconds),
            ("max_connections", self.max_connections as u64),
        ];
        for (name, v) in timeouts {
            if v == 0 {
                return Err(ConfigError(format!("{name} must be at least 1")));
            }
        }
        crate::key_reload::check_config(self)?;
        if self.trust_forwarded_for == Some(true) {
            return Err(ConfigError(
                "trust_forwarded_for was replaced: it believed the leftmost X-Forwarded-For entry, which the client writes. List your proxies instead: [forward_auth] trusted_proxies = [\"10.0.0.0/8\"] (TESSERA_FORWARD_AUTH_TRUSTED_PROXIES); the address is then read from the right, skipping them".into(),
            ));
        }
        self.trusted_proxies()?;
        crate::issuers::check_all(&self.issuer, &self.public_url())?;
        self.check_forward_auth()?;
        let chains = self.allowed_chain_ids();
        if chains.is_empty() || !chains.contains(&self.chain_id) {
            return Err(ConfigError(format!(
                "allowed_chain_ids {chains:?} must include chain_id {} (the chain challenges offer)",
                self.chain_id
            )));
        }
        if self.admin_token.as_deref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError(
                "admin_token must be at least 16 characters".into(),
            ));
        }
        // It is presented as `Authorization: Bearer <admin_token>`, where the
        // credential has no whitespace (RFC 6750 §2.1).
        if self
            .admin_token
            .as_deref()
            .is_some_and(|t| !t.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(ConfigError(
                "admin_token must be printable ASCII without spaces (it is sent as a Bearer token)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The parsed `[forward_auth] trusted_proxies` (a bare address is a
    /// network of one).
    pub fn trusted_proxies(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.forward_auth
            .trusted_proxies
            .iter()
            .map(|p| {
                p.trim()
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| p.trim().parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError(format!(
                            "[forward_auth] trusted_proxies: {p:?} is not a CIDR like 10.0.0.0/8 or an address"
                        ))
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ForwardAuth;

    #[test]
    fn bad_limits_proxies_and_chains_are_refused() {
        let bad = [
            Config {
                header_read_timeout_seconds: 0,
                ..Config::default()
            },
            Config {
                max_connections: 0,
                ..Config::default()
            },
            Config {
                forward_auth: ForwardAuth {
                    trusted_proxies: vec!["10.0.0.0/33".into()],
                    ..ForwardAuth::default()
                },
                ..Config::default()
            },
            Config {
                allowed_chain_ids: Some(vec![10]),
                ..Config::default()
            },
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?}");
        }
    }

    #[test]
    fn the_old_trust_forwarded_for_flag_is_refused_with_the_replacement() {
        let c: Config = toml::from_str("trust_forwarded_for = true\n").unwrap();
        let e = c.validate().unwrap_err();
        assert!(e.0.contains("trusted_proxies"), "{e}");
        let mut c = Config::default();
        c.apply_env([("TESSERA_TRUST_FORWARDED_FOR".into(), "true".into())].into_iter())
            .unwrap();
        assert!(c.validate().is_err());
        // `false` asked for nothing the new rule does not give.
        let c: Config = toml::from_str("trust_forwarded_for = false\n").unwrap();
        assert!(c.validate().is_ok());
        assert!(!c.to_masked_toml().contains("trust_forwarded_for = true"));
    }
}
