//! Why a configuration or a fetch was refused.
//!
//! The [`ErrorKind`] is the contract (tests, metric labels, `as_str`); the
//! message is for humans. No message carries key material, a response body
//! or a token: at most a URL without its query, an address, a status code.

use std::fmt;

/// One stable reason a key set could not be configured or fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration is unusable (a zero duration, floor above
    /// ceiling, no tokio runtime, ...).
    InvalidConfig,
    /// A URL does not parse, has no host, carries credentials, or its
    /// scheme is neither `https` nor `http`.
    InvalidUrl,
    /// An `http` URL without `allow_insecure`.
    InsecureScheme,
    /// The host is, or resolves only to, a loopback, private, link-local or
    /// other non-global address, without `allow_insecure`.
    AddressRefused,
    /// The host name did not resolve.
    Resolve,
    /// No connection (refused, reset, TLS handshake or certificate failure).
    Connect,
    /// The attempt (discovery, redirects, body) took longer than the
    /// configured timeout.
    Timeout,
    /// A redirect to another origin, or too many redirects.
    RedirectRefused,
    /// The server answered with a status other than 200 (or 304 to a
    /// conditional request).
    HttpStatus,
    /// The body is larger than the configured limit.
    TooLarge,
    /// The body is not a JWK Set tessera accepts (tessera-core refused it,
    /// or it has no keys).
    InvalidJwks,
    /// The OIDC discovery document is not JSON or has no usable `jwks_uri`.
    InvalidDiscovery,
    /// The discovery document's `issuer` differs from the configured one
    /// (OpenID Connect Discovery 1.0 §4.3).
    IssuerMismatch,
}

impl ErrorKind {
    /// The stable snake_case name (for metric labels and logs).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidConfig => "invalid_config",
            ErrorKind::InvalidUrl => "invalid_url",
            ErrorKind::InsecureScheme => "insecure_scheme",
            ErrorKind::AddressRefused => "address_refused",
            ErrorKind::Resolve => "resolve",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::RedirectRefused => "redirect_refused",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::InvalidJwks => "invalid_jwks",
            ErrorKind::InvalidDiscovery => "invalid_discovery",
            ErrorKind::IssuerMismatch => "issuer_mismatch",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused configuration or a failed fetch: a kind and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksError {
    kind: ErrorKind,
    message: String,
}

impl JwksError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        JwksError {
            kind,
            message: message.into(),
        }
    }

    /// Why, as a stable kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Why, for humans (may change between versions).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for JwksError {}
