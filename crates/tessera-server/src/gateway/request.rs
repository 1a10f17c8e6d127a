//! One normalised request, the same for rule matching and NIP-98 binding.
//!
//! Default ports: a URL that names the scheme's default port (`:443` for
//! https, `:80` for http) is the same URL without it (RFC 3986 §6.2.3), and
//! every NIP-98 client signs the form without it: browsers and other WHATWG
//! URL serialisers drop the default port from `href`, and HTTP clients
//! (fetch, curl, Python, Go) leave it out of `Host`. So the authority here
//! is the lower-case host, plus `:port` only when it is not the default:
//! `https://API.example:443/x` and `https://api.example/x` are one request,
//! and an event whose `u` spells `:443` gets `url_mismatch`.
//!
//! Path: rules see [`ForwardedRequest::path`], decoded once and resolved
//! (see `normalize.rs`). The NIP-98 URL keeps the path as the client sent
//! it (once it has normalised cleanly), like the query: `u` is compared
//! byte for byte with the URL the client signed, which is the one it sent
//! (`/a%20b`, `//x` stay as they are; decoding or re-encoding would make
//! honest events fail, and cannot make a forged one pass: both views name
//! the same request).

use super::family::{reported, split_absolute, Gateway};
use super::normalize::{self, Refusal, Scheme, MAX_TARGET_BYTES};
use crate::config::ConfigError;
use crate::proxies::TrustedProxies;
use axum::http::{HeaderMap, Method, Uri};
use std::net::SocketAddr;

/// The original request behind a forward-auth call, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedRequest {
    method: String,
    scheme: Scheme,
    host: String,
    port: u16,
    raw_path: String,
    path: String,
    query: Option<String>,
}

impl ForwardedRequest {
    /// Builds and normalises a request from its parts: `authority` is
    /// `host[:port]`, `target` the path and query as sent (`/a/b?x=1`; a
    /// fragment is dropped; an empty path is `/`).
    pub fn from_parts(
        method: &str,
        scheme: &str,
        authority: &str,
        target: &str,
    ) -> Result<ForwardedRequest, Refusal> {
        let method = normalize::method(method)?;
        let scheme = Scheme::parse(scheme)?;
        let hp = normalize::host_port(authority, scheme)?;
        let target = target.split('#').next().unwrap_or(target);
        if target.len() > MAX_TARGET_BYTES {
            return Err(Refusal::TooLong);
        }
        let (raw_path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(normalize::query(q)?)),
            None => (target, None),
        };
        let raw_path = if raw_path.is_empty() { "/" } else { raw_path };
        let path = normalize::path(raw_path)?;
        Ok(ForwardedRequest {
            method: method.to_owned(),
            scheme,
            host: hp.host,
            port: hp.port,
            raw_path: raw_path.to_owned(),
            path,
            query: query.map(str::to_owned),
        })
    }

    /// Builds a request from an absolute URL (`tessera rules test --url`).
    pub fn from_url(method: &str, url: &str) -> Result<ForwardedRequest, Refusal> {
        let (scheme, authority, target) = split_absolute(url)?;
        ForwardedRequest::from_parts(method, scheme, authority, target)
    }

    /// The method, upper-case.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host: lower-case, no trailing dot; IPv6 in brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, the scheme's default when none was named.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The path rules match: decoded once, dot-segments and repeated
    /// slashes resolved, case kept.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query, verbatim, without its `?`.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// `host`, plus `:port` when it is not the scheme's default.
    pub fn authority(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The absolute URL a NIP-98 event's `u` must equal: scheme, authority
    /// as above, the path as sent, and the query verbatim.
    pub fn nip98_url(&self) -> String {
        let authority = self.authority();
        let mut url = String::with_capacity(
            16 + authority.len() + self.raw_path.len() + self.query.as_ref().map_or(0, String::len),
        );
        url.push_str(self.scheme.as_str());
        url.push_str("://");
        url.push_str(&authority);
        url.push_str(&self.raw_path);
        if let Some(q) = &self.query {
            url.push('?');
            url.push_str(q);
        }
        url
    }
}

/// Reads the original request of each forward-auth call: from the
/// configured gateway's headers when the peer is a trusted proxy,
/// otherwise from the request itself (method, and path under the server's
/// `public_url`).
#[derive(Debug, Clone)]
pub struct RequestReader {
    gateway: Option<Gateway>,
    path_prefix: String,
    proxies: TrustedProxies,
    public_scheme: Scheme,
    public_authority: String,
    public_path: String,
}

/// Envoy's `path_prefix` when none is configured: the verify route.
pub const DEFAULT_ENVOY_PATH_PREFIX: &str = "/v1/verify";

impl RequestReader {
    /// `gateway` None reads no gateway header at all. `path_prefix` is
    /// Envoy's (default [`DEFAULT_ENVOY_PATH_PREFIX`]); `public_url` the
    /// server's own URL, for requests judged as themselves.
    pub fn new(
        gateway: Option<Gateway>,
        path_prefix: Option<&str>,
        proxies: TrustedProxies,
        public_url: &str,
    ) -> Result<RequestReader, ConfigError> {
        let path_prefix = path_prefix.unwrap_or(DEFAULT_ENVOY_PATH_PREFIX);
        check_path_prefix(path_prefix)?;
        let bad_url = |e: Refusal| {
            ConfigError(format!(
                "public_url {public_url:?}: {e}; write it like https://auth.example or https://example.com/auth"
            ))
        };
        let (scheme, authority, path) = split_absolute(public_url).map_err(bad_url)?;
        if path.contains('?') {
            return Err(bad_url(Refusal::Character));
        }
        let scheme = Scheme::parse(scheme).map_err(bad_url)?;
        normalize::host_port(authority, scheme).map_err(bad_url)?;
        normalize::path(if path.is_empty() { "/" } else { path }).map_err(bad_url)?;
        Ok(RequestReader {
            gateway,
            path_prefix: path_prefix.to_owned(),
            proxies,
            public_scheme: scheme,
            public_authority: authority.to_owned(),
            public_path: path.trim_end_matches('/').to_owned(),
        })
    }

    /// The configured gateway.
    pub fn gateway(&self) -> Option<Gateway> {
        self.gateway
    }

    /// The original request of a forward-auth call that arrived with this
    /// method, target, headers and socket peer.
    pub fn read(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
    ) -> Result<ForwardedRequest, Refusal> {
        match self.gateway {
            Some(g) if self.proxies.trusts_peer(peer) => {
                let r = reported(g, method, uri, headers, &self.path_prefix)?;
                ForwardedRequest::from_parts(r.method, r.scheme, r.authority, r.target)
            }
            _ => self.own(
                method.as_str(),
                uri.path_and_query().map_or("/", |pq| pq.as_str()),
            ),
        }
    }

    /// The original request of an Envoy ext_authz gRPC `Check`: what its
    /// `attributes.request.http` reports (method, scheme, host with port,
    /// and path with query, as Envoy received them) when the connection's
    /// peer is a trusted proxy; otherwise, as at `/v1/verify`, the call
    /// itself: a `POST` of [`CHECK_PATH`] at the server's public URL.
    pub fn read_check(
        &self,
        reported: &CheckAttributes<'_>,
        peer: Option<SocketAddr>,
    ) -> Result<ForwardedRequest, Refusal> {
        if !self.proxies.trusts_peer(peer) {
            return self.own("POST", CHECK_PATH);
        }
        // Envoy's `path` is the request target of an origin-form request:
        // it starts with `/` (an empty or relative one is not guessed at).
        if !reported.path.starts_with('/') {
            return Err(Refusal::RelativePath);
        }
        ForwardedRequest::from_parts(
            reported.method,
            reported.scheme,
            reported.host,
            reported.path,
        )
    }

    /// A request judged as itself: `target` under the public URL.
    fn own(&self, method: &str, target: &str) -> Result<ForwardedRequest, Refusal> {
        let target = format!("{}{target}", self.public_path);
        ForwardedRequest::from_parts(
            method,
            self.public_scheme.as_str(),
            &self.public_authority,
            &target,
        )
    }
}

/// The gRPC method path of Envoy's ext_authz v3 `Check`.
pub const CHECK_PATH: &str = "/envoy.service.auth.v3.Authorization/Check";

/// The request an Envoy ext_authz gRPC `Check` reports
/// (`attributes.request.http`), still raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckAttributes<'a> {
    /// `method`.
    pub method: &'a str,
    /// `scheme`.
    pub scheme: &'a str,
    /// `host`: the `:authority`, port included.
    pub host: &'a str,
    /// `path`: the request target, query included, not decoded.
    pub path: &'a str,
}

/// Envoy's `path_prefix`: `/` then non-empty segments of
/// `A-Z a-z 0-9 - . _ ~`, no dot segments, no trailing slash (Envoy
/// appends the original path, which starts with `/`).
pub(crate) fn check_path_prefix(prefix: &str) -> Result<(), ConfigError> {
    let ok = prefix.len() <= 256
        && prefix.strip_prefix('/').is_some_and(|rest| {
            rest.split('/').all(|s| {
                !s.is_empty()
                    && s != "."
                    && s != ".."
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            })
        });
    if ok {
        Ok(())
    } else {
        Err(ConfigError(format!(
            "[forward_auth] path_prefix {prefix:?} must be a plain path like \"/v1/verify\" (no trailing slash): the same value as Envoy's ext_authz http_service path_prefix"
        )))
    }
}
