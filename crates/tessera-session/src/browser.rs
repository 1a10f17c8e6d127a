//! Rules for credentials a browser carries on its own (the session
//! cookies), shared by `tessera serve` and the axum layer so both apply the
//! same ones: finding a cookie, and whether a cookie-carrying request comes
//! from the server's own origin (a browser attaches cookies to cross-site
//! requests too, which is what CSRF abuses).

/// Access-token cookie name.
pub const ACCESS_COOKIE: &str = "tessera_access";
/// Refresh-token cookie name.
pub const REFRESH_COOKIE: &str = "tessera_refresh";
/// Longest cookie value taken (an access token is well below).
const MAX_COOKIE_VALUE: usize = 16 * 1024;

/// The value of cookie `name` in `Cookie` header values (RFC 6265 §5.4:
/// `name=value` pairs separated by `;`, each parsed by the `cookie`
/// crate); the first non-empty one wins. Header values that are not UTF-8,
/// pairs without `=` or with an empty name, and values over 16 KiB are
/// skipped.
pub fn find_cookie<'a>(
    cookie_headers: impl IntoIterator<Item = &'a [u8]>,
    name: &str,
) -> Option<String> {
    for value in cookie_headers {
        let Ok(text) = std::str::from_utf8(value) else {
            continue;
        };
        for part in text.split(';').map(str::trim) {
            let Ok(c) = cookie::Cookie::parse(part) else {
                continue;
            };
            // Strictness rule: the pair is taken as written (RFC 6265
            // §4.2.1 has no whitespace around `=`), where the crate trims
            // it (the user-agent algorithm of §5.2): a name followed by
            // whitespace is not that name, and a value keeps its leading
            // whitespace, so it is refused as the wrong token it is rather
            // than taken as absent or as another token.
            if c.name() != name || part.as_bytes().get(name.len()) != Some(&b'=') {
                continue;
            }
            let v = &part[name.len() + 1..];
            if !v.is_empty() && v.len() <= MAX_COOKIE_VALUE {
                return Some(v.to_owned());
            }
        }
    }
    None
}

/// What a request does, for the origin rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// `GET`, `HEAD`, `OPTIONS`: reads only.
    Read,
    /// Every other method, and any request that sets session cookies.
    ChangeState,
}

impl Intent {
    /// The intent of an HTTP method (RFC 9110 §9.2.1 safe methods read).
    pub fn of_method(method: &str) -> Intent {
        if ["GET", "HEAD", "OPTIONS"]
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method))
        {
            Intent::Read
        } else {
            Intent::ChangeState
        }
    }
}

/// The origin (RFC 6454: `scheme://host[:port]`, lowercase, default port
/// left out, as browsers send it) of an absolute `http(s)` URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_port = host_port.to_ascii_lowercase();
    let default = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let host_port = host_port.strip_suffix(default).unwrap_or(&host_port);
    if host_port.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{host_port}"))
}

/// Decides whether a request that carries a session cookie may use it, by
/// what the browser says of where the request comes from:
/// - `Sec-Fetch-Site` (Fetch Metadata; browsers set it and pages cannot)
///   when present: `same-origin` passes; `none` (typed, bookmarked) passes
///   for reads; anything else (`same-site`, `cross-site`) is refused;
/// - else `Origin` when present: it must be `expected_origin`;
/// - else (an older browser, or not a browser): reads pass, but a request
///   that changes state must show where it comes from, and is refused.
///
/// `Err` says why, for the 403 answer.
pub fn check_cookie_origin(
    expected_origin: &str,
    origin: Option<&[u8]>,
    sec_fetch_site: Option<&[u8]>,
    intent: Intent,
) -> Result<(), &'static str> {
    if let Some(site) = sec_fetch_site {
        return match (site, intent) {
            (b"same-origin", _) | (b"none", Intent::Read) => Ok(()),
            _ => Err("a request with the session cookies must come from this server's own pages (Sec-Fetch-Site)"),
        };
    }
    match (origin, intent) {
        (Some(o), _) if o == expected_origin.as_bytes() => Ok(()),
        (Some(_), _) => Err("a request with the session cookies must come from this server's own origin"),
        (None, Intent::Read) => Ok(()),
        (None, Intent::ChangeState) => Err(
            "a request that changes state with the session cookies needs an Origin or Sec-Fetch-Site header",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "https://auth.example";

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h: [&[u8]; 2] = [b"a=1; tessera_accessx=no", b" tessera_access=tok ; b=2"];
        assert_eq!(find_cookie(h, ACCESS_COOKIE).as_deref(), Some("tok"));
        assert_eq!(find_cookie([&b"tessera_access="[..]], ACCESS_COOKIE), None);
        let huge = format!("tessera_access={}", "x".repeat(MAX_COOKIE_VALUE + 1));
        assert_eq!(find_cookie([huge.as_bytes()], ACCESS_COOKIE), None);
        let longest = format!("tessera_access={}", "x".repeat(MAX_COOKIE_VALUE));
        assert_eq!(
            find_cookie([longest.as_bytes()], ACCESS_COOKIE).map(|v| v.len()),
            Some(MAX_COOKIE_VALUE)
        );
    }

    /// What a malformed `Cookie` header gives: the pair is skipped, so the
    /// request has no cookie credential (the routes' "no credential"
    /// answers), never a value that was not sent as written.
    #[test]
    fn malformed_pairs_are_skipped() {
        let find = |h: &[u8]| find_cookie([h], ACCESS_COOKIE);
        // Not UTF-8: the whole header value is skipped.
        assert_eq!(find(b"tessera_access=tok\xff"), None);
        assert_eq!(
            find_cookie(
                [&b"\xfftessera_access=a"[..], b"tessera_access=b"],
                ACCESS_COOKIE
            )
            .as_deref(),
            Some("b")
        );
        // No `=`, an empty name, whitespace before `=`: not this cookie.
        assert_eq!(find(b"tessera_access; b=2"), None);
        assert_eq!(find(b"=tok"), None);
        assert_eq!(find(b"tessera_access =tok"), None);
        assert_eq!(find(b"tessera_access\t=tok"), None);
        // Whitespace after `=` stays in the value (a token that fails).
        assert_eq!(find(b"tessera_access= tok").as_deref(), Some(" tok"));
        assert_eq!(find(b"tessera_access= ; b=2"), None);
        // Names are case-sensitive; the value is taken as written (quotes,
        // `=` and percent escapes included).
        assert_eq!(find(b"Tessera_Access=tok"), None);
        assert_eq!(find(b"tessera_access=\"tok\"").as_deref(), Some("\"tok\""));
        assert_eq!(find(b"tessera_access=a=b%20").as_deref(), Some("a=b%20"));
        // The first non-empty one wins, across pairs and headers.
        assert_eq!(
            find(b"tessera_access=; tessera_access=2").as_deref(),
            Some("2")
        );
        assert_eq!(
            find_cookie(
                [&b"tessera_access=1"[..], b"tessera_access=2"],
                ACCESS_COOKIE
            )
            .as_deref(),
            Some("1")
        );
    }

    #[test]
    fn origins_as_browsers_write_them() {
        assert_eq!(
            origin_of("https://Auth.Example:443/v1/x?y").as_deref(),
            Some(ME)
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8787").as_deref(),
            Some("http://127.0.0.1:8787")
        );
        assert_eq!(origin_of("ftp://x"), None);
        assert_eq!(origin_of("https://"), None);
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        use Intent::*;
        let ok = |site: &[u8], i| check_cookie_origin(ME, None, Some(site), i).is_ok();
        assert!(ok(b"same-origin", ChangeState));
        assert!(ok(b"none", Read));
        assert!(!ok(b"none", ChangeState));
        assert!(!ok(b"same-site", Read));
        assert!(!ok(b"cross-site", Read));
        // Sec-Fetch-Site wins over a matching Origin.
        assert!(check_cookie_origin(ME, Some(ME.as_bytes()), Some(b"cross-site"), Read).is_err());
    }

    #[test]
    fn origin_decides_otherwise_and_state_changes_need_one() {
        use Intent::*;
        assert!(check_cookie_origin(ME, Some(ME.as_bytes()), None, ChangeState).is_ok());
        assert!(check_cookie_origin(ME, Some(b"https://evil.example"), None, Read).is_err());
        assert!(check_cookie_origin(ME, Some(b"null"), None, ChangeState).is_err());
        assert!(check_cookie_origin(ME, None, None, Read).is_ok());
        assert!(check_cookie_origin(ME, None, None, ChangeState).is_err());
        assert_eq!(Intent::of_method("get"), Read);
        assert_eq!(Intent::of_method("POST"), ChangeState);
    }
}
