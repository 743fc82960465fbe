//! Which targets are probed: `--exclude` / `--excludefile`, and `--shard K/N`.

use std::net::IpAddr;

use super::{octet_like, parse_spec, Host, Pattern, Target, TargetError};

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
