//! One HTTP GET under tessera's rules: https (unless `allow_insecure`),
//! guarded addresses, same-origin redirects only (at most
//! [`MAX_REDIRECTS`]), a streamed body bounded in size, and the caching
//! headers read.

use crate::error::{ErrorKind, JwksError};
use crate::guard::{check_url, redact, GuardedResolver};
use reqwest::header::{HeaderMap, ACCEPT, AGE, CACHE_CONTROL, ETAG, IF_NONE_MATCH, LOCATION};
use reqwest::{StatusCode, Url};
use std::sync::Arc;
use std::time::Duration;
use tessera_core::internal::json::parse_object;
use tessera_core::Value;

/// Redirects followed within one origin (scheme, host and port); one to
/// another origin is refused at once.
pub(crate) const MAX_REDIRECTS: usize = 3;
/// Longest `ETag` kept and sent back; a longer one is ignored.
const MAX_ETAG_LEN: usize = 512;

/// The HTTP client, configured once per key set.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    allow_insecure: bool,
    max_body: usize,
}

/// What a GET gave.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// 304 to a conditional request. `max_age`: from the 304's own
    /// `Cache-Control`, `None` when it has none (RFC 9111 §4.3.4: the
    /// stored value stands).
    NotModified { max_age: Option<Duration> },
    /// 200 with its body.
    Body {
        body: Vec<u8>,
        etag: Option<String>,
        max_age: Option<Duration>,
    },
}

impl Http {
    pub(crate) fn new(
        allow_insecure: bool,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Self, JwksError> {
        let client = reqwest::Client::builder()
            // Redirects are followed by `get` below, within one origin.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would connect on our behalf, past the resolver's check.
            .no_proxy()
            .retry(reqwest::retry::never())
            .dns_resolver(Arc::new(GuardedResolver { allow_insecure }))
            .https_only(!allow_insecure)
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("tessera-jwks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                JwksError::new(
                    ErrorKind::InvalidConfig,
                    format!("cannot build the HTTP client: {}", root_cause(&e)),
                )
            })?;
        Ok(Http {
            client,
            allow_insecure,
            max_body,
        })
    }

    /// GETs `url` (with `If-None-Match: etag` when given).
    pub(crate) async fn get(&self, url: &Url, etag: Option<&str>) -> Result<Fetched, JwksError> {
        let mut url = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            check_url(&url, self.allow_insecure)?;
            let mut request = self
                .client
                .get(url.clone())
                .header(ACCEPT, "application/jwk-set+json, application/json");
            if let Some(tag) = etag {
                request = request.header(IF_NONE_MATCH, tag);
            }
            let mut response = request.send().await.map_err(|e| classify(e, &url))?;
            let status = response.status();
            if status == StatusCode::NOT_MODIFIED && etag.is_some() {
                return Ok(Fetched::NotModified {
                    max_age: max_age(response.headers()),
                });
            }
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                url = redirect_target(&url, response.headers())?;
                continue;
            }
            if status != StatusCode::OK {
                return Err(JwksError::new(
                    ErrorKind::HttpStatus,
                    format!("{} answered {status}", redact(&url)),
                ));
            }
            let too_large = || {
                JwksError::new(
                    ErrorKind::TooLarge,
                    format!(
                        "{} sent more than max_body_bytes ({})",
                        redact(&url),
                        self.max_body
                    ),
                )
            };
            let declared = response.content_length().unwrap_or(0);
            if declared > self.max_body as u64 {
                return Err(too_large());
            }
            let mut body = Vec::with_capacity(declared as usize);
            while let Some(chunk) = response.chunk().await.map_err(|e| classify(e, &url))? {
                if body.len() + chunk.len() > self.max_body {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            let headers = response.headers();
            return Ok(Fetched::Body {
                body,
                etag: headers
                    .get(ETAG)
                    .and_then(|v| v.to_str().ok())
                    .filter(|t| !t.is_empty() && t.len() <= MAX_ETAG_LEN)
                    .map(str::to_owned),
                max_age: max_age(headers),
            });
        }
        Err(JwksError::new(
            ErrorKind::RedirectRefused,
            format!("more than {MAX_REDIRECTS} redirects"),
        ))
    }
}

/// The `Location` of a redirect, which must stay within the origin.
fn redirect_target(from: &Url, headers: &HeaderMap) -> Result<Url, JwksError> {
    let refused = |why: String| JwksError::new(ErrorKind::RedirectRefused, why);
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| refused(format!("{} redirects without a Location", redact(from))))?;
    let to = from
        .join(location)
        .map_err(|_| refused(format!("{} redirects to an invalid Location", redact(from))))?;
    if to.origin() != from.origin() {
        return Err(refused(format!(
            "{} redirects to another origin ({}); only same-origin redirects are followed",
            redact(from),
            redact(&to)
        )));
    }
    Ok(to)
}

/// A client error as a [`JwksError`]: the guard's own refusal when the
/// resolver made it, else timeout or connection failure.
fn classify(error: reqwest::Error, url: &Url) -> JwksError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        if let Some(ours) = e.downcast_ref::<JwksError>() {
            return ours.clone();
        }
        source = e.source();
    }
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Connect
    };
    JwksError::new(kind, format!("{}: {}", redact(url), root_cause(&error)))
}

/// The innermost cause's text (reqwest's own is "error sending request").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// The freshness lifetime a response grants: `max-age` less `Age`
/// (RFC 9111 §4.2.1, §4.2.3); zero for `no-store`, `no-cache`, or a
/// missing, invalid or repeated `max-age` (§4.2.1: such a response is
/// stale); `None` when there is no `Cache-Control` at all.
///
/// Written here rather than taken from the `headers` crate: it is one
/// directive, and that crate would add eleven crates to the build.
pub(crate) fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut present = false;
    let mut stale = false;
    let mut max_age: Option<u64> = None;
    for value in headers.get_all(CACHE_CONTROL) {
        present = true;
        let Ok(text) = value.to_str() else {
            stale = true;
            continue;
        };
        // RFC 9111 §5.2: #cache-directive; names are case-insensitive.
        for directive in text.split(',') {
            let (name, argument) = match directive.split_once('=') {
                Some((name, argument)) => (name.trim(), Some(argument.trim())),
                None => (directive.trim(), None),
            };
            if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                stale = true;
            } else if name.eq_ignore_ascii_case("max-age") {
                match (max_age, argument.and_then(delta_seconds)) {
                    (None, Some(seconds)) => max_age = Some(seconds),
                    _ => stale = true,
                }
            }
        }
    }
    if !present {
        return None;
    }
    let age = headers
        .get(AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(delta_seconds)
        .unwrap_or(0);
    Some(match (stale, max_age) {
        (false, Some(seconds)) => Duration::from_secs(seconds.saturating_sub(age)),
        _ => Duration::ZERO,
    })
}

/// RFC 9111 §1.2.2: `1*DIGIT`; a value past 2^31 counts as 2^31.
fn delta_seconds(text: &str) -> Option<u64> {
    const CAP: u64 = 1 << 31;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<u64>().map_or(CAP, |v| v.min(CAP)))
}

/// The `jwks_uri` of an OpenID discovery document, whose `issuer` must be
/// exactly the configured one (OpenID Connect Discovery 1.0 §4.3), and
/// whose `jwks_uri` obeys the same rules as a configured one.
pub(crate) fn discovered_jwks_uri(
    body: &[u8],
    issuer: &str,
    allow_insecure: bool,
) -> Result<Url, JwksError> {
    let invalid = |why: String| JwksError::new(ErrorKind::InvalidDiscovery, why);
    let doc = parse_object(body).map_err(|e| {
        invalid(format!(
            "the discovery document is not a JSON object: {}",
            e.message()
        ))
    })?;
    let named = doc
        .get("issuer")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the discovery document has no `issuer` string".into()))?;
    if named != issuer {
        return Err(JwksError::new(
            ErrorKind::IssuerMismatch,
            format!(
                "the discovery document names issuer {:?}, not the configured {issuer:?}",
                named.chars().take(200).collect::<String>()
            ),
        ));
    }
    let uri = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the discovery document has no `jwks_uri` string".into()))?;
    let url = Url::parse(uri).map_err(|e| invalid(format!("its `jwks_uri` is not a URL ({e})")))?;
    check_url(&url, allow_insecure)?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn secs(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    #[test]
    fn max_age_is_read_per_rfc_9111() {
        assert_eq!(max_age(&headers(&[])), None);
        assert_eq!(
            max_age(&headers(&[("cache-control", "public, max-age=600")])),
            secs(600)
        );
        assert_eq!(
            max_age(&headers(&[("cache-control", "Max-Age=60")])),
            secs(60)
        );
        assert_eq!(
            max_age(&headers(&[
                ("cache-control", "max-age=600"),
                ("age", "100")
            ])),
            secs(500)
        );
        assert_eq!(
            max_age(&headers(&[("cache-control", "max-age=60"), ("age", "100")])),
            secs(0)
        );
        assert_eq!(
            max_age(&headers(&[(
                "cache-control",
                "max-age=99999999999999999999"
            )])),
            secs(1 << 31)
        );
        assert_eq!(max_age(&headers(&[("cache-control", "public")])), secs(0));
    }

    #[test]
    fn doubtful_max_age_counts_as_stale() {
        for value in [
            "no-store, max-age=600",
            "max-age=600, no-cache",
            "max-age=60, max-age=600",
            "max-age=-1",
            "max-age=1.5",
            "max-age=\"600\"",
            "max-age=",
            "max-age",
        ] {
            assert_eq!(
                max_age(&headers(&[("cache-control", value)])),
                secs(0),
                "{value}"
            );
        }
        assert_eq!(
            max_age(&headers(&[
                ("cache-control", "max-age=60"),
                ("cache-control", "max-age=600")
            ])),
            secs(0)
        );
    }

    #[test]
    fn redirects_stay_within_the_origin() {
        let from = Url::parse("https://idp.example/jwks").unwrap();
        let to = |loc: &str| {
            redirect_target(&from, &headers(&[("location", loc)])).map_err(|e| e.kind())
        };
        assert_eq!(
            to("/keys").map(|u| u.to_string()),
            Ok("https://idp.example/keys".into())
        );
        for other in [
            "https://evil.example/keys",
            "http://idp.example/keys",
            "https://idp.example:8443/keys",
            "//evil.example/keys",
        ] {
            assert_eq!(to(other), Err(ErrorKind::RedirectRefused), "{other}");
        }
        assert_eq!(
            redirect_target(&from, &headers(&[])).map_err(|e| e.kind()),
            Err(ErrorKind::RedirectRefused)
        );
    }

    #[test]
    fn discovery_documents_are_checked() {
        let issuer = "https://idp.example";
        let doc = |body: &str| discovered_jwks_uri(body.as_bytes(), issuer, false);
        assert_eq!(
            doc(r#"{"issuer":"https://idp.example","jwks_uri":"https://keys.example/jwks"}"#)
                .unwrap()
                .as_str(),
            "https://keys.example/jwks"
        );
        let kind = |body: &str| doc(body).map_err(|e| e.kind()).err();
        assert_eq!(
            kind(r#"{"issuer":"https://idp.example/","jwks_uri":"https://keys.example/jwks"}"#),
            Some(ErrorKind::IssuerMismatch)
        );
        assert_eq!(
            kind(r#"{"jwks_uri":"https://keys.example/jwks"}"#),
            Some(ErrorKind::InvalidDiscovery)
        );
        assert_eq!(
            kind(r#"{"issuer":"https://idp.example"}"#),
            Some(ErrorKind::InvalidDiscovery)
        );
        assert_eq!(
            kind(
                r#"{"issuer":"https://idp.example","issuer":"https://idp.example","jwks_uri":"https://k.example/"}"#
            ),
            Some(ErrorKind::InvalidDiscovery)
        );
        assert_eq!(kind("[1]"), Some(ErrorKind::InvalidDiscovery));
        assert_eq!(
            kind(r#"{"issuer":"https://idp.example","jwks_uri":"http://keys.example/jwks"}"#),
            Some(ErrorKind::InsecureScheme)
        );
        assert_eq!(
            kind(r#"{"issuer":"https://idp.example","jwks_uri":"https://169.254.169.254/jwks"}"#),
            Some(ErrorKind::AddressRefused)
        );
    }
}
