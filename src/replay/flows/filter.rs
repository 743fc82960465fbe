//! The reader thread's filter of flows the table ignores.

use std::net::SocketAddr;

use super::{sweep_due, FlowKey, FlowOptions, Mark};
use crate::replay::packet::{Tcp4Peek, TcpFlags, TcpSegment};

/// The reader thread's copy of the flows the table has marked ignored, so their packets are dropped where
/// they are read instead of being handed over. It learns marks late (they come back from the analysis
/// thread), and handing a packet over is always safe: the table treats it exactly as it would have. So the
/// filter only drops what the table would drop:
/// - a client SYN (a new connection on a reused 4-tuple) always passes, and the flow is forgotten;
/// - a flow idle past the idle timeout is forgotten (the table's rule for its markers too);
/// - a mark older than a SYN already handed over for the same flow is refused (the table reopened it);
/// - full ([`FlowOptions::max_flows`]), it forgets everything and starts over.
///
/// One difference remains, when the table itself is full: it then drops its markers, and the packets of
/// those flows, which it would have sniffed again as mid-stream pickups, may still be filtered here.
#[derive(Debug)]
pub struct IgnoredFilter {
    /// Last packet time of each flow known ignored: IPv4 flows (most of any capture) under a key packed
    /// into one integer, hashed in one step; the others under their [`FlowKey`].
    v4: foldhash::HashMap<u128, i64>,
    other: foldhash::HashMap<FlowKey, i64>,
    /// Client SYNs handed over and not yet known to be handled, by flow: the packet number of the last.
    syns_in_flight: foldhash::HashMap<FilterKey, u64>,
    max_flows: usize,
    idle_timeout_us: i64,
    /// The latest segment's time so far: dropped segments that start a new second become ticks.
    last_ts: i64,
    /// Segments dropped here (the table counts the others).
    pub dropped: u64,
}

/// What becomes of a segment at the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sorted {
    /// The table needs it.
    Needed,
    /// Dropped, but it starts a new second of capture time: the table gets a tick at its time.
    Tick,
    Dropped,
}

/// A flow as the filter knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FilterKey {
    /// Both endpoints' (address, port) packed as `address << 16 | port`, the smaller in the high half.
    V4(u128),
    Other(FlowKey),
}

impl FilterKey {
    fn of(a: SocketAddr, b: SocketAddr) -> Self {
        match (a, b) {
            (SocketAddr::V4(a), SocketAddr::V4(b)) => Self::v4(
                (u32::from(*a.ip()), a.port()),
                (u32::from(*b.ip()), b.port()),
            ),
            _ => Self::Other(FlowKey::of(a, b)),
        }
    }

    /// An IPv4 flow from its two endpoints, each (address, port).
    fn v4(a: (u32, u16), b: (u32, u16)) -> Self {
        let pack = |(ip, port): (u32, u16)| u64::from(ip) << 16 | u64::from(port);
        let (x, y) = (pack(a), pack(b));
        let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
        Self::V4(u128::from(lo) << 64 | u128::from(hi))
    }

    fn of_flow(key: &FlowKey) -> Self {
        let (a, b) = key.endpoints();
        Self::of(a, b)
    }
}

impl IgnoredFilter {
    pub fn new(opts: &FlowOptions) -> Self {
        Self {
            v4: foldhash::HashMap::default(),
            other: foldhash::HashMap::default(),
            syns_in_flight: foldhash::HashMap::default(),
            max_flows: opts.max_flows.max(1),
            idle_timeout_us: opts.idle_timeout_us,
            last_ts: 0,
            dropped: 0,
        }
    }

    /// Sorts one segment (packet `packet`, time `ts`): needed by the table, or dropped (with a tick when
    /// the table's clock must still see its time).
    pub fn sort(&mut self, seg: &TcpSegment<'_>, ts: i64, packet: u64) -> Sorted {
        self.sort_key(FilterKey::of(seg.src, seg.dst), seg.flags, ts, packet)
    }

    /// [`IgnoredFilter::sort`] for an IPv4 segment the reader has only peeked at: the same answer.
    pub fn sort_peeked(&mut self, peek: &Tcp4Peek, ts: i64, packet: u64) -> Sorted {
        self.sort_key(FilterKey::v4(peek.src, peek.dst), peek.flags, ts, packet)
    }

    fn sort_key(&mut self, key: FilterKey, flags: TcpFlags, ts: i64, packet: u64) -> Sorted {
        let new_second = sweep_due(self.last_ts, ts);
        self.last_ts = self.last_ts.max(ts);
        if self.wants_key(key, flags, ts, packet) {
            Sorted::Needed
        } else if new_second {
            Sorted::Tick
        } else {
            Sorted::Dropped
        }
    }

    /// Whether the table needs this segment.
    #[cfg(test)]
    fn wants(&mut self, seg: &TcpSegment<'_>, ts: i64, packet: u64) -> bool {
        self.wants_key(FilterKey::of(seg.src, seg.dst), seg.flags, ts, packet)
    }

    fn wants_key(&mut self, key: FilterKey, flags: TcpFlags, ts: i64, packet: u64) -> bool {
        if flags.contains(TcpFlags::SYN)
            && !flags.contains(TcpFlags::ACK)
        {
            self.syns_in_flight.insert(key, packet);
            self.forget(&key);
            return true;
        }
        let last = match &key {
            FilterKey::V4(k) => self.v4.get_mut(k),
            FilterKey::Other(k) => self.other.get_mut(k),
        };
        let Some(last) = last else {
            return true;
        };
        if ts.saturating_sub(*last) > self.idle_timeout_us {
            self.forget(&key);
            return true;
        }
        *last = (*last).max(ts);
        self.dropped += 1;
        false
    }

    fn forget(&mut self, key: &FilterKey) {
        match key {
            FilterKey::V4(k) => self.v4.remove(k),
            FilterKey::Other(k) => self.other.remove(k),
        };
    }

    fn len(&self) -> usize {
        self.v4.len() + self.other.len()
    }

    /// Marks from the table, which has handled every packet up to `handled`.
    pub fn learn(&mut self, marks: &[Mark], handled: u64) {
        for mark in marks {
            let key = FilterKey::of_flow(&mark.key);
            if self
                .syns_in_flight
                .get(&key)
                .is_some_and(|&syn| syn > mark.packet)
            {
                continue;
            }
            if self.len() >= self.max_flows {
                self.v4.clear();
                self.other.clear();
            }
            match key {
                FilterKey::V4(k) => self.v4.insert(k, mark.ts),
                FilterKey::Other(k) => self.other.insert(k, mark.ts),
            };
        }
        self.syns_in_flight.retain(|_, syn| *syn > handled);
    }
}

#[cfg(test)]
mod filter_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    
    fn seg(src: &str, dst: &str, flags: TcpFlags) -> TcpSegment<'static> {
        TcpSegment {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            seq: 1,
            ack: 1,
            flags,
            window: 0,
            payload: b"x",
        }
    }

    fn mark(a: &str, b: &str, packet: u64, ts: i64) -> Mark {
        Mark {
            key: FlowKey::of(a.parse().unwrap(), b.parse().unwrap()),
            packet,
            ts,
        }
    }

    const A: &str = "10.0.0.1:4000";
    const B: &str = "10.0.0.2:80";

    #[test]
    fn drops_only_what_it_learnt_in_both_directions() {
        let mut f = IgnoredFilter::new(&FlowOptions::default());
        assert!(f.wants(&seg(A, B, TcpFlags::ACK), 10, 1));
        f.learn(&[mark(A, B, 1, 10)], 1);
        assert!(!f.wants(&seg(A, B, TcpFlags::ACK), 20, 2));
        assert!(!f.wants(&seg(B, A, TcpFlags::ACK), 30, 3));
        assert!(f.wants(&seg(A, "10.0.0.2:81", TcpFlags::ACK), 30, 4));
        assert_eq!(f.dropped, 2);
    }

    #[test]
    fn ipv6_flows_and_mapped_addresses_keep_apart() {
        let mut f = IgnoredFilter::new(&FlowOptions::default());
        let (a6, b6) = ("[2001:db8::1]:4000", "[2001:db8::2]:80");
        let (a_mapped, b_mapped) = ("[::ffff:10.0.0.1]:4000", "[::ffff:10.0.0.2]:80");
        f.learn(&[mark(a6, b6, 1, 10), mark(A, B, 2, 10)], 2);
        assert!(!f.wants(&seg(b6, a6, TcpFlags::ACK), 20, 3));
        assert!(!f.wants(&seg(A, B, TcpFlags::ACK), 20, 4));
        // IPv4-mapped IPv6 addresses in an IPv6 packet are not the IPv4 flow.
        assert!(f.wants(&seg(a_mapped, b_mapped, TcpFlags::ACK), 20, 5));
        f.learn(&[mark(a_mapped, b_mapped, 6, 20)], 6);
        assert!(!f.wants(&seg(a_mapped, b_mapped, TcpFlags::ACK), 21, 7));
        assert!(f.wants(&seg(b6, a6, TcpFlags::SYN), 22, 8));
        assert!(f.wants(&seg(b6, a6, TcpFlags::ACK), 23, 9));
    }

    #[test]
    fn a_client_syn_passes_and_reopens_the_flow() {
        let mut f = IgnoredFilter::new(&FlowOptions::default());
        f.learn(&[mark(A, B, 1, 10)], 1);
        assert!(f.wants(&seg(A, B, TcpFlags::SYN), 20, 2));
        // The flow is forgotten: its next packets go to the table.
        assert!(f.wants(&seg(B, A, TcpFlags::SYN | TcpFlags::ACK), 21, 3));
        assert!(f.wants(&seg(A, B, TcpFlags::ACK), 22, 4));
    }

    #[test]
    fn a_mark_older_than_a_syn_handed_over_is_refused() {
        let mut f = IgnoredFilter::new(&FlowOptions::default());
        assert!(f.wants(&seg(A, B, TcpFlags::SYN), 20, 7));
        // Marked at packet 5, before the SYN (packet 7) the table has not handled yet: stale.
        f.learn(&[mark(A, B, 5, 15)], 6);
        assert!(f.wants(&seg(A, B, TcpFlags::ACK), 21, 8));
        // Marked at packet 9, after the SYN: it holds.
        f.learn(&[mark(A, B, 9, 25)], 9);
        assert!(!f.wants(&seg(A, B, TcpFlags::ACK), 26, 10));
        // The SYN is handled (9 >= 7): no longer remembered.
        assert!(f.syns_in_flight.is_empty());
    }

    #[test]
    fn an_idle_flow_is_forgotten() {
        let opts = FlowOptions::default();
        let mut f = IgnoredFilter::new(&opts);
        f.learn(&[mark(A, B, 1, 0)], 1);
        assert!(!f.wants(&seg(A, B, TcpFlags::ACK), opts.idle_timeout_us, 2));
        assert!(f.wants(&seg(A, B, TcpFlags::ACK), 2 * opts.idle_timeout_us + 1, 3));
    }

    #[test]
    fn full_it_starts_over() {
        let opts = FlowOptions {
            max_flows: 2,
            ..FlowOptions::default()
        };
        let mut f = IgnoredFilter::new(&opts);
        f.learn(
            &[
                mark(A, B, 1, 0),
                mark(A, "10.0.0.3:80", 2, 0),
                mark(A, "10.0.0.4:80", 3, 0),
            ],
            3,
        );
        assert!(f.len() <= 2);
        assert!(f.wants(&seg(A, B, TcpFlags::ACK), 1, 4));
        assert!(!f.wants(&seg(A, "10.0.0.4:80", TcpFlags::ACK), 1, 5));
    }

    #[test]
    fn sweeps_fall_on_new_seconds() {
        assert!(sweep_due(0, 1_000_000));
        assert!(!sweep_due(1_000_000, 1_999_999));
        assert!(sweep_due(1_999_999, 2_000_000));
        assert!(!sweep_due(5_000_000, 4_000_000));
    }
}
