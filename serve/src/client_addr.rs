//! Which address a request comes from: the peer's, unless the peer is one
//! of the operator's trusted proxies, and only then `X-Forwarded-For`
//! (the de-facto header; RFC 7239 §5.2 describes the same list for
//! `Forwarded: for=`). A client can write anything into that header, so it
//! is read from the right: each proxy appends the address it received the
//! request from, and the client is the rightmost address that is not a
//! trusted proxy. With no trusted proxy (the default) the header is
//! ignored and the peer address counts. Per-client limits (the log's rate
//! limit) key on the answer.
//!
//! A header that cannot be read (not text, an entry that is not an IP
//! address) stops the walk at the last trusted hop: the request is
//! attributed to that proxy, never to an address the client chose.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The header proxies append the client's address to.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The proxies whose `X-Forwarded-For` the server believes, as CIDR
/// blocks (`--trusted-proxy`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A `--trusted-proxy` value that is not a CIDR block or an address.
#[derive(Debug, thiserror::Error)]
#[error("--trusted-proxy {0:?}: expected a CIDR block (10.0.0.0/8, fd00::/8) or an address")]
pub struct ProxyError(String);

impl TrustedProxies {
    /// No proxy is trusted: the peer address is the client's.
    pub fn none() -> TrustedProxies {
        TrustedProxies(Vec::new())
    }

    /// Parses `--trusted-proxy` values: CIDR blocks, or single addresses.
    ///
    /// # Errors
    ///
    /// [`ProxyError`] naming the first value that is neither.
    pub fn parse<S: AsRef<str>>(flags: &[S]) -> Result<TrustedProxies, ProxyError> {
        flags
            .iter()
            .map(|flag| {
                let flag = flag.as_ref().trim();
                IpNet::from_str(flag)
                    .or_else(|_| IpAddr::from_str(flag).map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| ProxyError(flag.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address of a request from `peer` with `headers` (module
    /// documentation).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        let mut hops: Vec<&str> = Vec::new();
        for value in headers.get_all(X_FORWARDED_FOR) {
            let Ok(value) = value.to_str() else {
                return client;
            };
            hops.extend(value.split(','));
        }
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

/// One entry of `X-Forwarded-For`: an address, possibly with a port
/// (`1.2.3.4:5678`, `[::1]:5678`), which some proxies add.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    IpAddr::from_str(hop)
        .or_else(|_| SocketAddr::from_str(hop).map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const PROXIES: &[&str] = &["10.0.0.0/8", "192.0.2.7", "fd00::/8"];

    /// (peer, X-Forwarded-For values, client).
    const CASES: &[(&str, &[&str], &str)] = &[
        // Not from a proxy: the header is the client's to write, ignored.
        ("203.0.113.9", &["198.51.100.1"], "203.0.113.9"),
        ("203.0.113.9", &[], "203.0.113.9"),
        // From a proxy: the rightmost untrusted hop.
        ("10.1.2.3", &["198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", &["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        (
            "10.1.2.3",
            &["6.6.6.6, 198.51.100.1, 10.9.9.9"],
            "198.51.100.1",
        ),
        (
            "10.1.2.3",
            &["6.6.6.6", "198.51.100.1, 192.0.2.7"],
            "198.51.100.1",
        ),
        ("10.1.2.3", &["198.51.100.1:4711"], "198.51.100.1"),
        ("fd00::1", &["[2001:db8::1]:443"], "2001:db8::1"),
        ("::ffff:10.1.2.3", &["198.51.100.1"], "198.51.100.1"),
        // Only proxies: the leftmost one.
        ("10.1.2.3", &["10.0.0.1, 192.0.2.7"], "10.0.0.1"),
        // From a proxy without the header: the proxy.
        ("10.1.2.3", &[], "10.1.2.3"),
        // Unreadable: attributed to the last trusted hop, never further.
        ("10.1.2.3", &["198.51.100.1, garbage"], "10.1.2.3"),
        ("10.1.2.3", &["6.6.6.6, garbage, 10.0.0.5"], "10.0.0.5"),
        ("10.1.2.3", &[""], "10.1.2.3"),
    ];

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let proxies = TrustedProxies::parse(PROXIES).unwrap();
        for (peer, values, want) in CASES {
            let mut headers = HeaderMap::new();
            for v in *values {
                headers.append(X_FORWARDED_FOR, v.parse().unwrap());
            }
            let got = proxies.client(peer.parse().unwrap(), &headers);
            assert_eq!(got, want.parse::<IpAddr>().unwrap(), "{peer} {values:?}");
        }
        // Trusting no one, the header never counts.
        let mut headers = HeaderMap::new();
        headers.append(X_FORWARDED_FOR, "198.51.100.1".parse().unwrap());
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(TrustedProxies::none().client(peer, &headers), peer);
    }

    #[test]
    fn proxy_flags() {
        assert!(TrustedProxies::parse(&["10.0.0.0/8", "::1", " 192.0.2.0/24 "]).is_ok());
        for bad in ["10.0.0.0/33", "example.org", "10.0.0", ""] {
            assert!(TrustedProxies::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
