//! Each issuer kind's rules, without HTTP: the credential fed, the issuer
//! that accepted it (and the subject) or the error code asserted.

use super::*;
use tessera_core::internal::ethereum::{issue_thirdweb, EthereumSecretKey, ThirdwebClaims};
use tessera_core::internal::nostr::{issue_nwt, issue_portal, NostrSecretKey, NwtClaims};
use tessera_core::Object;
use tessera_core::SigningKey;
use tessera_core::{jwt, Algorithm, ErrorCode, FixedClock};
use tessera_testkit::dir::TempDir;
use tessera_testkit::fixtures::nostr_key;

const NOW: i64 = 1_800_000_000;
const URL: &str = "https://auth.example";

fn server_key() -> NostrSecretKey {
    nostr_key(9)
}

fn context() -> ServerContext {
    ServerContext {
        url: URL.into(),
        host: "auth.example".into(),
        nostr: server_key().public_key(),
        leeway: 0,
        cache: CacheConfig::default(),
        clock: Arc::new(FixedClock(NOW)),
    }
}

fn issuers(toml_text: &str) -> Issuers {
    #[derive(serde::Deserialize)]
    struct Tables {
        issuer: Vec<IssuerConfig>,
    }
    let t: Tables = toml::from_str(toml_text).unwrap();
    Issuers::build(&t.issuer, context()).unwrap()
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn bearer(
    i: &Issuers,
    token: &str,
    signer: Option<&str>,
) -> Option<Result<Authenticated, IssuerRefusal>> {
    block_on(i.verify_bearer(token, signer))
}

fn accepted(i: &Issuers, token: &str, signer: Option<&str>) -> (String, String, &'static str) {
    match bearer(i, token, signer) {
        Some(Ok(a)) => (a.issuer.to_string(), a.identity.subject.clone(), a.method),
        Some(Err(r)) => panic!("refused: {}", r.message()),
        None => panic!("routed to the built-in tessera issuer"),
    }
}

fn refused(i: &Issuers, token: &str, signer: Option<&str>) -> (ErrorCode, String) {
    match bearer(i, token, signer) {
        Some(Err(r)) => (r.code(), r.message()),
        Some(Ok(a)) => panic!("accepted by {}", a.issuer),
        None => panic!("routed to the built-in tessera issuer"),
    }
}

fn claims(iss: &str, sub: &str, iat: i64, exp: i64) -> Object {
    let mut c = Object::new();
    c.insert("iss", iss.into());
    c.insert("sub", sub.into());
    c.insert("aud", "api.example".into());
    c.insert("iat", iat.into());
    c.insert("exp", exp.into());
    c
}

/// Two jwt issuers whose keys share the kid `k1`, from a PEM file and a
/// JWK Set file.
fn two_jwt_issuers(dir: &TempDir) -> (Issuers, SigningKey, SigningKey) {
    let a = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("k1");
    let b = SigningKey::generate(Algorithm::RS256)
        .unwrap()
        .with_kid("k1");
    let jwks =
        tessera_core::Value::Object(KeySet::single(b.verifying_key().unwrap()).to_public_jwks())
            .to_json();
    let a_pem = dir.write("a.pem", &a.to_public_pem().unwrap());
    let b_jwks = dir.write("b.jwks.json", &jwks);
    let i = issuers(&format!(
        r#"
[[issuer]]
name = "corp-a"
kind = "jwt"
iss = "https://a.example"
audiences = ["api.example"]
keys = [{a_pem:?}]

[[issuer]]
name = "corp-b"
kind = "jwt"
iss = "https://b.example"
audiences = ["api.example"]
algorithms = ["RS256"]
keys = [{b_jwks:?}]
"#
    ));
    (i, a, b)
}

#[test]
fn jwt_issuers_accept_their_tokens_and_refuse_the_rest() {
    let dir = TempDir::new("issuers");
    let (i, a, b) = two_jwt_issuers(&dir);
    let ok = jwt::sign(
        &a,
        &Object::new(),
        &claims("https://a.example", "alice", NOW, NOW + 300),
    )
    .unwrap();
    assert_eq!(
        accepted(&i, &ok, None),
        ("corp-a".into(), "alice".into(), "jwt")
    );
    let ok = jwt::sign(
        &b,
        &Object::new(),
        &claims("https://b.example", "bob", NOW, NOW + 300),
    )
    .unwrap();
    assert_eq!(
        accepted(&i, &ok, None),
        ("corp-b".into(), "bob".into(), "jwt")
    );
    // Expired.
    let old = jwt::sign(
        &a,
        &Object::new(),
        &claims("https://a.example", "alice", NOW - 600, NOW - 300),
    )
    .unwrap();
    assert_eq!(refused(&i, &old, None).0, ErrorCode::Expired);
    // Tampered: the payload changed after signing.
    let mut parts: Vec<String> = ok.split('.').map(str::to_owned).collect();
    parts[1] = tessera_core::internal::encoding::b64url_encode(
        tessera_core::Value::Object(claims("https://b.example", "mallory", NOW, NOW + 300))
            .to_json()
            .as_bytes(),
    );
    let (code, message) = refused(&i, &parts.join("."), None);
    assert_eq!(code, ErrorCode::BadSignature);
    assert!(message.ends_with("(issuers tried: corp-b)"), "{message}");
    // From an unknown key: B's keys all have a kid, and none is k2.
    let stranger = SigningKey::generate(Algorithm::RS256)
        .unwrap()
        .with_kid("k2");
    let t = jwt::sign(
        &stranger,
        &Object::new(),
        &claims("https://b.example", "bob", NOW, NOW + 300),
    )
    .unwrap();
    assert_eq!(refused(&i, &t, None).0, ErrorCode::UnknownKey);
    // A's PEM key has no kid, so it is a candidate for any kid (formats.md
    // §1) and the stranger's signature does not verify with it.
    let stranger = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("k2");
    let t = jwt::sign(
        &stranger,
        &Object::new(),
        &claims("https://a.example", "alice", NOW, NOW + 300),
    )
    .unwrap();
    assert_eq!(refused(&i, &t, None).0, ErrorCode::BadSignature);
    // Wrong audience.
    let mut c = claims("https://a.example", "alice", NOW, NOW + 300);
    c.insert("aud", "elsewhere".into());
    let t = jwt::sign(&a, &Object::new(), &c).unwrap();
    assert_eq!(refused(&i, &t, None).0, ErrorCode::AudienceMismatch);
    // An `iss` no issuer has: tessera's own access token (built-in).
    let t = jwt::sign(
        &a,
        &Object::new(),
        &claims("https://nobody.example", "alice", NOW, NOW + 300),
    )
    .unwrap();
    assert!(bearer(&i, &t, None).is_none());
}

#[test]
fn keys_are_looked_up_by_issuer_then_kid() {
    let dir = TempDir::new("issuers");
    let (i, a, b) = two_jwt_issuers(&dir);
    // Issuer A's key (kid k1) signs a token naming issuer B, whose key is
    // also k1: B's keys verify it, and refuse it.
    let t = jwt::sign(
        &a,
        &Object::new(),
        &claims("https://b.example", "eve", NOW, NOW + 300),
    )
    .unwrap();
    let (code, message) = refused(&i, &t, None);
    assert!(
        matches!(
            code,
            ErrorCode::AlgorithmNotAllowed | ErrorCode::UnknownKey | ErrorCode::BadSignature
        ),
        "{code:?}"
    );
    assert!(
        message.contains("corp-b") && !message.contains("corp-a"),
        "{message}"
    );
    let t = jwt::sign(
        &b,
        &Object::new(),
        &claims("https://a.example", "eve", NOW, NOW + 300),
    )
    .unwrap();
    let (_, message) = refused(&i, &t, None);
    assert!(
        message.contains("corp-a") && !message.contains("corp-b"),
        "{message}"
    );
}

fn portal_issuers(signers: &[&NostrSecretKey]) -> Issuers {
    let list: Vec<String> = signers.iter().map(|s| s.public_key().to_npub()).collect();
    issuers(&format!(
        r#"
[[issuer]]
name = "svc"
kind = "portal"
signers = [{:?}]

[[issuer]]
name = "svc-2"
kind = "portal"
signers = [{:?}]

[[issuer]]
name = "wallets"
kind = "portal"
wallet_signed = true
"#,
        list[0], list[1]
    ))
}

#[test]
fn portal_service_signed_tokens_vouch_for_target_key() {
    let (s1, s2, user) = (nostr_key(1), nostr_key(2), nostr_key(3));
    let i = portal_issuers(&[&s1, &s2]);
    let user_hex = user.public_key().to_hex();
    let t = issue_portal(&s1, &user.public_key(), NOW, 600).unwrap();
    assert_eq!(
        accepted(&i, &t, None),
        ("svc".into(), user_hex.clone(), "portal")
    );
    // The second issuer's signer: accepted under its own name only.
    let t = issue_portal(&s2, &user.public_key(), NOW, 600).unwrap();
    assert_eq!(accepted(&i, &t, None), ("svc-2".into(), user_hex, "portal"));
    // A key no issuer trusts.
    let t = issue_portal(&nostr_key(4), &user.public_key(), NOW, 600).unwrap();
    let (code, message) = refused(&i, &t, None);
    assert_eq!(code, ErrorCode::BadSignature);
    assert!(
        message.ends_with("(issuers tried: svc, svc-2)"),
        "{message}"
    );
    // Expired.
    let t = issue_portal(&s1, &user.public_key(), NOW - 900, 600).unwrap();
    assert_eq!(refused(&i, &t, None).0, ErrorCode::Expired);
    // Wrong direction: a trusted signer's token for this server's own key.
    let t = issue_portal(&s1, &server_key().public_key(), NOW, 600).unwrap();
    assert_eq!(refused(&i, &t, None).0, ErrorCode::AudienceMismatch);
    // Wrong direction: a service-signed token presented as wallet-signed.
    let t = issue_portal(&s1, &user.public_key(), NOW, 600).unwrap();
    let (code, message) = refused(&i, &t, Some(&s1.public_key().to_hex()));
    assert_eq!(code, ErrorCode::AudienceMismatch);
    assert!(message.ends_with("(issuers tried: wallets)"), "{message}");
}

#[test]
fn portal_wallet_signed_tokens_name_this_server_and_are_capped() {
    let user = nostr_key(5);
    let i = portal_issuers(&[&nostr_key(1), &nostr_key(2)]);
    let hex = user.public_key().to_hex();
    let t = issue_portal(&user, &server_key().public_key(), NOW, 600).unwrap();
    assert_eq!(
        accepted(&i, &t, Some(&hex)),
        ("wallets".into(), hex.clone(), "portal")
    );
    assert_eq!(accepted(&i, &t, Some(&user.public_key().to_npub())).1, hex);
    // Another signer named: the signature is not theirs.
    let other = nostr_key(6).public_key().to_hex();
    assert_eq!(refused(&i, &t, Some(&other)).0, ErrorCode::BadSignature);
    // Not a key.
    assert_eq!(refused(&i, &t, Some("zz")).0, ErrorCode::Malformed);
    // Without the signer: tried as service-signed, refused.
    assert_eq!(refused(&i, &t, None).0, ErrorCode::BadSignature);
    // Over the default cap of 3600 s (exp - iat).
    let long = issue_portal(&user, &server_key().public_key(), NOW, 3601).unwrap();
    let (code, message) = refused(&i, &long, Some(&hex));
    assert_eq!(code, ErrorCode::InvalidClaim);
    assert!(message.contains("3600"), "{message}");
    let at_cap = issue_portal(&user, &server_key().public_key(), NOW, 3600).unwrap();
    assert_eq!(accepted(&i, &at_cap, Some(&hex)).0, "wallets");
    // For another service's key.
    let t = issue_portal(&user, &nostr_key(7).public_key(), NOW, 600).unwrap();
    assert_eq!(refused(&i, &t, Some(&hex)).0, ErrorCode::AudienceMismatch);
}

#[test]
fn thirdweb_issuers_check_admin_and_domain() {
    let (admin1, admin2) = (
        EthereumSecretKey::from_bytes([1; 32]).unwrap(),
        EthereumSecretKey::from_bytes([2; 32]).unwrap(),
    );
    let i = issuers(&format!(
        r#"
[[issuer]]
name = "tw"
kind = "thirdweb"
admins = ["{}"]
domain = "example.com"

[[issuer]]
name = "tw-2"
kind = "thirdweb"
admins = ["{}"]
domain = "example.com"
"#,
        admin1.address().to_checksum(),
        admin2.address().to_checksum()
    ));
    let user = "0x00000000000000000000000000000000000000aa";
    let t = issue_thirdweb(&admin1, &ThirdwebClaims::new(user, "example.com"), NOW).unwrap();
    let (name, subject, method) = accepted(&i, &t, None);
    assert_eq!((name.as_str(), method), ("tw", "thirdweb"));
    assert_eq!(subject.to_lowercase(), user);
    let t = issue_thirdweb(&admin2, &ThirdwebClaims::new(user, "example.com"), NOW).unwrap();
    assert_eq!(accepted(&i, &t, None).0, "tw-2");
    // Another domain.
    let t = issue_thirdweb(&admin1, &ThirdwebClaims::new(user, "evil.example"), NOW).unwrap();
    assert_eq!(refused(&i, &t, None).0, ErrorCode::AudienceMismatch);
    // An admin nobody trusts.
    let stranger = EthereumSecretKey::from_bytes([3; 32]).unwrap();
    let t = issue_thirdweb(&stranger, &ThirdwebClaims::new(user, "example.com"), NOW).unwrap();
    let (code, message) = refused(&i, &t, None);
    assert_eq!(code, ErrorCode::UntrustedSigner);
    assert!(message.ends_with("(issuers tried: tw, tw-2)"), "{message}");
    // Expired.
    let t = issue_thirdweb(
        &admin1,
        &ThirdwebClaims::new(user, "example.com"),
        NOW - 90_000,
    )
    .unwrap();
    assert_eq!(refused(&i, &t, None).0, ErrorCode::Expired);
}

fn nwt(signer: &NostrSecretKey, aud: &str, ttl: i64, sub: Option<String>) -> String {
    let claims = NwtClaims {
        aud: vec![aud.into()],
        ttl: Some(ttl),
        sub,
        ..NwtClaims::default()
    };
    let event = issue_nwt(signer, &claims, "", NOW).unwrap();
    tessera_core::internal::encoding::b64url_encode(event.to_json().as_bytes())
}

#[test]
fn nwt_issuers_take_other_audiences_delegation_and_a_cap() {
    let delegate = nostr_key(11);
    let i = issuers(&format!(
        r#"
[[issuer]]
name = "app-nostr"
kind = "nwt"
audiences = ["api.example"]
trusted_signers = ["{}"]
max_lifetime_seconds = 600
"#,
        delegate.public_key().to_hex()
    ));
    let not_for_us =
        tessera_core::Error::new(ErrorCode::AudienceMismatch, "not addressed to this server");
    let verify = |c: &str| i.verify_nwt(c, &not_for_us).expect("nwt issuers tried");
    let user = nostr_key(12);
    let ok = verify(&nwt(&user, "api.example", 300, None)).unwrap();
    assert_eq!((&*ok.issuer, ok.method), ("app-nostr", "nwt"));
    assert_eq!(ok.identity.subject, user.public_key().to_hex());
    // The server's own audience is accepted too (a delegation the built-in refuses).
    let other = nostr_key(13).public_key().to_hex();
    let ok = verify(&nwt(&delegate, URL, 300, Some(other.clone()))).unwrap();
    assert_eq!(ok.identity.subject, other);
    // Delegation from a signer that is not trusted.
    let r = verify(&nwt(&user, "api.example", 300, Some(other))).unwrap_err();
    assert_eq!(r.code(), ErrorCode::UntrustedSigner);
    // Over the cap.
    let r = verify(&nwt(&user, "api.example", 601, None)).unwrap_err();
    assert_eq!(r.code(), ErrorCode::InvalidClaim);
    assert!(r.message().contains("600"), "{}", r.message());
    // For nobody here: the built-in's refusal, with every issuer tried.
    let r = verify(&nwt(&user, "elsewhere", 300, None)).unwrap_err();
    assert_eq!(r.code(), ErrorCode::AudienceMismatch);
    assert!(
        r.message().ends_with("(issuers tried: nostr, app-nostr)"),
        "{}",
        r.message()
    );
    // A final refusal of the built-in (expired, tampered, ...) is not retried.
    let expired = tessera_core::Error::new(ErrorCode::Expired, "expired");
    assert!(i
        .verify_nwt(&nwt(&user, "api.example", 300, None), &expired)
        .is_none());
}

#[test]
fn without_issuers_everything_is_tessera_s() {
    let i = Issuers::none(context());
    assert!(i.is_empty());
    let t = issue_portal(&nostr_key(1), &nostr_key(2).public_key(), NOW, 600).unwrap();
    assert_eq!(i.route_bearer(&t), BearerRoute::Tessera);
    assert!(bearer(&i, &t, None).is_none());
    let e = tessera_core::Error::new(ErrorCode::AudienceMismatch, "x");
    assert!(i.verify_nwt("x", &e).is_none());
}
