//! Rule paths, matched against the normalised path only.
//!
//! - `/admin/*` (ends with `/*`): `/admin` itself and everything below it
//!   (`/admin/`, `/admin/users/7`), never `/administrator`. `/*` is every
//!   path.
//! - `*` anywhere else stands for any characters inside one segment:
//!   `/users/*/profile`, `/files/*.png`; it never crosses a `/`.
//! - Anything else is exact: `/health` matches `/health`, not `/health/`.
//!
//! Patterns are written decoded, as the normalised path is (`/files/a b`,
//! not `/files/a%20b`), and case-sensitively.

use std::fmt;

/// Longest pattern accepted.
const MAX_PATTERN: usize = 1024;

/// A checked path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathPattern {
    /// Segments before a final `/*` (all of them without one); `""` is a
    /// trailing slash.
    segments: Vec<Segment>,
    /// Ends with `/*`: matches the prefix and everything below it.
    subtree: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// Pieces between the `*`s: `*.png` is `["", ".png"]`.
    Glob(Vec<String>),
}

impl PathPattern {
    /// Checks a pattern; the error says what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<PathPattern, String> {
        if text.len() > MAX_PATTERN {
            return Err(format!("longer than {MAX_PATTERN} bytes"));
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err("must start with /".into());
        };
        if let Some(c) = text
            .chars()
            .find(|c| c.is_control() || c.is_whitespace() && *c != ' ')
        {
            return Err(format!("has the control or space character {c:?}"));
        }
        for (c, why) in [
            (
                '%',
                "write the path decoded (`/a b`, not `/a%20b`): rules see the decoded path",
            ),
            ('?', "rules match the path only, never the query"),
            ('#', "rules match the path only"),
            (
                '\\',
                "requests with backslashes are refused before any rule",
            ),
            (
                ';',
                "requests with ; path parameters are refused before any rule",
            ),
            ('[', "only * is a wildcard"),
            (']', "only * is a wildcard"),
        ] {
            if text.contains(c) {
                return Err(format!("has {c:?}: {why}"));
            }
        }
        if text.contains("**") {
            return Err("has **: `/x/*` already matches everything below /x".into());
        }
        let (body, subtree) = match rest.strip_suffix("/*") {
            Some(b) => (b, true),
            None if rest == "*" => ("", true),
            None => (rest, false),
        };
        let raw: Vec<&str> = if body.is_empty() {
            if subtree {
                Vec::new()
            } else {
                vec![""]
            }
        } else {
            body.split('/').collect()
        };
        let last = raw.len().saturating_sub(1);
        let mut segments = Vec::with_capacity(raw.len());
        for (i, s) in raw.iter().enumerate() {
            if s.is_empty() && (i != last || subtree) {
                return Err(
                    "has an empty segment (//): requests are matched with repeated slashes merged"
                        .into(),
                );
            }
            if *s == "." || *s == ".." {
                return Err(
                    "has a . or .. segment: requests are matched with them resolved".into(),
                );
            }
            if s.ends_with('.') || s.ends_with(' ') {
                return Err(
                    "has a segment ending in . or a space: such requests are refused".into(),
                );
            }
            segments.push(if s.contains('*') {
                Segment::Glob(s.split('*').map(str::to_owned).collect())
            } else {
                Segment::Literal((*s).to_owned())
            });
        }
        Ok(PathPattern { segments, subtree })
    }

    /// Whether the normalised `path` matches.
    pub(crate) fn matches(&self, path: &str) -> bool {
        let mut parts = path.strip_prefix('/').unwrap_or(path).split('/');
        for seg in &self.segments {
            match parts.next() {
                Some(p) if seg.matches(p) => {}
                _ => return false,
            }
        }
        // A subtree takes whatever follows; `/a/*` also matches `/a`.
        self.subtree || parts.next().is_none()
    }

    /// Whether every path this pattern matches is also matched by `self`
    /// (conservative: false when unsure). Used to find unreachable rules.
    pub(crate) fn covers(&self, other: &PathPattern) -> bool {
        if self.subtree {
            other.segments.len() >= self.segments.len()
                && self
                    .segments
                    .iter()
                    .zip(&other.segments)
                    .all(|(a, b)| a.covers(b))
        } else {
            !other.subtree
                && other.segments.len() == self.segments.len()
                && self
                    .segments
                    .iter()
                    .zip(&other.segments)
                    .all(|(a, b)| a.covers(b))
        }
    }

    /// `/*`: every path.
    pub(crate) fn is_everything(&self) -> bool {
        self.subtree && self.segments.is_empty()
    }
}

impl Segment {
    fn matches(&self, s: &str) -> bool {
        match self {
            Segment::Literal(l) => l == s,
            Segment::Glob(pieces) => glob(pieces, s),
        }
    }

    fn covers(&self, other: &Segment) -> bool {
        match (self, other) {
            (Segment::Glob(p), _) if p.iter().all(String::is_empty) => true,
            (a, Segment::Literal(l)) => a.matches(l),
            (a, b) => a == b,
        }
    }
}

/// `*` matching within one segment: the first piece is a prefix, the last
/// a suffix, the middle ones found left to right (the leftmost match is
/// always a valid choice, so this is linear, with no backtracking).
fn glob(pieces: &[String], s: &str) -> bool {
    let (Some(first), Some(last)) = (pieces.first(), pieces.last()) else {
        return s.is_empty();
    };
    if pieces.len() == 1 {
        return s == first;
    }
    let Some(mut rest) = s.strip_prefix(first.as_str()) else {
        return false;
    };
    for middle in &pieces[1..pieces.len() - 1] {
        match rest.find(middle.as_str()) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last.as_str())
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.segments {
            f.write_str("/")?;
            match s {
                Segment::Literal(l) => f.write_str(l)?,
                Segment::Glob(p) => f.write_str(&p.join("*"))?,
            }
        }
        if self.subtree {
            f.write_str("/*")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> PathPattern {
        PathPattern::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn subtree_exact_and_segment_globs() {
        let admin = p("/admin/*");
        for yes in ["/admin", "/admin/", "/admin/x", "/admin/x/y/"] {
            assert!(admin.matches(yes), "{yes}");
        }
        for no in [
            "/administrator",
            "/adminx/y",
            "/",
            "/Admin/x",
            "/public/admin",
        ] {
            assert!(!admin.matches(no), "{no}");
        }
        let all = p("/*");
        assert!(all.is_everything());
        for yes in ["/", "/a", "/a/b/c"] {
            assert!(all.matches(yes), "{yes}");
        }
        let exact = p("/health");
        assert!(exact.matches("/health"));
        assert!(!exact.matches("/health/"));
        assert!(!exact.matches("/health/x"));
        let root = p("/");
        assert!(root.matches("/"));
        assert!(!root.matches("/a"));
        let slash = p("/docs/");
        assert!(slash.matches("/docs/"));
        assert!(!slash.matches("/docs"));
        let users = p("/users/*/profile");
        assert!(users.matches("/users/42/profile"));
        assert!(!users.matches("/users/42/7/profile"));
        assert!(!users.matches("/users/profile"));
        let png = p("/files/*.png");
        assert!(png.matches("/files/a.png"));
        assert!(png.matches("/files/.png"));
        assert!(!png.matches("/files/a.png/x"));
        assert!(!png.matches("/files/a.jpg"));
        let mid = p("/a/x*y*z");
        assert!(mid.matches("/a/xyz"));
        assert!(mid.matches("/a/x1y2y3z"));
        assert!(!mid.matches("/a/xzy"));
        assert!(!p("/a/ab*ba").matches("/a/aba"));
        assert_eq!(p("/users/*/files/*").to_string(), "/users/*/files/*");
    }

    #[test]
    fn bad_patterns_say_why() {
        for (bad, why) in [
            ("", "start with /"),
            ("admin/*", "start with /"),
            ("/files/a%20b", "decoded"),
            ("/a?b", "query"),
            ("/a//b", "empty segment"),
            ("//a", "empty segment"),
            ("/a/../b", ". or .."),
            ("/a/./b", ". or .."),
            ("/admin./*", "ending in ."),
            ("/a/**", "**"),
            ("/a\\b", "backslash"),
            ("/a;b", "path parameters"),
            ("/a\tb", "control"),
            ("/[ab]", "wildcard"),
        ] {
            let e = PathPattern::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        assert!(PathPattern::parse(&format!("/{}", "a".repeat(2000))).is_err());
    }

    #[test]
    fn covering_is_conservative() {
        let c = |a: &str, b: &str| p(a).covers(&p(b));
        assert!(c("/*", "/admin/*"));
        assert!(c("/*", "/x"));
        assert!(c("/admin/*", "/admin/users/*"));
        assert!(c("/admin/*", "/admin"));
        assert!(c("/admin/*", "/admin/*/x"));
        assert!(c("/x", "/x"));
        assert!(c("/*/x", "/a/x"));
        assert!(c("/a*/*", "/ab/c"));
        assert!(!c("/admin/*", "/admin*"));
        assert!(!c("/admin/*", "/public/*"));
        assert!(!c("/x", "/x/*"));
        assert!(!c("/a*/*", "/*"));
        assert!(!c("/a*/x", "/*/x"));
        assert!(!c("/users/*/x", "/users/*"));
    }
}
