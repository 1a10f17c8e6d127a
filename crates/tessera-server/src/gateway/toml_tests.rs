//! The configuration example of contracts.md, read as outside tests write
//! it: the text is taken from the shared document itself, so a change
//! there is tested here.

use super::*;
use crate::config::{Config, ForwardAuth};
use serde_json::json;

/// The first TOML block of contracts.md's "Configuration" section.
fn contracts_example() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/docs/contracts.md"
    );
    let doc = std::fs::read_to_string(path).expect("contracts.md beside the worktree");
    let section = doc
        .split("## Configuration: trusted issuers and forward-auth rules")
        .nth(1)
        .expect("the configuration section");
    let block = section.split("```toml\n").nth(1).expect("a toml block");
    block.split("\n```").next().expect("its end").to_owned()
}

#[derive(serde::Deserialize)]
struct Named {
    name: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Example {
    issuer: Vec<toml::Table>,
    forward_auth: ForwardAuth,
    rule: Vec<RuleConfig>,
}

#[test]
fn the_contracts_example_parses_and_its_rules_check() {
    let text = contracts_example();
    let example: Example = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let names: Vec<String> = example
        .issuer
        .iter()
        .map(|t| t.clone().try_into::<Named>().unwrap().name)
        .collect();
    assert_eq!(
        names,
        [
            "corp",
            "portal-service",
            "portal-wallets",
            "tw",
            "app-nostr"
        ]
    );
    let fa = &example.forward_auth;
    assert_eq!(fa.gateway, Some(Gateway::Nginx));
    assert_eq!(fa.trusted_proxies, ["127.0.0.1/32", "::1/128"]);
    assert_eq!(fa.claim_headers, ["scope", "role"]);
    let claim_headers = ClaimHeaders::new(&fa.claim_headers).unwrap();
    assert_eq!(
        claim_headers
            .names()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["x-auth-claim-scope", "x-auth-claim-role"]
    );

    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let rules = RuleSet::compile(&example.rule, &names).unwrap();
    assert_eq!(rules.len(), 4);
    // Without its [[issuer]] names, `corp` and the others are unknown.
    let e = RuleSet::compile(&example.rule, &[]).unwrap_err();
    assert!(e.0.contains("#2") && e.0.contains("app-nostr"), "{e}");

    let uploader = test_identity(&"b".repeat(64), &[], json!({"scope": ["upload"]}));
    let admin = test_identity("alice", &["api.example"], json!({"role": "admin"}));
    for (method, url, issuer, id, status) in [
        (
            "GET",
            "https://api.example/public/logo.png",
            None,
            None,
            200,
        ),
        (
            "POST",
            "https://api.example/upload/f",
            Some("app-nostr"),
            Some(&uploader),
            200,
        ),
        (
            "POST",
            "https://api.example/upload/f",
            Some("corp"),
            Some(&admin),
            403,
        ),
        (
            "GET",
            "https://api.example/admin/users",
            Some("corp"),
            Some(&admin),
            200,
        ),
        (
            "GET",
            "https://api.example/admin/users",
            Some("nostr"),
            Some(&uploader),
            403,
        ),
        ("GET", "https://api.example/admin/users", None, None, 401),
        (
            "GET",
            "https://api.example/anything",
            Some("tw"),
            Some(&uploader),
            200,
        ),
    ] {
        let request = ForwardedRequest::from_url(method, url).unwrap();
        let route = rules.route(&request);
        let caller = issuer.zip(id).map(|(i, id)| Caller::new(i, id));
        assert_eq!(
            route.decide(caller.as_ref()).status(),
            status,
            "{method} {url} {issuer:?}"
        );
    }
}

#[test]
fn the_server_configuration_reads_forward_auth_and_rules() {
    // The example without its [[issuer]] tables (issue 19 adds those to
    // the server configuration).
    let text = contracts_example();
    let without_issuers = text
        .split_once("[forward_auth]")
        .map(|(_, rest)| format!("[forward_auth]{rest}"))
        .unwrap();
    let config: Config = toml::from_str(&without_issuers).unwrap();
    assert_eq!(config.rule.len(), 4);
    assert_eq!(config.forward_auth.gateway, Some(Gateway::Nginx));
    let names = [
        "corp",
        "portal-service",
        "portal-wallets",
        "tw",
        "app-nostr",
    ];
    assert_eq!(config.rules_for_issuers(&names).unwrap().len(), 4);
    // `tessera serve --print-config` shows them, and reads back the same.
    let shown = config.to_masked_toml();
    assert!(
        shown.contains("[[rule]]") && shown.contains("gateway = \"nginx\""),
        "{shown}"
    );
    let back: Config = toml::from_str(&shown).unwrap();
    assert_eq!(back.rule, config.rule);
    assert_eq!(back.forward_auth, config.forward_auth);
}

#[test]
fn the_server_configuration_checks_forward_auth() {
    let parse = |t: &str| toml::from_str::<Config>(t).unwrap().validate();
    let ok = "[forward_auth]\ngateway = \"traefik\"\nclaim_headers = [\"scope\"]\n[[rule]]\npath = \"/*\"\nallow = [\"tessera\", \"nostr\"]\n";
    parse(ok).unwrap();
    for (bad, want) in [
        (
            "[[rule]]\npath = \"/*\"\nallow = [\"tessera\"]\n",
            "set [forward_auth] gateway",
        ),
        (
            "[forward_auth]\ngateway = \"nginx\"\npath_prefix = \"/authz\"\n",
            "gateway = \"envoy\"",
        ),
        (
            "[forward_auth]\ngateway = \"envoy\"\npath_prefix = \"authz\"\n",
            "path_prefix",
        ),
        (
            "[forward_auth]\nclaim_headers = [\"email_verified\"]\n",
            "claim_headers",
        ),
        (
            "[forward_auth]\ngateway = \"nginx\"\n[[rule]]\npath = \"/*\"\nallow = [\"corp\"]\n",
            "\"corp\"",
        ),
    ] {
        let e = parse(bad).unwrap_err().0;
        assert!(e.contains(want), "{want:?} missing in {e}");
    }
    assert!(toml::from_str::<Config>("[forward_auth]\ngateway = \"haproxy\"\n").is_err());
    let mut c = Config::default();
    c.apply_env(
        [
            ("TESSERA_FORWARD_AUTH_GATEWAY", "envoy"),
            ("TESSERA_FORWARD_AUTH_PATH_PREFIX", "/authz"),
            ("TESSERA_FORWARD_AUTH_CLAIM_HEADERS", "scope, role"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .unwrap();
    assert_eq!(c.forward_auth.gateway, Some(Gateway::Envoy));
    assert_eq!(c.forward_auth.path_prefix.as_deref(), Some("/authz"));
    assert_eq!(c.forward_auth.claim_headers, ["scope", "role"]);
    c.validate().unwrap();
    assert_eq!(
        c.forward_auth_reader().unwrap().gateway(),
        Some(Gateway::Envoy)
    );
    let mut c = Config::default();
    let bad = c.apply_env([("TESSERA_FORWARD_AUTH_GATEWAY".into(), "apache".into())].into_iter());
    assert!(bad.unwrap_err().0.contains("nginx, traefik, caddy, envoy"));
}
