//! The `[forward_auth]` table and `[[rule]]` tables of the server
//! configuration: checked at start-up, and turned into the reader and the
//! rules the forward-auth route uses.

use super::{ClaimHeaders, Gateway, RequestReader, RuleSet};
use crate::config::{Config, ConfigError};
use crate::proxies::TrustedProxies;

impl Config {
    /// `[forward_auth]` and `[[rule]]`: the gateway's settings, the claim
    /// headers, and the rules against the built-in issuer names.
    pub(crate) fn check_forward_auth(&self) -> Result<(), ConfigError> {
        let fa = &self.forward_auth;
        ClaimHeaders::new(&fa.claim_headers)?;
        if fa.path_prefix.is_some() && fa.gateway != Some(Gateway::Envoy) {
            return Err(ConfigError(
                "[forward_auth] path_prefix is Envoy's ext_authz path_prefix: set gateway = \"envoy\", or remove it".into(),
            ));
        }
        if !self.rule.is_empty() && fa.gateway.is_none() {
            return Err(ConfigError(
                "[[rule]] tables judge the request the gateway forwards: set [forward_auth] gateway = \"nginx\", \"traefik\", \"caddy\" or \"envoy\"".into(),
            ));
        }
        // `--listen HOST:0` without a public URL: the URL names its port
        // only once bound (`serve` fills it in), so it is checked then.
        if self.public_url.is_some() || !self.listen.ends_with(":0") {
            self.forward_auth_reader()?;
        }
        self.forward_auth_rules()?;
        self.grpc_listen()?;
        self.assertion_audience()?;
        Ok(())
    }

    /// `[forward_auth] grpc_listen` as an address, None when it is off.
    pub fn grpc_listen(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        let Some(listen) = &self.forward_auth.grpc_listen else {
            return Ok(None);
        };
        let addr: std::net::SocketAddr = listen.parse().map_err(|_| {
            ConfigError(format!(
                "[forward_auth] grpc_listen {listen:?} is not an address like \"127.0.0.1:9191\" (Envoy's ext_authz grpc_service connects there)"
            ))
        })?;
        if self.listen == *listen && addr.port() != 0 {
            return Err(ConfigError(format!(
                "[forward_auth] grpc_listen {listen:?} is the HTTP listen address too: give the gRPC service a port of its own"
            )));
        }
        Ok(Some(addr))
    }

    /// `[forward_auth] assertion_audience`: a printable value of at most
    /// 256 bytes (it is the `aud` claim of every assertion).
    pub fn assertion_audience(&self) -> Result<Option<&str>, ConfigError> {
        let Some(aud) = self.forward_auth.assertion_audience.as_deref() else {
            return Ok(None);
        };
        if aud.is_empty() || aud.len() > 256 || aud.chars().any(char::is_control) {
            return Err(ConfigError(
                "[forward_auth] assertion_audience must be 1 to 256 printable characters: the upstream's name, the `aud` it checks in X-Auth-Assertion".into(),
            ));
        }
        Ok(Some(aud))
    }

    /// The checked `[[rule]]` tables: each `allow` name is an `[[issuer]]`
    /// of this configuration or a built-in issuer (`tessera`, `nostr`).
    pub fn forward_auth_rules(&self) -> Result<RuleSet, ConfigError> {
        let issuers: Vec<&str> = self.issuer.iter().map(|i| i.name.as_str()).collect();
        self.rules_for_issuers(&issuers)
    }

    /// The `[[rule]]` tables checked against the given issuer names.
    pub(crate) fn rules_for_issuers(&self, issuers: &[&str]) -> Result<RuleSet, ConfigError> {
        RuleSet::compile(&self.rule, issuers)
    }

    /// What reads the original request of a forward-auth call.
    pub fn forward_auth_reader(&self) -> Result<RequestReader, ConfigError> {
        RequestReader::new(
            self.forward_auth.gateway,
            self.forward_auth.path_prefix.as_deref(),
            TrustedProxies::new(self.trusted_proxies()?),
            &self.public_url(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_listen_and_assertion_audience_are_checked_at_start_up() {
        let with = |extra: &str| -> Result<(), ConfigError> {
            let c: Config = toml::from_str(&format!("[forward_auth]\n{extra}\n")).unwrap();
            c.validate()
        };
        with("grpc_listen = \"127.0.0.1:9191\"\nassertion_audience = \"upstream\"").unwrap();
        let e = with("grpc_listen = \"localhost\"").unwrap_err();
        assert!(e.0.contains("grpc_listen"), "{e}");
        let e = with("grpc_listen = \"127.0.0.1:8787\"").unwrap_err();
        assert!(e.0.contains("HTTP listen address"), "{e}");
        for bad in ["", "a\\u0007b"] {
            let e = with(&format!("assertion_audience = \"{bad}\"")).unwrap_err();
            assert!(e.0.contains("assertion_audience"), "{bad:?}: {e}");
        }
        let long = "a".repeat(257);
        let e = with(&format!("assertion_audience = \"{long}\"")).unwrap_err();
        assert!(e.0.contains("assertion_audience"), "{e}");
    }
}
