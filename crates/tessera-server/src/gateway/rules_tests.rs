//! Rules: first match wins, what each key admits, and start-up checks.

use super::*;
use serde_json::json;
use tessera_core::Identity;

#[derive(serde::Deserialize)]
struct Rules {
    rule: Vec<RuleConfig>,
}

fn compile(toml_text: &str, issuers: &[&str]) -> Result<RuleSet, crate::config::ConfigError> {
    let rules: Rules = toml::from_str(toml_text).expect("test TOML parses");
    RuleSet::compile(&rules.rule, issuers)
}

fn rules(toml_text: &str) -> RuleSet {
    compile(toml_text, &["corp", "app-nostr"]).unwrap_or_else(|e| panic!("{e}"))
}

fn req(method: &str, url: &str) -> ForwardedRequest {
    ForwardedRequest::from_url(method, url).unwrap()
}

fn who(claims: serde_json::Value) -> Identity {
    test_identity(
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        &["api.example"],
        claims,
    )
}

/// The decision for `issuer`'s `identity` (None: no credential).
fn decide(set: &RuleSet, method: &str, url: &str, caller: Option<(&str, &Identity)>) -> u16 {
    let r = req(method, url);
    let route = set.route(&r);
    let caller = caller.map(|(i, id)| Caller::new(i, id));
    route.decide(caller.as_ref()).status()
}

/// The contracts.md rules, with the `[[issuer]]` names they use.
const CONTRACT_RULES: &str = r#"
[[rule]]
path = "/public/*"
anonymous = true

[[rule]]
path = "/upload/*"
methods = ["POST", "PUT"]
allow = ["app-nostr", "nostr"]
claims = { scope = { contains = "upload" } }

[[rule]]
path = "/admin/*"
allow = ["corp"]
claims = { role = { equals = "admin" } }

[[rule]]
path = "/*"
allow = ["tessera", "corp", "app-nostr", "nostr"]
"#;

#[test]
fn first_match_wins() {
    let set = rules(CONTRACT_RULES);
    let index = |m: &str, u: &str| set.route(&req(m, u)).rule().map(|r| r.index);
    assert_eq!(index("GET", "https://api.example/public/a"), Some(1));
    assert_eq!(index("POST", "https://api.example/upload/a"), Some(2));
    // GET is not one of rule 2's methods: the catch-all decides.
    assert_eq!(index("GET", "https://api.example/upload/a"), Some(4));
    assert_eq!(index("GET", "https://api.example/admin"), Some(3));
    assert_eq!(index("GET", "https://api.example/other"), Some(4));
    // Two overlapping rules (neither hides the other): order decides.
    let admin = "[[rule]]\npath = \"/admin/*\"\nmethods = [\"GET\"]\nallow = [\"corp\"]\n";
    let public = "[[rule]]\npath = \"/admin/public/*\"\nanonymous = true\n";
    let r = req("GET", "https://api.example/admin/public/x");
    let admin_first = rules(&format!("{admin}{public}"));
    assert_eq!(admin_first.route(&r).rule().map(|r| r.index), Some(1));
    assert!(admin_first.route(&r).needs_credential());
    let public_first = rules(&format!("{public}{admin}"));
    assert_eq!(public_first.route(&r).rule().map(|r| r.index), Some(1));
    assert!(!public_first.route(&r).needs_credential());
}

#[test]
fn anonymous_needs_no_credential_and_others_answer_401_without_one() {
    let set = rules(CONTRACT_RULES);
    let public = set.route(&req("GET", "https://api.example/public/x"));
    assert!(!public.needs_credential());
    assert_eq!(public.decide(None).status(), 200);
    assert_eq!(
        decide(&set, "GET", "https://api.example/admin/x", None),
        401
    );
    assert_eq!(decide(&set, "GET", "https://api.example/x", None), 401);
}

#[test]
fn claims_audiences_and_issuers_decide_200_or_403() {
    let set = rules(CONTRACT_RULES);
    let upload = who(json!({"scope": "read upload"}));
    let upload_tags = who(json!({"scope": ["read", "upload"]}));
    let read_only = who(json!({"scope": "read uploads"}));
    let url = "https://api.example/upload/f";
    assert_eq!(decide(&set, "POST", url, Some(("nostr", &upload))), 200);
    assert_eq!(
        decide(&set, "PUT", url, Some(("app-nostr", &upload_tags))),
        200
    );
    assert_eq!(decide(&set, "POST", url, Some(("nostr", &read_only))), 403);
    // The right scope from an issuer the rule does not allow.
    assert_eq!(decide(&set, "POST", url, Some(("corp", &upload))), 403);
    let admin = who(json!({"role": "admin"}));
    let admins = who(json!({"role": ["admin"]}));
    let url = "https://api.example/admin/users";
    assert_eq!(decide(&set, "GET", url, Some(("corp", &admin))), 200);
    assert_eq!(decide(&set, "GET", url, Some(("corp", &admins))), 403);
    assert_eq!(decide(&set, "GET", url, Some(("nostr", &admin))), 403);
    assert_eq!(
        decide(&set, "GET", url, Some(("corp", &who(json!({}))))),
        403
    );
}

#[test]
fn audiences_and_subjects_narrow_a_rule() {
    let set = rules(
        r#"
[[rule]]
path = "/a/*"
allow = ["corp"]
audiences = ["other.example", "api.example"]
[[rule]]
path = "/b/*"
allow = ["corp"]
audiences = ["other.example"]
[[rule]]
path = "/c/*"
allow = ["corp"]
subjects = ["0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"]
[[rule]]
path = "/d/*"
allow = ["corp"]
subjects = ["user-7"]
[[rule]]
path = "/e/*"
allow = ["corp"]
claims = { amr = { contains = "siwe" }, role = { equals = "admin" } }
"#,
    );
    let id = who(json!({"amr": ["siwe"], "role": "user"}));
    let at = |p: &str| {
        decide(
            &set,
            "GET",
            &format!("https://api.example{p}"),
            Some(("corp", &id)),
        )
    };
    assert_eq!(at("/a/x"), 200);
    assert_eq!(at("/b/x"), 403);
    assert_eq!(at("/c/x"), 200);
    assert_eq!(at("/d/x"), 403);
    // Every condition must hold: amr does, role does not.
    assert_eq!(at("/e/x"), 403);
}

#[test]
fn a_denial_names_the_rule_and_never_the_callers_values() {
    let set = rules(CONTRACT_RULES);
    let id = who(json!({"role": "secret-role-value"}));
    let r = req("GET", "https://api.example/admin/x");
    let route = set.route(&r);
    let Decision::Forbidden(d) = route.decide(Some(&Caller::new("corp", &id))) else {
        panic!("not a 403");
    };
    assert_eq!(d.reason, DenyReason::ClaimNotSatisfied);
    let body: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(body["error"], "forbidden");
    assert_eq!(body["reason"], "claim_not_satisfied");
    assert_eq!(body["rule"], json!({"index": 3, "path": "/admin/*"}));
    let text = body["error_description"].as_str().unwrap();
    assert!(
        text.contains("#3") && text.contains("role") && text.contains("admin"),
        "{text}"
    );
    let json = d.to_json();
    assert!(!json.contains("secret-role-value"), "{json}");
    assert!(!json.to_ascii_lowercase().contains("0x5aaeb"), "{json}");
}

#[test]
fn with_rules_no_match_is_a_deny_without_rules_everything_authenticated_passes() {
    let set = rules("[[rule]]\npath = \"/only/*\"\nallow = [\"tessera\"]\n");
    let id = who(json!({}));
    let r = req("GET", "https://api.example/elsewhere");
    let route = set.route(&r);
    assert!(route.rule().is_none());
    assert!(route.needs_credential());
    assert_eq!(route.decide(None), Decision::Unauthenticated);
    let Decision::Forbidden(d) = route.decide(Some(&Caller::new("tessera", &id))) else {
        panic!("not a 403");
    };
    assert_eq!(d.reason, DenyReason::NoMatchingRule);
    assert!(d.to_json().contains("\"rule\":null"));
    let none = RuleSet::default();
    assert!(none.is_empty());
    let route = none.route(&r);
    assert_eq!(
        route.decide(Some(&Caller::new("nostr", &id))),
        Decision::Allow { rule: None }
    );
    assert_eq!(route.decide(None), Decision::Unauthenticated);
}

#[test]
fn an_empty_allow_list_is_a_deny_rule() {
    let set = rules(
        "[[rule]]\npath = \"/internal/*\"\nallow = []\n[[rule]]\npath = \"/*\"\nallow = [\"tessera\"]\n",
    );
    let id = who(json!({}));
    assert_eq!(
        decide(
            &set,
            "GET",
            "https://api.example/internal/x",
            Some(("tessera", &id))
        ),
        403
    );
    assert_eq!(
        decide(&set, "GET", "https://api.example/x", Some(("tessera", &id))),
        200
    );
}

#[test]
fn hosts_methods_and_case() {
    let set = rules(
        r#"
[[rule]]
host = "admin.example"
allow = ["corp"]
[[rule]]
host = "API.example:8443"
path = "/x"
methods = ["delete"]
allow = ["corp"]
[[rule]]
path = "/*"
allow = ["tessera"]
"#,
    );
    let index = |m: &str, u: &str| set.route(&req(m, u)).rule().map(|r| r.index);
    assert_eq!(index("GET", "https://ADMIN.example./anything"), Some(1));
    assert_eq!(index("GET", "https://admin.example:444/anything"), Some(1));
    assert_eq!(index("DELETE", "https://api.example:8443/x"), Some(2));
    assert_eq!(index("DELETE", "https://api.example/x"), Some(3));
    assert_eq!(index("GET", "https://api.example:8443/x"), Some(3));
    assert_eq!(index("DELETE", "https://api.example:8443/X"), Some(3));
}

#[test]
fn path_tricks_meet_the_rule_a_careful_gateway_would() {
    let set = rules(CONTRACT_RULES);
    let index = |u: &str| set.route(&req("GET", u)).rule().map(|r| r.index);
    for (url, want) in [
        // Resolved before matching: these are the admin area.
        ("https://api.example/public/../admin/x", 3),
        ("https://api.example/public/%2e%2e/admin/x", 3),
        ("https://api.example/public/%2E%2E/admin/x", 3),
        ("https://api.example//admin/x", 3),
        ("https://api.example/./admin", 3),
        ("https://api.example/%61dmin/x", 3),
        // And these are the public area.
        ("https://api.example/admin/../public/x", 1),
        ("https://api.example/admin/%2e%2e/public", 1),
        // Paths are case-sensitive: /Admin is not /admin (it falls to the
        // catch-all, which still needs a credential).
        ("https://api.example/Admin/x", 4),
    ] {
        assert_eq!(index(url), Some(want), "{url}");
    }
    for url in [
        "https://api.example/public/..%2Fadmin/x",
        "https://api.example/public/..%2fadmin/x",
        "https://api.example/public/..;/admin/x",
        "https://api.example/public;x/../admin",
        "https://api.example/admin./x",
        "https://api.example/public/%252e%252e/admin",
        "https://api.example/public%5C..%5Cadmin",
        "https://api.example/../admin",
    ] {
        assert!(
            ForwardedRequest::from_url("GET", url).is_err(),
            "{url} was not refused"
        );
    }
}

#[test]
fn nip98_payload_without_body_defaults_to_refuse() {
    let set = rules(
        r#"
[[rule]]
path = "/upload/*"
allow = ["nostr"]
nip98_payload_without_body = "accept_unchecked"
[[rule]]
path = "/*"
allow = ["nostr"]
"#,
    );
    let at = |u: &str| set.route(&req("POST", u)).nip98_payload_without_body();
    assert_eq!(
        at("https://api.example/upload/x"),
        PayloadWithoutBody::AcceptUnchecked
    );
    assert_eq!(at("https://api.example/x"), PayloadWithoutBody::Refuse);
}

#[test]
fn start_up_checks_name_the_rule_and_the_fix() {
    for (text, wants) in [
        (
            "[[rule]]\npath = \"/a/*\"\nallow = [\"crop\"]\n",
            &["#1", "/a/*", "\"crop\"", "known issuers: tessera, nostr, corp"][..],
        ),
        (
            "[[rule]]\npath = \"/*\"\nallow = [\"tessera\"]\n[[rule]]\npath = \"/admin/*\"\nallow = [\"corp\"]\n",
            &["#2", "/admin/*", "never match", "#1", "\"/*\""][..],
        ),
        (
            "[[rule]]\nallow = [\"tessera\"]\n[[rule]]\npath = \"/x\"\nanonymous = true\n",
            &["#2", "never match", "every request"][..],
        ),
        (
            "[[rule]]\npath = \"/admin/*\"\nallow = [\"corp\"]\n[[rule]]\npath = \"/admin/users\"\nmethods = [\"GET\"]\nallow = [\"corp\"]\n",
            &["#2", "never match", "#1"][..],
        ),
        ("[[rule]]\npath = \"\"\nallow = [\"tessera\"]\n", &["#1", "start with /"][..]),
        ("[[rule]]\npath = \"/a/**\"\nallow = [\"tessera\"]\n", &["#1", "**"][..]),
        ("[[rule]]\npath = \"/a%20b\"\nallow = [\"tessera\"]\n", &["#1", "decoded"][..]),
        (
            "[[rule]]\npath = \"/a\"\nmethods = [\"GTE\"]\nallow = [\"tessera\"]\n",
            &["#1", "\"/a\"", "unknown method \"GTE\"", "GET, HEAD"][..],
        ),
        ("[[rule]]\npath = \"/a\"\nmethods = []\nallow = [\"tessera\"]\n", &["#1", "methods = []"][..]),
        ("[[rule]]\npath = \"/a\"\n", &["#1", "allow = [", "anonymous = true"][..]),
        (
            "[[rule]]\npath = \"/a\"\nanonymous = true\nallow = [\"tessera\"]\n",
            &["#1", "anonymous", "`allow`"][..],
        ),
        (
            "[[rule]]\npath = \"/a\"\nallow = [\"corp\"]\nnip98_payload_without_body = \"refuse\"\n",
            &["#1", "nostr"][..],
        ),
        ("[[rule]]\npath = \"/a\"\nallow = [\"corp\"]\nsubjects = []\n", &["#1", "admits nobody"][..]),
        ("[[rule]]\npath = \"/a\"\nallow = [\"corp\"]\naudiences = []\n", &["#1", "audiences"][..]),
        (
            "[[rule]]\npath = \"/a\"\nallow = [\"corp\"]\nclaims = { role = {} }\n",
            &["#1", "exactly one of `equals` and `contains`"][..],
        ),
        (
            "[[rule]]\nhost = \"api.example:99999\"\nallow = [\"corp\"]\n",
            &["#1", "api.example:99999"][..],
        ),
    ] {
        let e = compile(text, &["corp"]).expect_err(text).to_string();
        for w in wants {
            assert!(e.contains(w), "{w:?} missing in: {e}\nfor:\n{text}");
        }
    }
    // Unknown keys (a typo of `methods`) and bad values are TOML errors.
    assert!(toml::from_str::<Rules>("[[rule]]\nmethod = [\"GET\"]\n").is_err());
    assert!(toml::from_str::<Rules>("[[rule]]\nclaims = { role = { equals = 1 } }\n").is_err());
    assert!(toml::from_str::<Rules>("[[rule]]\nnip98_payload_without_body = \"maybe\"\n").is_err());
}

#[test]
fn methods_are_written_in_any_case_and_matched_upper_case() {
    let set = rules("[[rule]]\npath = \"/a\"\nmethods = [\"post\"]\nallow = [\"corp\"]\n");
    assert_eq!(
        set.route(&req("POST", "https://h/a"))
            .rule()
            .map(|r| r.index),
        Some(1)
    );
    assert!(set.route(&req("GET", "https://h/a")).rule().is_none());
}
