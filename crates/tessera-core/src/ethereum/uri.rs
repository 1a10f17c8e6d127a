//! RFC 3986 syntax checks for the URI-shaped fields of EIP-4361: `domain`
//! (an authority), `scheme`, `URI`, resources and `Request ID`, through the
//! `iri-string` crate's validators (its `UriSpec`: RFC 3986, ASCII only).
//!
//! These are recognisers, not parsers: they answer "is this text what the
//! grammar allows", and the message keeps the text as written. One rule is
//! kept by hand: EIP-4361's `domain` needs a non-empty host, where RFC
//! 3986's `reg-name` may be empty.

use iri_string::spec::UriSpec;
use iri_string::validate;

/// RFC 3986 §3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
pub fn is_scheme(s: &str) -> bool {
    validate::scheme(s).is_ok()
}

/// `*pchar` (RFC 3986 §3.3, a path `segment`), the grammar of an EIP-4361
/// `Request ID`.
pub fn is_pchars(s: &str) -> bool {
    validate::path_segment::<UriSpec>(s).is_ok()
}

/// RFC 3986 §3.2 `authority = [ userinfo "@" ] host [ ":" port ]`, with a
/// non-empty host when `require_host`.
pub fn is_authority(s: &str, require_host: bool) -> bool {
    if validate::authority::<UriSpec>(s).is_err() {
        return false;
    }
    // By hand (module comment). A valid authority holds at most one `@`
    // (neither userinfo nor host may), and a host is empty exactly when
    // what follows it is empty or starts the port.
    let hostport = s.rsplit_once('@').map_or(s, |(_, h)| h);
    !(require_host && (hostport.is_empty() || hostport.starts_with(':')))
}

/// RFC 3986 §3 `URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]`
/// (an absolute URI; relative references are refused).
pub fn is_uri(s: &str) -> bool {
    validate::iri::<UriSpec>(s).is_ok()
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
