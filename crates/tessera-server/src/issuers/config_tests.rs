//! Start-up checks of the `[[issuer]]` tables: each bad table fed as an
//! operator would write it, and the refusal's message asserted to name the
//! table and the fix.

use crate::config::Config;
use tessera_core::Algorithm;
use tessera_core::SigningKey;
use tessera_testkit::dir::TempDir;

const NPUB_HEX: &str = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e";

/// The configuration in `text`, read from a file in `dir` (key paths
/// relative to it), then checked.
fn load(dir: &TempDir, text: &str) -> Result<Config, String> {
    let path = dir.write("tessera.toml", text);
    let config = Config::from_file(std::path::Path::new(&path)).map_err(|e| e.0)?;
    config.validate().map_err(|e| e.0)?;
    Ok(config)
}

fn refused(text: &str) -> String {
    let dir = TempDir::new("issuer-config");
    load(&dir, text).expect_err(text)
}

fn pem_file(dir: &TempDir, name: &str) -> String {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    dir.write(name, &key.to_public_pem().unwrap());
    name.to_owned()
}

#[test]
fn the_contracts_example_is_accepted_and_printed() {
    let dir = TempDir::new("issuer-config");
    pem_file(&dir, "corp.pem");
    let text = format!(
        r#"
[[issuer]]
name = "corp"
kind = "jwt"
iss = "https://idp.example"
audiences = ["api.example"]
algorithms = ["ES256"]
keys = ["corp.pem"]

[[issuer]]
name = "portal-service"
kind = "portal"
signers = ["{NPUB_HEX}"]

[[issuer]]
name = "portal-wallets"
kind = "portal"
wallet_signed = true
max_lifetime_seconds = 3600

[[issuer]]
name = "tw"
kind = "thirdweb"
admins = ["0x0000000000000000000000000000000000000001"]
domain = "example.com"

[[issuer]]
name = "app-nostr"
kind = "nwt"
audiences = ["api.example"]
trusted_signers = []
max_lifetime_seconds = 3600

[[issuer]]
name = "remote"
kind = "jwt"
iss = "https://other.example"
jwks_uri = "https://other.example/jwks.json"
"#
    );
    let config = load(&dir, &text).unwrap();
    assert_eq!(config.issuer.len(), 6);
    // Key paths are relative to the configuration file.
    assert_eq!(config.issuer[0].keys[0], dir.join("corp.pem"));
    let printed = config.to_masked_toml();
    for shown in [
        "[[issuer]]",
        "name = \"corp\"",
        "kind = \"thirdweb\"",
        "wallet_signed = true",
        "jwks_uri = \"https://other.example/jwks.json\"",
        "nostr_max_lifetime_seconds = 3600",
    ] {
        assert!(printed.contains(shown), "{shown} in\n{printed}");
    }
    // What it prints reads back as the same configuration.
    let back: Config = toml::from_str(&printed).unwrap();
    assert_eq!(back.issuer, config.issuer);
}

#[test]
fn an_unknown_key_is_refused_with_its_place() {
    let e =
        refused("[[issuer]]\nname = \"corp\"\nkind = \"jwt\"\niss = \"https://i\"\njwks = \"x\"\n");
    assert!(e.contains("unknown field `jwks`"), "{e}");
    assert!(e.contains("line 5"), "{e}");
    let e = refused("[[issuer]]\nname = \"x\"\nkind = \"saml\"\n");
    assert!(e.contains("saml"), "{e}");
}

#[test]
fn an_unreadable_key_file_is_refused_naming_the_table_and_the_path() {
    let e = refused(
        "[[issuer]]\nname = \"corp\"\nkind = \"jwt\"\niss = \"https://i\"\nkeys = [\"missing.pem\"]\n",
    );
    assert!(e.contains("[[issuer]] #1 (name = \"corp\")"), "{e}");
    assert!(
        e.contains("missing.pem") && e.contains("cannot read"),
        "{e}"
    );
    assert!(e.contains("relative to the configuration file"), "{e}");
    // A file that is no key.
    let dir = TempDir::new("issuer-config");
    dir.write("junk.txt", "hello");
    let e = load(
        &dir,
        "[[issuer]]\nname = \"corp\"\nkind = \"jwt\"\niss = \"https://i\"\nkeys = [\"junk.txt\"]\n",
    )
    .unwrap_err();
    assert!(e.contains("neither JSON") && e.contains("PEM"), "{e}");
    // An RSA key without an algorithm says how to name it.
    let rsa = SigningKey::generate(Algorithm::RS256).unwrap();
    dir.write("rsa.pem", &rsa.to_public_pem().unwrap());
    let e = load(
        &dir,
        "[[issuer]]\nname = \"corp\"\nkind = \"jwt\"\niss = \"https://i\"\nkeys = [\"rsa.pem\"]\n",
    )
    .unwrap_err();
    assert!(
        e.contains("algorithms = [\\\"RS256\\\"]") || e.contains("algorithms = [\"RS256\"]"),
        "{e}"
    );
}

#[test]
fn an_issuer_without_keys_is_refused_with_the_keys_to_set() {
    for (text, fix) in [
        ("kind = \"jwt\"\niss = \"https://i\"\n", "jwks_uri"),
        ("kind = \"portal\"\n", "wallet_signed = true"),
        (
            "kind = \"thirdweb\"\ndomain = \"example.com\"\n",
            "admins =",
        ),
    ] {
        let e = refused(&format!("[[issuer]]\nname = \"a\"\n{text}"));
        assert!(e.contains("[[issuer]] #1 (name = \"a\")"), "{e}");
        assert!(e.contains("no keys") && e.contains(fix), "{e}");
    }
}

#[test]
fn names_are_unique_and_not_built_in() {
    for name in ["tessera", "nostr"] {
        let e = refused(&format!(
            "[[issuer]]\nname = \"{name}\"\nkind = \"portal\"\nwallet_signed = true\n"
        ));
        assert!(
            e.contains("built in") && e.contains("choose another name"),
            "{e}"
        );
    }
    let e = refused(&format!(
        "[[issuer]]\nname = \"p\"\nkind = \"portal\"\nwallet_signed = true\n\n[[issuer]]\nname = \"p\"\nkind = \"portal\"\nsigners = [\"{NPUB_HEX}\"]\n"
    ));
    assert!(e.contains("#2") && e.contains("unique"), "{e}");
    for bad in ["", "has space", "x\\ny", "über"] {
        let e = refused(&format!(
            "[[issuer]]\nname = \"{bad}\"\nkind = \"portal\"\nwallet_signed = true\n"
        ));
        assert!(e.contains("X-Auth-Issuer"), "{bad:?}: {e}");
    }
}

#[test]
fn a_jwks_uri_must_be_https_unless_allowed() {
    let base = "[[issuer]]\nname = \"corp\"\nkind = \"jwt\"\niss = \"https://i\"\n";
    for source in [
        "jwks_uri = \"http://idp.example/jwks.json\"",
        "jwks_uri = \"https://127.0.0.1/jwks.json\"",
        "discovery = \"http://idp.example\"",
    ] {
        let e = refused(&format!("{base}{source}\n"));
        assert!(e.contains("[[issuer]] #1 (name = \"corp\")"), "{e}");
        assert!(e.contains("allow_insecure_jwks = true"), "{e}");
    }
    let dir = TempDir::new("issuer-config");
    load(
        &dir,
        &format!("{base}jwks_uri = \"http://127.0.0.1:9/jwks.json\"\nallow_insecure_jwks = true\n"),
    )
    .unwrap();
    let e = refused(&format!(
        "{base}jwks_uri = \"https://i/j\"\ndiscovery = \"https://i\"\n"
    ));
    assert!(e.contains("one of keys, jwks_uri and discovery"), "{e}");
}

#[test]
fn jwks_cache_bounds_apply_to_a_remote_set_and_are_checked() {
    let base = "[[issuer]]\nname = \"corp\"\nkind = \"jwt\"\niss = \"https://i\"\n";
    let remote = "jwks_uri = \"http://127.0.0.1:9/jwks.json\"\nallow_insecure_jwks = true\n";
    let dir = TempDir::new("issuer-config");
    load(
        &dir,
        &format!("{base}{remote}jwks_cache_floor_seconds = 1\njwks_cache_ceiling_seconds = 60\n"),
    )
    .unwrap();
    for (bounds, why) in [
        ("jwks_cache_floor_seconds = 0\n", "at least 1"),
        (
            "jwks_cache_floor_seconds = 120\njwks_cache_ceiling_seconds = 60\n",
            "at most jwks_cache_ceiling_seconds (60)",
        ),
        ("jwks_cache_ceiling_seconds = 31536001\n", "365 days"),
        // Above the default ceiling (86400) without raising it.
        ("jwks_cache_floor_seconds = 90000\n", "(86400)"),
    ] {
        let e = refused(&format!("{base}{remote}{bounds}"));
        assert!(
            e.contains("[[issuer]] #1 (name = \"corp\")") && e.contains(why),
            "{bounds}: {e}"
        );
    }
    // Key files are not fetched: no cache to bound.
    let e = refused(&format!(
        "{base}keys = [\"corp.pem\"]\njwks_cache_floor_seconds = 1\n"
    ));
    assert!(e.contains("set jwks_uri or discovery"), "{e}");
    let e = refused(
        "[[issuer]]\nname = \"w\"\nkind = \"portal\"\nwallet_signed = true\njwks_cache_floor_seconds = 1\n",
    );
    assert!(
        e.contains("`jwks_cache_floor_seconds` do(es) not apply"),
        "{e}"
    );
}

#[test]
fn keys_of_another_kind_and_bad_values_are_refused() {
    let cases: &[(&str, &str)] = &[
        (
            "kind = \"jwt\"\niss = \"https://i\"\njwks_uri = \"https://i/j\"\nadmins = [\"0x0000000000000000000000000000000000000001\"]\n",
            "`admins` do(es) not apply to kind = \"jwt\"",
        ),
        (
            "kind = \"nwt\"\nsigners = [\"ab\"]\n",
            "`signers` do(es) not apply to kind = \"nwt\"",
        ),
        ("kind = \"portal\"\nwallet_signed = true\niss = \"x\"\n", "`iss`"),
        (
            "kind = \"portal\"\nsigners = [\"nope\"]\n",
            "signers: \"nope\" is not a Nostr key",
        ),
        (
            "kind = \"portal\"\nwallet_signed = true\nsigners = [\"7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e\"]\n",
            "one direction",
        ),
        (
            "kind = \"thirdweb\"\nadmins = [\"0x12\"]\ndomain = \"d\"\n",
            "not an Ethereum address",
        ),
        (
            "kind = \"thirdweb\"\nadmins = [\"0x0000000000000000000000000000000000000001\"]\n",
            "domain = \"example.com\"",
        ),
        (
            "kind = \"nwt\"\ntrusted_signers = [\"npub1bad\"]\n",
            "trusted_signers",
        ),
        ("kind = \"nwt\"\nmax_lifetime_seconds = 0\n", "must be positive"),
        (
            "kind = \"jwt\"\niss = \"https://i\"\njwks_uri = \"https://i/j\"\nalgorithms = [\"none\"]\n",
            "not a supported signature algorithm",
        ),
        (
            "kind = \"jwt\"\niss = \"https://i\"\njwks_uri = \"https://i/j\"\nalgorithms = [\"HS256\"]\n",
            "HMAC",
        ),
        ("kind = \"jwt\"\njwks_uri = \"https://i/j\"\n", "needs iss ="),
        (
            "kind = \"jwt\"\niss = \"http://127.0.0.1:8787\"\njwks_uri = \"https://i/j\"\n",
            "this server's own issuer",
        ),
    ];
    for (text, want) in cases {
        let e = refused(&format!("[[issuer]]\nname = \"x\"\n{text}"));
        assert!(e.contains("[[issuer]] #1 (name = \"x\")"), "{e}");
        assert!(e.contains(want), "{text}: {e}");
    }
}

#[test]
fn one_iss_and_one_wallet_direction_each() {
    let e = refused(
        "[[issuer]]\nname = \"a\"\nkind = \"jwt\"\niss = \"https://i\"\njwks_uri = \"https://i/j\"\n\n[[issuer]]\nname = \"b\"\nkind = \"jwt\"\niss = \"https://i\"\njwks_uri = \"https://i/k\"\n",
    );
    assert!(e.contains("#2") && e.contains("iss = \"https://i\""), "{e}");
    let e = refused(
        "[[issuer]]\nname = \"a\"\nkind = \"portal\"\nwallet_signed = true\n\n[[issuer]]\nname = \"b\"\nkind = \"portal\"\nwallet_signed = true\n",
    );
    assert!(e.contains("#2") && e.contains("wallet_signed"), "{e}");
}

#[test]
fn rules_may_name_configured_issuers() {
    let dir = TempDir::new("issuer-config");
    let text = "[forward_auth]\ngateway = \"nginx\"\n\n[[issuer]]\nname = \"pw\"\nkind = \"portal\"\nwallet_signed = true\n\n[[rule]]\npath = \"/*\"\nallow = [\"pw\", \"tessera\"]\n";
    load(&dir, text).unwrap();
    let e = load(&dir, &text.replace("\"pw\", ", "\"other\", ")).unwrap_err();
    assert!(e.contains("other"), "{e}");
}

#[test]
fn the_builtin_nostr_cap_is_a_positive_setting() {
    assert_eq!(Config::default().nostr_max_lifetime_seconds, 3600);
    let e = refused("nostr_max_lifetime_seconds = 0\n");
    assert!(e.contains("nostr_max_lifetime_seconds"), "{e}");
    let mut c = Config::default();
    c.apply_env(
        [(
            "TESSERA_NOSTR_MAX_LIFETIME_SECONDS".to_owned(),
            "60".to_owned(),
        )]
        .into_iter(),
    )
    .unwrap();
    assert_eq!(c.nostr_max_lifetime_seconds, 60);
}
