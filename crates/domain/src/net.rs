//! Addresses botyard refuses to reach on behalf of users (scripts' HTTP requests, a bot's
//! `csv_url`): by default the server's own and private networks, so a bot cannot probe what sits
//! next to the server.

use std::net::IpAddr;

use crate::error::{Error, Result};

/// Loopback, private, link-local, carrier-grade NAT, unspecified and unique-local ranges.
pub const PRIVATE_NETWORKS: [&str; 11] = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
];

/// A network in CIDR notation (`10.0.0.0/8`, `fe80::/10`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(raw: &str) -> Result<Self> {
        let bad = || Error::invalid(format!("\"{raw}\" is not a network such as 10.0.0.0/8"));
        let (address, prefix) = match raw.trim().split_once('/') {
            Some((a, p)) => {
                (a.parse::<IpAddr>().map_err(|_| bad())?, Some(p.parse::<u8>().map_err(|_| bad())?))
            }
            None => (raw.trim().parse::<IpAddr>().map_err(|_| bad())?, None),
        };
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        if prefix > bits {
            return Err(bad());
        }
        Ok(Self { address, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let (a, b, bits) = match (self.address, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
            _ => return false,
        };
        if self.prefix == 0 {
            return true;
        }
        let shift = bits - u32::from(self.prefix);
        (a >> shift) == (b >> shift)
    }
}

/// Whether any of `networks` holds `ip`.
pub fn denied(ip: IpAddr, networks: &[Network]) -> bool {
    networks.iter().any(|n| n.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_recognised() {
        let deny: Vec<Network> = PRIVATE_NETWORKS.iter().map(|n| Network::parse(n).unwrap()).collect();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.31.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(denied(ip.parse().unwrap(), &deny), "{ip}");
        }
        for ip in ["8.8.8.8", "172.32.0.1", "2001:4860::8888", "100.128.0.1"] {
            assert!(!denied(ip.parse().unwrap(), &deny), "{ip}");
        }
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("nonsense").is_err());
    }
}
