//! The strict pieces of one normalised request: method, scheme, host and
//! port, and the path (decoded once, dot-segments and repeated slashes
//! resolved). Anything that does not normalise cleanly is refused with a
//! [`Refusal`], never guessed.
//!
//! `http::Uri` splits URLs (see `request.rs`), but it is lenient where an
//! authorizer must not be: it accepts `%zz`, backslashes, raw UTF-8 and
//! userinfo, and reads the port `99999` as "no port". So the checks below
//! are our own; `percent-encoding` does the decoding once the escapes are
//! known to be well formed.
//!
//! | input | outcome | why |
//! |---|---|---|
//! | `//admin`, `/a//b` | `/admin`, `/a/b` | empty segments collapse (nginx `merge_slashes`) |
//! | `/a/./b`, `/a/b/..` | `/a/b`, `/a/` | RFC 3986 §5.2.4 |
//! | `/admin/../public`, `/%2e%2e/`, `/.%2E/` | resolved after decoding | `%2E` is `.` (RFC 3986 §6.2.2.2) |
//! | `/..`, `/a/../../b` | refused | climbs above the root |
//! | `%2F`, `%2f` inside a segment | refused | back ends differ on whether it splits |
//! | `\`, `%5C` | refused | Windows servers and WHATWG parsers read it as `/` |
//! | `;`, `%3B` | refused | Tomcat/Jetty strip `;params` before routing |
//! | `%00`, other decoded controls | refused | truncation and log forging |
//! | `%zz`, `%4` | refused | not an escape |
//! | decoded bytes not UTF-8 | refused | no text to match a rule against |
//! | `%252e` (an escape left after decoding) | refused | a second decoding upstream would see `.` |
//! | a segment ending in `.` or space (`/admin./x`) | refused | Windows drops them: `/admin./x` is `/admin/x` there |
//! | raw space, control, non-ASCII byte | refused | not in RFC 3986 |
//! | `/Admin` vs `/admin` | different paths | paths are case-sensitive (RFC 3986 §6.2.2.1) |
//! | `%2e` vs `%2E`, `%41` vs `A` | the same path | decoding makes escapes' case irrelevant |
//! | trailing `/` | kept | `/a/` and `/a` may be different resources |

use percent_encoding::percent_decode;
use std::fmt;
use std::net::Ipv6Addr;

/// Longest request target (path and query) accepted, bytes. nginx's
/// default `large_client_header_buffers` is 8 KiB for the request line.
pub(crate) const MAX_TARGET_BYTES: usize = 8192;

/// Longest method name accepted.
const MAX_METHOD_BYTES: usize = 32;

/// Why a request was refused. Its text names the problem, never the
/// request's own URL or headers (a query string may carry a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// A trusted gateway did not send a header its family always sends.
    MissingHeader(&'static str),
    /// A gateway header came more than once.
    RepeatedHeader(&'static str),
    /// A gateway header is not visible ASCII.
    UnreadableHeader(&'static str),
    /// The method is not an upper-case token.
    Method,
    /// The scheme is not `http` or `https`.
    Scheme,
    /// The host or port is malformed.
    Host,
    /// The URL is not absolute (`scheme://host/path`).
    NotAbsolute,
    /// The target is longer than `MAX_TARGET_BYTES`.
    TooLong,
    /// The path does not start with `/`.
    RelativePath,
    /// The request path is outside Envoy's configured `path_prefix`.
    OutsidePrefix,
    /// A byte that RFC 3986 does not allow in a path or query.
    Character,
    /// `%` not followed by two hex digits.
    BadEscape,
    /// `%2F` inside a segment.
    EncodedSlash,
    /// `\` or `%5C`.
    Backslash,
    /// `;` path parameters.
    PathParameter,
    /// A decoded NUL or other control character.
    Control,
    /// The decoded path is not UTF-8.
    NotUtf8,
    /// An escape is still there after decoding once.
    DoubleEncoded,
    /// A segment ends with `.` or a space.
    TrailingDot,
    /// `..` climbs above the root.
    AboveRoot,
}

impl Refusal {
    /// A stable snake_case code for logs and JSON.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::MissingHeader(_) => "missing_gateway_header",
            Refusal::RepeatedHeader(_) => "repeated_gateway_header",
            Refusal::UnreadableHeader(_) => "unreadable_gateway_header",
            Refusal::Method => "bad_method",
            Refusal::Scheme => "bad_scheme",
            Refusal::Host => "bad_host",
            Refusal::NotAbsolute => "not_absolute",
            Refusal::TooLong => "target_too_long",
            Refusal::RelativePath => "relative_path",
            Refusal::OutsidePrefix => "outside_path_prefix",
            Refusal::Character => "bad_character",
            Refusal::BadEscape => "bad_escape",
            Refusal::EncodedSlash => "encoded_slash",
            Refusal::Backslash => "backslash",
            Refusal::PathParameter => "path_parameter",
            Refusal::Control => "control_character",
            Refusal::NotUtf8 => "not_utf8",
            Refusal::DoubleEncoded => "double_encoded",
            Refusal::TrailingDot => "trailing_dot",
            Refusal::AboveRoot => "above_root",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::MissingHeader(h) => write!(
                f,
                "the trusted gateway sent no {h} header, which the configured [forward_auth] gateway sets in every forward-auth request: check that the gateway's configuration sets it (and that [forward_auth] gateway names the gateway in use)"
            ),
            Refusal::RepeatedHeader(h) => write!(f, "the {h} header came more than once"),
            Refusal::UnreadableHeader(h) => write!(f, "the {h} header is not visible ASCII"),
            Refusal::Method => f.write_str("the method is not an upper-case HTTP method token"),
            Refusal::Scheme => f.write_str("the scheme is not http or https"),
            Refusal::Host => f.write_str("the host or port is malformed"),
            Refusal::NotAbsolute => f.write_str("the URL is not absolute (scheme://host/path)"),
            Refusal::TooLong => write!(f, "the request target is longer than {MAX_TARGET_BYTES} bytes"),
            Refusal::RelativePath => f.write_str("the path does not start with /"),
            Refusal::OutsidePrefix => f.write_str("the path is not under the configured [forward_auth] path_prefix"),
            Refusal::Character => f.write_str("the path or query has a byte RFC 3986 does not allow (space, control, non-ASCII)"),
            Refusal::BadEscape => f.write_str("the path has a % not followed by two hex digits"),
            Refusal::EncodedSlash => f.write_str("the path has an encoded slash (%2F) inside a segment"),
            Refusal::Backslash => f.write_str("the path has a backslash (\\ or %5C)"),
            Refusal::PathParameter => f.write_str("the path has a ; path parameter"),
            Refusal::Control => f.write_str("the decoded path has a control character (NUL, CR, LF, ...)"),
            Refusal::NotUtf8 => f.write_str("the decoded path is not UTF-8"),
            Refusal::DoubleEncoded => f.write_str("the path is percent-encoded twice (%25 followed by hex digits)"),
            Refusal::TrailingDot => f.write_str("a path segment ends with a dot or a space"),
            Refusal::AboveRoot => f.write_str("the path climbs above the root with .."),
        }
    }
}

impl std::error::Error for Refusal {}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http`, default port 80.
    Http,
    /// `https`, default port 443.
    Https,
}

impl Scheme {
    /// Reads a scheme, ignoring ASCII case (RFC 3986 §3.1).
    pub(crate) fn parse(s: &str) -> Result<Scheme, Refusal> {
        if s.eq_ignore_ascii_case("https") {
            Ok(Scheme::Https)
        } else if s.eq_ignore_ascii_case("http") {
            Ok(Scheme::Http)
        } else {
            Err(Refusal::Scheme)
        }
    }

    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A method: 1 to 32 bytes of `A-Z`, `0-9`, `-`, `_`. Methods are
/// case-sensitive (RFC 9110 §9.1) and every gateway sends them upper-case;
/// `post` is refused rather than read as `POST` or as a method no rule
/// names (a back end that upper-cases it would then run a POST).
pub(crate) fn method(s: &str) -> Result<&str, Refusal> {
    let ok = !s.is_empty()
        && s.len() <= MAX_METHOD_BYTES
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(s)
    } else {
        Err(Refusal::Method)
    }
}

/// A host and its effective port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostPort {
    /// Lower-case name without a trailing dot, dotted IPv4, or `[v6]` in
    /// RFC 5952 form.
    pub host: String,
    /// The port named, or the scheme's default.
    pub port: u16,
}

/// Reads `host[:port]` (a `Host` header, `X-Forwarded-Host`, or a URL's
/// authority). Refuses userinfo, an empty or out-of-range port, IPv6 zone
/// ids, percent-escapes and any byte outside `A-Z a-z 0-9 . - _`. The name
/// is lower-cased and one trailing dot dropped (`api.example.` is
/// `api.example`, as nginx reads it).
pub(crate) fn host_port(authority: &str, scheme: Scheme) -> Result<HostPort, Refusal> {
    if authority.is_empty() || authority.len() > 300 {
        return Err(Refusal::Host);
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or(Refusal::Host)?;
        let ip: Ipv6Addr = v6.parse().map_err(|_| Refusal::Host)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(Refusal::Host)?),
        };
        (format!("[{ip}]"), port)
    } else {
        let (name, port) = match authority.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (authority, None),
        };
        let name = name.strip_suffix('.').unwrap_or(name);
        let labels_ok = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !labels_ok {
            return Err(Refusal::Host);
        }
        (name.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => scheme.default_port(),
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Refusal::Host);
            }
            match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(Refusal::Host),
            }
        }
    };
    Ok(HostPort { host, port })
}

/// Checks a query (without its `?`): visible ASCII only. It is kept
/// verbatim, because NIP-98 compares `u` byte for byte.
pub(crate) fn query(q: &str) -> Result<&str, Refusal> {
    if q.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(q)
    } else {
        Err(Refusal::Character)
    }
}

/// Normalises a raw path (as received, starting with `/`): each segment
/// is percent-decoded once, then empty and `.` segments are dropped and
/// `..` removes the previous one (RFC 3986 §5.2.4). See the table at the
/// top of this file for what is refused.
pub(crate) fn path(raw: &str) -> Result<String, Refusal> {
    if raw.len() > MAX_TARGET_BYTES {
        return Err(Refusal::TooLong);
    }
    let Some(rest) = raw.strip_prefix('/') else {
        return Err(Refusal::RelativePath);
    };
    for b in raw.bytes() {
        match b {
            b'\\' => return Err(Refusal::Backslash),
            b';' => return Err(Refusal::PathParameter),
            b if !b.is_ascii_graphic() => return Err(Refusal::Character),
            _ => {}
        }
    }
    let mut kept: Vec<String> = Vec::new();
    // Whether the result ends with `/`: the last input segment was empty,
    // `.` or `..` (RFC 3986 §5.2.4 leaves `/a/b/..` as `/a/`).
    let mut trailing_slash = false;
    for raw_segment in rest.split('/') {
        let segment = decode_segment(raw_segment)?;
        trailing_slash = matches!(segment.as_str(), "" | "." | "..");
        match segment.as_str() {
            "" | "." => {}
            ".." => {
                if kept.pop().is_none() {
                    return Err(Refusal::AboveRoot);
                }
            }
            s if s.ends_with('.') || s.ends_with(' ') => return Err(Refusal::TrailingDot),
            _ => kept.push(segment),
        }
    }
    let mut out = String::with_capacity(raw.len());
    for s in &kept {
        out.push('/');
        out.push_str(s);
    }
    if trailing_slash || kept.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// Decodes one raw segment, refusing what decoding could smuggle in.
fn decode_segment(raw: &str) -> Result<String, Refusal> {
    let bytes = raw.as_bytes();
    for (i, _) in raw.match_indices('%') {
        let hex = bytes.get(i + 1..i + 3).ok_or(Refusal::BadEscape)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(Refusal::BadEscape);
        }
    }
    let decoded: Vec<u8> = percent_decode(bytes).collect();
    for &b in &decoded {
        match b {
            b'/' => return Err(Refusal::EncodedSlash),
            b'\\' => return Err(Refusal::Backslash),
            b';' => return Err(Refusal::PathParameter),
            b if b.is_ascii_control() => return Err(Refusal::Control),
            _ => {}
        }
    }
    let text = String::from_utf8(decoded).map_err(|_| Refusal::NotUtf8)?;
    let still_escaped = text.match_indices('%').any(|(i, _)| {
        text.as_bytes()
            .get(i + 1..i + 3)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if still_escaped {
        return Err(Refusal::DoubleEncoded);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        path(raw).unwrap_or_else(|e| panic!("{raw:?} refused: {e}"))
    }

    #[test]
    fn dot_segments_and_repeated_slashes_resolve() {
        for (raw, want) in [
            ("/", "/"),
            ("/admin/../public", "/public"),
            ("/admin/../public/", "/public/"),
            ("//admin", "/admin"),
            ("/a//b///c", "/a/b/c"),
            ("/a/./b/.", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/./", "/"),
            ("/a/b/../../c", "/c"),
            // `%2e` is `.`, in either case, alone or mixed with a dot.
            ("/admin/%2e%2e/public", "/public"),
            ("/admin/%2E%2E/public", "/public"),
            ("/admin/.%2e/public", "/public"),
            ("/a/%2e/b", "/a/b"),
            // Decoded once: an escaped letter is the letter.
            ("/%61dmin", "/admin"),
            ("/files/a%20b", "/files/a b"),
            ("/caf%C3%A9", "/café"),
            // `...` is not a dot segment, but it ends with a dot: below.
            ("/v1.2/x", "/v1.2/x"),
            ("/.well-known/jwks.json", "/.well-known/jwks.json"),
        ] {
            assert_eq!(ok(raw), want, "{raw}");
        }
    }

    #[test]
    fn paths_are_case_sensitive_escapes_are_not() {
        assert_eq!(ok("/Admin"), "/Admin");
        assert_ne!(ok("/Admin"), ok("/admin"));
        assert_eq!(ok("/a/%2e%2E/x"), "/x");
        assert_eq!(ok("/%41"), ok("/A"));
        assert_eq!(ok("/%4a"), ok("/%4A"));
    }

    #[test]
    fn what_does_not_normalise_is_refused() {
        for (raw, want) in [
            ("/..", Refusal::AboveRoot),
            ("/a/../../admin", Refusal::AboveRoot),
            ("/%2e%2e/admin", Refusal::AboveRoot),
            ("/public%2F..%2Fadmin", Refusal::EncodedSlash),
            ("/public%2f..%2fadmin", Refusal::EncodedSlash),
            ("/public\\..\\admin", Refusal::Backslash),
            ("/public%5C..%5Cadmin", Refusal::Backslash),
            ("/admin;x=1/secret", Refusal::PathParameter),
            ("/public/..;/admin", Refusal::PathParameter),
            ("/admin%3B/x", Refusal::PathParameter),
            ("/admin%00.json", Refusal::Control),
            ("/a%0D%0Ab", Refusal::Control),
            ("/a%7Fb", Refusal::Control),
            ("/a%zz", Refusal::BadEscape),
            ("/a%4", Refusal::BadEscape),
            ("/a%", Refusal::BadEscape),
            ("/a%FF", Refusal::NotUtf8),
            ("/a%C3", Refusal::NotUtf8),
            ("/public/%252e%252e/admin", Refusal::DoubleEncoded),
            ("/a%2541", Refusal::DoubleEncoded),
            ("/admin./secret", Refusal::TrailingDot),
            ("/admin%2E/secret", Refusal::TrailingDot),
            ("/admin%20/secret", Refusal::TrailingDot),
            ("/.../x", Refusal::TrailingDot),
            ("/a b", Refusal::Character),
            ("/a\tb", Refusal::Character),
            ("/café", Refusal::Character),
            ("admin", Refusal::RelativePath),
            ("", Refusal::RelativePath),
        ] {
            assert_eq!(path(raw), Err(want), "{raw:?}");
        }
        // A literal percent sign is fine once encoded once.
        assert_eq!(ok("/100%25"), "/100%");
        let long = format!("/{}", "a".repeat(MAX_TARGET_BYTES));
        assert_eq!(path(&long), Err(Refusal::TooLong));
    }

    #[test]
    fn hosts_lower_cased_ports_defaulted_and_checked() {
        let hp = |a: &str, s| host_port(a, s);
        assert_eq!(
            hp("API.Example", Scheme::Https),
            Ok(HostPort {
                host: "api.example".into(),
                port: 443
            })
        );
        assert_eq!(hp("api.example:443", Scheme::Https).unwrap().port, 443);
        assert_eq!(hp("api.example:8443", Scheme::Https).unwrap().port, 8443);
        assert_eq!(hp("api.example", Scheme::Http).unwrap().port, 80);
        assert_eq!(
            hp("api.example.", Scheme::Http).unwrap().host,
            "api.example"
        );
        assert_eq!(
            hp("[0:0:0:0:0:0:0:1]:9000", Scheme::Http).unwrap(),
            HostPort {
                host: "[::1]".into(),
                port: 9000
            }
        );
        assert_eq!(hp("10.0.0.1:81", Scheme::Http).unwrap().host, "10.0.0.1");
        for bad in [
            "",
            "user@api.example",
            "api.example:",
            "api.example:0",
            "api.example:99999",
            "api.example:44a",
            "api.example:443:1",
            "api..example",
            ".api.example",
            "api%2eexample",
            "api example",
            "[::1",
            "[fe80::1%25eth0]",
            "[::1]x",
            "bücher.example",
        ] {
            assert_eq!(hp(bad, Scheme::Https), Err(Refusal::Host), "{bad:?}");
        }
    }

    #[test]
    fn methods_and_schemes() {
        assert_eq!(method("DELETE"), Ok("DELETE"));
        assert_eq!(method("M-SEARCH"), Ok("M-SEARCH"));
        for bad in ["", "get", "Post", "GET ", "G\u{0}T", &"A".repeat(33)] {
            assert_eq!(method(bad), Err(Refusal::Method), "{bad:?}");
        }
        assert_eq!(Scheme::parse("HTTPS"), Ok(Scheme::Https));
        assert_eq!(Scheme::parse("http"), Ok(Scheme::Http));
        for bad in ["ws", "https, http", "", "ftp"] {
            assert_eq!(Scheme::parse(bad), Err(Refusal::Scheme), "{bad:?}");
        }
        assert_eq!(query("a=1&b=%20"), Ok("a=1&b=%20"));
        assert_eq!(query("a=1 2"), Err(Refusal::Character));
    }
}
