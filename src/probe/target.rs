//! Probe targets as users write them: `host`, `host:port`, `[v6]:port`, bare IPv6, CIDR ranges, and
//! files of them. DNS names are resolved; the probe only ever connects where it was told.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The default RDP port.
pub const DEFAULT_PORT: u16 = 3389;
/// A range larger than this needs `--force`.
pub const MAX_RANGE_WITHOUT_FORCE: u64 = 256;
/// The largest range even with `--force`.
pub const MAX_RANGE: u64 = 65_536;

/// One target before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// As the user wrote it (one address of a range is written out).
    pub given: String,
    pub host: Host,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

/// Why a target cannot be probed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("target '{0}': bad port")]
    Port(String),
    #[error("target '{0}': not a host name, address or range")]
    Syntax(String),
    #[error(
        "target '{given}': {count} addresses; ranges over {MAX_RANGE_WITHOUT_FORCE} need --force"
    )]
    NeedsForce { given: String, count: u64 },
    #[error("target '{given}': {count} addresses; at most {MAX_RANGE} are probed in one run")]
    TooLarge { given: String, count: u64 },
}

fn port_of(given: &str, p: &str) -> Result<u16, TargetError> {
    p.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| TargetError::Port(given.to_string()))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// Parses one target (a range expands to many).
pub fn parse_target(given: &str, force: bool) -> Result<Vec<Target>, TargetError> {
    let s = given.trim();
    let single = |host: Host, port: u16| {
        Ok(vec![Target {
            given: s.to_string(),
            host,
            port,
        }])
    };
    if let Some((net, bits)) = s.split_once('/') {
        return expand_range(s, net, bits, force);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (ip, tail) = rest
            .split_once(']')
            .ok_or_else(|| TargetError::Syntax(s.to_string()))?;
        let ip: Ipv6Addr = ip.parse().map_err(|_| TargetError::Syntax(s.to_string()))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => port_of(s, p)?,
            None if tail.is_empty() => DEFAULT_PORT,
            None => return Err(TargetError::Syntax(s.to_string())),
        };
        return single(Host::Ip(IpAddr::V6(ip)), port);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return single(Host::Ip(ip), DEFAULT_PORT);
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, port_of(s, p)?),
        _ => (s, DEFAULT_PORT),
    };
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return single(Host::Ip(IpAddr::V4(ip)), port);
    }
    if valid_name(host) {
        return single(Host::Name(host.to_ascii_lowercase()), port);
    }
    Err(TargetError::Syntax(s.to_string()))
}

fn expand_range(
    given: &str,
    net: &str,
    bits: &str,
    force: bool,
) -> Result<Vec<Target>, TargetError> {
    let (net, port) = match net.rsplit_once(':') {
        Some((n, p)) if n.parse::<Ipv4Addr>().is_ok() => (n, port_of(given, p)?),
        _ => (net, DEFAULT_PORT),
    };
    let (bits, port) = match bits.split_once(':') {
        Some((b, p)) => (b, port_of(given, p)?),
        None => (bits, port),
    };
    let bits: u32 = bits
        .parse()
        .map_err(|_| TargetError::Syntax(given.to_string()))?;
    let ip: IpAddr = net
        .parse()
        .map_err(|_| TargetError::Syntax(given.to_string()))?;
    let width = if ip.is_ipv4() { 32 } else { 128 };
    if bits > width {
        return Err(TargetError::Syntax(given.to_string()));
    }
    let host_bits = width - bits;
    let count: u64 = if host_bits >= 63 {
        u64::MAX
    } else {
        1u64 << host_bits
    };
    if count > MAX_RANGE {
        return Err(TargetError::TooLarge {
            given: given.to_string(),
            count,
        });
    }
    if count > MAX_RANGE_WITHOUT_FORCE && !force {
        return Err(TargetError::NeedsForce {
            given: given.to_string(),
            count,
        });
    }
    let targets = match ip {
        IpAddr::V4(v4) => {
            let mask = if host_bits == 32 {
                0
            } else {
                u32::MAX << host_bits
            };
            let base = u32::from(v4) & mask;
            (0..count)
                .filter_map(|i| u32::try_from(i).ok())
                .map(|i| IpAddr::V4(Ipv4Addr::from(base.wrapping_add(i))))
                .collect::<Vec<_>>()
        }
        IpAddr::V6(v6) => {
            let mask = if host_bits == 128 {
                0
            } else {
                u128::MAX << host_bits
            };
            let base = u128::from(v6) & mask;
            (0..count)
                .map(|i| IpAddr::V6(Ipv6Addr::from(base.wrapping_add(u128::from(i)))))
                .collect()
        }
    };
    Ok(targets
        .into_iter()
        .map(|ip| Target {
            given: SocketAddr::new(ip, port).to_string(),
            host: Host::Ip(ip),
            port,
        })
        .collect())
}

/// Parses a targets file: one target per line, `#` comments and blank lines ignored.
pub fn parse_targets_file(text: &str, force: bool) -> Result<Vec<Target>, (usize, TargetError)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if !line.is_empty() {
            out.extend(parse_target(line, force).map_err(|e| (n + 1, e))?);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let one = |s: &str| parse_target(s, false).unwrap().remove(0);
        assert_eq!(one("127.0.0.1").port, 3389);
        assert_eq!(one("127.0.0.1:3390").port, 3390);
        assert_eq!(
            one("[::1]:3391"),
            Target {
                given: "[::1]:3391".into(),
                host: Host::Ip("::1".parse().unwrap()),
                port: 3391
            }
        );
        assert_eq!(one("::1").host, Host::Ip("::1".parse().unwrap()));
        assert_eq!(
            one("RDP.Example.com:3389").host,
            Host::Name("rdp.example.com".into())
        );
        assert!(parse_target("host:0", false).is_err());
        assert!(parse_target("host:99999", false).is_err());
        assert!(parse_target("bad host", false).is_err());
    }

    #[test]
    fn ranges() {
        let r = parse_target("127.0.0.0/30", false).unwrap();
        assert_eq!(
            r.iter().map(|t| t.given.as_str()).collect::<Vec<_>>(),
            [
                "127.0.0.0:3389",
                "127.0.0.1:3389",
                "127.0.0.2:3389",
                "127.0.0.3:3389"
            ]
        );
        assert_eq!(
            parse_target("127.0.0.0/30:3390", false).unwrap()[0].port,
            3390
        );
        assert!(matches!(
            parse_target("127.0.0.0/23", false),
            Err(TargetError::NeedsForce { count: 512, .. })
        ));
        assert_eq!(parse_target("127.0.0.0/23", true).unwrap().len(), 512);
        assert!(matches!(
            parse_target("10.0.0.0/8", true),
            Err(TargetError::TooLarge { .. })
        ));
        assert_eq!(parse_target("::1/128", false).unwrap().len(), 1);
    }

    #[test]
    fn file() {
        let t = parse_targets_file("# lab\n127.0.0.1\n\n127.0.0.2:3390 # second\n", false).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            parse_targets_file("ok.example\n%%%\n", false)
                .unwrap_err()
                .0,
            2
        );
    }
}
