//! Where a key set may be fetched from: URL rules and the address check
//! that runs at connection time, in the DNS resolver the HTTP client uses
//! (a host name can resolve to 127.0.0.1; the URL text alone proves
//! nothing).
//!
//! The address table is written here rather than taken from a crate:
//! `std`'s `is_global` is unstable, and `ip_network` 0.4 counts multicast
//! and IPv4-mapped loopback (`::ffff:127.0.0.1`) as global. Ranges are
//! the IANA special-purpose registries (RFC 6890) plus multicast.

use crate::error::{ErrorKind, JwksError};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether a connection to `ip` may leave for the public internet: false
/// for loopback, private, link-local, CGNAT, unique-local, multicast,
/// documentation, reserved and unspecified addresses, and for IPv4-mapped
/// or NAT64 forms of those.
pub(crate) fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network", RFC 791 (0.0.0.0 included)
        || ip.is_private() // RFC 1918
        || (a == 100 && (b & 0xc0) == 64) // shared address space (CGNAT), RFC 6598
        || ip.is_loopback() // 127/8
        || ip.is_link_local() // 169.254/16, RFC 3927
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, RFC 6890
        || ip.is_documentation() // RFC 5737
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast, RFC 7526
        || (a == 198 && (b & 0xfe) == 18) // benchmarking, RFC 2544
        || ip.is_multicast() // 224/4
        || a >= 240) // reserved 240/4 and broadcast, RFC 1112
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        // ::ffff:a.b.c.d connects to a.b.c.d (RFC 4291 §2.5.5.2).
        return is_global_v4(v4);
    }
    let s = ip.segments();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 well-known prefix, RFC 6052: judge the IPv4 it reaches.
        return is_global_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    !(s[..6] == [0; 6] // ::/96: unspecified, loopback, IPv4-compatible (RFC 4291 §2.5.5.1)
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64, RFC 8215
        || s[..4] == [0x100, 0, 0, 0] // discard-only, RFC 6666
        || (s[0] == 0x2001 && s[1] < 0x200) // IETF protocol assignments incl. Teredo, RFC 2928
        || (s[0] == 0x2001 && s[1] == 0xdb8) // documentation, RFC 3849
        || (s[0] & 0xfff0) == 0x3ff0 // documentation, RFC 9637
        || s[0] == 0x2002 // 6to4, deprecated (RFC 7526)
        || s[0] == 0x5f00 // SRv6 SIDs, RFC 9602
        || ip.is_unique_local() // fc00::/7, RFC 4193
        || ip.is_unicast_link_local() // fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local, deprecated (RFC 3879)
        || ip.is_multicast()) // ff00::/8
}

/// Checks a URL before any request: scheme, host, credentials, and an IP
/// literal host (the resolver never sees those: the client connects to
/// them directly).
pub(crate) fn check_url(url: &Url, allow_insecure: bool) -> Result<(), JwksError> {
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure => {}
        "http" => {
            return Err(JwksError::new(
                ErrorKind::InsecureScheme,
                format!(
                    "{} is not https; plain http is allowed only with allow_insecure (local tests)",
                    redact(url)
                ),
            ))
        }
        other => {
            return Err(JwksError::new(
                ErrorKind::InvalidUrl,
                format!("unsupported URL scheme {other:?}: key sets are fetched over https"),
            ))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(JwksError::new(
            ErrorKind::InvalidUrl,
            "a key set URL may not carry credentials (user:password@)",
        ));
    }
    let ip = match url.host() {
        None => {
            return Err(JwksError::new(
                ErrorKind::InvalidUrl,
                format!("{} has no host", redact(url)),
            ))
        }
        Some(url::Host::Domain(_)) => return Ok(()),
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    if allow_insecure || is_global(ip) {
        Ok(())
    } else {
        Err(refused(&ip.to_string(), ip))
    }
}

fn refused(host: &str, ip: IpAddr) -> JwksError {
    JwksError::new(
        ErrorKind::AddressRefused,
        format!(
            "{host} is {ip}, a loopback, private, link-local or otherwise non-global address; \
             allowed only with allow_insecure (local tests)"
        ),
    )
}

/// A URL for logs and messages: scheme, host, port and path, without the
/// query (which could carry a secret) or fragment.
pub(crate) fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// The client's DNS resolver: the system resolver (getaddrinfo through
/// tokio), keeping only global addresses unless `allow_insecure`.
#[derive(Debug)]
pub(crate) struct GuardedResolver {
    pub(crate) allow_insecure: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_insecure = self.allow_insecure;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| JwksError::new(ErrorKind::Resolve, format!("{host}: {e}")))?
                .collect();
            let usable: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_insecure || is_global(a.ip()))
                .collect();
            match (usable.is_empty(), found.first()) {
                (false, _) => Ok(Box::new(usable.into_iter()) as Addrs),
                (true, Some(first)) => Err(refused(&host, first.ip()).into()),
                (true, None) => {
                    Err(JwksError::new(ErrorKind::Resolve, format!("{host}: no addresses")).into())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_global_addresses_are_refused() {
        let refused = [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.255",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
        ];
        for text in refused {
            let ip: IpAddr = text.parse().unwrap();
            assert!(!is_global(ip), "{text} must be refused");
        }
    }

    #[test]
    fn global_addresses_are_allowed() {
        let allowed = [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "192.0.1.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2001:200::1",
        ];
        for text in allowed {
            let ip: IpAddr = text.parse().unwrap();
            assert!(is_global(ip), "{text} must be allowed");
        }
    }

    #[test]
    fn url_rules() {
        let check =
            |u: &str, insecure| check_url(&Url::parse(u).unwrap(), insecure).map_err(|e| e.kind());
        assert_eq!(check("https://idp.example/jwks", false), Ok(()));
        assert_eq!(
            check("http://idp.example/jwks", false),
            Err(ErrorKind::InsecureScheme)
        );
        assert_eq!(check("http://idp.example/jwks", true), Ok(()));
        assert_eq!(
            check("ftp://idp.example/jwks", true),
            Err(ErrorKind::InvalidUrl)
        );
        assert_eq!(
            check("https://user:pw@idp.example/jwks", false),
            Err(ErrorKind::InvalidUrl)
        );
        assert_eq!(
            check("https://127.0.0.1/jwks", false),
            Err(ErrorKind::AddressRefused)
        );
        assert_eq!(
            check("https://[::ffff:7f00:1]/jwks", false),
            Err(ErrorKind::AddressRefused)
        );
        assert_eq!(
            check("https://169.254.169.254/latest", false),
            Err(ErrorKind::AddressRefused)
        );
        assert_eq!(check("https://127.0.0.1/jwks", true), Ok(()));
        assert_eq!(check("https://8.8.8.8/jwks", false), Ok(()));
    }

    #[test]
    fn redact_drops_query_and_fragment() {
        let url = Url::parse("https://idp.example/jwks?token=secret#x").unwrap();
        assert_eq!(redact(&url), "https://idp.example/jwks");
    }
}
