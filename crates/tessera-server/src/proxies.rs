//! The client's address behind trusted proxies (`[forward_auth]
//! trusted_proxies`), and whether a peer's forwarding headers are believed.
//!
//! `X-Forwarded-For` is a list that each proxy extends on the right with the
//! address it received the request from; everything left of the first proxy
//! you run was written by the client. So the client is the rightmost entry
//! that is not one of your proxies (the leftmost entry, which the client
//! writes, is never believed on its own).

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// Most `X-Forwarded-For` entries walked (right to left); a longer chain of
/// trusted proxies is not a deployment anyone runs.
const MAX_HOPS: usize = 16;

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

/// IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports
/// for an IPv4 peer) compares as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl TrustedProxies {
    /// Proxies in these networks.
    pub fn new(nets: Vec<IpNet>) -> Self {
        TrustedProxies { nets }
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// Whether the socket peer's forwarding headers are believed.
    pub fn trusts_peer(&self, peer: Option<SocketAddr>) -> bool {
        peer.is_some_and(|p| self.contains(p.ip()))
    }

    /// The client's address: the socket peer when it is not a trusted
    /// proxy; otherwise the rightmost `X-Forwarded-For` entry that is not a
    /// trusted proxy (every header line counts, in order: RFC 9110 §5.3).
    /// If every entry is a trusted proxy, the leftmost one; if an entry is
    /// not an address, the nearest trusted hop (the header is garbage from
    /// there on, and no proxy of ours wrote it).
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> IpAddr {
        let Some(peer) = peer.map(|p| canonical(p.ip())) else {
            return IpAddr::from([127, 0, 0, 1]);
        };
        if !self.contains(peer) {
            return peer;
        }
        let lines: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let mut nearest = peer;
        let entries = lines.iter().rev().flat_map(|l| l.rsplit(','));
        for entry in entries.take(MAX_HOPS) {
            let Some(ip) = parse_entry(entry) else {
                return nearest;
            };
            if !self.contains(ip) {
                return ip;
            }
            nearest = ip;
        }
        nearest
    }
}

/// One `X-Forwarded-For` entry: an address, optionally `[v6]` or `v4:port`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    if let Ok(ip) = e.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    e.parse::<SocketAddr>()
        .ok()
        .map(|s| canonical(s.ip()))
        .or_else(|| {
            e.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 4000))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_written_leftmost_entry_is_not_believed() {
        let p = proxies(&["127.0.0.1/32"]);
        // nginx appends the real peer (203.0.113.9) to what the client sent.
        let h = xff(&["6.6.6.6, 203.0.113.9"]);
        assert_eq!(p.client_ip(&h, peer("127.0.0.1")), ip("203.0.113.9"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_writes() {
        let p = proxies(&["127.0.0.1/32"]);
        let h = xff(&["10.1.1.1"]);
        assert_eq!(p.client_ip(&h, peer("198.51.100.7")), ip("198.51.100.7"));
        assert!(!p.trusts_peer(peer("198.51.100.7")));
    }

    #[test]
    fn chains_of_trusted_proxies_are_skipped_across_header_lines() {
        let p = proxies(&["127.0.0.1/32", "10.0.0.0/8"]);
        let h = xff(&["6.6.6.6, 198.51.100.20", "10.0.0.5", "10.0.0.6"]);
        assert_eq!(p.client_ip(&h, peer("127.0.0.1")), ip("198.51.100.20"));
        // All trusted: the leftmost.
        let h = xff(&["10.0.0.1, 10.0.0.2"]);
        assert_eq!(p.client_ip(&h, peer("127.0.0.1")), ip("10.0.0.1"));
        // No header: the proxy itself.
        assert_eq!(
            p.client_ip(&HeaderMap::new(), peer("10.9.9.9")),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn garbage_stops_at_the_nearest_trusted_hop() {
        let p = proxies(&["127.0.0.1/32", "10.0.0.0/8"]);
        let h = xff(&["6.6.6.6, not-an-ip, 10.0.0.7"]);
        assert_eq!(p.client_ip(&h, peer("127.0.0.1")), ip("10.0.0.7"));
    }

    #[test]
    fn ports_brackets_and_mapped_addresses() {
        let p = proxies(&["127.0.0.1/32"]);
        assert_eq!(
            p.client_ip(&xff(&["[2001:db8::1]:443"]), peer("::ffff:127.0.0.1")),
            ip("2001:db8::1")
        );
        assert_eq!(
            p.client_ip(&xff(&["192.0.2.1:5555"]), peer("127.0.0.1")),
            ip("192.0.2.1")
        );
        assert_eq!(
            p.client_ip(&xff(&["::ffff:192.0.2.3"]), peer("127.0.0.1")),
            ip("192.0.2.3")
        );
    }

    #[test]
    fn a_long_chain_of_trusted_entries_is_walked_only_so_far() {
        let p = proxies(&["10.0.0.0/8"]);
        let long = vec!["10.0.0.1"; 1000].join(",");
        let h = xff(&[&format!("6.6.6.6,{long}")]);
        assert_eq!(p.client_ip(&h, peer("10.0.0.2")), ip("10.0.0.1"));
    }
}
