//! Finding and running the peers and the `tessera` binary, and the tally
//! every interop test reports through (temporary directories and loud
//! notices come from `tessera_testkit`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tessera_testkit::tessera_bin;
pub use tessera_testkit::{loud, unix_now, TempDir};

pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop")
}

pub fn unavailable(what: &str, fix: &str) -> Option<Peer> {
    let msg = format!("{what} are not installed ({fix})");
    if tessera_testkit::in_ci() {
        panic!("interop: {msg}; CI is set, so a missing peer is a failure (.ci/run installs them)");
    }
    let bar = "!".repeat(78);
    loud(&format!(
        "\n{bar}\n!!! INTEROP SKIPPED: {msg}.\n!!! These tests prove nothing until the peers are installed.\n{bar}\n"
    ));
    None
}

/// A peer runtime: the interpreter and the folder of its scripts.
pub struct Peer {
    program: PathBuf,
    scripts: PathBuf,
    label: &'static str,
}

impl Peer {
    pub fn node() -> Option<Peer> {
        let dir = interop_dir();
        if !dir.join("node_modules/jose/package.json").is_file() {
            return unavailable(
                "the Node peers (tests/interop/node_modules)",
                "run `npm ci` in tests/interop",
            );
        }
        if Command::new("node").arg("--version").output().is_err() {
            return unavailable("Node.js", "`node` is not on PATH; install Node 20+");
        }
        Some(Peer {
            program: "node".into(),
            scripts: dir.join("node"),
            label: "node",
        })
    }

    pub fn python() -> Option<Peer> {
        let dir = interop_dir();
        let python = dir.join(".venv/bin/python");
        let ok = python.is_file()
            && Command::new(&python)
                .args(["-c", "import jwt, cryptography"])
                .output()
                .is_ok_and(|o| o.status.success());
        if !ok {
            return unavailable(
                "the Python peers (tests/interop/.venv with PyJWT[crypto])",
                "run `python3 -m venv tests/interop/.venv && tests/interop/.venv/bin/pip install -r tests/interop/requirements.txt`",
            );
        }
        Some(Peer {
            program: python,
            scripts: dir.join("python"),
            label: "python",
        })
    }

    /// Runs `script` with `args`; its stdout must be one JSON document.
    pub fn run(&self, script: &str, args: &[&str]) -> Value {
        let mut cmd = Command::new(&self.program);
        cmd.arg(self.scripts.join(script))
            .args(args)
            .current_dir(&self.scripts);
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {} {script}: {e}", self.label));
        assert!(
            out.status.success(),
            "{} {script} {args:?} failed ({}):\n{}",
            self.label,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{} {script} printed no JSON ({e}):\n{}",
                self.label,
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

/// `tessera ARGS`, run to completion.
pub fn tessera(args: &[&str]) -> Output {
    tessera_testkit::cli::run(tessera_bin!(), args)
}

/// `tessera ARGS`, which must succeed; its stdout.
pub fn tessera_ok(args: &[&str]) -> String {
    tessera_testkit::cli::run_ok(tessera_bin!(), args)
}

pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

// ---------------------------------------------------------------------------
// Tally: every case is counted, and the summary is printed even on success
// ---------------------------------------------------------------------------

pub struct Tally {
    title: String,
    passed: usize,
    pub failures: Vec<String>,
    /// (case, reason)
    skips: Vec<(String, String)>,
    /// (case, note)
    known: Vec<(String, String)>,
}

impl Tally {
    pub fn new(title: &str) -> Self {
        Tally {
            title: title.to_owned(),
            passed: 0,
            failures: Vec::new(),
            skips: Vec::new(),
            known: Vec::new(),
        }
    }

    pub fn check(&mut self, case: &str, result: Result<(), String>) {
        match result {
            Ok(()) => self.passed += 1,
            Err(why) => self.failures.push(format!("{case}: {why}")),
        }
    }

    pub fn skip(&mut self, case: &str, reason: &str) {
        self.skips.push((case.to_owned(), reason.to_owned()));
    }

    /// A case that behaves exactly as a recorded disagreement says (counted as passed).
    pub fn known(&mut self, case: &str, note: &str) {
        self.passed += 1;
        self.known.push((case.to_owned(), note.to_owned()));
    }

    pub fn finish(self) {
        let mut report = format!(
            "interop [{}] cases: passed {}, failed {}, skipped {}",
            self.title,
            self.passed,
            self.failures.len(),
            self.skips.len()
        );
        for (note, cases) in grouped(&self.known) {
            report.push_str(&format!(
                "\n  KNOWN DISAGREEMENT ({} cases): {note}",
                cases.len()
            ));
            for c in cases {
                report.push_str(&format!("\n    - {c}"));
            }
        }
        for (reason, cases) in grouped(&self.skips) {
            report.push_str(&format!("\n  SKIPPED ({} cases): {reason}", cases.len()));
            for c in cases {
                report.push_str(&format!("\n    - {c}"));
            }
        }
        for f in &self.failures {
            report.push_str(&format!("\n  FAILED {f}"));
        }
        loud(&report);
        assert!(
            self.failures.is_empty(),
            "{} interop case(s) failed in [{}]:\n{}",
            self.failures.len(),
            self.title,
            self.failures.join("\n")
        );
        assert!(self.passed > 0, "[{}] ran no case", self.title);
    }
}

/// (case, text) pairs grouped by text, in first-seen order.
pub fn grouped(items: &[(String, String)]) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for (case, text) in items {
        match out.iter_mut().find(|(t, _)| t == text) {
            Some((_, cases)) => cases.push(case),
            None => out.push((text, vec![case])),
        }
    }
    out
}
