//! Which address a request comes from, for per-IP limits behind a reverse proxy (pure: the
//! peer, the header and the trusted list in, an address out).
//!
//! `X-Forwarded-For` is only believed when the connection comes from a proxy the operator
//! named in `trusted_proxies`; otherwise anyone could send a new address with every request
//! and never meet the per-IP limit. Behind trusted proxies the client is the right-most
//! address in the header that is not itself a trusted proxy (each proxy appends the address
//! it saw, so entries further left are whatever the client chose to send).

use std::net::IpAddr;

use ipnet::IpNet;

/// Parses a `trusted_proxies` entry: a network (`10.0.0.0/8`) or one address (`127.0.0.1`).
pub fn parse_proxy(entry: &str) -> Option<IpNet> {
    let entry = entry.trim();
    entry.parse::<IpNet>().ok().or_else(|| entry.parse::<IpAddr>().ok().map(IpNet::from))
}

/// The client's address, given the connection's peer and the `X-Forwarded-For` header.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.unwrap_or("").rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // A malformed entry: the last address a trusted proxy vouched for stands.
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| parse_proxy(s).unwrap()).collect()
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        assert_eq!(client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &[]), ip("203.0.113.9"));
        assert_eq!(client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &nets(&["10.0.0.0/8"])), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1"]);
        assert_eq!(client_ip(ip("127.0.0.1"), Some("198.51.100.7"), &trusted), ip("198.51.100.7"));
        // The client sent a made-up address first; the proxies appended the real one.
        assert_eq!(client_ip(ip("10.0.0.2"), Some("6.6.6.6, 198.51.100.7, 10.0.0.1"), &trusted), ip("198.51.100.7"));
        assert_eq!(client_ip(ip("10.0.0.2"), Some("2001:db8::1"), &trusted), ip("2001:db8::1"));
    }

    #[test]
    fn missing_or_malformed_headers_fall_back_to_what_was_vouched_for() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(client_ip(ip("10.0.0.2"), None, &trusted), ip("10.0.0.2"));
        assert_eq!(client_ip(ip("10.0.0.2"), Some("not-an-ip"), &trusted), ip("10.0.0.2"));
        assert_eq!(client_ip(ip("10.0.0.2"), Some("x, 10.0.0.5"), &trusted), ip("10.0.0.5"));
    }

    #[test]
    fn proxies_are_networks_or_single_addresses() {
        assert!(parse_proxy("192.168.0.0/16").is_some());
        assert!(parse_proxy(" ::1 ").is_some());
        assert!(parse_proxy("192.168.0.0/33").is_none());
        assert!(parse_proxy("proxy.example").is_none());
    }
}
