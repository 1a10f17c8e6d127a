//! The guides show the examples' code, not a copy that drifts: every
//! ```` ```rust ```` block in `docs/guides/*.md` preceded by
//! `<!-- include: PATH#NAME -->` must be, line for line, the lines of
//! `PATH` between `// ANCHOR: NAME` and `// ANCHOR_END: NAME`. The examples
//! themselves are compiled by clippy `--all-targets` and run by
//! `scripts/examples`.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The lines between the anchors `name` of the file at `path`.
fn anchor(path: &str, name: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(repo().join(path)).map_err(|e| format!("{path}: {e}"))?;
    let lines: Vec<&str> = text.lines().collect();
    let find = |marker: String| {
        let found: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].trim() == marker)
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            _ => Err(format!("{path}: {} lines {marker:?}", found.len())),
        }
    };
    let begin = find(format!("// ANCHOR: {name}"))?;
    let end = find(format!("// ANCHOR_END: {name}"))?;
    if end <= begin {
        return Err(format!("{path}: ANCHOR_END {name} before ANCHOR"));
    }
    Ok(lines[begin + 1..end].join("\n"))
}

/// `(guide, PATH, NAME, the block's text)` for every include in `text`.
fn includes(guide: &str, text: &str) -> Result<Vec<(String, String, String)>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(spec) = line
            .trim()
            .strip_prefix("<!-- include: ")
            .and_then(|s| s.strip_suffix(" -->"))
        else {
            continue;
        };
        let (path, name) = spec
            .split_once('#')
            .ok_or_else(|| format!("{guide}:{}: include {spec:?} has no #NAME", i + 1))?;
        if lines.get(i + 1).map(|l| l.trim()) != Some("```rust") {
            return Err(format!(
                "{guide}:{}: an include must be followed by a ```rust block",
                i + 1
            ));
        }
        let close = (i + 2..lines.len())
            .find(|&j| lines[j].trim() == "```")
            .ok_or_else(|| format!("{guide}:{}: the block is not closed", i + 1))?;
        out.push((
            path.to_owned(),
            name.to_owned(),
            lines[i + 2..close].join("\n"),
        ));
    }
    Ok(out)
}

#[test]
fn guide_code_blocks_are_the_examples_code() {
    let dir = repo().join("docs/guides");
    let mut checked = 0;
    let mut problems = Vec::new();
    let mut guides: Vec<_> = std::fs::read_dir(&dir)
        .expect("docs/guides")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    guides.sort();
    for guide in guides {
        let shown = guide.display().to_string();
        let text = std::fs::read_to_string(&guide).expect("guide");
        let found = match includes(&shown, &text) {
            Ok(f) => f,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        for (path, name, block) in found {
            match anchor(&path, &name) {
                Ok(code) if code == block => checked += 1,
                Ok(_) => problems.push(format!(
                    "{shown}: the block of {path}#{name} differs from the example's code: copy the lines between its ANCHOR lines"
                )),
                Err(e) => problems.push(format!("{shown}: {e}")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The axum guide shows three examples: a guide that lost its includes
    // would pass the loop above with nothing checked.
    assert!(checked >= 3, "only {checked} included blocks found");
}

#[test]
fn a_drifted_block_is_found() {
    let guide = "<!-- include: crates/tessera-axum/examples/bare_verifier.rs#app -->\n```rust\nfn app() {}\n```\n";
    let found = includes("t.md", guide).expect("parses");
    assert_eq!(found.len(), 1);
    let (path, name, block) = &found[0];
    assert_ne!(&anchor(path, name).expect("anchor"), block);
    let unclosed = "<!-- include: a.rs#x -->\n```rust\nfn x() {}\n";
    assert!(includes("t.md", unclosed).is_err());
    let no_block = "<!-- include: a.rs#x -->\ntext\n";
    assert!(includes("t.md", no_block).is_err());
    assert!(anchor("crates/tessera-axum/examples/bare_verifier.rs", "nope").is_err());
}
