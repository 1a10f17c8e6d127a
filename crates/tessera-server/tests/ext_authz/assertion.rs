//! `X-Auth-Assertion`: on `/v1/verify` and on the gRPC `Check`, verifiable
//! with the server's JWKS for the configured audience only, short-lived,
//! and never accepted as a credential.

use super::*;
use std::sync::Arc;
use tessera_core::{FixedClock, KeySet, Policy, Verifier};
use tessera_testkit::http::http;

/// An upstream's check of an assertion: the JWKS, `typ`, `iss`, `aud`.
fn upstream_policy(s: &Server, audience: &str) -> Policy {
    Policy {
        audiences: vec![audience.to_owned()],
        issuer: Some(s.url.clone()),
        required_typ: Some("tessera-assertion+jwt".into()),
        leeway: 0,
        ..Policy::default()
    }
}

fn jwks(s: &Server) -> KeySet {
    let r = http(s, "GET", "/.well-known/jwks.json", &[], b"");
    assert_eq!(r.status, 200);
    KeySet::from_jwks(&r.text(), None).expect("JWKS")
}

/// The assertions of one allowed request, from `/v1/verify` (Envoy HTTP
/// mode) and from `Check`.
fn assertions(s: &Server, auth: &str) -> Vec<String> {
    let r = http(
        s,
        "GET",
        "/v1/verify/account",
        &[("X-Forwarded-Proto", "https"), ("Authorization", auth)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let a = check(
        s,
        check_request("GET", "/account", &[("authorization", auth)], b""),
    );
    assert_eq!(a.status, 200, "{a:?}");
    vec![
        r.header("x-auth-assertion")
            .expect("HTTP assertion")
            .to_owned(),
        a.header("x-auth-assertion")
            .expect("gRPC assertion")
            .to_owned(),
    ]
}

#[test]
fn the_assertion_verifies_with_the_jwks_for_its_audience_and_expires() {
    let s = server("assertion_audience = \"upstream\"");
    let user = NostrSecretKey::generate();
    let auth = nwt(&s, &user, &[("scope", "read")]);
    let keys = jwks(&s);
    let now = SystemClock.now();
    for jwt in assertions(&s, &auth) {
        let id = Verifier::new(upstream_policy(&s, "upstream"), keys.clone())
            .verify_jwt(&jwt)
            .unwrap_or_else(|e| panic!("{e}: {jwt}"));
        assert_eq!(id.subject, user.public_key().to_hex());
        assert_eq!(id.audience, vec!["upstream".to_owned()]);
        let claim = |k: &str| id.claims.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        assert_eq!(claim("auth_issuer").as_deref(), Some("nostr"));
        assert_eq!(claim("auth_method").as_deref(), Some("nwt"));
        let (iat, exp) = (id.issued_at.expect("iat"), id.expires_at.expect("exp"));
        assert_eq!(exp - iat, 60);
        assert!((iat - now).abs() <= 5, "iat {iat}, now {now}");

        // Expired a second after `exp`.
        let e = Verifier::new(upstream_policy(&s, "upstream"), keys.clone())
            .with_clock(Arc::new(FixedClock(exp + 1)))
            .verify_jwt(&jwt)
            .unwrap_err();
        assert_eq!(e.code().as_str(), "expired");
        // Another upstream (or the server itself) is not its audience.
        for other in ["another-upstream", s.url.as_str()] {
            let e = Verifier::new(upstream_policy(&s, other), keys.clone())
                .verify_jwt(&jwt)
                .unwrap_err();
            assert_eq!(e.code().as_str(), "audience_mismatch", "{other}");
        }
        // An access-token check (`typ: at+jwt`) refuses it.
        let at = Policy {
            required_typ: Some("at+jwt".into()),
            ..upstream_policy(&s, "upstream")
        };
        let e = Verifier::new(at, keys.clone())
            .verify_jwt(&jwt)
            .unwrap_err();
        assert_eq!(e.code().as_str(), "invalid_claim");
    }
}

#[test]
fn the_assertion_is_refused_as_a_credential() {
    let s = server("assertion_audience = \"upstream\"");
    let user = NostrSecretKey::generate();
    let auth = nwt(&s, &user, &[]);
    for jwt in assertions(&s, &auth) {
        let as_bearer = format!("Bearer {jwt}");
        let r = http(
            &s,
            "GET",
            "/v1/verify/account",
            &[
                ("X-Forwarded-Proto", "https"),
                ("Authorization", &as_bearer),
            ],
            b"",
        );
        assert_eq!(r.status, 401, "{}", r.text());
        assert_ne!(r.error(), "");
        let a = check(
            &s,
            check_request("GET", "/account", &[("authorization", &as_bearer)], b""),
        );
        assert_eq!((a.status, a.error()), (401, r.error()), "{a:?}");
        assert_eq!(a.header("x-auth-subject"), None);
    }
}

#[test]
fn anonymous_answers_and_unset_audiences_carry_no_assertion() {
    let s = server("assertion_audience = \"upstream\"");
    let a = check(&s, check_request("GET", "/public/x", &[], b""));
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.header("x-auth-assertion"), None);
    let r = http(
        &s,
        "GET",
        "/v1/verify/public/x",
        &[("X-Forwarded-Proto", "https")],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-auth-assertion"), None);
}
