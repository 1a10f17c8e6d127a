//! Trusted issuers (`[[issuer]]` tables, issue 19): credentials that other
//! parties sign — an identity provider's JWTs, Portal wallet JWTs,
//! thirdweb-format JWTs, NWTs for other audiences — verified by
//! tessera-core with each kind's strict rules.
//!
//! A credential is tried only against the issuers of its kind
//! ([`Issuers::route_bearer`]): a bearer token with Portal's header and a
//! `target_key` against the portal issuers, one with thirdweb's header and
//! a `0x…` signature against the thirdweb issuers, any other bearer token
//! against the jwt issuer whose `iss` it names (keys are looked up by
//! issuer, then `kid`), else it is tessera's own access token; a `Nostr`
//! credential is the built-in `nostr` issuer's, or an nwt issuer's when
//! the built-in one refuses it as not addressed to it.
//!
//! [`Authenticated`] is what the routes get back: the identity, the
//! format (`method`), and the issuer's name (`X-Auth-Issuer`).

mod config;
mod keyfile;
mod verify;

#[cfg(test)]
mod config_tests;
#[cfg(test)]
mod verify_tests;

pub(crate) use config::{check_all, resolve_paths};
pub use config::{IssuerConfig, IssuerKind, BUILT_IN, DEFAULT_MAX_LIFETIME};
pub use verify::{BearerRoute, IssuerRefusal, PORTAL_SIGNER_HEADER};

use crate::config::ConfigError;
use config::{CheckedIssuer, CheckedKind, JwtKeySource};
use std::sync::Arc;
use tessera_core::Address;
use tessera_core::CacheConfig;
use tessera_core::NostrPublicKey;
use tessera_core::{Clock, Identity, KeySet, Policy, Verifier};
use tessera_jwks::{RemoteJwks, RemoteVerifier};

/// A verified credential: who it proves, in which format, and which
/// issuer vouched for it.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The verified identity.
    pub identity: Arc<Identity>,
    /// The credential's format, a bounded set (metrics label,
    /// `X-Auth-Method`): `access_token`, `nwt`, `nip98`, `jwt`, `portal`,
    /// `thirdweb`.
    pub method: &'static str,
    /// The issuer's name (`X-Auth-Issuer`): `tessera` (this server's
    /// access tokens), `nostr` (NWTs and NIP-98 events for this server),
    /// or an `[[issuer]]` name.
    pub issuer: Arc<str>,
}

/// What the issuers need to know about this server.
#[derive(Clone)]
pub struct ServerContext {
    /// The public URL (an nwt issuer always accepts it as `aud`).
    pub url: String,
    /// `host[:port]` of the public URL (likewise).
    pub host: String,
    /// The server's own Nostr key (`/v1/info` `nostr_pubkey`): the
    /// `target_key` of wallet-signed Portal JWTs.
    pub nostr: NostrPublicKey,
    /// Clock-skew allowance, seconds.
    pub leeway: i64,
    /// Bounds of each issuer's verified-credential cache.
    pub cache: CacheConfig,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// One configured issuer, ready to verify.
struct Issuer {
    name: Arc<str>,
    check: Check,
}

/// How one issuer verifies.
enum Check {
    Jwt {
        iss: String,
        keys: JwtKeys,
    },
    /// Tokens the `signers` make for a user (`target_key`).
    PortalService {
        verifier: Verifier,
        server_key: String,
    },
    /// Tokens users sign for this server's key.
    PortalWallet {
        policy: Policy,
    },
    Thirdweb(Verifier),
    /// `plain` takes any signer speaking for itself; `delegated` (with
    /// trusted signers) a signer naming another `sub`/`iss`.
    Nwt {
        plain: Verifier,
        delegated: Option<Verifier>,
    },
}

enum JwtKeys {
    Files(Verifier),
    Remote(RemoteVerifier),
}

/// Every configured issuer, and the names of the built-in ones.
pub struct Issuers {
    list: Vec<Issuer>,
    tessera: Arc<str>,
    nostr: Arc<str>,
    server: ServerContext,
}

impl std::fmt::Debug for Issuers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuers")
            .field("names", &self.names())
            .finish_non_exhaustive()
    }
}

impl Issuers {
    /// The issuers of checked `[[issuer]]` tables (see `check_all`).
    /// Remote key sets start fetching in the background (must be called
    /// inside a Tokio runtime when there are any).
    pub fn build(configs: &[IssuerConfig], server: ServerContext) -> Result<Issuers, ConfigError> {
        let checked = check_all(configs, &server.url)?;
        let list = checked
            .into_iter()
            .map(|c| build_one(c, &server))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Issuers {
            list,
            tessera: Arc::from(BUILT_IN[0]),
            nostr: Arc::from(BUILT_IN[1]),
            server,
        })
    }

    /// No `[[issuer]]` tables: only the built-in issuers.
    pub fn none(server: ServerContext) -> Issuers {
        Issuers {
            list: Vec::new(),
            tessera: Arc::from(BUILT_IN[0]),
            nostr: Arc::from(BUILT_IN[1]),
            server,
        }
    }

    /// Whether any `[[issuer]]` is configured.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The configured names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.list.iter().map(|i| &*i.name).collect()
    }

    /// The state of each remote key set (`jwks_uri` or discovery), by
    /// issuer name: what `/metrics` reports.
    pub fn remote_key_sets(&self) -> Vec<(&str, tessera_jwks::JwksState)> {
        self.list
            .iter()
            .filter_map(|i| match &i.check {
                Check::Jwt {
                    keys: JwtKeys::Remote(v),
                    ..
                } => Some((&*i.name, v.jwks().state())),
                _ => None,
            })
            .collect()
    }

    /// The name of the built-in issuer of this server's access tokens.
    pub fn tessera(&self) -> &Arc<str> {
        &self.tessera
    }

    /// The name of the built-in issuer of NWTs and NIP-98 events for this server.
    pub fn nostr(&self) -> &Arc<str> {
        &self.nostr
    }
}

fn policy_for(server: &ServerContext, max_lifetime: Option<i64>) -> Policy {
    Policy {
        leeway: server.leeway,
        max_lifetime,
        ..Policy::default()
    }
}

fn verifier(server: &ServerContext, policy: Policy, keys: KeySet) -> Verifier {
    Verifier::new(policy, keys)
        .with_clock(Arc::clone(&server.clock))
        .with_cache(server.cache)
}

fn build_one(c: CheckedIssuer, server: &ServerContext) -> Result<Issuer, ConfigError> {
    let base = policy_for(server, c.max_lifetime);
    let check = match c.kind {
        CheckedKind::Jwt {
            iss,
            audiences,
            algorithms,
            typ,
            required_claims,
            keys,
        } => {
            let policy = Policy {
                issuer: Some(iss.clone()),
                audiences,
                algorithms,
                required_typ: typ,
                required_claims,
                ..base
            };
            let keys = match keys {
                JwtKeySource::Files(set) => JwtKeys::Files(verifier(server, policy, set)),
                JwtKeySource::Remote(cfg) => {
                    let jwks = RemoteJwks::new(cfg).map_err(|e| {
                        ConfigError(format!(
                            "[[issuer]] {:?}: the remote key set cannot start: {}",
                            c.name,
                            e.message()
                        ))
                    })?;
                    JwtKeys::Remote(
                        RemoteVerifier::new(jwks, policy)
                            .with_clock(Arc::clone(&server.clock))
                            .with_cache(server.cache),
                    )
                }
            };
            Check::Jwt { iss, keys }
        }
        CheckedKind::PortalService { signers } => Check::PortalService {
            verifier: verifier(server, base, KeySet::new()).with_nostr_keys(signers),
            server_key: server.nostr.to_hex(),
        },
        CheckedKind::PortalWallet => Check::PortalWallet {
            policy: Policy {
                audiences: vec![server.nostr.to_hex()],
                ..base
            },
        },
        CheckedKind::Thirdweb { admins, domain } => {
            Check::Thirdweb(thirdweb(server, base, admins, domain))
        }
        CheckedKind::Nwt {
            mut audiences,
            trusted_signers,
        } => {
            for own in [&server.url, &server.host] {
                if !audiences.contains(own) {
                    audiences.push(own.clone());
                }
            }
            let policy = Policy { audiences, ..base };
            let delegated = (!trusted_signers.is_empty()).then(|| {
                verifier(server, policy.clone(), KeySet::new()).with_nostr_keys(trusted_signers)
            });
            Check::Nwt {
                plain: verifier(server, policy, KeySet::new()),
                delegated,
            }
        }
    };
    Ok(Issuer {
        name: Arc::from(c.name),
        check,
    })
}

fn thirdweb(
    server: &ServerContext,
    base: Policy,
    admins: Vec<Address>,
    domain: String,
) -> Verifier {
    let policy = Policy {
        audiences: vec![domain],
        ..base
    };
    verifier(server, policy, KeySet::new()).with_eth_admins(admins)
}
