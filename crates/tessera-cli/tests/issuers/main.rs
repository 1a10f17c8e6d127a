//! Trusted issuers end to end (issue 19): a real `tessera serve` started
//! with a TOML file holding one `[[issuer]]` of each kind — a jwt issuer
//! whose JWK Set a real HTTP server in this test serves (RS256), one with a
//! JWK Set file and one with a PEM file (ES256), Portal in both
//! directions, thirdweb, nwt — and each credential sent to `/v1/verify`:
//! accepted with the right `X-Auth-Subject` and `X-Auth-Issuer`, refused
//! (401 and the error code) when expired, tampered, from an unknown key,
//! or longer than its issuer's cap.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tessera_core::internal::encoding::b64url_encode;
use tessera_core::internal::ethereum::{issue_thirdweb, EthereumSecretKey, ThirdwebClaims};
use tessera_core::internal::nostr::{
    issue_nwt, issue_portal, nwt_authorization, NostrSecretKey, NwtClaims,
};
use tessera_core::NostrPublicKey;
use tessera_core::{jwt, Algorithm};
use tessera_core::{KeySet, SigningKey};
use tessera_core::{Object, Value as CoreValue};
use tessera_testkit::api::next_second;
use tessera_testkit::dir::TempDir;
use tessera_testkit::fixtures::nostr_key;
use tessera_testkit::http::{bearer, http, Resp};
use tessera_testkit::serve::Tessera;
use tessera_testkit::{tessera_bin, unix_now};

/// A JWK Set served over HTTP by a thread of this test (the server
/// fetches it as it would an identity provider's); counts the requests.
struct JwksServer {
    url: String,
    hits: Arc<AtomicUsize>,
}

fn serve_jwks(body: String) -> JwksServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let url = format!("{origin}/jwks.json");
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = Vec::new();
            let mut buf = [0u8; 2048];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            counter.fetch_add(1, Ordering::SeqCst);
            // OpenID Connect discovery names the JWK Set of this same server.
            let body = if head.starts_with(b"GET /.well-known/openid-configuration ") {
                format!(r#"{{"issuer":"{origin}","jwks_uri":"{origin}/jwks.json"}}"#)
            } else {
                body.clone()
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=300\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    JwksServer { url, hits }
}

impl JwksServer {
    /// The origin: an OpenID Connect issuer whose discovery document names
    /// the same JWK Set.
    fn origin(&self) -> &str {
        self.url.trim_end_matches("/jwks.json")
    }
}

fn jwks_of(key: &SigningKey) -> String {
    CoreValue::Object(KeySet::single(key.verifying_key().unwrap()).to_public_jwks()).to_json()
}

struct Keys {
    corp: SigningKey,
    files: SigningKey,
    pem: SigningKey,
    service: NostrSecretKey,
    admin: EthereumSecretKey,
    delegate: NostrSecretKey,
}

fn keys() -> Keys {
    Keys {
        // The identity provider's key and the JWK Set file's share a kid.
        corp: SigningKey::generate(Algorithm::RS256)
            .unwrap()
            .with_kid("shared"),
        files: SigningKey::generate(Algorithm::ES256)
            .unwrap()
            .with_kid("shared"),
        pem: SigningKey::generate(Algorithm::ES256).unwrap(),
        service: nostr_key(21),
        admin: EthereumSecretKey::from_bytes([7; 32]).unwrap(),
        delegate: nostr_key(22),
    }
}

fn config(dir: &TempDir, k: &Keys, jwks_uri: &str) -> String {
    std::fs::create_dir_all(dir.join("etc/keys")).unwrap();
    dir.write("etc/keys/files.jwks.json", &jwks_of(&k.files));
    dir.write("etc/keys/pem.pem", &k.pem.to_public_pem().unwrap());
    let text = format!(
        r#"
[[issuer]]
name = "corp"
kind = "jwt"
iss = "https://idp.example"
audiences = ["api.example"]
algorithms = ["RS256"]
jwks_uri = "{jwks_uri}"
allow_insecure_jwks = true
max_lifetime_seconds = 3600

[[issuer]]
name = "oidc"
kind = "jwt"
iss = "{origin}"
audiences = ["api.example"]
discovery = "{origin}"
allow_insecure_jwks = true

[[issuer]]
name = "files"
kind = "jwt"
iss = "https://files.example"
audiences = ["api.example"]
keys = ["keys/files.jwks.json"]

[[issuer]]
name = "pem"
kind = "jwt"
iss = "https://pem.example"
audiences = ["api.example"]
keys = ["keys/pem.pem"]

[[issuer]]
name = "portal-service"
kind = "portal"
signers = ["{service}"]
max_lifetime_seconds = 7200

[[issuer]]
name = "portal-wallets"
kind = "portal"
wallet_signed = true
max_lifetime_seconds = 3600

[[issuer]]
name = "tw"
kind = "thirdweb"
admins = ["{admin}"]
domain = "example.com"
max_lifetime_seconds = 86400

[[issuer]]
name = "app-nostr"
kind = "nwt"
audiences = ["api.example"]
trusted_signers = ["{delegate}"]
max_lifetime_seconds = 600
"#,
        service = k.service.public_key().to_npub(),
        admin = k.admin.address().to_checksum(),
        delegate = k.delegate.public_key().to_hex(),
        origin = jwks_uri.trim_end_matches("/jwks.json"),
    );
    dir.write("etc/tessera.toml", &text)
}

fn verify(server: &Tessera, authorization: &str, extra: &[(&str, &str)]) -> Resp {
    let mut headers = vec![("Authorization", authorization)];
    headers.extend_from_slice(extra);
    http(server, "GET", "/v1/verify", &headers, b"")
}

#[track_caller]
fn assert_accepted(r: &Resp, issuer: &str, subject: &str, method: &str) {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-auth-issuer"), Some(issuer), "{}", r.text());
    assert_eq!(r.header("x-auth-subject"), Some(subject));
    assert_eq!(r.header("x-auth-method"), Some(method));
    let body = r.json();
    assert_eq!(body["issuer_name"], issuer);
    assert_eq!(body["subject"], subject);
}

#[track_caller]
fn assert_refused(r: &Resp, code: &str, issuer: &str) {
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(r.error(), code, "{}", r.text());
    let description = r.json()["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        description.contains("issuers tried:") && description.contains(issuer),
        "{description}"
    );
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

fn sign(key: &SigningKey, c: &Object) -> String {
    jwt::sign(key, &Object::new(), c).unwrap()
}

/// The token with its payload replaced (the signature no longer covers it).
fn tampered(token: &str, payload: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        b64url_encode(payload.as_bytes()),
        parts[2]
    )
}

fn nwt(signer: &NostrSecretKey, aud: &str, iat: i64, ttl: i64, sub: Option<String>) -> String {
    let claims = NwtClaims {
        aud: vec![aud.into()],
        ttl: Some(ttl),
        sub,
        ..NwtClaims::default()
    };
    nwt_authorization(&issue_nwt(signer, &claims, "", iat).unwrap())
}

fn server_nostr(server: &Tessera) -> NostrPublicKey {
    let info = http(server, "GET", "/v1/info", &[], b"").json();
    NostrPublicKey::parse(info["nostr_pubkey"].as_str().unwrap()).unwrap()
}

#[test]
fn every_issuer_kind_at_v1_verify() {
    let dir = TempDir::new("issuers-e2e");
    let k = keys();
    let jwks = serve_jwks(jwks_of(&k.corp));
    let path = config(&dir, &k, &jwks.url);
    let server =
        Tessera::start_with_args(tessera_bin!(), dir.root(), None, &[], &["--config", &path]);
    let now = unix_now();
    // The start-up line names the issuers in force.
    let log = server.log_tail();
    assert!(
        log.lines().any(|l| l.contains("tessera listening")
            && l.contains(
                "issuers=corp,oidc,files,pem,portal-service,portal-wallets,tw,app-nostr"
            )),
        "{log}"
    );

    // --- jwt, keys from a jwks_uri served over HTTP (RS256).
    let ok = sign(
        &k.corp,
        &claims("https://idp.example", "alice", now, now + 300),
    );
    assert_accepted(&verify(&server, &bearer(&ok), &[]), "corp", "alice", "jwt");
    assert!(jwks.hits.load(Ordering::SeqCst) >= 1);
    let expired = sign(
        &k.corp,
        &claims("https://idp.example", "alice", now - 900, now - 300),
    );
    assert_refused(&verify(&server, &bearer(&expired), &[]), "expired", "corp");
    let forged = tampered(
        &ok,
        &CoreValue::Object(claims("https://idp.example", "root", now, now + 300)).to_json(),
    );
    assert_refused(
        &verify(&server, &bearer(&forged), &[]),
        "bad_signature",
        "corp",
    );
    let stranger = SigningKey::generate(Algorithm::RS256)
        .unwrap()
        .with_kid("other");
    let unknown = sign(
        &stranger,
        &claims("https://idp.example", "alice", now, now + 300),
    );
    assert_refused(
        &verify(&server, &bearer(&unknown), &[]),
        "unknown_key",
        "corp",
    );
    let long = sign(
        &k.corp,
        &claims("https://idp.example", "alice", now, now + 3601),
    );
    assert_refused(
        &verify(&server, &bearer(&long), &[]),
        "invalid_claim",
        "corp",
    );

    // --- jwt, keys by OpenID Connect discovery (the same JWK Set, another issuer).
    let ok = sign(&k.corp, &claims(jwks.origin(), "olga", now, now + 300));
    assert_accepted(&verify(&server, &bearer(&ok), &[]), "oidc", "olga", "jwt");
    let expired = sign(
        &k.corp,
        &claims(jwks.origin(), "olga", now - 900, now - 300),
    );
    assert_refused(&verify(&server, &bearer(&expired), &[]), "expired", "oidc");

    // --- jwt, a JWK Set file whose key has the same kid as corp's: each
    // issuer's keys stay its own.
    let ok = sign(
        &k.files,
        &claims("https://files.example", "fiona", now, now + 300),
    );
    assert_accepted(&verify(&server, &bearer(&ok), &[]), "files", "fiona", "jwt");
    let crossed = sign(
        &k.files,
        &claims("https://idp.example", "fiona", now, now + 300),
    );
    let r = verify(&server, &bearer(&crossed), &[]);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(!r.text().contains("\"files\""), "{}", r.text());
    let crossed = sign(
        &k.corp,
        &claims("https://files.example", "alice", now, now + 300),
    );
    assert_eq!(verify(&server, &bearer(&crossed), &[]).status, 401);
    let expired = sign(
        &k.files,
        &claims("https://files.example", "fiona", now - 900, now - 300),
    );
    assert_refused(&verify(&server, &bearer(&expired), &[]), "expired", "files");

    // --- jwt, a PEM file.
    let ok = sign(
        &k.pem,
        &claims("https://pem.example", "pat", now, now + 300),
    );
    assert_accepted(&verify(&server, &bearer(&ok), &[]), "pem", "pat", "jwt");
    let forged = tampered(
        &ok,
        &CoreValue::Object(claims("https://pem.example", "root", now, now + 300)).to_json(),
    );
    assert_refused(
        &verify(&server, &bearer(&forged), &[]),
        "bad_signature",
        "pem",
    );
    let other = SigningKey::generate(Algorithm::ES256).unwrap();
    let unknown = sign(
        &other,
        &claims("https://pem.example", "pat", now, now + 300),
    );
    assert_refused(
        &verify(&server, &bearer(&unknown), &[]),
        "bad_signature",
        "pem",
    );

    // --- portal, service-signed: the subject is target_key.
    let user = nostr_key(31);
    let user_hex = user.public_key().to_hex();
    let ok = issue_portal(&k.service, &user.public_key(), now, 600).unwrap();
    assert_accepted(
        &verify(&server, &bearer(&ok), &[]),
        "portal-service",
        &user_hex,
        "portal",
    );
    let expired = issue_portal(&k.service, &user.public_key(), now - 900, 600).unwrap();
    assert_refused(
        &verify(&server, &bearer(&expired), &[]),
        "expired",
        "portal-service",
    );
    let unknown = issue_portal(&nostr_key(32), &user.public_key(), now, 600).unwrap();
    assert_refused(
        &verify(&server, &bearer(&unknown), &[]),
        "bad_signature",
        "portal-service",
    );
    let long = issue_portal(&k.service, &user.public_key(), now, 7201).unwrap();
    assert_refused(
        &verify(&server, &bearer(&long), &[]),
        "invalid_claim",
        "portal-service",
    );
    let other_payload = format!(
        r#"{{"exp":{},"nbf":{now},"iat":{now},"target_key":"{}"}}"#,
        now + 600,
        nostr_key(33).public_key().to_hex()
    );
    assert_refused(
        &verify(&server, &bearer(&tampered(&ok, &other_payload)), &[]),
        "bad_signature",
        "portal-service",
    );

    // --- portal, wallet-signed for this server's key: the subject is the signer.
    let server_key = server_nostr(&server);
    let ok = issue_portal(&user, &server_key, now, 600).unwrap();
    let named = [("X-Portal-Pubkey", user_hex.as_str())];
    assert_accepted(
        &verify(&server, &bearer(&ok), &named),
        "portal-wallets",
        &user_hex,
        "portal",
    );
    // The wrong direction: the same token without its signer is no service's.
    assert_eq!(verify(&server, &bearer(&ok), &[]).status, 401);
    let expired = issue_portal(&user, &server_key, now - 900, 600).unwrap();
    assert_refused(
        &verify(&server, &bearer(&expired), &named),
        "expired",
        "portal-wallets",
    );
    let impostor = [("X-Portal-Pubkey", &*nostr_key(34).public_key().to_hex())]
        .map(|(a, b)| (a, b.to_owned()));
    let impostor: Vec<(&str, &str)> = impostor.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_refused(
        &verify(&server, &bearer(&ok), &impostor),
        "bad_signature",
        "portal-wallets",
    );
    let long = issue_portal(&user, &server_key, now, 3601).unwrap();
    let r = verify(&server, &bearer(&long), &named);
    assert_refused(&r, "invalid_claim", "portal-wallets");
    assert!(r.text().contains("3600"), "{}", r.text());

    // --- thirdweb.
    let wallet = "0x00000000000000000000000000000000000000Aa";
    let ok = issue_thirdweb(&k.admin, &ThirdwebClaims::new(wallet, "example.com"), now).unwrap();
    let r = verify(&server, &bearer(&ok), &[]);
    assert_eq!(r.header("x-auth-issuer"), Some("tw"), "{}", r.text());
    assert_eq!(
        r.header("x-auth-subject").map(str::to_lowercase),
        Some(wallet.to_lowercase())
    );
    let expired = issue_thirdweb(
        &k.admin,
        &ThirdwebClaims::new(wallet, "example.com"),
        now - 90_000,
    )
    .unwrap();
    assert_refused(&verify(&server, &bearer(&expired), &[]), "expired", "tw");
    let stranger = EthereumSecretKey::from_bytes([8; 32]).unwrap();
    let unknown =
        issue_thirdweb(&stranger, &ThirdwebClaims::new(wallet, "example.com"), now).unwrap();
    assert_refused(
        &verify(&server, &bearer(&unknown), &[]),
        "untrusted_signer",
        "tw",
    );
    let mut long = ThirdwebClaims::new(wallet, "example.com");
    long.ttl = 86_401;
    let long = issue_thirdweb(&k.admin, &long, now).unwrap();
    assert_refused(&verify(&server, &bearer(&long), &[]), "invalid_claim", "tw");
    let parts: Vec<&str> = ok.split('.').collect();
    let mut payload: Value = serde_json::from_slice(
        &tessera_core::internal::encoding::b64url_decode(parts[1].as_bytes()).unwrap(),
    )
    .unwrap();
    payload["sub"] = Value::from("0x00000000000000000000000000000000000000bb");
    assert_refused(
        &verify(&server, &bearer(&tampered(&ok, &payload.to_string())), &[]),
        "bad_signature",
        "tw",
    );

    // --- nwt for another audience.
    let ok = nwt(&user, "api.example", now, 300, None);
    assert_accepted(&verify(&server, &ok, &[]), "app-nostr", &user_hex, "nwt");
    let delegated_to = nostr_key(35).public_key().to_hex();
    let ok = nwt(
        &k.delegate,
        "api.example",
        now,
        300,
        Some(delegated_to.clone()),
    );
    assert_accepted(
        &verify(&server, &ok, &[]),
        "app-nostr",
        &delegated_to,
        "nwt",
    );
    // Time is checked before the audience: the built-in refuses it, finally.
    let expired = nwt(&user, "api.example", now - 900, 300, None);
    assert_refused(
        &verify(&server, &expired, &[]),
        "expired",
        "(issuers tried: nostr)",
    );
    let mut forged: Value = serde_json::from_slice(
        &tessera_core::internal::encoding::b64url_decode(
            ok.trim_start_matches("Nostr ").as_bytes(),
        )
        .unwrap(),
    )
    .unwrap();
    forged["content"] = Value::from("changed");
    let forged = format!("Nostr {}", b64url_encode(forged.to_string().as_bytes()));
    let r = verify(&server, &forged, &[]);
    assert_eq!(
        (r.status, r.error()),
        (401, "id_mismatch".to_owned()),
        "{}",
        r.text()
    );
    let unknown = nwt(
        &nostr_key(36),
        "api.example",
        now,
        300,
        Some(user_hex.clone()),
    );
    assert_refused(
        &verify(&server, &unknown, &[]),
        "untrusted_signer",
        "app-nostr",
    );
    // Longer than the built-in's 3600 s but for app-nostr (cap 600): its cap decides.
    let very_long = nwt(&user, "api.example", now, 4000, None);
    let r = verify(&server, &very_long, &[]);
    assert_refused(&r, "invalid_claim", "app-nostr");
    assert!(r.text().contains("600 s"), "{}", r.text());
    let long = nwt(&user, "api.example", now, 601, None);
    assert_refused(&verify(&server, &long, &[]), "invalid_claim", "app-nostr");
    let untrusted = nwt(&user, "api.example", now, 300, Some(delegated_to));
    assert_refused(
        &verify(&server, &untrusted, &[]),
        "untrusted_signer",
        "app-nostr",
    );
    let elsewhere = nwt(&user, "other.example", now, 300, None);
    assert_refused(
        &verify(&server, &elsewhere, &[]),
        "audience_mismatch",
        "nostr, app-nostr",
    );

    // --- the built-in nostr issuer: an NWT for this server, capped at 3600 s.
    let ok = nwt(&user, &server.url, now, 300, None);
    assert_eq!(
        verify(&server, &ok, &[]).header("x-auth-issuer"),
        Some("nostr")
    );
    let long = nwt(&user, &server.url, now, 3601, None);
    let r = verify(&server, &long, &[]);
    assert_eq!(
        (r.status, r.error()),
        (401, "invalid_claim".to_owned()),
        "{}",
        r.text()
    );
    // Metrics are labelled by format, a bounded set: never an issuer name.
    let metrics = http(&server, "GET", "/metrics", &[], b"").text();
    for format in ["jwt", "portal", "thirdweb", "nwt"] {
        let valid = format!(
            "tessera_verifications_total{{code=\"\",format=\"{format}\",result=\"valid\"}}"
        );
        assert!(metrics.contains(&valid), "{valid} in\n{metrics}");
    }
    assert!(
        metrics.contains("format=\"portal\",result=\"invalid\""),
        "{metrics}"
    );
    // Only the remote key sets' series name their issuer (configured
    // names: a bounded set), each with its keys, fetches and age.
    let verification_lines: String = metrics
        .lines()
        .filter(|l| !l.starts_with("tessera_jwks_"))
        .collect::<Vec<_>>()
        .join("\n");
    for name in [
        "corp",
        "files",
        "portal-service",
        "portal-wallets",
        "\"tw\"",
        "app-nostr",
    ] {
        assert!(
            !verification_lines.contains(name),
            "{name} in\n{verification_lines}"
        );
    }
    for remote in ["corp", "oidc"] {
        for series in ["tessera_jwks_keys", "tessera_jwks_fetches_total"] {
            let prefix = format!("{series}{{issuer=\"{remote}\"}} ");
            let value: f64 = metrics
                .lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {prefix} in\n{metrics}"));
            assert!(value >= 1.0, "{prefix}{value}");
        }
        let stale = format!("tessera_jwks_stale{{issuer=\"{remote}\"}} 0");
        assert!(metrics.lines().any(|l| l == stale), "{stale} in\n{metrics}");
        let age = format!("tessera_jwks_age_seconds{{issuer=\"{remote}\"}} ");
        assert!(
            metrics.lines().any(|l| l.starts_with(&age)),
            "{age} in\n{metrics}"
        );
    }
    assert!(
        !metrics.contains("tessera_jwks_keys{issuer=\"files\"}"),
        "key files are not remote key sets"
    );
    // app-nostr also takes this server's audience, with a shorter cap: it
    // was tried too, and its cap is the one named.
    assert!(
        r.text().contains("longer than the allowed 600 s"),
        "{}",
        r.text()
    );
}

#[test]
fn logout_all_ends_issuer_credentials_made_before_it() {
    let dir = TempDir::new("issuers-logout");
    let k = keys();
    let jwks = serve_jwks(jwks_of(&k.corp));
    let path = config(&dir, &k, &jwks.url);
    let server =
        Tessera::start_with_args(tessera_bin!(), dir.root(), None, &[], &["--config", &path]);
    let user = nostr_key(41);
    let hex = user.public_key().to_hex();
    let now = unix_now();
    let server_key = server_nostr(&server);
    let named = [("X-Portal-Pubkey", hex.as_str())];
    let app_nwt = nwt(&user, "api.example", now - 2, 300, None);
    let portal = issue_portal(&user, &server_key, now - 2, 600).unwrap();
    assert_eq!(verify(&server, &app_nwt, &[]).status, 200);
    assert_eq!(verify(&server, &bearer(&portal), &named).status, 200);
    // /v1/auth/me answers the same identity, with the issuer's name.
    let me = http(
        &server,
        "GET",
        "/v1/auth/me",
        &[("Authorization", &app_nwt)],
        b"",
    );
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["issuer_name"], "app-nostr");
    assert_eq!(me.json()["subject"], hex.as_str());
    // A wallet-signed Portal login is capped like the issuer (nostr_max_lifetime_seconds).
    let long = issue_portal(&user, &server_key, now, 3601).unwrap();
    let body = format!(r#"{{"method":"portal","token":"{long}","pubkey":"{hex}"}}"#);
    let r = http(
        &server,
        "POST",
        "/v1/auth/login",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(
        (r.status, r.error()),
        (401, "invalid_claim".to_owned()),
        "{}",
        r.text()
    );
    // The user logs in with an NWT for this server and logs out everywhere.
    let login = http(
        &server,
        "POST",
        "/v1/auth/login",
        &[(
            "Authorization",
            &nwt(&user, &server.url, now - 1, 300, None),
        )],
        b"",
    );
    assert_eq!(login.status, 200, "{}", login.text());
    let access = login.json()["access_token"].as_str().unwrap().to_owned();
    let mine = verify(&server, &bearer(&access), &[]);
    assert_accepted(&mine, "tessera", &hex, "access_token");
    let out = http(
        &server,
        "POST",
        "/v1/auth/logout-all",
        &[("Authorization", &bearer(&access))],
        b"",
    );
    assert_eq!(out.status, 204, "{}", out.text());
    let r = verify(&server, &app_nwt, &[]);
    assert_eq!(
        (r.status, r.error()),
        (401, "revoked".to_owned()),
        "{}",
        r.text()
    );
    let r = verify(&server, &bearer(&portal), &named);
    assert_eq!(
        (r.status, r.error()),
        (401, "revoked".to_owned()),
        "{}",
        r.text()
    );
    // Credentials made after it work.
    next_second();
    let later = unix_now();
    let fresh = nwt(&user, "api.example", later, 300, None);
    assert_eq!(verify(&server, &fresh, &[]).status, 200);
}

#[test]
fn print_config_shows_issuers_and_bad_tables_stop_the_server() {
    let dir = TempDir::new("issuers-config");
    let k = keys();
    let path = config(&dir, &k, "http://127.0.0.1:9/jwks.json");
    let out = tessera_testkit::cli::run(
        tessera_bin!(),
        &["serve", "--config", &path, "--print-config"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("[[issuer]]") && text.contains("name = \"portal-wallets\""),
        "{text}"
    );
    // Key paths shown resolved against the configuration file's directory.
    assert!(
        text.contains(&dir.join("etc/keys/pem.pem").display().to_string())
            || text.contains("keys/pem.pem"),
        "{text}"
    );
    let bad = dir.write(
        "bad.toml",
        "[[issuer]]\nname = \"corp\"\nkind = \"jwt\"\niss = \"https://idp.example\"\njwks_uri = \"http://idp.example/jwks.json\"\n",
    );
    let out = tessera_testkit::cli::run(
        tessera_bin!(),
        &["serve", "--config", &bad, "--data-dir", &dir.path("data")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("[[issuer]] #1 (name = \"corp\")") && err.contains("allow_insecure_jwks"),
        "{err}"
    );
}
