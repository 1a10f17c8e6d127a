//! Nostr Web Tokens (kind 27519), one test per rule of formats.md §3-§4.

use tessera_core::internal::nostr::{
    decode_authorization_event, issue_nwt, nwt_authorization, verify_authorization_event,
    verify_nwt, Event, NostrSecretKey, NwtClaims,
};
use tessera_core::{ErrorCode, Format, Policy};
use tessera_core::{Nip98Options, NostrPublicKey};
use tessera_core::{Number, Value};

const NOW: i64 = 1_767_957_600;

use tessera_testkit::fixtures::{nostr_key as sk, tags};

/// A kind-27519 event by `signer` with the given tags, created at NOW.
fn nwt(signer: &NostrSecretKey, t: &[&[&str]]) -> Event {
    Event::sign(signer, NOW, 27519, tags(t), "Sign in to api.example.com").unwrap()
}

fn exp_ok() -> String {
    (NOW + 300).to_string()
}

fn code(r: tessera_core::Result<tessera_core::Identity>) -> ErrorCode {
    r.unwrap_err().code()
}

#[test]
fn vector_with_full_claims_verifies_and_reports_every_claim() {
    let doc: serde_json::Value = tessera_testkit::fixtures::vector_json("nostr/events.json");
    let ev = serde_json::to_string(&doc["valid"]["nwt_sk1_full_claims"]).unwrap();
    let ev = Event::from_json(ev.as_bytes()).unwrap();
    let policy = Policy {
        audiences: vec!["cdn.example.com".into()],
        ..Policy::default()
    };
    let id = verify_nwt(&ev, &policy, &[], 1_767_957_600).unwrap();
    assert_eq!(id.format, Format::Nwt);
    assert_eq!(id.alg.name(), "BIP340");
    let pk1 = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    assert_eq!(id.subject, pk1);
    assert_eq!(id.issuer.as_deref(), Some(pk1));
    assert_eq!(id.audience, ["api.example.com", "cdn.example.com"]);
    assert_eq!(id.expires_at, Some(1_767_957_802));
    assert_eq!(id.not_before, Some(1_767_957_442));
    assert_eq!(id.issued_at, Some(1_767_957_502));
    assert_eq!(id.id.as_deref(), Some(ev.id_hex().as_str()));
    assert_eq!(
        id.claims.get("exp"),
        Some(&Value::Number(Number::Int(1_767_957_802)))
    );
    assert_eq!(
        id.claims.get("scope"),
        Some(&Value::Array(vec!["upload".into(), "delete".into()]))
    );
    assert_eq!(
        id.claims.get("aud"),
        Some(&Value::Array(vec![
            "api.example.com".into(),
            "cdn.example.com".into()
        ]))
    );
    // Dead at exp + leeway.
    assert_eq!(
        code(verify_nwt(&ev, &policy, &[], 1_767_957_802 + 60)),
        ErrorCode::Expired
    );
}

#[test]
fn tampered_tag_is_id_mismatch() {
    let mut ev = nwt(&sk(1), &[&["aud", "api.example.com"], &["exp", &exp_ok()]]);
    ev.tags[0][1] = "evil.example.com".into();
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
        ErrorCode::IdMismatch
    );
}

#[test]
fn tampered_signature_is_bad_signature() {
    let mut ev = nwt(&sk(1), &[&["exp", &exp_ok()]]);
    ev.sig[10] ^= 1;
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
        ErrorCode::BadSignature
    );
}

#[test]
fn wrong_kind_is_refused() {
    let ev = Event::sign(&sk(1), NOW, 1, tags(&[&["exp", &exp_ok()]]), "").unwrap();
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
        ErrorCode::WrongKind
    );
    let nip98 = Event::sign(&sk(1), NOW, 27235, tags(&[&["exp", &exp_ok()]]), "").unwrap();
    assert_eq!(
        code(verify_nwt(&nip98, &Policy::default(), &[], NOW)),
        ErrorCode::WrongKind
    );
}

#[test]
fn repeated_exp_is_malformed() {
    let ev = nwt(&sk(1), &[&["exp", &exp_ok()], &["exp", "9999999999"]]);
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
        ErrorCode::Malformed
    );
}

#[test]
fn every_single_value_claim_may_appear_once() {
    for name in ["iss", "sub", "iat", "nbf"] {
        let pk = sk(1).public_key().to_hex();
        let v = if name == "iss" || name == "sub" {
            pk
        } else {
            NOW.to_string()
        };
        let ev = nwt(&sk(1), &[&["exp", &exp_ok()], &[name, &v], &[name, &v]]);
        assert_eq!(
            code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
            ErrorCode::Malformed,
            "{name}"
        );
    }
}

#[test]
fn registered_tag_without_value_is_malformed() {
    for name in ["exp", "aud", "sub", "iss", "nbf", "iat"] {
        let ev = nwt(&sk(1), &[&[name]]);
        assert_eq!(
            code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
            ErrorCode::Malformed,
            "{name}"
        );
    }
    let ev = nwt(&sk(1), &[&["exp", &exp_ok(), "extra"]]);
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
        ErrorCode::Malformed
    );
}

#[test]
fn empty_tag_is_malformed() {
    let ev = nwt(&sk(1), &[&["exp", &exp_ok()], &[]]);
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
        ErrorCode::Malformed
    );
}

#[test]
fn timestamps_must_be_decimal_digits() {
    for bad in [
        "1767957900.5",
        "1.7e9",
        "-1",
        "+1767957900",
        " 1767957900",
        "soon",
        "",
        "0x69617a4c",
        "99999999999999999999",
    ] {
        for name in ["exp", "nbf", "iat"] {
            let bad_tag = [name, bad];
            let mut t: Vec<&[&str]> = vec![&bad_tag];
            let exp = exp_ok();
            let exp_tag = ["exp", exp.as_str()];
            if name != "exp" {
                t.push(&exp_tag);
            }
            let ev = nwt(&sk(1), &t);
            assert_eq!(
                code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
                ErrorCode::InvalidClaim,
                "{name}={bad:?}"
            );
        }
    }
}

#[test]
fn missing_exp_is_refused_by_default_and_allowed_by_policy() {
    let ev = nwt(&sk(1), &[&["aud", "a"]]);
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
        ErrorCode::MissingClaim
    );
    let lax = Policy {
        require_exp: false,
        audiences: vec!["a".into()],
        ..Policy::default()
    };
    let id = verify_nwt(&ev, &lax, &[], NOW).unwrap();
    assert_eq!(id.expires_at, None);
    // iat defaults to created_at.
    assert_eq!(id.issued_at, Some(NOW));
}

#[test]
fn exp_is_dead_at_exp_with_zero_leeway() {
    let exact = Policy {
        leeway: 0,
        ..Policy::default()
    };
    let ev = nwt(&sk(1), &[&["exp", &(NOW + 10).to_string()]]);
    assert!(verify_nwt(&ev, &exact, &[], NOW + 9).is_ok());
    assert_eq!(
        code(verify_nwt(&ev, &exact, &[], NOW + 10)),
        ErrorCode::Expired
    );
}

#[test]
fn nbf_in_the_future_is_not_yet_valid() {
    let ev = nwt(
        &sk(1),
        &[&["exp", &exp_ok()], &["nbf", &(NOW + 120).to_string()]],
    );
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
        ErrorCode::NotYetValid
    );
    assert!(verify_nwt(&ev, &Policy::default(), &[], NOW + 60).is_ok());
}

#[test]
fn iat_present_is_used_instead_of_created_at() {
    let ev = nwt(&sk(1), &[&["exp", &exp_ok()], &["iat", "1767950000"]]);
    let id = verify_nwt(&ev, &Policy::default(), &[], NOW).unwrap();
    assert_eq!(id.issued_at, Some(1_767_950_000));
    // The lifetime cap counts from iat.
    let capped = Policy {
        max_lifetime: Some(600),
        ..Policy::default()
    };
    assert_eq!(
        code(verify_nwt(&ev, &capped, &[], NOW)),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn sub_of_someone_else_from_an_untrusted_signer_is_untrusted_signer() {
    let victim = sk(2).public_key().to_hex();
    let ev = nwt(&sk(1), &[&["exp", &exp_ok()], &["sub", &victim]]);
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
        ErrorCode::UntrustedSigner
    );
    let ev = nwt(&sk(1), &[&["exp", &exp_ok()], &["iss", &victim]]);
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
        ErrorCode::UntrustedSigner
    );
}

#[test]
fn sub_of_someone_else_from_a_trusted_signer_is_honoured() {
    let service = sk(1);
    let user = sk(2).public_key();
    let ev = nwt(&service, &[&["exp", &exp_ok()], &["sub", &user.to_npub()]]);
    let id = verify_nwt(&ev, &Policy::default(), &[service.public_key()], NOW).unwrap();
    assert_eq!(id.subject, user.to_hex());
    assert_eq!(id.issuer, Some(service.public_key().to_hex()));
}

#[test]
fn sub_equal_to_the_signer_needs_no_trust() {
    let me = sk(1);
    let ev = nwt(
        &me,
        &[&["exp", &exp_ok()], &["sub", &me.public_key().to_hex()]],
    );
    assert_eq!(
        verify_nwt(&ev, &Policy::default(), &[], NOW)
            .unwrap()
            .subject,
        me.public_key().to_hex()
    );
}

#[test]
fn sub_that_is_not_a_key_is_invalid_claim() {
    let ev = nwt(
        &sk(1),
        &[&["exp", &exp_ok()], &["sub", "alice@example.com"]],
    );
    assert_eq!(
        code(verify_nwt(
            &ev,
            &Policy::default(),
            &[sk(1).public_key()],
            NOW
        )),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn signer_outside_a_configured_trusted_list_is_untrusted_signer() {
    let ev = nwt(&sk(3), &[&["exp", &exp_ok()]]);
    let trusted: Vec<NostrPublicKey> = vec![sk(1).public_key(), sk(2).public_key()];
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &trusted, NOW)),
        ErrorCode::UntrustedSigner
    );
    let ev = nwt(&sk(2), &[&["exp", &exp_ok()]]);
    assert!(verify_nwt(&ev, &Policy::default(), &trusted, NOW).is_ok());
}

#[test]
fn configured_audience_and_no_aud_is_audience_mismatch() {
    let policy = Policy {
        audiences: vec!["api.example.com".into()],
        ..Policy::default()
    };
    let ev = nwt(&sk(1), &[&["exp", &exp_ok()]]);
    assert_eq!(
        code(verify_nwt(&ev, &policy, &[], NOW)),
        ErrorCode::AudienceMismatch
    );
    let ev = nwt(&sk(1), &[&["exp", &exp_ok()], &["aud", "API.example.com"]]);
    assert_eq!(
        code(verify_nwt(&ev, &policy, &[], NOW)),
        ErrorCode::AudienceMismatch
    );
    let ev = nwt(
        &sk(1),
        &[
            &["exp", &exp_ok()],
            &["aud", "x"],
            &["aud", "api.example.com"],
        ],
    );
    assert!(verify_nwt(&ev, &policy, &[], NOW).is_ok());
    // Without configured audiences, no aud is accepted.
    let ev = nwt(&sk(1), &[&["exp", &exp_ok()]]);
    assert!(verify_nwt(&ev, &Policy::default(), &[], NOW).is_ok());
}

#[test]
fn an_aud_tag_without_an_expected_audience_is_audience_mismatch() {
    // RFC 7519 §4.1.3 via formats.md "Common rules": a token that names an
    // audience is refused by a verifier that expects none...
    let ev = nwt(
        &sk(1),
        &[&["exp", &exp_ok()], &["aud", "https://api.example.com"]],
    );
    let e = verify_nwt(&ev, &Policy::default(), &[], NOW).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AudienceMismatch);
    assert!(
        e.message().contains("accept_any_audience"),
        "{}",
        e.message()
    );
    // ...unless the verifier opts out explicitly.
    let any = Policy {
        accept_any_audience: true,
        ..Policy::default()
    };
    let id = verify_nwt(&ev, &any, &[], NOW).unwrap();
    assert_eq!(id.audience, ["https://api.example.com"]);
}

#[test]
fn configured_issuer_is_compared_with_the_effective_issuer() {
    let ev = nwt(&sk(1), &[&["exp", &exp_ok()]]);
    let policy = Policy {
        issuer: Some(sk(2).public_key().to_hex()),
        ..Policy::default()
    };
    assert_eq!(
        code(verify_nwt(&ev, &policy, &[], NOW)),
        ErrorCode::IssuerMismatch
    );
    let policy = Policy {
        issuer: Some(sk(1).public_key().to_hex()),
        ..Policy::default()
    };
    assert!(verify_nwt(&ev, &policy, &[], NOW).is_ok());
}

#[test]
fn required_claims_must_be_tags() {
    let ev = nwt(&sk(1), &[&["exp", &exp_ok()]]);
    let policy = Policy {
        required_claims: vec!["scope".into()],
        ..Policy::default()
    };
    assert_eq!(
        code(verify_nwt(&ev, &policy, &[], NOW)),
        ErrorCode::MissingClaim
    );
}

#[test]
fn issue_nwt_round_trips_through_the_header() {
    let secret = NostrSecretKey::generate();
    let claims = NwtClaims {
        aud: vec!["api.example.com".into(), "cdn.example.com".into()],
        ttl: Some(300),
        nbf: Some(NOW - 5),
        custom: vec![
            ("scope".into(), "read".into()),
            ("scope".into(), "write".into()),
            ("plan".into(), "pro".into()),
        ],
        ..NwtClaims::default()
    };
    let ev = issue_nwt(&secret, &claims, "Log in to Example", NOW).unwrap();
    let header = nwt_authorization(&ev);
    let b64 = header.strip_prefix("Nostr ").unwrap();
    assert!(!b64.contains(['=', '+', '/']), "base64url without padding");
    let back = decode_authorization_event(b64, &Policy::default()).unwrap();
    assert_eq!(back, ev);
    let policy = Policy {
        audiences: vec!["cdn.example.com".into()],
        ..Policy::default()
    };
    let id = verify_nwt(&back, &policy, &[], NOW).unwrap();
    assert_eq!(id.subject, secret.public_key().to_hex());
    assert_eq!(id.expires_at, Some(NOW + 300));
    assert_eq!(id.claims.get("plan"), Some(&Value::from("pro")));
    assert_eq!(
        id.claims.get("scope"),
        Some(&Value::Array(vec!["read".into(), "write".into()]))
    );
    assert_eq!(back.content, "Log in to Example");
    // The dispatcher reaches the same verdict.
    let via =
        verify_authorization_event(b64, &policy, &[], None, &Nip98Options::default(), NOW).unwrap();
    assert_eq!(via, id);
}

#[test]
fn issue_nwt_refuses_registered_names_as_custom_claims() {
    let claims = NwtClaims {
        exp: Some(NOW + 60),
        custom: vec![("exp".into(), "1".into())],
        ..NwtClaims::default()
    };
    assert_eq!(
        issue_nwt(&sk(1), &claims, "", NOW).unwrap_err().code(),
        ErrorCode::Malformed
    );
}

#[test]
fn issued_sub_for_another_key_needs_trust_at_verification() {
    let service = sk(1);
    let user = sk(2).public_key();
    let claims = NwtClaims {
        ttl: Some(60),
        sub: Some(user.to_hex()),
        ..NwtClaims::default()
    };
    let ev = issue_nwt(&service, &claims, "", NOW).unwrap();
    assert_eq!(
        code(verify_nwt(&ev, &Policy::default(), &[], NOW)),
        ErrorCode::UntrustedSigner
    );
    assert_eq!(
        verify_nwt(&ev, &Policy::default(), &[service.public_key()], NOW)
            .unwrap()
            .subject,
        user.to_hex()
    );
}

#[test]
fn dispatcher_refuses_other_kinds() {
    let ev = Event::sign(&sk(1), NOW, 1, vec![], "").unwrap();
    let b64 = &nwt_authorization(&ev)["Nostr ".len()..];
    assert_eq!(
        verify_authorization_event(
            b64,
            &Policy::default(),
            &[],
            None,
            &Nip98Options::default(),
            NOW
        )
        .unwrap_err()
        .code(),
        ErrorCode::WrongKind
    );
}

/// Issue 17, finding 3: every tag becomes a claim (far larger in memory
/// than its text) and anyone can sign an NWT, so tags are bounded:
/// `MAX_NWT_TAGS` tags and `MAX_NWT_TAG_VALUES` values, `token_too_large`
/// past either.
#[test]
fn tags_are_bounded_in_number_and_values() {
    use tessera_core::internal::nostr::{MAX_NWT_TAGS, MAX_NWT_TAG_VALUES};
    let exp = exp_ok();
    let policy = Policy::default();
    let with = |extra: Vec<Vec<String>>| {
        let mut t = tags(&[&["exp", &exp]]);
        t.extend(extra);
        Event::sign(&sk(1), NOW, 27519, t, "").unwrap()
    };
    let one_letter = |n: usize| -> Vec<Vec<String>> {
        (0..n)
            .map(|i| vec![format!("{}", (b'a' + (i % 26) as u8) as char), "x".into()])
            .collect()
    };
    // The reviewed attack: 430 one-letter tags.
    assert_eq!(
        code(verify_nwt(&with(one_letter(430)), &policy, &[], NOW)),
        ErrorCode::TokenTooLarge
    );
    // At the bound (with `exp`): accepted; one more: refused.
    verify_nwt(&with(one_letter(MAX_NWT_TAGS - 1)), &policy, &[], NOW).unwrap();
    assert_eq!(
        code(verify_nwt(
            &with(one_letter(MAX_NWT_TAGS)),
            &policy,
            &[],
            NOW
        )),
        ErrorCode::TokenTooLarge
    );
    // Values: one tag with many is bounded too.
    let many = |n: usize| {
        let mut t = vec!["scope".to_string()];
        t.extend((0..n).map(|i| i.to_string()));
        vec![t]
    };
    verify_nwt(&with(many(MAX_NWT_TAG_VALUES - 1)), &policy, &[], NOW).unwrap();
    assert_eq!(
        code(verify_nwt(
            &with(many(MAX_NWT_TAG_VALUES)),
            &policy,
            &[],
            NOW
        )),
        ErrorCode::TokenTooLarge
    );
}
