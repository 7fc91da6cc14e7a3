//! Addresses botyard refuses to reach on behalf of users (scripts' HTTP requests, a bot's
//! `csv_url`, git remotes, Botpress bots' URLs): by default the server's own, private, shared,
//! reserved and multicast networks, so a bot cannot probe what sits next to the server.
//!
//! An IPv6 address that carries an IPv4 address — IPv4-mapped (`::ffff:a.b.c.d`),
//! IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) or 6to4 (`2002::/16`) — is checked as
//! that IPv4 address too, so `[::ffff:127.0.0.1]` is as denied as `127.0.0.1`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::error::{Error, Result};

/// The default deny-list: unspecified, loopback, private, carrier-grade NAT, link-local,
/// benchmarking, IETF-reserved, multicast and future-use ranges, and their IPv6 counterparts.
pub const PRIVATE_NETWORKS: [&str; 18] = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "64:ff9b:1::/48",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];

/// A network in CIDR notation (`10.0.0.0/8`, `fe80::/10`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network(IpNet);

impl Network {
    pub fn parse(raw: &str) -> Result<Self> {
        let raw = raw.trim();
        let net = match raw.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => raw
                .parse::<IpAddr>()
                .map(IpNet::from)
                .map_err(|_| Error::invalid(format!("\"{raw}\" is not a network such as 10.0.0.0/8")))?,
        };
        Ok(Self(net))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }
}

/// The IPv4 address an IPv6 address embeds, in the forms that route to IPv4 hosts.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let o = v6.octets();
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    // IPv4-compatible (deprecated, `::a.b.c.d`; `::` and `::1` are themselves).
    if s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1) {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    // NAT64 well-known prefix 64:ff9b::/96.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

/// Whether any of `networks` holds `ip`, or the IPv4 address it embeds (a deny-list's question).
pub fn denied(ip: IpAddr, networks: &[Network]) -> bool {
    within(ip, networks)
}

/// Whether any of `networks` holds `ip`, or the IPv4 address it embeds.
pub fn within(ip: IpAddr, networks: &[Network]) -> bool {
    let embedded = match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
        IpAddr::V4(_) => None,
    };
    networks.iter().any(|n| n.contains(ip) || embedded.is_some_and(|v4| n.contains(v4)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<Network> {
        PRIVATE_NETWORKS.iter().map(|n| Network::parse(n).unwrap()).collect()
    }

    #[test]
    fn private_and_reserved_addresses_are_denied() {
        let deny = defaults();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.31.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "198.18.0.1",
            "198.19.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2002:c0a8:101::",
        ] {
            assert!(denied(ip.parse().unwrap(), &deny), "{ip} should be denied");
        }
    }

    #[test]
    fn public_addresses_pass() {
        let deny = defaults();
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "198.20.0.1",
            "2001:4860::8888",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!denied(ip.parse().unwrap(), &deny), "{ip} should pass");
        }
    }

    #[test]
    fn networks_parse_with_or_without_a_prefix() {
        assert!(Network::parse("10.0.0.0/8").is_ok());
        assert!(Network::parse("203.0.113.7").unwrap().contains("203.0.113.7".parse().unwrap()));
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("nonsense").is_err());
    }
}
