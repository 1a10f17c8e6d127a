//! `--print-config` shows the issuers; a bad `[[issuer]]` table stops the
//! server with a message naming it.

use super::*;

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
