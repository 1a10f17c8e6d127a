//! The `[[issuer]]` tables of the configuration file (contracts.md,
//! "Configuration: trusted issuers and forward-auth rules"), and their
//! start-up checks: every problem stops the server with a message that
//! names the table and the fix.

use super::keyfile::load_key_file;
use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tessera_core::Address;
use tessera_core::NostrPublicKey;
use tessera_core::{Algorithm, KeySet};

/// Names the server uses for the credentials it accepts without an
/// `[[issuer]]` table: its own access tokens, and NWTs / NIP-98 events
/// addressed to it (one list, shared with the `[[rule]]` checks).
pub use crate::gateway::BUILT_IN_ISSUERS as BUILT_IN;

/// Default `max_lifetime_seconds` of the self-issued kinds (NWTs,
/// wallet-signed Portal JWTs): their `exp` is the user's own choice.
pub const DEFAULT_MAX_LIFETIME: i64 = 3600;

/// What an `[[issuer]]` trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssuerKind {
    /// Standard JWTs of one `iss`, keys from files, a `jwks_uri` or OIDC discovery.
    Jwt,
    /// Portal wallet JWTs, service-signed (`signers`) or wallet-signed.
    Portal,
    /// thirdweb-format wallet JWTs of trusted admin addresses.
    Thirdweb,
    /// Nostr Web Tokens for other audiences, with delegating signers.
    Nwt,
}

impl IssuerKind {
    /// The TOML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerKind::Jwt => "jwt",
            IssuerKind::Portal => "portal",
            IssuerKind::Thirdweb => "thirdweb",
            IssuerKind::Nwt => "nwt",
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One `[[issuer]]` table. Keys that do not belong to its `kind` are
/// refused at start-up (`IssuerConfig::check`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// Unique; sent upstream as `X-Auth-Issuer`.
    pub name: String,
    /// `jwt`, `portal`, `thirdweb` or `nwt`.
    pub kind: IssuerKind,
    /// jwt: the expected `iss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// jwt, nwt: accepted `aud` values (any one). nwt: besides the server's
    /// own URL and host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// jwt: allowed algorithms (default: each key's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithms: Option<Vec<String>>,
    /// jwt: required `typ` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// jwt: claims that must be present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_claims: Vec<String>,
    /// jwt: key files (JWK, JWK Set, PEM), relative to the configuration file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<PathBuf>,
    /// jwt: a remote JWK Set (cached, refreshed, rotating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// jwt: an OpenID Connect issuer whose discovery document names the `jwks_uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<String>,
    /// jwt: allow `http` and loopback/private addresses for `jwks_uri` /
    /// `discovery` (local tests only).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_insecure_jwks: bool,
    /// jwt with `jwks_uri` / `discovery`: the shortest time a fetched set
    /// is kept, whatever its `max-age` says (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_cache_floor_seconds: Option<u64>,
    /// jwt with `jwks_uri` / `discovery`: the longest time a fetched set is
    /// kept (default 86400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_cache_ceiling_seconds: Option<u64>,
    /// portal: keys (64-hex or npub) whose tokens vouch for `target_key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<String>,
    /// portal: accept tokens any user signs for this server's Nostr key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub wallet_signed: bool,
    /// thirdweb: trusted admin addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admins: Vec<String>,
    /// thirdweb: the expected `aud`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// nwt: signers whose `sub`/`iss` naming another key is honoured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_signers: Vec<String>,
    /// Longest `exp - iat` (`exp - now` without `iat`) accepted; default
    /// 3600 for nwt and wallet-signed portal, none for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lifetime_seconds: Option<i64>,
}

/// An `[[issuer]]` table checked: its keys parsed and loaded.
#[derive(Debug, Clone)]
pub(crate) struct CheckedIssuer {
    pub name: String,
    pub kind: CheckedKind,
    pub max_lifetime: Option<i64>,
}

/// Where a jwt issuer's keys come from.
#[derive(Debug, Clone)]
pub(crate) enum JwtKeySource {
    Files(KeySet),
    Remote(tessera_jwks::JwksConfig),
}

#[derive(Debug, Clone)]
pub(crate) enum CheckedKind {
    Jwt {
        iss: String,
        audiences: Vec<String>,
        algorithms: Option<Vec<Algorithm>>,
        typ: Option<String>,
        required_claims: Vec<String>,
        keys: JwtKeySource,
    },
    PortalService {
        signers: Vec<NostrPublicKey>,
    },
    PortalWallet,
    Thirdweb {
        admins: Vec<Address>,
        domain: String,
    },
    Nwt {
        audiences: Vec<String>,
        trusted_signers: Vec<NostrPublicKey>,
    },
}

/// Resolves the key file paths of every table against the directory of
/// the configuration file (`Config::from_file`).
pub(crate) fn resolve_paths(issuers: &mut [IssuerConfig], config_file: &Path) {
    let base = config_file.parent().unwrap_or(Path::new(""));
    for issuer in issuers {
        for key in &mut issuer.keys {
            if key.is_relative() {
                *key = base.join(&*key);
            }
        }
    }
}

/// Checks every table (names unique and not built-in, each table on its
/// own) and loads their keys. `own_iss` is the server's own access-token
/// issuer, which no jwt issuer may claim.
pub(crate) fn check_all(
    issuers: &[IssuerConfig],
    own_iss: &str,
) -> Result<Vec<CheckedIssuer>, ConfigError> {
    let mut out: Vec<CheckedIssuer> = Vec::with_capacity(issuers.len());
    for (i, cfg) in issuers.iter().enumerate() {
        let at = format!("[[issuer]] #{} (name = {:?})", i + 1, cfg.name);
        let fail = |why: String| ConfigError(format!("{at}: {why}"));
        if BUILT_IN.contains(&cfg.name.as_str()) {
            return Err(fail(format!(
                "the names {BUILT_IN:?} are built in (tessera's own access tokens, NWTs and NIP-98 events for this server); choose another name"
            )));
        }
        if out.iter().any(|o| o.name == cfg.name) {
            return Err(fail(
                "another [[issuer]] has this name; names must be unique (they are sent upstream as X-Auth-Issuer)".into(),
            ));
        }
        let checked = cfg.check(own_iss).map_err(fail)?;
        if let CheckedKind::Jwt { iss, .. } = &checked.kind {
            let same = out
                .iter()
                .any(|o| matches!(&o.kind, CheckedKind::Jwt { iss: other, .. } if other == iss));
            if same {
                return Err(fail(format!(
                    "another jwt issuer expects iss = {iss:?}; a token is matched to its issuer by `iss`, so each may be configured once (list several audiences or keys in one table)"
                )));
            }
        }
        if matches!(checked.kind, CheckedKind::PortalWallet)
            && out
                .iter()
                .any(|o| matches!(o.kind, CheckedKind::PortalWallet))
        {
            return Err(fail(
                "another portal issuer has wallet_signed = true; configure that direction once"
                    .into(),
            ));
        }
        out.push(checked);
    }
    Ok(out)
}

/// A valid issuer name: what may go into a header value and a log line.
fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err("`name` must be 1 to 64 letters, digits, `-`, `_` or `.` (it is sent upstream as X-Auth-Issuer)".into())
    }
}

fn nostr_keys(list: &[String], key: &str) -> Result<Vec<NostrPublicKey>, String> {
    list.iter()
        .map(|k| {
            NostrPublicKey::parse(k.trim()).map_err(|e| {
                format!(
                    "{key}: {:?} is not a Nostr key (64 hex digits or npub): {}",
                    truncate(k),
                    e.message()
                )
            })
        })
        .collect()
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

impl IssuerConfig {
    /// The keys of this table that do not belong to its kind.
    fn foreign_keys(&self) -> Vec<&'static str> {
        let set = [
            ("iss", self.iss.is_some()),
            ("audiences", !self.audiences.is_empty()),
            ("algorithms", self.algorithms.is_some()),
            ("typ", self.typ.is_some()),
            ("required_claims", !self.required_claims.is_empty()),
            ("keys", !self.keys.is_empty()),
            ("jwks_uri", self.jwks_uri.is_some()),
            ("discovery", self.discovery.is_some()),
            ("allow_insecure_jwks", self.allow_insecure_jwks),
            (
                "jwks_cache_floor_seconds",
                self.jwks_cache_floor_seconds.is_some(),
            ),
            (
                "jwks_cache_ceiling_seconds",
                self.jwks_cache_ceiling_seconds.is_some(),
            ),
            ("signers", !self.signers.is_empty()),
            ("wallet_signed", self.wallet_signed),
            ("admins", !self.admins.is_empty()),
            ("domain", self.domain.is_some()),
            ("trusted_signers", !self.trusted_signers.is_empty()),
        ];
        let allowed: &[&str] = match self.kind {
            IssuerKind::Jwt => &[
                "iss",
                "audiences",
                "algorithms",
                "typ",
                "required_claims",
                "keys",
                "jwks_uri",
                "discovery",
                "allow_insecure_jwks",
                "jwks_cache_floor_seconds",
                "jwks_cache_ceiling_seconds",
            ],
            IssuerKind::Portal => &["signers", "wallet_signed"],
            IssuerKind::Thirdweb => &["admins", "domain"],
            IssuerKind::Nwt => &["audiences", "trusted_signers"],
        };
        set.iter()
            .filter(|(k, present)| *present && !allowed.contains(k))
            .map(|(k, _)| *k)
            .collect()
    }

    /// Checks this table on its own and loads its keys.
    fn check(&self, own_iss: &str) -> Result<CheckedIssuer, String> {
        check_name(&self.name)?;
        let foreign = self.foreign_keys();
        if !foreign.is_empty() {
            return Err(format!(
                "{} do(es) not apply to kind = {:?}; remove them, or use the kind they belong to",
                foreign
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.kind.as_str()
            ));
        }
        if let Some(max) = self.max_lifetime_seconds {
            if max <= 0 {
                return Err(format!("max_lifetime_seconds must be positive, got {max}"));
            }
        }
        let (kind, default_cap) = match self.kind {
            IssuerKind::Jwt => (self.check_jwt(own_iss)?, None),
            IssuerKind::Portal => match (self.signers.is_empty(), self.wallet_signed) {
                (false, false) => (
                    CheckedKind::PortalService {
                        signers: nostr_keys(&self.signers, "signers")?,
                    },
                    None,
                ),
                (true, true) => (CheckedKind::PortalWallet, Some(DEFAULT_MAX_LIFETIME)),
                (true, false) => return Err(
                    "a portal issuer has no keys: set signers = [\"<64-hex or npub>\"] (service-signed tokens: the subject is `target_key`) or wallet_signed = true (tokens users sign for this server's nostr_pubkey: the subject is the signer)".into(),
                ),
                (false, true) => return Err(
                    "a portal issuer is one direction: signers = [...] (service-signed) or wallet_signed = true; put each in its own [[issuer]] table".into(),
                ),
            },
            IssuerKind::Thirdweb => {
                if self.admins.is_empty() {
                    return Err("a thirdweb issuer has no keys: set admins = [\"0x...\"] (the addresses that sign the tokens)".into());
                }
                let admins = self
                    .admins
                    .iter()
                    .map(|a| {
                        Address::parse(a.trim()).map_err(|e| {
                            format!("admins: {:?} is not an Ethereum address: {}", truncate(a), e.message())
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let domain = match self.domain.as_deref().map(str::trim) {
                    Some(d) if !d.is_empty() => d.to_owned(),
                    _ => return Err("a thirdweb issuer needs domain = \"example.com\" (the `aud` its tokens carry)".into()),
                };
                (CheckedKind::Thirdweb { admins, domain }, None)
            }
            IssuerKind::Nwt => (
                CheckedKind::Nwt {
                    audiences: self.audiences.clone(),
                    trusted_signers: nostr_keys(&self.trusted_signers, "trusted_signers")?,
                },
                Some(DEFAULT_MAX_LIFETIME),
            ),
        };
        Ok(CheckedIssuer {
            name: self.name.clone(),
            kind,
            max_lifetime: self.max_lifetime_seconds.or(default_cap),
        })
    }

    fn check_jwt(&self, own_iss: &str) -> Result<CheckedKind, String> {
        let iss =
            match self.iss.as_deref() {
                Some(i) if !i.is_empty() => i.to_owned(),
                _ => return Err(
                    "a jwt issuer needs iss = \"https://idp.example\" (the `iss` its tokens carry)"
                        .into(),
                ),
            };
        if iss == own_iss {
            return Err(format!(
                "iss = {iss:?} is this server's own issuer (its access tokens are the built-in `tessera` issuer); remove this table"
            ));
        }
        let algorithms = match &self.algorithms {
            None => None,
            Some(list) if list.is_empty() => {
                return Err("algorithms = [] allows nothing; list them (like [\"RS256\"]) or remove the key".into())
            }
            Some(list) => Some(
                list.iter()
                    .map(|a| {
                        Algorithm::from_name(a).ok_or_else(|| {
                            format!("algorithms: {:?} is not a supported signature algorithm (RS256, ES256, EdDSA, ...)", truncate(a))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        if algorithms.iter().flatten().any(|a| a.is_hmac()) {
            return Err("algorithms: HMAC (HS*) needs a shared secret, which an [[issuer]] does not hold; use the issuer's public keys (RS*, PS*, ES*, EdDSA)".into());
        }
        let sources = [
            !self.keys.is_empty(),
            self.jwks_uri.is_some(),
            self.discovery.is_some(),
        ];
        let pin = match algorithms.as_deref() {
            Some([one]) => Some(*one),
            _ => None,
        };
        match sources.iter().filter(|s| **s).count() {
            0 => return Err("a jwt issuer has no keys: set keys = [\"issuer.jwks.json\"] (JWK, JWK Set or PEM files), jwks_uri = \"https://...\" or discovery = \"https://issuer\"".into()),
            1 => {}
            _ => return Err("set one of keys, jwks_uri and discovery".into()),
        }
        let cache_bounds =
            self.jwks_cache_floor_seconds.is_some() || self.jwks_cache_ceiling_seconds.is_some();
        if cache_bounds && self.jwks_uri.is_none() && self.discovery.is_none() {
            return Err("jwks_cache_floor_seconds and jwks_cache_ceiling_seconds bound the cache of a remote key set: set jwks_uri or discovery, or remove them".into());
        }
        let source = if !self.keys.is_empty() {
            let mut set = KeySet::new();
            for path in &self.keys {
                for key in load_key_file(path, pin)? {
                    if key.is_secret() {
                        return Err(format!("keys: {} holds a secret (oct) key; an [[issuer]] is trusted by its public keys", path.display()));
                    }
                    set.push(key)
                        .map_err(|e| format!("keys: {}: {}", path.display(), e.message()))?;
                }
            }
            JwtKeySource::Files(set)
        } else {
            let mut jwks = match (&self.jwks_uri, &self.discovery) {
                (Some(u), _) => tessera_jwks::JwksConfig::jwks_uri(u.clone()),
                (_, Some(d)) => tessera_jwks::JwksConfig::discovery(d.clone()),
                _ => return Err("set one of keys, jwks_uri and discovery".into()),
            };
            jwks.allow_insecure = self.allow_insecure_jwks;
            if let Some(floor) = self.jwks_cache_floor_seconds {
                jwks.cache_floor = std::time::Duration::from_secs(floor);
            }
            if let Some(ceiling) = self.jwks_cache_ceiling_seconds {
                jwks.cache_ceiling = std::time::Duration::from_secs(ceiling);
            }
            if jwks.cache_floor.is_zero()
                || jwks.cache_ceiling < jwks.cache_floor
                || jwks.cache_ceiling > tessera_jwks::MAX_CACHE_CEILING
            {
                return Err(format!(
                    "jwks_cache_floor_seconds ({}) must be at least 1 and at most jwks_cache_ceiling_seconds ({}), which is at most 31536000 (365 days)",
                    jwks.cache_floor.as_secs(),
                    jwks.cache_ceiling.as_secs()
                ));
            }
            jwks.algorithm_for_keys_without_alg = pin;
            let which = if self.jwks_uri.is_some() {
                "jwks_uri"
            } else {
                "discovery"
            };
            jwks.validate().map_err(|e| {
                format!("{which}: {}; an issuer's keys are fetched over https from a public address (allow_insecure_jwks = true lifts this, for local tests only)", e.message())
            })?;
            JwtKeySource::Remote(jwks)
        };
        Ok(CheckedKind::Jwt {
            iss,
            audiences: self.audiences.clone(),
            algorithms,
            typ: self.typ.clone(),
            required_claims: self.required_claims.clone(),
            keys: source,
        })
    }
}
