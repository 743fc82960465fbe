//! Probe targets as users write them, in nmap's syntax: `host`, `host:port`, `[v6]:port`, bare IPv6,
//! CIDR blocks (`10.0.0.0/24`, `10.0.0.0/24:3390`), octet ranges and lists (`10.0.0.1-20`,
//! `10.0.0-1.1-5`, `10.0.0.1,5`, `10.0.0.*`), files of them and standard input, `--exclude`, and
//! `--shard K/N`. Ranges are expanded lazily: a target list is an iterator, never a vector of every
//! address. Something that looks like an IPv4 address but is not one (`300.1.1.1`) is an error, never a
//! DNS name. DNS names are resolved by the runner; the probe only ever connects where it was told.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The default RDP port.
pub const DEFAULT_PORT: u16 = 3389;
/// A range larger than this needs `--force`.
pub const MAX_RANGE_WITHOUT_FORCE: u64 = 256;
/// The largest range of one target even with `--force` (a /8: ranges are expanded lazily, so this bounds
/// the run's length, not its memory).
pub const MAX_RANGE: u64 = 1 << 24;
/// The longest line read from a targets file or standard input; a longer line is an error for that
/// line, and reading goes on at the next one.
pub const MAX_LINE: usize = 4096;

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
    #[error("target '{given}': not an IPv4 address or range: {why}")]
    Address { given: String, why: String },
    #[error(
        "target '{given}': {count} addresses; ranges over {MAX_RANGE_WITHOUT_FORCE} need --force"
    )]
    NeedsForce { given: String, count: u64 },
    #[error("target '{given}': {count} addresses; at most {MAX_RANGE} in one range")]
    TooLarge { given: String, count: u64 },
    #[error("target '{given}': cannot resolve: {why}")]
    Unresolvable { given: String, why: String },
    #[error("{source_name}: line {line}: {error}")]
    Line {
        source_name: String,
        line: u64,
        error: Box<TargetError>,
    },
    #[error("{source_name}: line {line}: longer than {MAX_LINE} bytes")]
    LineTooLong { source_name: String, line: u64 },
    #[error("{source_name}: line {line}: not UTF-8 text")]
    NotText { source_name: String, line: u64 },
    #[error("{source_name}: {why}")]
    Read { source_name: String, why: String },
    #[error("--shard '{0}': expected K/N with 1 <= K <= N")]
    Shard(String),
}

/// The members of one IPv4 octet position: a 256-bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OctetSet([u64; 4]);

impl OctetSet {
    const EMPTY: Self = Self([0; 4]);

    fn insert_range(&mut self, lo: u8, hi: u8) {
        for v in lo..=hi {
            if let Some(word) = self.0.get_mut(usize::from(v / 64)) {
                *word |= 1u64 << (v % 64);
            }
        }
    }

    pub fn contains(&self, v: u8) -> bool {
        self.0
            .get(usize::from(v / 64))
            .is_some_and(|w| w & (1u64 << (v % 64)) != 0)
    }

    pub fn len(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members in ascending order.
    fn members(&self) -> Vec<u8> {
        (0..=255u8).filter(|v| self.contains(*v)).collect()
    }
}

/// A set of addresses as nmap writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// IPv4: one set per octet (a single address, an octet range, or a CIDR block).
    V4([OctetSet; 4]),
    /// IPv6: a prefix (`/128` for one address).
    V6 { base: u128, prefix: u8 },
    /// A DNS name.
    Name(String),
}

impl Pattern {
    /// How many addresses (1 for a name).
    pub fn count(&self) -> u64 {
        match self {
            Pattern::V4(sets) => sets.iter().map(OctetSet::len).product(),
            Pattern::V6 { prefix, .. } => {
                let host_bits = 128 - u32::from(*prefix);
                if host_bits >= 64 {
                    u64::MAX
                } else {
                    1u64 << host_bits
                }
            }
            Pattern::Name(_) => 1,
        }
    }

    /// Whether `ip` is one of the addresses.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Pattern::V4(sets), IpAddr::V4(v4)) => {
                sets.iter().zip(v4.octets()).all(|(s, o)| s.contains(o))
            }
            (Pattern::V4(sets), IpAddr::V6(v6)) => v6
                .to_ipv4_mapped()
                .is_some_and(|v4| sets.iter().zip(v4.octets()).all(|(s, o)| s.contains(o))),
            (Pattern::V6 { base, prefix }, IpAddr::V6(v6)) => {
                let mask = v6_mask(*prefix);
                u128::from(v6) & mask == base & mask
            }
            _ => false,
        }
    }
}

fn v6_mask(prefix: u8) -> u128 {
    match 128u32.checked_sub(u32::from(prefix)) {
        Some(host_bits) if host_bits < 128 => u128::MAX << host_bits,
        _ => 0,
    }
}

/// One target as written: a pattern and a port, expanded lazily by [`TargetSpec::targets`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub given: String,
    pub pattern: Pattern,
    pub port: u16,
    /// A single address or name (kept as written), not a range.
    single: bool,
}

impl TargetSpec {
    /// How many targets it expands to.
    pub fn count(&self) -> u64 {
        self.pattern.count()
    }

    /// Whether it names one host (an address or a name), not a range.
    pub fn is_single(&self) -> bool {
        self.single
    }

    /// Every target, in address order, without holding them.
    pub fn targets(&self) -> Expand {
        Expand::new(self.clone())
    }
}

/// The lazy expansion of one [`TargetSpec`].
#[derive(Debug)]
pub struct Expand {
    spec: TargetSpec,
    /// IPv4: each octet's members.
    members: [Vec<u8>; 4],
    next: u64,
    count: u64,
}

impl Expand {
    fn new(spec: TargetSpec) -> Self {
        let members = match &spec.pattern {
            Pattern::V4([a, b, c, d]) => [a.members(), b.members(), c.members(), d.members()],
            _ => Default::default(),
        };
        let count = spec.count();
        Self {
            spec,
            members,
            next: 0,
            count,
        }
    }

    fn nth_ip(&self, i: u64) -> Option<IpAddr> {
        match &self.spec.pattern {
            Pattern::V4(_) => {
                let mut rest = i;
                let mut octets = [0u8; 4];
                for (slot, list) in octets.iter_mut().zip(&self.members).rev() {
                    let len = u64::try_from(list.len()).ok().filter(|l| *l > 0)?;
                    *slot = *list.get(usize::try_from(rest % len).ok()?)?;
                    rest /= len;
                }
                Some(IpAddr::V4(Ipv4Addr::from(octets)))
            }
            Pattern::V6 { base, prefix } => Some(IpAddr::V6(Ipv6Addr::from(
                (base & v6_mask(*prefix)).wrapping_add(u128::from(i)),
            ))),
            Pattern::Name(_) => None,
        }
    }
}

impl Iterator for Expand {
    type Item = Target;

    fn next(&mut self) -> Option<Target> {
        if self.next >= self.count {
            return None;
        }
        let i = self.next;
        self.next += 1;
        let port = self.spec.port;
        if self.spec.single {
            let host = match &self.spec.pattern {
                Pattern::Name(n) => Host::Name(n.clone()),
                _ => Host::Ip(self.nth_ip(0)?),
            };
            return Some(Target {
                given: self.spec.given.clone(),
                host,
                port,
            });
        }
        let ip = self.nth_ip(i)?;
        Some(Target {
            given: SocketAddr::new(ip, port).to_string(),
            host: Host::Ip(ip),
            port,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.count.saturating_sub(self.next)).unwrap_or(usize::MAX);
        (left, Some(left))
    }
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

/// Whether a label is made only of what nmap's octet syntax uses (digits, `-`, `,`, `*`): such a last
/// label makes the whole an IPv4 address or range, since no top-level domain is numeric.
fn octet_like(label: &str) -> bool {
    !label.is_empty()
        && label
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | ',' | '*'))
}

/// One octet position: `*`, `-`, `n`, `n-m`, `-m`, `n-`, and comma lists of those.
fn parse_octet(given: &str, text: &str) -> Result<OctetSet, TargetError> {
    let bad = |why: String| TargetError::Address {
        given: given.to_string(),
        why,
    };
    let value = |s: &str, default: u8| -> Result<u8, TargetError> {
        if s.is_empty() {
            return Ok(default);
        }
        if !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad(format!("'{s}' is not a number")));
        }
        match s.parse::<u32>() {
            Ok(v) => u8::try_from(v).map_err(|_| bad(format!("octet {v} is over 255"))),
            Err(_) => Err(bad(format!("octet {s} is over 255"))),
        }
    };
    let mut set = OctetSet::EMPTY;
    for part in text.split(',') {
        let (lo, hi) = match part {
            "" => return Err(bad("an empty octet".to_string())),
            "*" => (0, 255),
            _ => match part.split_once('-') {
                Some((lo, hi)) => (value(lo, 0)?, value(hi, 255)?),
                None => {
                    let v = value(part, 0)?;
                    (v, v)
                }
            },
        };
        if lo > hi {
            return Err(bad(format!("the range {part} runs backwards")));
        }
        set.insert_range(lo, hi);
    }
    Ok(set)
}

fn parse_v4_pattern(given: &str, host: &str) -> Result<[OctetSet; 4], TargetError> {
    let parts: Vec<&str> = host.split('.').collect();
    let [a, b, c, d] = parts.as_slice() else {
        return Err(TargetError::Address {
            given: given.to_string(),
            why: format!("{} octets, not 4", parts.len()),
        });
    };
    Ok([
        parse_octet(given, a)?,
        parse_octet(given, b)?,
        parse_octet(given, c)?,
        parse_octet(given, d)?,
    ])
}

fn check_size(given: &str, count: u64, force: bool) -> Result<(), TargetError> {
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
    Ok(())
}

/// Parses one pattern without a port (for `--exclude`, and for targets after the port is split off).
fn parse_pattern(given: &str, host: &str) -> Result<(Pattern, bool), TargetError> {
    if let Some((net, bits)) = host.split_once('/') {
        let bits: u8 = bits
            .parse()
            .map_err(|_| TargetError::Syntax(given.to_string()))?;
        return match net.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) if bits <= 32 => {
                let host_bits = 32 - u32::from(bits);
                let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
                let lo = u32::from(v4) & mask;
                let hi = lo | !mask;
                let (lo, hi) = (lo.to_be_bytes(), hi.to_be_bytes());
                let mut sets = [OctetSet::EMPTY; 4];
                for ((set, l), h) in sets.iter_mut().zip(lo).zip(hi) {
                    set.insert_range(l, h);
                }
                Ok((Pattern::V4(sets), false))
            }
            Ok(IpAddr::V6(v6)) if bits <= 128 => Ok((
                Pattern::V6 {
                    base: u128::from(v6),
                    prefix: bits,
                },
                false,
            )),
            _ => Err(TargetError::Syntax(given.to_string())),
        };
    }
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return Ok((
            Pattern::V6 {
                base: u128::from(v6),
                prefix: 128,
            },
            true,
        ));
    }
    if host.rsplit('.').next().is_some_and(octet_like) {
        let sets = parse_v4_pattern(given, host)?;
        let single = sets.iter().all(|s| s.len() == 1);
        return Ok((Pattern::V4(sets), single));
    }
    if valid_name(host) {
        return Ok((Pattern::Name(host.to_ascii_lowercase()), true));
    }
    Err(TargetError::Syntax(given.to_string()))
}

/// Parses one target as written (a range is not expanded: see [`TargetSpec::targets`]).
pub fn parse_spec(given: &str, force: bool) -> Result<TargetSpec, TargetError> {
    let s = given.trim();
    if s.is_empty() {
        return Err(TargetError::Syntax(s.to_string()));
    }
    // `[v6]`, `[v6]:port`, `[v6/prefix]:port`.
    if let Some(rest) = s.strip_prefix('[') {
        let (inner, tail) = rest
            .split_once(']')
            .ok_or_else(|| TargetError::Syntax(s.to_string()))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => port_of(s, p)?,
            None if tail.is_empty() => DEFAULT_PORT,
            None => return Err(TargetError::Syntax(s.to_string())),
        };
        let (pattern, single) = parse_pattern(s, inner)?;
        if !matches!(pattern, Pattern::V6 { .. }) {
            return Err(TargetError::Syntax(s.to_string()));
        }
        return finish(s, pattern, single, port, force);
    }
    // A bare IPv6 address or prefix (`::1`, `2001:db8::/120`).
    let (net, bits) = match s.split_once('/') {
        Some((n, b)) => (n, Some(b)),
        None => (s, None),
    };
    if net.parse::<Ipv6Addr>().is_ok() {
        // `2001:db8::/120:3390`: a port after the prefix length.
        let (bits, port) = match bits.and_then(|b| b.split_once(':')) {
            Some((b, p)) => (Some(b), port_of(s, p)?),
            None => (bits, DEFAULT_PORT),
        };
        let host = match bits {
            Some(b) => format!("{net}/{b}"),
            None => net.to_string(),
        };
        let (pattern, single) = parse_pattern(s, &host)?;
        return finish(s, pattern, single, port, force);
    }
    // `host:port`, `net/bits:port` or `net:port/bits` (IPv4 and names).
    let (host, port) = match (s.rsplit_once(':'), bits) {
        (Some((h, p)), None) => (h.to_string(), port_of(s, p)?),
        (Some((n, p)), Some(_)) if !n.contains('/') => {
            // `10.0.0.0:3390/24`
            let (p, b) = p
                .split_once('/')
                .ok_or_else(|| TargetError::Syntax(s.to_string()))?;
            (format!("{n}/{b}"), port_of(s, p)?)
        }
        (Some((h, p)), Some(_)) => (h.to_string(), port_of(s, p)?),
        (None, _) => (s.to_string(), DEFAULT_PORT),
    };
    let (pattern, single) = parse_pattern(s, &host)?;
    finish(s, pattern, single, port, force)
}

fn finish(
    given: &str,
    pattern: Pattern,
    single: bool,
    port: u16,
    force: bool,
) -> Result<TargetSpec, TargetError> {
    check_size(given, pattern.count(), force)?;
    Ok(TargetSpec {
        given: given.to_string(),
        pattern,
        port,
        single,
    })
}

/// Parses one target and expands it (small ranges; the CLI streams with [`TargetStream`]).
pub fn parse_target(given: &str, force: bool) -> Result<Vec<Target>, TargetError> {
    Ok(parse_spec(given, force)?.targets().collect())
}

mod select;
mod stream;

pub use select::{Exclusions, Shard};
pub use stream::{parse_targets_file, TargetStream};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests;
