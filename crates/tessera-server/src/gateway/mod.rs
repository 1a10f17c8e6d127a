//! Forward-auth, the pure part: which request a gateway is asking about,
//! which rule decides it, and what the upstream is told.
//!
//! A forward-auth request walks (architecture.md): gateway headers (only
//! the configured family, only from trusted proxies: [`RequestReader`]) ->
//! one normalised request ([`ForwardedRequest`]) -> the credential -> the
//! issuers of its kind -> `Identity` -> session checks -> the first
//! matching rule ([`RuleSet::route`], [`Route::decide`]) -> 200 with
//! upstream headers ([`ClaimHeaders`]), 401, or 403 ([`Denial`]).
//!
//! The order the wiring follows:
//! 1. `reader.read(method, uri, headers, peer)`; a [`Refusal`] is answered
//!    without looking at the credential.
//! 2. `let route = rules.route(&request)`; when `route.needs_credential()`
//!    is false the request is allowed as it is (no NIP-98 event spent).
//! 3. Verify the credential, binding NIP-98 to `request.nip98_url()` and
//!    `request.method()` (and `route.nip98_payload_without_body()` when the
//!    body is not forwarded), then `route.decide(Some(&Caller::new(..)))`,
//!    or `route.decide(None)` when no credential verified.
#![deny(missing_docs)]

mod claims;
mod family;
mod normalize;
mod pattern;
mod request;
mod rules;
mod settings;
mod subjects;
mod upstream;

pub use claims::ClaimCondition;
pub use family::Gateway;
pub use normalize::{Refusal, Scheme};
pub use request::{
    CheckAttributes, ForwardedRequest, RequestReader, CHECK_PATH, DEFAULT_ENVOY_PATH_PREFIX,
};
pub use rules::{
    Caller, Decision, Denial, DenyReason, PayloadWithoutBody, Route, RuleConfig, RuleRef, RuleSet,
    BUILT_IN_ISSUERS,
};
pub use upstream::{ClaimHeaderValues, ClaimHeaders, MAX_VALUE_BYTES};

#[cfg(test)]
mod request_tests;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod toml_tests;
#[cfg(test)]
mod upstream_tests;

/// The one way tests build an identity with claims, so a change of the
/// identity's types is fixed here once.
#[cfg(test)]
pub(crate) fn test_identity(
    subject: &str,
    audience: &[&str],
    claims: serde_json::Value,
) -> tessera_core::Identity {
    let claims = tessera_core::internal::json::read_object(claims.to_string().as_bytes())
        .expect("test claims are a JSON object");
    let mut id = tessera_core::Identity::new(
        tessera_core::Format::Jwt,
        tessera_core::Algorithm::ES256,
        subject,
    );
    id.audience = audience.iter().map(|a| (*a).to_owned()).collect();
    id.claims = claims.into();
    id
}
