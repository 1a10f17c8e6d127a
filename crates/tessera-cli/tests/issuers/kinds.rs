//! Each issuer kind at `/v1/verify`: accepted with its subject and issuer,
//! refused when expired, tampered, from an unknown key or over its cap; the
//! metrics labelled by format, never by issuer.

use super::*;

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
