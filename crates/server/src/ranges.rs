//! Address ranges given on the command line: the reverse proxies to believe
//! (`--behind-proxy`) and the organisation's own networks (`--internal-network`).

use std::net::IpAddr;

use ipnet::IpNet;

/// A set of addresses: CIDR ranges and single addresses.
#[derive(Clone, Debug, Default)]
pub struct AddressRanges {
    nets: Vec<IpNet>,
}

impl AddressRanges {
    /// Parses `10.0.0.0/8`, `192.0.2.7` (a single address), … ; each argument may also
    /// hold several, comma-separated.
    pub fn parse(ranges: &[String]) -> Result<AddressRanges, String> {
        let nets = ranges
            .iter()
            .flat_map(|r| r.split(','))
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| {
                r.parse::<IpNet>()
                    .or_else(|_| r.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("'{r}' is not an address or CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AddressRanges { nets })
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Whether `ip` is in one of the ranges (an IPv4 address seen as IPv6-mapped is the
    /// IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|n| n.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_single_addresses() {
        let r = AddressRanges::parse(&["10.0.0.0/8, 192.0.2.7".into(), "fd00::/8".into()]).unwrap();
        assert!(r.contains("10.200.1.2".parse().unwrap()));
        assert!(r.contains("192.0.2.7".parse().unwrap()));
        assert!(!r.contains("192.0.2.8".parse().unwrap()));
        assert!(r.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(r.contains("fd12::1".parse().unwrap()));
        assert!(AddressRanges::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(AddressRanges::parse(&["intranet".into()]).is_err());
        assert!(AddressRanges::default().is_empty());
    }
}
