//! RFC 3986 syntax checks for the URI-shaped fields of EIP-4361: `domain`
//! (an authority), `scheme`, `URI`, resources and `Request ID`.
//!
//! These are recognisers, not parsers: they answer "is this text what the
//! grammar allows", and the message keeps the text as written.

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(c: u8) -> bool {
    matches!(
        c,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// Whether every byte is allowed by `allowed` or starts a `%HH` escape.
fn all_chars(s: &[u8], allowed: impl Fn(u8) -> bool) -> bool {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'%' {
            match (s.get(i + 1), s.get(i + 2)) {
                (Some(a), Some(b)) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => i += 3,
                _ => return false,
            }
        } else if allowed(c) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn is_pchar(c: u8) -> bool {
    is_unreserved(c) || is_sub_delim(c) || c == b':' || c == b'@'
}

/// RFC 3986 §3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
pub fn is_scheme(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

/// `*pchar` (RFC 3986 §3.3), the grammar of an EIP-4361 `Request ID`.
pub fn is_pchars(s: &str) -> bool {
    all_chars(s.as_bytes(), is_pchar)
}

fn is_ip_literal(inner: &str) -> bool {
    if let Some(future) = inner.strip_prefix(['v', 'V']) {
        // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
        let Some((ver, rest)) = future.split_once('.') else {
            return false;
        };
        return !ver.is_empty()
            && ver.bytes().all(|c| c.is_ascii_hexdigit())
            && !rest.is_empty()
            && rest
                .bytes()
                .all(|c| is_unreserved(c) || is_sub_delim(c) || c == b':');
    }
    // RFC 3986 has no zone identifiers, and std's parser takes none.
    inner.parse::<std::net::Ipv6Addr>().is_ok()
}

/// RFC 3986 §3.2 `authority = [ userinfo "@" ] host [ ":" port ]`, with a
/// non-empty host when `require_host`.
pub fn is_authority(s: &str, require_host: bool) -> bool {
    let (userinfo, hostport) = match s.split_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, s),
    };
    if let Some(u) = userinfo {
        if !all_chars(u.as_bytes(), |c| {
            is_unreserved(c) || is_sub_delim(c) || c == b':'
        }) {
            return false;
        }
    }
    let (host_ok, host_empty, port) = if let Some(lit) = hostport.strip_prefix('[') {
        let Some((inner, after)) = lit.split_once(']') else {
            return false;
        };
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return false,
        };
        (is_ip_literal(inner), false, port)
    } else {
        let (host, port) = match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        };
        // reg-name (which also covers IPv4address).
        let ok = all_chars(host.as_bytes(), |c| is_unreserved(c) || is_sub_delim(c));
        (ok, host.is_empty(), port)
    };
    let port_ok = port.is_none_or(|p| p.bytes().all(|c| c.is_ascii_digit()));
    host_ok && port_ok && !(require_host && host_empty)
}

/// RFC 3986 §3 `URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]`
/// (an absolute URI; relative references are refused).
pub fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    if !is_scheme(scheme) {
        return false;
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    let (hier, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    let query_ok = |q: &str| all_chars(q.as_bytes(), |c| is_pchar(c) || c == b'/' || c == b'?');
    if !fragment.is_none_or(query_ok) || !query.is_none_or(query_ok) {
        return false;
    }
    let path = if let Some(after) = hier.strip_prefix("//") {
        let end = after.find('/').unwrap_or(after.len());
        if !is_authority(&after[..end], false) {
            return false;
        }
        &after[end..]
    } else {
        hier
    };
    all_chars(path.as_bytes(), |c| is_pchar(c) || c == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        for ok in [
            "service.org",
            "127.0.0.1",
            "test@127.0.0.1:8080",
            "localhost:8080",
            "[::cafe]",
            "[::1]:443",
            "[v1.fe80::a+en1]",
            "user:pw@host",
        ] {
            assert!(is_authority(ok, true), "{ok}");
        }
        for bad in [
            "",
            "#notrfc4501",
            "a b",
            "[::cafe",
            "[::cafe]x",
            "[zz]",
            "host:80a",
            "a@b@c",
            "ex%zample",
            ":80",
        ] {
            assert!(!is_authority(bad, true), "{bad}");
        }
    }

    #[test]
    fn uris() {
        for ok in [
            "https://service.org/login",
            "ipfs://Qme7ss3ARVgxv6rXqVPiikMJ8u2NLgmgszg13pYrDKEoiu",
            "https://[::cafe]",
            "https://127.0.0.1/?query=one#begin",
            "urn:ietf:rfc:3986",
            "file:///etc/hosts",
            "did:key:z6Mk",
        ] {
            assert!(is_uri(ok), "{ok}");
        }
        for bad in [
            ":not_a_rfc3986_valid_uri_",
            "https://service.org/login - https://service.org/login/2",
            "no-scheme",
            "1http://x",
            "https://a/b#c#d",
            "https://a/%zz",
            "https://a b/",
        ] {
            assert!(!is_uri(bad), "{bad}");
        }
    }
}
