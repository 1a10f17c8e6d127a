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
        self.check_payload_without_body()?;
        Ok(())
    }

    /// `nip98_payload_without_body = "accept_unchecked"` needs a NIP-98
    /// check that skips the `payload` tag, which tessera-core does not
    /// offer yet: refused at start-up rather than silently treated as
    /// `refuse`.
    fn check_payload_without_body(&self) -> Result<(), ConfigError> {
        let unchecked = self.rule.iter().position(|r| {
            r.nip98_payload_without_body == Some(super::PayloadWithoutBody::AcceptUnchecked)
        });
        match unchecked {
            Some(i) => Err(ConfigError(format!(
                "[[rule]] #{}: nip98_payload_without_body = \"accept_unchecked\" is not supported yet (NIP-98 events with a `payload` tag are refused when the gateway does not forward the body); remove it, or forward the body (Traefik forwardBody, Envoy with_request_body)",
                i + 1
            ))),
            None => Ok(()),
        }
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
    fn accepting_unchecked_payloads_is_refused_at_start_up() {
        let text = "[forward_auth]\ngateway = \"nginx\"\n[[rule]]\npath = \"/*\"\nallow = [\"nostr\"]\nnip98_payload_without_body = \"accept_unchecked\"\n";
        let c: Config = toml::from_str(text).unwrap();
        let e = c.validate().unwrap_err();
        assert!(
            e.0.contains("[[rule]] #1") && e.0.contains("not supported"),
            "{e}"
        );
        let refuse = text.replace("accept_unchecked", "refuse");
        let c: Config = toml::from_str(&refuse).unwrap();
        c.validate().unwrap();
    }
}
