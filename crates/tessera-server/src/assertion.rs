//! `X-Auth-Assertion` (issue 20, item 3): what an upstream behind a
//! forward-auth gateway can verify instead of trusting a header. When
//! `[forward_auth] assertion_audience` is set, every allowed forward-auth
//! answer with a subject (`/v1/verify`, Envoy's gRPC `Check`) carries a
//! JWT signed by the server's current access-token key, so it verifies
//! with `/.well-known/jwks.json`:
//!
//! - header `typ` [`ASSERTION_TYP`], never `at+jwt`: access tokens are
//!   checked for `typ: at+jwt` and for the server's own audience, so an
//!   assertion is refused wherever an access token is accepted;
//! - claims `iss` (the public URL), `aud` (the configured audience), `sub`,
//!   `iat`, `nbf`, `exp` (`iat` + [`ASSERTION_LIFE_SECONDS`]), `jti`, and
//!   `auth_issuer` / `auth_method` (what `X-Auth-Issuer` and
//!   `X-Auth-Method` say).

use crate::app::Shared;
use crate::error::{ApiCode, ApiError};
use axum::http::{HeaderValue, StatusCode};
use std::sync::Arc;
use tessera_core::Object;

/// The JOSE `typ` of an assertion.
pub const ASSERTION_TYP: &str = "tessera-assertion+jwt";

/// How long an assertion is valid: one request's way to the upstream.
pub const ASSERTION_LIFE_SECONDS: i64 = 60;

/// The claims of an assertion for `subject`, issued `now`.
fn claims(
    public_url: &str,
    audience: &str,
    subject: &str,
    issuer: &str,
    method: &str,
    now: i64,
) -> Object {
    let mut o = Object::new();
    o.insert("iss", public_url.into());
    o.insert("aud", audience.into());
    o.insert("sub", subject.into());
    o.insert("iat", now.into());
    o.insert("nbf", now.into());
    o.insert("exp", now.saturating_add(ASSERTION_LIFE_SECONDS).into());
    o.insert("jti", tessera_session::tokens::random_id().into());
    o.insert("auth_issuer", issuer.into());
    o.insert("auth_method", method.into());
    o
}

/// A signed assertion as a header value. A signing failure is a 500 (the
/// key is the server's own); its text says nothing of the subject.
pub(crate) fn sign(
    state: &Shared,
    audience: &str,
    subject: &str,
    issuer: &str,
    method: &str,
) -> Result<HeaderValue, ApiError> {
    let key = Arc::clone(state.keys().current());
    let claims = claims(
        &state.config.public_url(),
        audience,
        subject,
        issuer,
        method,
        state.clock.now(),
    );
    let mut header = Object::new();
    header.insert("typ", ASSERTION_TYP.into());
    let failed = |what: &str| {
        tracing::error!(what, "cannot sign X-Auth-Assertion");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiCode::Internal,
            "the upstream assertion could not be signed; see the server log",
        )
    };
    let jwt = tessera_core::jwt::sign(&key, &header, &claims).map_err(|_| failed("signing"))?;
    HeaderValue::from_str(&jwt).map_err(|_| failed("header value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_name_the_audience_subject_and_a_short_life() {
        let c = claims(
            "https://auth.example",
            "upstream",
            "ab12",
            "nostr",
            "nip98",
            1000,
        );
        let s = |k: &str| c.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let n = |k: &str| c.get(k).and_then(|v| v.as_number()?.as_exact_i64());
        assert_eq!(s("iss").as_deref(), Some("https://auth.example"));
        assert_eq!(s("aud").as_deref(), Some("upstream"));
        assert_eq!(s("sub").as_deref(), Some("ab12"));
        assert_eq!(s("auth_issuer").as_deref(), Some("nostr"));
        assert_eq!(s("auth_method").as_deref(), Some("nip98"));
        assert_eq!(n("iat"), Some(1000));
        assert_eq!(n("exp"), Some(1060));
        assert_ne!(ASSERTION_TYP, tessera_session::tokens::ACCESS_TOKEN_TYP);
    }
}
