//! Scans read as scans: a source with many connection attempts unanswered at once, or many failed, is
//! a scanner. From then on its SYNs open no flow and its failed attempts are not reported one by one:
//! they are counted (attempts, answers, ports) for one line of the summary. Bounded: a fixed number of
//! sources is tracked, and of scanners, and of ports per scanner.

use std::net::IpAddr;

/// Attempts of one source unanswered at once (SYN seen, no answer yet) that make it a scanner.
pub const SCAN_PENDING: u32 = 256;
/// Failed attempts (refused, unanswered, unreachable) of one source that make it a scanner.
pub const SCAN_FAILED: u32 = 64;
/// The most sources counted at once (when full, those with nothing pending are forgotten).
pub const MAX_SOURCES: usize = 65_536;
/// The most scanners described; more are counted together.
pub const MAX_SCANNERS: usize = 64;
/// The most ports counted per scanner; more are counted together.
pub const MAX_SCAN_PORTS: usize = 16;

/// What one source has pending and has failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Source {
    pending: u32,
    failed: u32,
    /// Attempts opened so far.
    opened: u32,
}

/// One scanner, as the summary tells it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scanner {
    pub source: Option<IpAddr>,
    /// SYNs that opened an attempt (before it was found a scanner too).
    pub syns: u64,
    pub refused: u64,
    pub answered: u64,
    /// Attempts ended without an answer, or rejected by ICMP, once it was known a scanner.
    pub failed: u64,
    /// Destination ports and their SYN counts, the first [`MAX_SCAN_PORTS`]; then the others.
    pub ports: Vec<(u16, u64)>,
    pub other_ports: u64,
    /// SYNs before it was found a scanner (their ports not counted).
    pub early: u64,
    pub first_us: i64,
    pub last_us: i64,
}

impl Scanner {
    fn port(&mut self, port: u16) {
        if let Some((_, n)) = self.ports.iter_mut().find(|(p, _)| *p == port) {
            *n += 1;
        } else if self.ports.len() < MAX_SCAN_PORTS {
            self.ports.push((port, 1));
        } else {
            self.other_ports += 1;
        }
    }

    /// One line for the summary.
    pub fn describe(&self) -> String {
        let who = self
            .source
            .map_or_else(|| "other sources".to_string(), |s| s.to_string());
        let mut ports = self.ports.clone();
        ports.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut list: Vec<String> = ports
            .iter()
            .take(5)
            .map(|(p, n)| format!("{p} ({n})"))
            .collect();
        let more = ports.iter().skip(5).map(|(_, n)| n).sum::<u64>() + self.other_ports;
        if more > 0 {
            list.push(format!("other ports ({more})"));
        }
        if self.early > 0 {
            list.push(format!("before it was recognised ({})", self.early));
        }
        format!(
            "scan from {who}: {} SYNs over {:.1} s to ports {}; {} refused, {} answered, {} failed otherwise; not reported one by one",
            self.syns,
            (self.last_us - self.first_us).max(0) as f64 / 1e6,
            list.join(", "),
            self.refused,
            self.answered,
            self.failed
        )
    }
}

/// Every source's pending and failed attempts, and the scanners found.
#[derive(Debug, Default)]
pub struct ScanTracker {
    sources: foldhash::HashMap<IpAddr, Source>,
    pub scanners: Vec<Scanner>,
}

impl ScanTracker {
    /// The scanner `ip` is, if it is one.
    fn scanner(&mut self, ip: IpAddr) -> Option<&mut Scanner> {
        if self.scanners.is_empty() {
            return None;
        }
        self.scanners.iter_mut().find(|s| s.source == Some(ip))
    }

    pub fn is_scanner(&self, ip: IpAddr) -> bool {
        !self.scanners.is_empty() && self.scanners.iter().any(|s| s.source == Some(ip))
    }

    /// A SYN from a scanner to `port`, which opens no flow.
    pub fn syn(&mut self, ip: IpAddr, port: u16, ts: i64) -> bool {
        let Some(s) = self.scanner(ip) else {
            return false;
        };
        s.syns += 1;
        s.last_us = ts;
        s.port(port);
        true
    }

    /// An answer to a scanner's SYN that opened no flow: SYN/ACK, or RST (refused).
    pub fn answer(&mut self, ip: IpAddr, refused: bool) -> bool {
        let Some(s) = self.scanner(ip) else {
            return false;
        };
        if refused {
            s.refused += 1;
        } else {
            s.answered += 1;
        }
        true
    }

    /// A flow from `ip` to `port` opened by a SYN and not answered yet.
    pub fn opened(&mut self, ip: IpAddr, port: u16, ts: i64) {
        let source = self.entry(ip);
        source.pending = source.pending.saturating_add(1);
        source.opened = source.opened.saturating_add(1);
        if source.pending >= SCAN_PENDING {
            self.flag(ip, ts, 1);
        }
        if let Some(s) = self.scanner(ip) {
            s.syns += 1;
            s.last_us = ts;
            s.port(port);
        }
    }

    /// A flow of `ip`'s that was pending got its answer or ended.
    pub fn settled(&mut self, ip: IpAddr) {
        if let Some(s) = self.sources.get_mut(&ip) {
            s.pending = s.pending.saturating_sub(1);
        }
    }

    /// A failed attempt of `ip`'s (refused, unanswered, unreachable): `true` when it is a scanner's,
    /// counted here and not to be reported one by one.
    pub fn failed(&mut self, ip: IpAddr, refused: bool, ts: i64) -> bool {
        let source = self.entry(ip);
        source.failed = source.failed.saturating_add(1);
        if source.failed >= SCAN_FAILED {
            self.flag(ip, ts, 0);
        }
        let Some(s) = self.scanner(ip) else {
            return false;
        };
        if refused {
            s.refused += 1;
        } else {
            s.failed += 1;
        }
        true
    }

    fn entry(&mut self, ip: IpAddr) -> &mut Source {
        if self.sources.len() >= MAX_SOURCES && !self.sources.contains_key(&ip) {
            self.sources.retain(|_, s| s.pending > 0);
            if self.sources.len() >= MAX_SOURCES {
                self.sources.clear();
            }
        }
        self.sources.entry(ip).or_default()
    }

    /// `ip` is a scanner from now; `counted_after` of its attempts so far are counted by the caller.
    fn flag(&mut self, ip: IpAddr, ts: i64, counted_after: u32) {
        if self.is_scanner(ip) || self.scanners.len() >= MAX_SCANNERS {
            return;
        }
        // Its attempts so far count too (their ports are not known any more).
        let before = self
            .sources
            .get(&ip)
            .map_or(0, |s| u64::from(s.opened.saturating_sub(counted_after)));
        self.scanners.push(Scanner {
            source: Some(ip),
            syns: before,
            early: before,
            first_us: ts,
            last_us: ts,
            ..Scanner::default()
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn many_pending_or_failed_attempts_make_a_scanner() {
        let mut t = ScanTracker::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for i in 0..SCAN_PENDING - 1 {
            t.opened(a, 3389, i64::from(i));
        }
        assert!(!t.is_scanner(a));
        t.opened(a, 3389, 1000);
        assert!(t.is_scanner(a));
        assert!(t.syn(a, 22, 2000));
        assert!(t.answer(a, true));
        let s = &t.scanners[0];
        assert_eq!((s.syns, s.refused), (SCAN_PENDING as u64 + 1, 1));
        assert!(
            s.describe()
                .contains("ports 22 (1), 3389 (1), before it was recognised (255)"),
            "{}",
            s.describe()
        );
        // Attempts answered one after the other never add up; failures do.
        for i in 0..1000 {
            t.opened(b, 3389, i);
            t.settled(b);
        }
        assert!(!t.is_scanner(b));
        for i in 0..SCAN_FAILED - 1 {
            assert!(!t.failed(b, false, i64::from(i)));
        }
        assert!(t.failed(b, false, 99));
        assert!(t.is_scanner(b));
    }
}
