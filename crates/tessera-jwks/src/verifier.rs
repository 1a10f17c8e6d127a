//! [`RemoteVerifier`]: a tessera-core [`Verifier`] for the standard JWTs of
//! one issuer, always on that issuer's latest key set.

use crate::remote::RemoteJwks;
use arc_swap::ArcSwap;
use std::sync::Arc;
use tessera_core::CacheConfig;
use tessera_core::{Clock, Error, ErrorCode, Identity, KeySet, Policy, Verifier};

/// Verifies standard JWTs with a policy and the keys of one [`RemoteJwks`]
/// (one issuer: keys are never looked up across issuers).
///
/// Each call verifies with the current set, without waiting. A token whose
/// key is not in it (`unknown_key`) causes at most one refetch, within the
/// set's cooldown, and one retry with the new set; otherwise the
/// `unknown_key` error stands. The verifier is rebuilt when the set
/// changes (with a fresh cache, so nothing verified by a retired key is
/// served from it).
///
/// Cloning is cheap; clones share the verifier and its cache.
#[derive(Clone)]
pub struct RemoteVerifier {
    jwks: RemoteJwks,
    policy: Arc<Policy>,
    clock: Option<Arc<dyn Clock>>,
    cache: Option<CacheConfig>,
    built: Arc<ArcSwap<Built>>,
}

/// A core verifier and the set it was built with.
struct Built {
    keys: Arc<KeySet>,
    verifier: Verifier,
}

impl RemoteVerifier {
    /// A verifier of `policy` (expected `iss`, audiences, algorithms,
    /// required `typ` and claims) over `jwks`, on the system clock, without
    /// a cache.
    pub fn new(jwks: RemoteJwks, policy: Policy) -> Self {
        let keys = jwks.keys();
        let verifier = Verifier::new(policy.clone(), (*keys).clone());
        RemoteVerifier {
            jwks,
            policy: Arc::new(policy),
            clock: None,
            cache: None,
            built: Arc::new(ArcSwap::from_pointee(Built { keys, verifier })),
        }
    }

    /// Replaces the clock (tests, `--now`).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self.rebuild();
        self
    }

    /// Enables tessera-core's verified-credential cache (one per key set).
    pub fn with_cache(mut self, config: CacheConfig) -> Self {
        self.cache = Some(config);
        self.rebuild();
        self
    }

    /// The key set this verifier follows.
    pub fn jwks(&self) -> &RemoteJwks {
        &self.jwks
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Verifies a compact JWT: with the current keys; on `unknown_key`, once
    /// more after [`RemoteJwks::refetch_for_unknown_kid`] brought a newer
    /// set. The only wait is that refetch (bounded by the set's timeout).
    pub async fn verify_jwt(&self, token: &str) -> Result<Arc<Identity>, Error> {
        let built = self.current();
        match built.verifier.verify_jwt(token) {
            Err(e) if e.code() == ErrorCode::UnknownKey => {
                match self.jwks.refetch_for_unknown_kid(&built.keys).await {
                    Some(_) => self.current().verifier.verify_jwt(token),
                    None => Err(e),
                }
            }
            other => other,
        }
    }

    /// The verifier for the set in place now, built when the set changed.
    fn current(&self) -> Arc<Built> {
        let keys = self.jwks.keys();
        let built = self.built.load_full();
        if Arc::ptr_eq(&built.keys, &keys) {
            return built;
        }
        let fresh = Arc::new(self.build(keys));
        self.built.store(Arc::clone(&fresh));
        fresh
    }

    /// A fresh verifier for the current set (the builder methods call it, so
    /// that clones made before keep their own).
    fn rebuild(&mut self) {
        let fresh = self.build(self.jwks.keys());
        self.built = Arc::new(ArcSwap::from_pointee(fresh));
    }

    fn build(&self, keys: Arc<KeySet>) -> Built {
        let mut verifier = Verifier::new((*self.policy).clone(), (*keys).clone());
        if let Some(clock) = &self.clock {
            verifier = verifier.with_clock(Arc::clone(clock));
        }
        if let Some(cache) = self.cache {
            verifier = verifier.with_cache(cache);
        }
        Built { keys, verifier }
    }
}

impl std::fmt::Debug for RemoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteVerifier")
            .field("jwks", &self.jwks)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
