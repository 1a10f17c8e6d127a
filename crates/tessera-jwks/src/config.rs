//! What to fetch, and within which bounds.

use crate::error::{ErrorKind, JwksError};
use crate::guard::check_url;
use reqwest::Url;
use std::time::Duration;
use tessera_core::Algorithm;

/// Where the key set comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwksSource {
    /// A JWK Set URL (`jwks_uri`).
    Uri(String),
    /// An OpenID Connect issuer: its `jwks_uri` is read from
    /// `<issuer>/.well-known/openid-configuration`, whose `issuer` must equal
    /// this one exactly (OpenID Connect Discovery 1.0 §4.3).
    Discovery(String),
}

/// The configuration of one remote key set (one issuer).
///
/// Built with [`JwksConfig::jwks_uri`] or [`JwksConfig::discovery`] (the
/// defaults below), then adjusted field by field. [`RemoteJwks::new`]
/// checks it; [`JwksConfig::validate`] does the same checks without
/// starting anything (for start-up validation of a configuration file).
///
/// [`RemoteJwks::new`]: crate::RemoteJwks::new
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksConfig {
    /// Where the key set comes from.
    pub source: JwksSource,
    /// Shortest time a fetched set is kept before it is refreshed, whatever
    /// `Cache-Control: max-age` says (also used when the response has no
    /// `max-age`, or says `no-cache`/`no-store`). Default 5 minutes.
    pub cache_floor: Duration,
    /// Longest time a fetched set is kept before it is refreshed. Default 24 hours.
    pub cache_ceiling: Duration,
    /// After a refetch caused by an unknown `kid`, how long before another
    /// one may happen. Default 30 seconds.
    pub unknown_kid_cooldown: Duration,
    /// Bound on one refresh attempt: discovery, redirects, connection and
    /// body together (the longest a request meeting an unknown `kid` waits).
    /// Default 5 seconds, at most 60.
    pub timeout: Duration,
    /// Largest response body read, in bytes; the body is streamed and the
    /// read stops past it. Default 256 KiB (also tessera-core's JWK Set limit).
    pub max_body_bytes: usize,
    /// The algorithm of keys whose JWK names none and whose type does not
    /// imply one (RSA keys without `alg`). Default none: such a key makes the
    /// set invalid.
    pub algorithm_for_keys_without_alg: Option<Algorithm>,
    /// Allow `http` URLs and loopback, private and link-local addresses.
    /// For local tests only. Default false.
    pub allow_insecure: bool,
}

/// Default [`JwksConfig::cache_floor`].
pub const DEFAULT_CACHE_FLOOR: Duration = Duration::from_secs(5 * 60);
/// Default [`JwksConfig::cache_ceiling`].
pub const DEFAULT_CACHE_CEILING: Duration = Duration::from_secs(24 * 60 * 60);
/// Default [`JwksConfig::unknown_kid_cooldown`].
pub const DEFAULT_UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(30);
/// Largest [`JwksConfig::cache_ceiling`] accepted.
pub const MAX_CACHE_CEILING: Duration = Duration::from_secs(365 * 24 * 60 * 60);
/// Default [`JwksConfig::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest [`JwksConfig::timeout`] accepted.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);
/// Default [`JwksConfig::max_body_bytes`].
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

impl JwksConfig {
    /// A key set fetched from `url`, with the defaults.
    pub fn jwks_uri(url: impl Into<String>) -> Self {
        Self::with_source(JwksSource::Uri(url.into()))
    }

    /// A key set found by OpenID Connect discovery of `issuer`, with the defaults.
    pub fn discovery(issuer: impl Into<String>) -> Self {
        Self::with_source(JwksSource::Discovery(issuer.into()))
    }

    fn with_source(source: JwksSource) -> Self {
        JwksConfig {
            source,
            cache_floor: DEFAULT_CACHE_FLOOR,
            cache_ceiling: DEFAULT_CACHE_CEILING,
            unknown_kid_cooldown: DEFAULT_UNKNOWN_KID_COOLDOWN,
            timeout: DEFAULT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            algorithm_for_keys_without_alg: None,
            allow_insecure: false,
        }
    }

    /// Checks the configuration: the URL (https, a host, no credentials, no
    /// non-global IP literal unless `allow_insecure`), non-zero durations
    /// and limit, floor not above ceiling. Host names are checked again,
    /// resolved, at every connection.
    pub fn validate(&self) -> Result<(), JwksError> {
        self.checked().map(|_| ())
    }

    /// The validated configuration, with the URL parsed.
    pub(crate) fn checked(&self) -> Result<Checked, JwksError> {
        let bad = |msg: &str| Err(JwksError::new(ErrorKind::InvalidConfig, msg));
        if self.cache_floor.is_zero() {
            return bad("cache_floor must be above zero");
        }
        if self.cache_ceiling < self.cache_floor {
            return bad("cache_ceiling must not be below cache_floor");
        }
        if self.cache_ceiling > MAX_CACHE_CEILING {
            return bad("cache_ceiling must be at most 365 days");
        }
        if self.unknown_kid_cooldown.is_zero() {
            return bad("unknown_kid_cooldown must be above zero");
        }
        if self.timeout.is_zero() || self.timeout > MAX_TIMEOUT {
            // A request meeting an unknown kid may wait this long.
            return bad("timeout must be above zero and at most 60 seconds");
        }
        if self.max_body_bytes == 0 {
            return bad("max_body_bytes must be above zero");
        }
        let location = match &self.source {
            JwksSource::Uri(text) => Location::Uri(self.parse_url(text)?),
            JwksSource::Discovery(issuer) => {
                // OpenID Connect Discovery 1.0 §4: the issuer, without a
                // trailing slash, followed by the well-known path.
                let document = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                );
                let issuer_url = self.parse_url(issuer)?;
                if issuer_url.query().is_some() || issuer_url.fragment().is_some() {
                    return Err(JwksError::new(
                        ErrorKind::InvalidUrl,
                        "an OpenID issuer has no query or fragment (OpenID Connect Discovery 1.0 §2)",
                    ));
                }
                Location::Discovery {
                    issuer: issuer.clone(),
                    document: self.parse_url(&document)?,
                }
            }
        };
        Ok(Checked {
            location,
            floor: self.cache_floor,
            ceiling: self.cache_ceiling,
            cooldown: self.unknown_kid_cooldown,
            timeout: self.timeout,
            max_body: self.max_body_bytes,
            pin: self.algorithm_for_keys_without_alg,
            allow_insecure: self.allow_insecure,
        })
    }

    fn parse_url(&self, text: &str) -> Result<Url, JwksError> {
        let url = Url::parse(text)
            .map_err(|e| JwksError::new(ErrorKind::InvalidUrl, format!("not a URL ({e})")))?;
        check_url(&url, self.allow_insecure)?;
        Ok(url)
    }
}

/// Where to fetch, parsed.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    Uri(Url),
    Discovery { issuer: String, document: Url },
}

/// A configuration that passed [`JwksConfig::validate`].
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub(crate) location: Location,
    pub(crate) floor: Duration,
    pub(crate) ceiling: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_body: usize,
    pub(crate) pin: Option<Algorithm>,
    pub(crate) allow_insecure: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(config: &JwksConfig) -> Option<ErrorKind> {
        config.validate().err().map(|e| e.kind())
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = JwksConfig::jwks_uri("https://idp.example/jwks.json");
        assert_eq!(c.cache_floor, Duration::from_secs(300));
        assert_eq!(c.cache_ceiling, Duration::from_secs(86_400));
        assert_eq!(c.unknown_kid_cooldown, Duration::from_secs(30));
        assert_eq!(c.max_body_bytes, 256 * 1024);
        assert!(!c.allow_insecure);
        assert_eq!(kind(&c), None);
    }

    #[test]
    fn bounds_are_checked() {
        let base = JwksConfig::jwks_uri("https://idp.example/jwks.json");
        let mut c = base.clone();
        c.cache_floor = Duration::ZERO;
        assert_eq!(kind(&c), Some(ErrorKind::InvalidConfig));
        let mut c = base.clone();
        c.cache_ceiling = Duration::from_secs(60);
        assert_eq!(kind(&c), Some(ErrorKind::InvalidConfig));
        let mut c = base.clone();
        c.cache_ceiling = Duration::MAX;
        assert_eq!(kind(&c), Some(ErrorKind::InvalidConfig));
        let mut c = base.clone();
        c.unknown_kid_cooldown = Duration::ZERO;
        assert_eq!(kind(&c), Some(ErrorKind::InvalidConfig));
        let mut c = base.clone();
        c.timeout = Duration::ZERO;
        assert_eq!(kind(&c), Some(ErrorKind::InvalidConfig));
        let mut c = base.clone();
        c.timeout = Duration::from_secs(61);
        assert_eq!(kind(&c), Some(ErrorKind::InvalidConfig));
        let mut c = base;
        c.max_body_bytes = 0;
        assert_eq!(kind(&c), Some(ErrorKind::InvalidConfig));
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            kind(&JwksConfig::jwks_uri("not a url")),
            Some(ErrorKind::InvalidUrl)
        );
        assert_eq!(
            kind(&JwksConfig::jwks_uri("http://idp.example/jwks.json")),
            Some(ErrorKind::InsecureScheme)
        );
        assert_eq!(
            kind(&JwksConfig::discovery("http://idp.example")),
            Some(ErrorKind::InsecureScheme)
        );
        assert_eq!(
            kind(&JwksConfig::discovery("https://10.0.0.7/realms/x")),
            Some(ErrorKind::AddressRefused)
        );
        assert_eq!(
            kind(&JwksConfig::discovery("https://idp.example/?tenant=x")),
            Some(ErrorKind::InvalidUrl)
        );
    }

    #[test]
    fn discovery_document_follows_the_issuer_path() {
        let c = JwksConfig::discovery("https://idp.example/realms/main/");
        match c.checked().unwrap().location {
            Location::Discovery { issuer, document } => {
                assert_eq!(issuer, "https://idp.example/realms/main/");
                assert_eq!(
                    document.as_str(),
                    "https://idp.example/realms/main/.well-known/openid-configuration"
                );
            }
            Location::Uri(_) => panic!("expected discovery"),
        }
    }
}
