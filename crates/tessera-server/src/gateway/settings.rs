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
        let issuers: Vec<&str> = self.issuer.iter().map(|i| i.name.as_str()).collect();
        self.forward_auth_rules(&issuers)?;
        Ok(())
    }

    /// The checked `[[rule]]` tables; `issuers` are the `[[issuer]]` names
    /// (the built-in `tessera` and `nostr` are always known).
    pub fn forward_auth_rules(&self, issuers: &[&str]) -> Result<RuleSet, ConfigError> {
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

/// Until the forward-auth route reads them (the wiring step of issue 20),
/// the settings it would silently ignore stop the server: a rule that is
/// configured but not enforced is worse than no rule. The wiring step
/// removes this check and its call in `serve::build_state`.
pub fn refuse_unenforced(config: &Config) -> Result<(), ConfigError> {
    let fa = &config.forward_auth;
    let set = [
        ("[[rule]] tables", !config.rule.is_empty()),
        ("[forward_auth] gateway", fa.gateway.is_some()),
        ("[forward_auth] path_prefix", fa.path_prefix.is_some()),
        ("[forward_auth] claim_headers", !fa.claim_headers.is_empty()),
    ];
    match set.iter().find(|(_, is_set)| *is_set) {
        Some((what, _)) => Err(ConfigError(format!(
            "{what}: this build checks them but /v1/verify does not enforce them yet; remove them until it does"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_not_yet_enforced_stop_the_server() {
        refuse_unenforced(&Config::default()).unwrap();
        for text in [
            "[[rule]]\npath = \"/*\"\nallow = [\"tessera\"]\n",
            "[forward_auth]\ngateway = \"nginx\"\n",
            "[forward_auth]\ngateway = \"envoy\"\npath_prefix = \"/authz\"\n",
            "[forward_auth]\nclaim_headers = [\"scope\"]\n",
        ] {
            let c: Config = toml::from_str(text).unwrap();
            let e = refuse_unenforced(&c).unwrap_err();
            assert!(e.0.contains("does not enforce"), "{text}: {e}");
        }
    }
}
