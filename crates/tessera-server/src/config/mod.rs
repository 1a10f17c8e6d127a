//! Server configuration: defaults, an optional TOML file, `TESSERA_*`
//! environment variables, then flags (contracts.md, "HTTP server").
//!
//! The types, their defaults and the values derived from them are here;
//! reading the file and the environment is in load.rs, the checks in
//! validate.rs.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

mod load;
mod validate;

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
    /// Seconds a store that cannot be reached at start-up is retried, with
    /// backoff, before the server exits (0: one attempt).
    pub store_connect_timeout_seconds: u64,
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
    /// Seconds a new signer in `keys/` is only published (JWKS, verified)
    /// before this instance signs with it, so that every instance sharing
    /// `keys/` verifies its tokens first (docs/key-rotation.md). 0 signs
    /// with the newest at once (one instance only).
    pub key_publish_delay_seconds: i64,
    /// Seconds between two reads of `keys/signers.json` (SIGHUP reads it at
    /// once): added and retired signers are picked up without a restart.
    pub key_reload_interval_seconds: u64,
    /// SIWE `Chain ID` offered in challenges.
    pub chain_id: u64,
    /// Life of a login challenge nonce.
    pub nonce_ttl_seconds: i64,
    /// Largest request body, bytes (413 above).
    pub max_body_bytes: usize,
    /// Largest `Authorization` value, bytes (431 above).
    pub max_authorization_bytes: usize,
    /// Per-client-IP requests per minute on challenge, login, refresh and revoke (0 = unlimited).
    pub rate_limit_per_minute: u32,
    /// Replaced by `[forward_auth] trusted_proxies`; `true` is refused with
    /// a message (it trusted the leftmost `X-Forwarded-For` entry, which the
    /// client writes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_forwarded_for: Option<bool>,
    /// Seconds a connection may take to send a whole request head, counted
    /// from the moment the server waits for one: on a new connection, and
    /// after each answer on a keep-alive connection, so it is also the idle
    /// keep-alive timeout (hyper measures both with one timer).
    pub header_read_timeout_seconds: u64,
    /// Seconds one request may take from its head to its answer (reading
    /// the body included); past it the answer is 408.
    pub request_timeout_seconds: u64,
    /// Most open client connections; past it the server stops accepting
    /// until one closes. Lowered at start-up to fit the descriptor limit.
    pub max_connections: usize,
    /// On SIGTERM/Ctrl-C, seconds in-flight requests get to finish before
    /// the remaining connections are dropped.
    pub shutdown_grace_seconds: u64,
    /// SIWE `Chain ID`s a login may name; default: just `chain_id`.
    pub allowed_chain_ids: Option<Vec<u64>>,
    /// Proxies in front of the server.
    pub forward_auth: ForwardAuth,
    /// Longest life of an NWT (and of a wallet-signed Portal login token)
    /// for this server, the built-in `nostr` issuer: `exp - iat` above it
    /// is `invalid_claim`.
    pub nostr_max_lifetime_seconds: i64,
    /// `[[issuer]]` tables: trusted issuers (`crate::issuers`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issuer: Vec<crate::issuers::IssuerConfig>,
    /// `[[rule]]` tables: forward-auth rules, first match wins
    /// (`gateway::RuleSet`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rule: Vec<crate::gateway::RuleConfig>,
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

/// The `[forward_auth]` table (contracts.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForwardAuth {
    /// CIDRs (or single addresses) of the proxies whose forwarding headers
    /// are believed: `X-Forwarded-For` (read from the right, skipping these
    /// proxies, for the rate limiter's client address) and the gateway's
    /// `X-Original-*` / `X-Forwarded-*` request headers at `/v1/verify`.
    pub trusted_proxies: Vec<String>,
    /// The gateway whose headers name the original request (`nginx`,
    /// `traefik`, `caddy`, `envoy`); none: no gateway header is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<crate::gateway::Gateway>,
    /// Envoy only: the `path_prefix` of its ext_authz `http_service`
    /// (default `/v1/verify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Claims sent upstream as `X-Auth-Claim-<Name>` headers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub claim_headers: Vec<String>,
    /// Where Envoy's ext_authz v3 gRPC service
    /// (`envoy.service.auth.v3.Authorization/Check`) listens
    /// (`127.0.0.1:9191`); none: it is off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_listen: Option<String>,
    /// When set, an allowed forward-auth answer carries `X-Auth-Assertion`:
    /// a short-lived JWT for this audience, signed by the server's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assertion_audience: Option<String>,
}

impl Default for ForwardAuth {
    fn default() -> Self {
        ForwardAuth {
            trusted_proxies: vec!["127.0.0.1/32".into(), "::1/128".into()],
            gateway: None,
            path_prefix: None,
            claim_headers: Vec::new(),
            grpc_listen: None,
            assertion_audience: None,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8787".into(),
            data_dir: PathBuf::from("./tessera-data"),
            store: None,
            store_connect_timeout_seconds: 30,
            public_url: None,
            admin_token: None,
            access_ttl_seconds: 900,
            refresh_ttl_seconds: 2_592_000,
            refresh_reuse_grace_seconds: 10,
            leeway_seconds: 60,
            signing_alg: SignerAlg::ES256,
            key_publish_delay_seconds: 60,
            key_reload_interval_seconds: 10,
            chain_id: 1,
            nonce_ttl_seconds: 300,
            max_body_bytes: 64 * 1024,
            max_authorization_bytes: 8 * 1024,
            rate_limit_per_minute: 60,
            trust_forwarded_for: None,
            header_read_timeout_seconds: 30,
            request_timeout_seconds: 15,
            max_connections: 10_000,
            shutdown_grace_seconds: 20,
            allowed_chain_ids: None,
            forward_auth: ForwardAuth::default(),
            nostr_max_lifetime_seconds: crate::issuers::DEFAULT_MAX_LIFETIME,
            issuer: Vec::new(),
            rule: Vec::new(),
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

impl Config {
    /// The SIWE chain ids a login may name (default: `[chain_id]`).
    pub fn allowed_chain_ids(&self) -> Vec<u64> {
        self.allowed_chain_ids
            .clone()
            .unwrap_or_else(|| vec![self.chain_id])
    }

    /// The server's own URL, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// `host[:port]` of the public URL (the SIWE domain).
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
        shown.store = Some(tessera_store::mask_url(&self.store_url()));
        shown.public_url = Some(self.public_url());
        shown.allowed_chain_ids = Some(self.allowed_chain_ids());
        if shown.admin_token.is_some() {
            shown.admin_token = Some("********".into());
        }
        toml::to_string(&shown).unwrap_or_else(|e| format!("# cannot render configuration: {e}\n"))
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
    fn print_config_masks_secrets() {
        let c = Config {
            admin_token: Some("super-secret-admin-token".into()),
            store: Some("postgres://app:hunter2@db:5432/tessera".into()),
            ..Config::default()
        };
        let text = c.to_masked_toml();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("super-secret-admin-token"), "{text}");
        assert!(
            text.contains("postgres://app:***@db:5432/tessera"),
            "{text}"
        );
        // The password as a query parameter (issue 17, item 6).
        let c = Config {
            store: Some("postgres://app@db/tessera?sslmode=disable&password=hunter2".into()),
            ..Config::default()
        };
        let text = c.to_masked_toml();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("postgres://app@db/tessera?sslmode=disable&password=***"),
            "{text}"
        );
    }

    #[test]
    fn print_config_shows_the_connection_limits_and_proxies() {
        let text = Config::default().to_masked_toml();
        for line in [
            "header_read_timeout_seconds = 30",
            "request_timeout_seconds = 15",
            "max_connections = 10000",
            "shutdown_grace_seconds = 20",
            "allowed_chain_ids = [1]",
            "[forward_auth]",
            "trusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]",
        ] {
            assert!(text.contains(line), "{line} missing in:\n{text}");
        }
        // What it prints reads back as the same configuration.
        let back: Config = toml::from_str(&text).unwrap();
        assert_eq!(back.max_connections, 10_000);
        assert_eq!(back.forward_auth, ForwardAuth::default());
    }
}
