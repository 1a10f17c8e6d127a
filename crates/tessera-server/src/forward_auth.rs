//! `/v1/verify`: forward-auth for gateways, in the order `gateway/mod.rs`
//! documents: the configured gateway's headers (from trusted proxies only)
//! -> one normalised request -> the first matching `[[rule]]` -> the
//! credential, NIP-98 bound to that request -> 200 with the upstream
//! headers, 401 with `WWW-Authenticate`, or 403 with a JSON reason.
//! Envoy's gRPC `Check` (`ext_authz.rs`) reads its request its own way
//! and then calls the same [`decide`].

use crate::app::Shared;
use crate::config::{Config, ConfigError};
use crate::error::{ApiCode, ApiError};
use crate::extract::Peer;
use crate::extractors::RawBody;
use crate::gateway::{
    Caller, ClaimHeaders, Decision, ForwardedRequest, Gateway, PayloadWithoutBody, Refusal,
    RequestReader, RuleSet,
};
use crate::routes::{identify, identity_body, json_text, SeenRequest};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

static X_AUTH_SUBJECT: HeaderName = HeaderName::from_static("x-auth-subject");
static X_AUTH_METHOD: HeaderName = HeaderName::from_static("x-auth-method");
static X_AUTH_ISSUER: HeaderName = HeaderName::from_static("x-auth-issuer");
static X_AUTH_ASSERTION: HeaderName = HeaderName::from_static("x-auth-assertion");

/// What `/v1/verify` needs from the configuration, built once at start-up.
#[derive(Debug, Clone)]
pub struct ForwardAuthState {
    reader: RequestReader,
    rules: RuleSet,
    claim_headers: ClaimHeaders,
    assertion_audience: Option<String>,
}

impl ForwardAuthState {
    /// The reader, rules and claim headers of a configuration.
    pub fn from_config(config: &Config) -> Result<ForwardAuthState, ConfigError> {
        Ok(ForwardAuthState {
            reader: config.forward_auth_reader()?,
            rules: config.forward_auth_rules()?,
            claim_headers: ClaimHeaders::new(&config.forward_auth.claim_headers)?,
            assertion_audience: config.assertion_audience()?.map(str::to_owned),
        })
    }

    /// The configured gateway.
    pub fn gateway(&self) -> Option<Gateway> {
        self.reader.gateway()
    }

    /// What reads the original request.
    pub(crate) fn reader(&self) -> &RequestReader {
        &self.reader
    }
}

/// A request the gateway reported that does not normalise cleanly: 400,
/// answered before the credential is looked at. The text names the
/// problem, never the URL (a query may carry a secret).
pub(crate) fn refused(r: Refusal) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ApiCode::Refused(r),
        format!("forward-auth request refused: {r}"),
    )
}

/// The body a NIP-98 `payload` tag is checked against. nginx
/// `auth_request` never forwards the body; the others do when configured
/// to (Traefik `forwardBody`, Envoy `with_request_body`), and an empty one
/// cannot be told apart from one left out. So: a non-empty body received
/// from any other gateway (or a request judged as itself) is the body;
/// otherwise it is unknown, and the rule's `nip98_payload_without_body`
/// decides.
pub(crate) fn forwarded_body(gateway: Option<Gateway>, body: Bytes) -> Option<Bytes> {
    match gateway {
        None => Some(body),
        Some(Gateway::Nginx) => None,
        Some(_) if body.is_empty() => None,
        Some(_) => Some(body),
    }
}

/// The forward-auth state, or 500 when the configuration was refused
/// (`validate` refuses it before the server starts).
pub(crate) fn configured(state: &Shared) -> Result<&ForwardAuthState, ApiError> {
    state.forward_auth.as_ref().map_err(|e| {
        tracing::error!(error = %e, "forward-auth configuration");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiCode::Internal,
            "forward-auth is misconfigured; see the server log",
        )
    })
}

/// `/v1/verify` (and, for Envoy, every path under its `path_prefix`).
/// It takes the whole header map: which headers describe the original
/// request depends on the configured gateway (`X-Forwarded-*`,
/// `X-Original-*`, Envoy's own), and the credential check reads more.
/// The body comes as a `Result`: the request is normalised first, so a
/// refused one is answered 400 whatever its body.
pub async fn verify(
    State(state): State<Shared>,
    peer: Peer,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<RawBody, ApiError>,
) -> Result<Response, ApiError> {
    let fa = configured(&state)?;
    let request = fa
        .reader
        .read(&method, &uri, &headers, peer.0)
        .map_err(refused)?;
    let body = body.map(|RawBody(b)| forwarded_body(fa.gateway(), b));
    decide(&state, fa, &request, &headers, body, AllowBody::Identity).await
}

/// What an allowed answer carries besides its headers: `/v1/verify`'s
/// caller gets the identity as JSON; Envoy's gRPC `Check` passes only
/// headers upstream (`ext_authz::check_response` drops the body), so no
/// JSON is built for it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AllowBody {
    /// The identity as JSON (`identity_body`).
    Identity,
    /// An empty body.
    Empty,
}

/// The one forward-auth decision, shared by `/v1/verify` and Envoy's gRPC
/// `Check` (`ext_authz.rs`): the first rule matching `request`; unless it
/// is anonymous, the credential in `headers` (NIP-98 bound to `request`
/// and `body`: None when the gateway did not forward it), then the rule's
/// verdict. 200 carries the upstream headers (`X-Auth-*`, see
/// [`is_upstream_header`]); 403 a JSON reason; 401 and other refusals are
/// errors (with `WWW-Authenticate` on 401).
pub(crate) async fn decide(
    state: &Shared,
    fa: &ForwardAuthState,
    request: &ForwardedRequest,
    headers: &HeaderMap,
    body: Result<Option<Bytes>, ApiError>,
    allow_body: AllowBody,
) -> Result<Response, ApiError> {
    let route = fa.rules.route(request);
    if !route.needs_credential() {
        return Ok(anonymous(&route.decide(None)));
    }
    let seen = SeenRequest {
        url: request.nip98_url(),
        method: request.method().to_owned(),
        body: body?,
        unchecked_payload: route.nip98_payload_without_body()
            == PayloadWithoutBody::AcceptUnchecked,
    };
    let found = identify(state, headers, || seen.clone()).await?;
    let id = &*found.identity;
    match route.decide(Some(&Caller::new(&found.issuer, id))) {
        Decision::Allow { .. } => {}
        Decision::Unauthenticated => {
            return Err(ApiError::unauthorized(
                tessera_core::ErrorCode::Malformed,
                "a credential is needed",
            ))
        }
        Decision::Forbidden(denial) => {
            let mut resp = (StatusCode::FORBIDDEN, denial.to_json()).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return Ok(resp);
        }
    }
    let mut resp = match allow_body {
        AllowBody::Identity => json_text(identity_body(&found)),
        AllowBody::Empty => StatusCode::OK.into_response(),
    };
    let claims = fa.claim_headers.values(id);
    for (claim, why) in &claims.skipped {
        tracing::debug!(claim = %claim, why, "claim header not sent");
    }
    let h = resp.headers_mut();
    // A subject that cannot be a header value is not sent: the upstream
    // would otherwise see no subject and might trust a client's copy.
    let subject = HeaderValue::from_str(&id.subject).map_err(|_| {
        ApiError::unauthorized(
            tessera_core::ErrorCode::Malformed,
            "the credential's subject cannot be sent as a header",
        )
    })?;
    h.insert(&X_AUTH_SUBJECT, subject);
    h.insert(&X_AUTH_METHOD, HeaderValue::from_static(found.method));
    // Issuer names are checked at start-up to be header-safe.
    if let Ok(v) = HeaderValue::from_str(&found.issuer) {
        h.insert(&X_AUTH_ISSUER, v);
    }
    for (name, value) in claims.headers {
        h.insert(name, value);
    }
    if let Some(audience) = &fa.assertion_audience {
        let jwt =
            crate::assertion::sign(state, audience, &id.subject, &found.issuer, found.method)?;
        h.insert(&X_AUTH_ASSERTION, jwt);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// A `Nostr` credential at a route whose rule says
/// `nip98_payload_without_body = "accept_unchecked"`, when the gateway did
/// not forward the body: a NIP-98 event is verified by the sessions'
/// Nostr verifier's policy and signers with only the `payload` comparison
/// skipped (u, method, the created_at window, id, signature still
/// checked; replay is refused by `identify` as for every NIP-98 event),
/// then the session checks. An NWT is not bound to a body: it takes the
/// usual path.
pub(crate) async fn verify_nostr_unchecked(
    state: &Shared,
    authorization: &str,
    credential: &str,
    seen: &SeenRequest,
) -> Result<std::sync::Arc<tessera_core::Identity>, tessera_session::SessionError> {
    use tessera_core::internal::nostr::{
        decode_authorization_event, verify_nip98, HttpRequest, Nip98Options, NIP98_KIND,
    };
    let v = state.sessions.nostr_verifier();
    let event = decode_authorization_event(credential, v.policy())?;
    if event.kind != NIP98_KIND {
        return state
            .sessions
            .verify_nostr_for(authorization, &seen.url, &seen.method, b"")
            .await;
    }
    let request = HttpRequest {
        url: &seen.url,
        method: &seen.method,
        body: None,
    };
    let options = Nip98Options {
        unchecked_payload: true,
        ..Nip98Options::default()
    };
    let id = verify_nip98(
        &event,
        v.policy(),
        v.nostr_keys(),
        &request,
        &options,
        v.now(),
    )?;
    state.sessions.check_issued(&id).await?;
    Ok(std::sync::Arc::new(id))
}

/// Whether a header of an allowed answer is for the upstream (what Envoy
/// gets as `OkHttpResponse` headers): the `X-Auth-*` ones.
pub(crate) fn is_upstream_header(name: &HeaderName) -> bool {
    name.as_str().starts_with("x-auth-")
}

/// 200 for an anonymous rule: no credential looked at, no `X-Auth-*`.
fn anonymous(decision: &Decision<'_>) -> Response {
    let rule = match decision {
        Decision::Allow { rule } => *rule,
        _ => None,
    };
    let body = serde_json::json!({"anonymous": true, "rule": rule}).to_string();
    let mut resp = json_text(body);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_received_body_from_a_forwarding_gateway_is_the_body() {
        let b = Bytes::from_static(b"{\"x\":1}");
        assert_eq!(forwarded_body(None, Bytes::new()), Some(Bytes::new()));
        assert_eq!(forwarded_body(Some(Gateway::Nginx), b.clone()), None);
        for g in [Gateway::Traefik, Gateway::Caddy, Gateway::Envoy] {
            assert_eq!(forwarded_body(Some(g), Bytes::new()), None, "{g:?}");
            assert_eq!(forwarded_body(Some(g), b.clone()), Some(b.clone()), "{g:?}");
        }
    }
}
