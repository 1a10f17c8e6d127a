//! Which headers name the original request, per gateway: one family only,
//! never a mix (contracts.md, "Configuration").
//!
//! What each gateway really sends, and what this code relies on:
//!
//! - **nginx** `auth_request` makes a subrequest and sets no header of its
//!   own: the configuration names them. The shipped one sets
//!   `proxy_set_header X-Original-URL $scheme://$http_host$request_uri;`
//!   and `proxy_set_header X-Original-Method $request_method;`.
//!   `$request_uri` is the request target as the client sent it (not
//!   normalised, query included), `$http_host` the `Host` header with its
//!   port (`$host` drops it). `proxy_set_header` replaces a client's copy of
//!   the same header; every other client header passes through, so
//!   `X-Forwarded-*` sent by a client reach us untouched and are ignored.
//! - **Traefik** ForwardAuth copies every client request header to the auth
//!   request, then sets `X-Forwarded-Method` (the method),
//!   `X-Forwarded-Proto` (`https` on TLS, else `http`), `X-Forwarded-Host`
//!   (the `Host` header, port included) and `X-Forwarded-Uri` (Go's
//!   `URL.RequestURI()`: the path as received plus `?query`), overwriting
//!   client values unless `trustForwardHeader` is on (it must stay off). A
//!   client's `X-Original-URL` is copied through untouched: ignored here.
//! - **Caddy** `forward_auth` is `reverse_proxy` with the method rewritten to
//!   `GET` (so no body) and `header_up X-Forwarded-Method {http.request.method}`,
//!   `X-Forwarded-Uri {http.request.uri}` (set, replacing client values);
//!   `reverse_proxy` itself sets `X-Forwarded-Proto` and `X-Forwarded-Host`,
//!   replacing client values unless the client is in Caddy's own
//!   `trusted_proxies`. Same family as Traefik.
//! - **Envoy** `ext_authz` with an `http_service` sends the original method,
//!   `:path` = `path_prefix` + the original path and query, and always the
//!   original `Host`, `Authorization` and `Content-Length`; other headers
//!   only when listed in `allowed_headers`. Its connection manager sets
//!   `X-Forwarded-Proto` (sanitised: from a trusted downstream, else from
//!   the connection's TLS), which must be listed there to reach us.
//!
//! Every one of these headers is believed only from a peer in
//! `[forward_auth] trusted_proxies`; a trusted peer that leaves one out is
//! refused, not judged as a request for `/v1/verify` itself (that would
//! quietly match the wrong rule on a misconfigured gateway).

use super::normalize::{Refusal, MAX_TARGET_BYTES};
use axum::http::{header, HeaderMap, HeaderName, Method, Uri};
use serde::{Deserialize, Serialize};

/// The gateway in front of tessera (`[forward_auth] gateway`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gateway {
    /// nginx `auth_request`: `X-Original-URL` + `X-Original-Method`.
    Nginx,
    /// Traefik ForwardAuth: `X-Forwarded-Proto`/`-Host`/`-Uri`/`-Method`.
    Traefik,
    /// Caddy `forward_auth`: the same headers as Traefik.
    Caddy,
    /// Envoy `ext_authz` (HTTP mode): the request's own method, its path
    /// under `[forward_auth] path_prefix`, `Host` and `X-Forwarded-Proto`.
    Envoy,
}

impl Gateway {
    /// The configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Gateway::Nginx => "nginx",
            Gateway::Traefik => "traefik",
            Gateway::Caddy => "caddy",
            Gateway::Envoy => "envoy",
        }
    }
}

impl std::str::FromStr for Gateway {
    type Err = String;
    fn from_str(s: &str) -> Result<Gateway, String> {
        match s {
            "nginx" => Ok(Gateway::Nginx),
            "traefik" => Ok(Gateway::Traefik),
            "caddy" => Ok(Gateway::Caddy),
            "envoy" => Ok(Gateway::Envoy),
            _ => Err(format!(
                "gateway {s:?} is not one of nginx, traefik, caddy, envoy"
            )),
        }
    }
}

/// The original request as one gateway family names it, still raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reported<'a> {
    pub method: &'a str,
    pub scheme: &'a str,
    pub authority: &'a str,
    /// Path and query, fragment dropped.
    pub target: &'a str,
}

static X_ORIGINAL_URL: HeaderName = HeaderName::from_static("x-original-url");
static X_ORIGINAL_METHOD: HeaderName = HeaderName::from_static("x-original-method");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_FORWARDED_URI: HeaderName = HeaderName::from_static("x-forwarded-uri");
static X_FORWARDED_METHOD: HeaderName = HeaderName::from_static("x-forwarded-method");

/// Exactly one field line of `name`, visible ASCII. Two lines are refused:
/// a gateway sets these headers once, so a second one came from elsewhere.
fn one<'a>(headers: &'a HeaderMap, name: &'static HeaderName) -> Result<&'a str, Refusal> {
    let mut lines = headers.get_all(name).iter();
    let first = lines.next().ok_or(Refusal::MissingHeader(name.as_str()))?;
    if lines.next().is_some() {
        return Err(Refusal::RepeatedHeader(name.as_str()));
    }
    first
        .to_str()
        .ok()
        .filter(|v| v.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or(Refusal::UnreadableHeader(name.as_str()))
}

/// Reads the original request from `gateway`'s headers only.
pub(crate) fn reported<'a>(
    gateway: Gateway,
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    path_prefix: &str,
) -> Result<Reported<'a>, Refusal> {
    match gateway {
        Gateway::Nginx => {
            let url = one(headers, &X_ORIGINAL_URL)?;
            let method = one(headers, &X_ORIGINAL_METHOD)?;
            let (scheme, authority, target) = split_absolute(url)?;
            Ok(Reported {
                method,
                scheme,
                authority,
                target,
            })
        }
        Gateway::Traefik | Gateway::Caddy => {
            let target = one(headers, &X_FORWARDED_URI)?;
            if target.is_empty() {
                // Go's RequestURI() is never empty: at least "/".
                return Err(Refusal::RelativePath);
            }
            Ok(Reported {
                method: one(headers, &X_FORWARDED_METHOD)?,
                scheme: one(headers, &X_FORWARDED_PROTO)?,
                authority: one(headers, &X_FORWARDED_HOST)?,
                target: target.split('#').next().unwrap_or(target),
            })
        }
        Gateway::Envoy => {
            let own = uri.path_and_query().map_or("/", |pq| pq.as_str());
            let target = own
                .strip_prefix(path_prefix)
                .filter(|rest| rest.starts_with('/'))
                .ok_or(Refusal::OutsidePrefix)?;
            Ok(Reported {
                method: method.as_str(),
                scheme: one(headers, &X_FORWARDED_PROTO)?,
                authority: own_authority(uri, headers)?,
                target,
            })
        }
    }
}

/// The request's own authority: `Host`, or the URI's (HTTP/2
/// `:authority`); both present and different is refused.
pub(crate) fn own_authority<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Result<&'a str, Refusal> {
    let host = match headers.contains_key(header::HOST) {
        true => Some(one(headers, &header::HOST)?),
        false => None,
    };
    match (host, uri.authority().map(|a| a.as_str())) {
        (Some(h), Some(a)) if !h.eq_ignore_ascii_case(a) => Err(Refusal::Host),
        (Some(h), _) => Ok(h),
        (None, Some(a)) => Ok(a),
        (None, None) => Err(Refusal::MissingHeader("host")),
    }
}

/// `scheme://authority/target` -> its three parts; the fragment is
/// dropped. `http::Uri` does the split; what it lets through (userinfo,
/// raw non-ASCII) is refused here or by the normaliser.
pub(crate) fn split_absolute(url: &str) -> Result<(&str, &str, &str), Refusal> {
    if url.len() > MAX_TARGET_BYTES + 300 {
        return Err(Refusal::TooLong);
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Refusal::Character);
    }
    let parsed: Uri = url.parse().map_err(|_| Refusal::NotAbsolute)?;
    let (Some(scheme), Some(authority)) = (parsed.scheme_str(), parsed.authority()) else {
        return Err(Refusal::NotAbsolute);
    };
    // The parts as slices of the input (the parsed `Uri` is dropped here).
    let scheme_len = scheme.len();
    let after_scheme = url
        .get(scheme_len..)
        .and_then(|r| r.strip_prefix("://"))
        .ok_or(Refusal::NotAbsolute)?;
    let authority_len = authority.as_str().len();
    let (authority, rest) = (
        after_scheme
            .get(..authority_len)
            .ok_or(Refusal::NotAbsolute)?,
        after_scheme.get(authority_len..).unwrap_or(""),
    );
    if authority.contains('@') {
        return Err(Refusal::Host);
    }
    let target = rest.split('#').next().unwrap_or(rest);
    Ok((&url[..scheme_len], authority, target))
}
