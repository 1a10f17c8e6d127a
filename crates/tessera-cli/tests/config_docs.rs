//! The example configuration `deploy/tessera.toml` against the keys the
//! server really has: it must parse and validate as it stands, name every
//! key `tessera serve --print-config` shows (active or as a commented
//! `# key = value` line, in the right table), and each commented key line
//! must parse on its own (a misspelt key or a wrong type fails).

use std::collections::BTreeSet;
use std::path::PathBuf;
use tessera_server::config::Config;
use tessera_testkit::{tessera_bin, TempDir};

fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// `tessera serve --print-config` with only `env` and `args` configuring it.
fn print_config(args: &[&str], env: &[(&str, &str)]) -> toml::Table {
    let out = tessera_testkit::cli::clean_command(tessera_bin!())
        .args(["serve", "--print-config"])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run tessera");
    assert!(
        out.status.success(),
        "--print-config {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    toml::from_str(&text).unwrap_or_else(|e| panic!("--print-config is not TOML ({e}):\n{text}"))
}

/// Every key path the server shows: `listen`, `forward_auth.gateway`,
/// `[[rule]]` (arrays of tables are named by their header only).
fn shown_keys(table: &toml::Table, prefix: &str, out: &mut BTreeSet<String>) {
    for (k, v) in table {
        match v {
            toml::Value::Table(t) => shown_keys(t, &format!("{prefix}{k}."), out),
            toml::Value::Array(a) if a.iter().all(toml::Value::is_table) && !a.is_empty() => {
                out.insert(format!("[[{prefix}{k}]]"));
            }
            _ => {
                out.insert(format!("{prefix}{k}"));
            }
        }
    }
}

/// The keys `--print-config` shows when everything optional is set: the
/// defaults leave some out (no admin token, no gateway, no rules).
fn every_shown_key() -> BTreeSet<String> {
    let dir = TempDir::new("deploy-keys");
    let rules = dir.write(
        "rules.toml",
        "[forward_auth]\ngateway = \"envoy\"\npath_prefix = \"/authz\"\nclaim_headers = [\"scope\"]\ngrpc_listen = \"127.0.0.1:9191\"\nassertion_audience = \"upstream\"\n\n[[issuer]]\nname = \"tw\"\nkind = \"thirdweb\"\nadmins = [\"0x000000000000000000000000000000000000dEaD\"]\ndomain = \"example.com\"\n\n[[rule]]\npath = \"/*\"\nallow = [\"tessera\", \"tw\"]\n",
    );
    let table = print_config(
        &["--config", &rules],
        &[
            ("TESSERA_ADMIN_TOKEN", "0123456789abcdef0123"),
            ("TESSERA_STORE", "sqlite:///tmp/x.db"),
        ],
    );
    let mut keys = BTreeSet::new();
    shown_keys(&table, "", &mut keys);
    // Keys the configuration has but no sample above makes --print-config
    // show (a new optional key, a new table): each must be documented too.
    for (table, names) in [
        ("", declared_fields("")),
        ("forward_auth", declared_fields("forward_auth")),
    ] {
        for name in names {
            let path = if table.is_empty() {
                name
            } else {
                format!("{table}.{name}")
            };
            if !covers(&keys, &path) && !REMOVED.contains(&path.as_str()) {
                keys.insert(path);
            }
        }
    }
    keys
}

/// Removed keys the configuration still reads only to refuse them with the
/// replacement: not in the example, in the reference's prose only.
const REMOVED: &[&str] = &["trust_forwarded_for"];

/// Every field of the configuration (or of one of its tables), as serde
/// names them when it refuses an unknown one: independent of what
/// --print-config happens to show.
fn declared_fields(table: &str) -> Vec<String> {
    let header = if table.is_empty() {
        String::new()
    } else {
        format!("[{table}]\n")
    };
    let err = toml::from_str::<Config>(&format!("{header}tessera_no_such_key = 1\n"))
        .expect_err("an unknown key is refused")
        .to_string();
    let list = err
        .split_once("expected one of")
        .unwrap_or_else(|| panic!("serde's message changed: {err}"))
        .1;
    let fields: Vec<String> = list
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    assert!(fields.len() >= 3, "no fields read from: {err}");
    fields
}

/// Whether `named` covers `key`: the key itself, its `[[key]]` header, or
/// keys of its table.
fn covers(named: &BTreeSet<String>, key: &str) -> bool {
    named.contains(key)
        || named.contains(&format!("[[{key}]]"))
        || named.iter().any(|n| n.starts_with(&format!("{key}.")))
}

/// A key line of the example: `key = ...` or `# key = ...`.
struct KeyLine {
    key: String,
    table: String,
    array_table: bool,
    commented: bool,
    text: String,
}

fn key_lines(example: &str) -> Vec<KeyLine> {
    let mut table = String::new();
    let mut array_table = false;
    let mut lines = Vec::new();
    for raw in example.lines() {
        let (commented, line) = match raw.trim().strip_prefix('#') {
            Some(rest) => (true, rest.trim()),
            None => (false, raw.trim()),
        };
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
            (table, array_table) = (name.trim().to_owned(), true);
        } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            (table, array_table) = (name.trim().to_owned(), false);
        } else if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            if !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                lines.push(KeyLine {
                    key: key.to_owned(),
                    table: table.clone(),
                    array_table,
                    commented,
                    text: line.to_owned(),
                });
            }
        }
    }
    lines
}

#[test]
fn the_example_configuration_parses_and_names_every_key() {
    let path = repo_file("deploy/tessera.toml");
    let example = std::fs::read_to_string(&path).expect("deploy/tessera.toml");

    // As it stands, it is a valid configuration.
    let effective = print_config(&["--config", path.to_str().expect("UTF-8 path")], &[]);
    assert_eq!(
        effective.get("data_dir").and_then(toml::Value::as_str),
        Some("/var/lib/tessera"),
        "the example's active data_dir is what the systemd unit uses"
    );

    let lines = key_lines(&example);
    let named: BTreeSet<String> = lines
        .iter()
        .map(|l| match (l.table.as_str(), l.array_table) {
            ("", _) => l.key.clone(),
            (t, true) => format!("[[{t}]]"),
            (t, false) => format!("{t}.{}", l.key),
        })
        .collect();
    let shown = every_shown_key();
    assert!(shown.len() > 25, "too few keys shown: {shown:?}");
    let missing: Vec<_> = shown.iter().filter(|k| !covers(&named, k)).collect();
    assert!(
        missing.is_empty(),
        "deploy/tessera.toml lacks keys the configuration has (its fields, and what `tessera serve --print-config` shows): {missing:?}"
    );

    // Each key once (an active line and a commented one for the same key
    // would leave the reader guessing which holds).
    let mut seen = BTreeSet::new();
    for l in lines.iter().filter(|l| !l.array_table) {
        assert!(
            seen.insert((l.table.clone(), l.key.clone())),
            "{}.{} appears twice in deploy/tessera.toml",
            l.table,
            l.key
        );
    }

    // Each commented key line parses in its table: the name is a real key
    // and the value has the right type.
    let commented: Vec<_> = lines.iter().filter(|l| l.commented).collect();
    assert!(commented.len() > 20, "too few commented keys");
    for l in commented {
        let body = match (l.table.as_str(), l.array_table) {
            ("", _) => format!("{}\n", l.text),
            // An `[[issuer]]` line is read in a table that has the two
            // fields every issuer needs (unless it is one of them).
            ("issuer", true) => {
                let mut body = String::from("[[issuer]]\n");
                for (field, value) in [("name", "\"example\""), ("kind", "\"jwt\"")] {
                    if l.key != field {
                        body.push_str(&format!("{field} = {value}\n"));
                    }
                }
                format!("{body}{}\n", l.text)
            }
            (t, true) => format!("[[{t}]]\n{}\n", l.text),
            (t, false) => format!("[{t}]\n{}\n", l.text),
        };
        if let Err(e) = toml::from_str::<Config>(&body) {
            panic!(
                "the commented line `{}` in [{}] of deploy/tessera.toml does not parse: {e}",
                l.text, l.table
            );
        }
    }
}

#[test]
fn the_key_reader_sees_commented_keys_in_their_tables() {
    // The checker above would pass vacuously if it read nothing: a sample.
    let lines = key_lines("a = 1\n# b = \"x\"\n# prose = words here\n[t]\n# c = []\n# [[r]]\n# d = true\n# not a key\n");
    let got: Vec<_> = lines
        .iter()
        .map(|l| (l.table.as_str(), l.key.as_str(), l.commented, l.array_table))
        .collect();
    assert_eq!(
        got,
        [
            ("", "a", false, false),
            ("", "b", true, false),
            ("", "prose", true, false),
            ("t", "c", true, false),
            ("r", "d", true, true)
        ]
    );
}

/// A row of a table in docs/configuration.md: the cells, code spans unwrapped.
struct RefRow {
    key: String,
    variable: String,
    /// The default when written as one code span (a value `--print-config` shows).
    default_code: Option<String>,
}

fn code_span(cell: &str) -> Option<String> {
    let cell = cell.trim();
    let inner = cell.strip_prefix('`')?;
    let end = inner.find('`')?;
    Some(inner[..end].to_owned())
}

fn reference_rows(doc: &str) -> Vec<RefRow> {
    doc.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').collect();
            assert!(cells.len() >= 4, "a row needs 4 cells: {l}");
            let whole_code = |c: &str| {
                let c = c.trim();
                // `<data_dir>`-like placeholders describe a computed default.
                code_span(c).filter(|s| c == format!("`{s}`") && !s.contains('<'))
            };
            RefRow {
                key: code_span(cells[0]).unwrap_or_default(),
                variable: code_span(cells[1]).unwrap_or_else(|| cells[1].trim().to_owned()),
                default_code: whole_code(cells[2]),
            }
        })
        .collect()
}

/// The value `--print-config` shows for a key path, as the reference writes it.
fn shown_value(table: &toml::Table, path: &str) -> Option<String> {
    let mut parts = path.split('.');
    let first = table.get(parts.next()?)?;
    let value = match parts.next() {
        Some(sub) => first.as_table()?.get(sub)?,
        None => first,
    };
    Some(match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

#[test]
fn the_configuration_reference_matches_the_code() {
    let doc =
        std::fs::read_to_string(repo_file("docs/configuration.md")).expect("docs/configuration.md");
    let rows = reference_rows(&doc);
    let documented: BTreeSet<String> = rows.iter().map(|r| r.key.clone()).collect();
    let shown = every_shown_key();
    let missing: Vec<_> = shown.iter().filter(|k| !covers(&documented, k)).collect();
    let stale: Vec<_> = documented.difference(&shown).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/configuration.md disagrees with the configuration (its fields and `tessera serve --print-config`): undocumented keys {missing:?}, documented keys the server does not have {stale:?}"
    );
    assert_eq!(rows.len(), documented.len(), "a key is documented twice");

    let defaults = print_config(&[], &[]);
    let mut checked_defaults = 0;
    for row in &rows {
        if row.key.starts_with("[[") {
            continue;
        }
        let want = format!("TESSERA_{}", row.key.replace('.', "_").to_ascii_uppercase());
        assert_eq!(row.variable, want, "the variable of {}", row.key);
        if let Some(default) = &row.default_code {
            let got = shown_value(&defaults, &row.key).unwrap_or_else(|| {
                panic!("{} has a default but --print-config shows none", row.key)
            });
            assert_eq!(&got, default, "the default of {}", row.key);
            checked_defaults += 1;
        }
    }
    assert!(
        checked_defaults >= 20,
        "only {checked_defaults} defaults checked"
    );

    // Each documented variable really sets its key: a value that is not the
    // default shows up in --print-config.
    let samples = [
        (
            "TESSERA_ACCESS_TTL_SECONDS",
            "61",
            "access_ttl_seconds",
            "61",
        ),
        (
            "TESSERA_STORE_CONNECT_TIMEOUT_SECONDS",
            "7",
            "store_connect_timeout_seconds",
            "7",
        ),
        ("TESSERA_COOKIE_SECURE", "false", "cookie_secure", "false"),
        (
            "TESSERA_FORWARD_AUTH_TRUSTED_PROXIES",
            "10.0.0.0/8",
            "forward_auth.trusted_proxies",
            "[\"10.0.0.0/8\"]",
        ),
    ];
    for (var, value, key, shown) in samples {
        let table = print_config(&[], &[(var, value)]);
        assert_eq!(shown_value(&table, key).as_deref(), Some(shown), "{var}");
    }
}

#[test]
fn every_declared_field_is_required() {
    // The struct's own field list, not only what --print-config shows.
    let top = declared_fields("");
    for f in [
        "listen",
        "store_connect_timeout_seconds",
        "forward_auth",
        "rule",
    ] {
        assert!(top.iter().any(|t| t == f), "{f} not in {top:?}");
    }
    let fa = declared_fields("forward_auth");
    assert!(fa.iter().any(|t| t == "trusted_proxies"), "{fa:?}");
    let keys = every_shown_key();
    assert!(
        keys.contains("[[rule]]") && keys.contains("forward_auth.gateway"),
        "{keys:?}"
    );
    assert!(!keys.contains("trust_forwarded_for"));
}

#[test]
fn the_reference_reader_reads_rows() {
    let rows = reference_rows(
        "| key | variable | default | meaning |\n|---|---|---|---|\n| `a` | `TESSERA_A` | `1` | x |\n| `b.c` | `TESSERA_B_C` | none: off | y |\n",
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (
            rows[0].key.as_str(),
            rows[0].variable.as_str(),
            rows[0].default_code.as_deref()
        ),
        ("a", "TESSERA_A", Some("1"))
    );
    assert_eq!(
        (rows[1].key.as_str(), rows[1].default_code.as_deref()),
        ("b.c", None)
    );
}
