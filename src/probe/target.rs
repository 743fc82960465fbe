//! Probe targets as users write them, in nmap's syntax: `host`, `host:port`, `[v6]:port`, bare IPv6,
//! CIDR blocks (`10.0.0.0/24`, `10.0.0.0/24:3390`), octet ranges and lists (`10.0.0.1-20`,
//! `10.0.0-1.1-5`, `10.0.0.1,5`, `10.0.0.*`), files of them and standard input, `--exclude`, and
//! `--shard K/N`. Ranges are expanded lazily: a target list is an iterator, never a vector of every
//! address. Something that looks like an IPv4 address but is not one (`300.1.1.1`) is an error, never a
//! DNS name. DNS names are resolved by the runner; the probe only ever connects where it was told.

use std::io::BufRead;
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

/// Splits a comma-separated list as nmap's `--exclude` does, except that a piece made only of octet
/// syntax (`5`, `7-9`) continues the previous piece's last octet: `10.0.0.1,5,10.0.1.0/24` is two
/// entries, `10.0.0.1,5` and `10.0.1.0/24`.
fn split_list(list: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in list.split(',').map(str::trim) {
        match out.last_mut() {
            Some(last) if octet_like(piece) && !piece.contains('.') => {
                last.push(',');
                last.push_str(piece);
            }
            _ => out.push(piece.to_string()),
        }
    }
    out
}

/// Addresses and names never probed (`--exclude`, `--excludefile`). Names match literally here and,
/// once resolved, by address in the runner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    patterns: Vec<Pattern>,
}

impl Exclusions {
    /// Adds a comma-separated list (`--exclude`).
    pub fn add_list(&mut self, list: &str) -> Result<(), TargetError> {
        for item in split_list(list) {
            self.add(&item)?;
        }
        Ok(())
    }

    /// Adds one entry: an address, range, CIDR block or name (a port, if given, is ignored: hosts are
    /// excluded, as nmap does).
    pub fn add(&mut self, entry: &str) -> Result<(), TargetError> {
        // Ranges of any size may be excluded.
        let spec = parse_spec(entry, true)?;
        self.patterns.push(spec.pattern);
        Ok(())
    }

    /// Adds a file's entries: one or more per line (comma lists), `#` comments.
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<(), TargetError> {
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            for entry in line.split_whitespace() {
                self.add_list(entry).map_err(|e| TargetError::Line {
                    source_name: name.to_string(),
                    line: u64::try_from(n + 1).unwrap_or(u64::MAX),
                    error: Box::new(e),
                })?;
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether an address is excluded.
    pub fn excludes_ip(&self, ip: IpAddr) -> bool {
        self.patterns.iter().any(|p| p.contains(ip))
    }

    /// Whether a target (before resolution) is excluded.
    pub fn excludes(&self, t: &Target) -> bool {
        match &t.host {
            Host::Ip(ip) => self.excludes_ip(*ip),
            Host::Name(n) => self
                .patterns
                .iter()
                .any(|p| matches!(p, Pattern::Name(m) if m == n)),
        }
    }
}

/// `--shard K/N`: of the targets in input order (ranges expanded), the i-th (from 0) belongs to shard
/// K when `i mod N == K - 1` (the masscan / zgrab convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub k: u64,
    pub n: u64,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Self, TargetError> {
        let bad = || TargetError::Shard(text.to_string());
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (k, n): (u64, u64) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Self { k, n })
    }

    /// Whether the `index`-th target (from 0) is this shard's.
    pub fn takes(&self, index: u64) -> bool {
        index % self.n == self.k - 1
    }
}

/// Where targets come from, and which of them are probed: the command line's targets, then the lines
/// of a file or of standard input, read as they come (probing starts before the input ends, and
/// memory stays bounded whatever its length).
pub struct TargetStream {
    specs: std::vec::IntoIter<TargetSpec>,
    lines: Option<(Box<dyn BufRead + Send>, String)>,
    force: bool,
    shard: Option<Shard>,
    exclude: Exclusions,
    current: Option<Expand>,
    /// Targets seen so far (for the shard).
    index: u64,
    line_no: u64,
    buf: Vec<u8>,
}

impl std::fmt::Debug for TargetStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetStream")
            .field("index", &self.index)
            .field("line", &self.line_no)
            .finish_non_exhaustive()
    }
}

impl TargetStream {
    /// The command line's targets (already parsed), then, if given, a reader of one target per line
    /// (`#` comments and blank lines skipped) named `source_name` in errors.
    pub fn new(
        specs: Vec<TargetSpec>,
        lines: Option<(Box<dyn BufRead + Send>, String)>,
        force: bool,
    ) -> Self {
        Self {
            specs: specs.into_iter(),
            lines,
            force,
            shard: None,
            exclude: Exclusions::default(),
            current: None,
            index: 0,
            line_no: 0,
            buf: Vec::new(),
        }
    }

    pub fn with_shard(mut self, shard: Option<Shard>) -> Self {
        self.shard = shard;
        self
    }

    pub fn with_exclusions(mut self, exclude: Exclusions) -> Self {
        self.exclude = exclude;
        self
    }

    /// How many targets will be probed, when that is known before reading any input: no line source,
    /// and command-line ranges small enough to count through ([`MAX_RANGE`] in all).
    pub fn known_len(&self) -> Option<u64> {
        if self.lines.is_some() {
            return None;
        }
        let specs = self.specs.as_slice();
        if specs.iter().map(TargetSpec::count).sum::<u64>() > MAX_RANGE {
            return None;
        }
        let taken = specs
            .iter()
            .flat_map(TargetSpec::targets)
            .zip(0u64..)
            .filter(|(t, i)| self.shard.is_none_or(|s| s.takes(*i)) && !self.exclude.excludes(t))
            .count();
        u64::try_from(taken).ok()
    }

    /// The next line's target, `None` at the end of the input.
    fn next_line(&mut self) -> Option<Result<TargetSpec, TargetError>> {
        let (reader, name) = self.lines.as_mut()?;
        loop {
            self.buf.clear();
            self.line_no += 1;
            let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX) + 1;
            let read = std::io::Read::take(&mut **reader, limit).read_until(b'\n', &mut self.buf);
            match read {
                Err(e) => {
                    let err = TargetError::Read {
                        source_name: name.clone(),
                        why: e.to_string(),
                    };
                    self.lines = None;
                    return Some(Err(err));
                }
                Ok(0) => {
                    self.lines = None;
                    return None;
                }
                Ok(_) => {}
            }
            if self.buf.len() > MAX_LINE && self.buf.last() != Some(&b'\n') {
                // Skip the rest of the line without holding it.
                let mut sink = Vec::new();
                loop {
                    sink.clear();
                    match std::io::Read::take(&mut **reader, limit).read_until(b'\n', &mut sink) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if sink.last() == Some(&b'\n') => break,
                        Ok(_) => {}
                    }
                }
                return Some(Err(TargetError::LineTooLong {
                    source_name: name.clone(),
                    line: self.line_no,
                }));
            }
            let Ok(text) = std::str::from_utf8(&self.buf) else {
                return Some(Err(TargetError::NotText {
                    source_name: name.clone(),
                    line: self.line_no,
                }));
            };
            let text = text.split('#').next().unwrap_or("").trim();
            if text.is_empty() {
                continue;
            }
            return Some(parse_spec(text, self.force).map_err(|e| TargetError::Line {
                source_name: name.clone(),
                line: self.line_no,
                error: Box::new(e),
            }));
        }
    }
}

impl Iterator for TargetStream {
    type Item = Result<Target, TargetError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(t) = self.current.as_mut().and_then(Iterator::next) {
                let index = self.index;
                self.index += 1;
                if self.shard.is_none_or(|s| s.takes(index)) && !self.exclude.excludes(&t) {
                    return Some(Ok(t));
                }
                continue;
            }
            self.current = None;
            let spec = match self.specs.next() {
                Some(spec) => spec,
                None => match self.next_line()? {
                    Ok(spec) => spec,
                    Err(e) => return Some(Err(e)),
                },
            };
            self.current = Some(spec.targets());
        }
    }
}

/// Parses a targets file: one target per line, `#` comments and blank lines ignored (expanded; the
/// CLI streams with [`TargetStream`] instead).
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

    fn givens(s: &str) -> Vec<String> {
        parse_target(s, false)
            .unwrap()
            .into_iter()
            .map(|t| t.given)
            .collect()
    }

    #[test]
    fn forms() {
        let one = |s: &str| parse_target(s, false).unwrap().remove(0);
        assert_eq!(one("127.0.0.1").port, 3389);
        assert_eq!(one("127.0.0.1").given, "127.0.0.1");
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
        assert!(parse_target("", false).is_err());
    }

    #[test]
    fn not_an_address_is_never_a_name() {
        for bad in [
            "300.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "10.0.0.5-1",
            "10.0.0.1,,2",
            "10.0.0.+1",
        ] {
            assert!(
                matches!(
                    parse_spec(bad, false),
                    Err(TargetError::Address { .. } | TargetError::Syntax(_))
                ),
                "{bad}: {:?}",
                parse_spec(bad, false)
            );
        }
        // nmap: an open range runs to the end of the octet.
        assert_eq!(parse_spec("10.0.0.1-", false).unwrap().count(), 255);
        assert_eq!(parse_spec("10.0.0.-2", false).unwrap().count(), 3);
        assert_eq!(
            parse_spec("300.1.1.1", false).unwrap_err().to_string(),
            "target '300.1.1.1': not an IPv4 address or range: octet 300 is over 255"
        );
    }

    #[test]
    fn nmap_octet_ranges_and_lists() {
        assert_eq!(
            givens("127.0.0.1-3"),
            ["127.0.0.1:3389", "127.0.0.2:3389", "127.0.0.3:3389"]
        );
        assert_eq!(givens("10.0.0.1,5"), ["10.0.0.1:3389", "10.0.0.5:3389"]);
        assert_eq!(
            givens("10.0.0-1.1-2:3390"),
            [
                "10.0.0.1:3390",
                "10.0.0.2:3390",
                "10.0.1.1:3390",
                "10.0.1.2:3390"
            ]
        );
        // Overlaps inside one octet are merged, members come in order.
        assert_eq!(
            givens("10.0.0.3,1-2,2"),
            ["10.0.0.1:3389", "10.0.0.2:3389", "10.0.0.3:3389"]
        );
        assert_eq!(parse_spec("10.0.0.*", false).unwrap().count(), 256);
        assert_eq!(parse_spec("10.0.0.-", false).unwrap().count(), 256);
        assert!(matches!(
            parse_spec("10.0.0-1.*", false),
            Err(TargetError::NeedsForce { count: 512, .. })
        ));
    }

    #[test]
    fn ranges() {
        assert_eq!(
            givens("127.0.0.0/30"),
            [
                "127.0.0.0:3389",
                "127.0.0.1:3389",
                "127.0.0.2:3389",
                "127.0.0.3:3389"
            ]
        );
        assert_eq!(givens("127.0.0.5/30"), givens("127.0.0.4/30"));
        assert_eq!(
            parse_target("127.0.0.0/30:3390", false).unwrap()[0].port,
            3390
        );
        assert_eq!(
            parse_target("127.0.0.0:3390/30", false).unwrap()[3].given,
            "127.0.0.3:3390"
        );
        assert!(matches!(
            parse_target("127.0.0.0/23", false),
            Err(TargetError::NeedsForce { count: 512, .. })
        ));
        assert_eq!(parse_target("127.0.0.0/23", true).unwrap().len(), 512);
        assert!(matches!(
            parse_target("10.0.0.0/7", true),
            Err(TargetError::TooLarge { .. })
        ));
        // A /8 is allowed with --force and expanded lazily.
        let big = parse_spec("10.0.0.0/8", true).unwrap();
        assert_eq!(big.count(), 1 << 24);
        assert_eq!(big.targets().nth(65_537).unwrap().given, "10.1.0.1:3389");
        assert_eq!(parse_target("::1/128", false).unwrap().len(), 1);
        assert_eq!(
            givens("[2001:db8::/127]:3390"),
            ["[2001:db8::]:3390", "[2001:db8::1]:3390"]
        );
        assert_eq!(givens("2001:db8::/127:3390").len(), 2);
        assert!(parse_spec("2001:db8::/64", true).is_err());
    }

    #[test]
    fn exclusions() {
        let mut ex = Exclusions::default();
        ex.add_list("10.0.0.1,5,10.0.1.0/24,host.example").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(ex.excludes_ip(ip("10.0.0.1")));
        assert!(ex.excludes_ip(ip("10.0.0.5")));
        assert!(!ex.excludes_ip(ip("10.0.0.2")));
        assert!(ex.excludes_ip(ip("10.0.1.77")));
        assert!(ex.excludes(&parse_target("HOST.example:3390", false).unwrap()[0]));
        assert!(ex.add_list("300.0.0.1").is_err());
        let mut f = Exclusions::default();
        f.add_file("ex.txt", "# none\n10.0.0.0/30 10.0.0.9\n\n")
            .unwrap();
        assert!(f.excludes_ip(ip("10.0.0.9")) && f.excludes_ip(ip("10.0.0.3")));
        let err = f
            .add_file("ex.txt", "\n300.1.1.1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("ex.txt: line 2: target '300.1.1.1'"),
            "{err}"
        );
    }

    #[test]
    fn shards_split_without_overlap() {
        assert!(Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err());
        assert!(Shard::parse("1/0").is_err() && Shard::parse("x").is_err());
        let all: Vec<String> = givens("10.0.0.0/29");
        let mut seen = Vec::new();
        for k in 1..=3 {
            let spec = parse_spec("10.0.0.0/29", false).unwrap();
            let shard = Shard::parse(&format!("{k}/3")).unwrap();
            let stream = TargetStream::new(vec![spec], None, false).with_shard(Some(shard));
            assert_eq!(
                stream.known_len(),
                Some([3, 3, 2][usize::try_from(k - 1).unwrap()])
            );
            let got: Vec<String> = stream.map(|t| t.unwrap().given).collect();
            assert_eq!(got[0], all[usize::try_from(k - 1).unwrap()]);
            seen.extend(got);
        }
        seen.sort();
        let mut want = all.clone();
        want.sort();
        assert_eq!(seen, want);
    }

    #[test]
    fn stream_reads_lines_lazily_and_reports_bad_lines() {
        let input = "# lab\n127.0.0.1\n\n300.1.1.1\n127.0.0.2-3:3390 # two\n";
        let mut long = "1".repeat(MAX_LINE + 10);
        long.push_str("\n127.0.0.9\n");
        let text = format!("{input}{long}");
        let reader: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(text.into_bytes()));
        let mut ex = Exclusions::default();
        ex.add("127.0.0.2").unwrap();
        let stream = TargetStream::new(
            vec![parse_spec("127.0.0.100", false).unwrap()],
            Some((reader, "-".to_string())),
            false,
        )
        .with_exclusions(ex);
        assert_eq!(stream.known_len(), None);
        let got: Vec<String> = stream
            .map(|r| match r {
                Ok(t) => t.given,
                Err(e) => format!("error {e}"),
            })
            .collect();
        assert_eq!(
            got,
            [
                "127.0.0.100",
                "127.0.0.1",
                "error -: line 4: target '300.1.1.1': not an IPv4 address or range: octet 300 is over 255",
                "127.0.0.3:3390",
                "error -: line 6: longer than 4096 bytes",
                "127.0.0.9",
            ]
        );
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
