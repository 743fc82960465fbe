//! The flow table: every TCP connection in a capture, classified on a fast path (RDP or not, by content or
//! port), reassembled per direction and fed into its own [`Session`], then reported when it ends.
//! Bounded: limits on tracked flows and on bytes held per flow are named constants and options, and a hit
//! limit is reported, never silent.

mod ending;
mod filter;
mod key;
mod rdp;
pub mod scan;
mod undecided;

use std::net::SocketAddr;

pub use filter::{IgnoredFilter, Sorted};
pub use key::FlowKey;
pub use undecided::starts_rdp;

use super::packet::{IcmpUnreachable, TcpFlags, TcpSegment};
use crate::session::{Observation, Session, Timestamp, TransportFact};
use rdp::RdpFlow;
use undecided::Undecided;

/// The default most flows tracked at once (RDP flows, undecided flows and markers of ignored ones).
pub const MAX_FLOWS: usize = 50_000;
/// The default most RDP connections being set up at once.
pub const MAX_RDP_FLOWS: usize = 4_096;
/// A flow with no packet for this long (capture time) is finished and reported.
pub const IDLE_TIMEOUT_US: i64 = 300_000_000;
/// A SYN unanswered this long, while the capture goes on, counts as filtered.
pub const SYN_TIMEOUT_US: i64 = 3_000_000;
/// How many client segments of a flow are searched for a Connection Request before it is ignored
/// (RDP behind a SOCKS or other proxy handshake on the same connection).
pub const MAX_SNIFF_SEGMENTS: u32 = 8;
/// How many payload segments of an undecided flow are held while its streams' first bytes are too few,
/// or out of order, to tell whether it is RDP.
pub const MAX_HELD_SEGMENTS: usize = 64;
/// How many bytes a stream needs from its start before its first PDU can be recognised ([`starts_rdp`]).
pub const SNIFF_BYTES: usize = 6;
/// The most failed connection attempts to ports not known as RDP held for the end of a capture that
/// turns out to hold no RDP (each one small: a SYN and its answer).
pub const MAX_UNKNOWN_PORT_FAILURES: usize = 1_000;
/// The well-known RDP port: connections to it are reported even without RDP content (refused, filtered).
pub const RDP_PORT: u16 = 3389;

/// What the replay may hold and decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowOptions {
    /// Server ports always treated as RDP, besides 3389 (`--port`).
    pub ports: Vec<u16>,
    pub max_flows: usize,
    pub max_rdp_flows: usize,
    /// Out-of-order bytes held per direction.
    pub max_buffered_bytes: usize,
    pub idle_timeout_us: i64,
    pub syn_timeout_us: i64,
}

impl Default for FlowOptions {
    fn default() -> Self {
        Self {
            ports: Vec::new(),
            max_flows: MAX_FLOWS,
            max_rdp_flows: MAX_RDP_FLOWS,
            max_buffered_bytes: super::reasm::MAX_BUFFERED_BYTES,
            idle_timeout_us: IDLE_TIMEOUT_US,
            syn_timeout_us: SYN_TIMEOUT_US,
        }
    }
}

/// A finished connection, ready for the diagnosis.
#[derive(Debug)]
pub struct FinishedFlow {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub observation: Observation,
    /// A failed TCP connection attempt to a port not known as RDP, reported because the capture held
    /// no recognised RDP at all.
    pub unknown_port: bool,
    /// The server a SOCKS or HTTP CONNECT proxy (`server`) was asked to reach, as the request named it.
    pub tunnel: Option<String>,
}

impl FinishedFlow {
    fn new(client: SocketAddr, server: SocketAddr, observation: Observation) -> Self {
        Self {
            client,
            server,
            observation,
            unknown_port: false,
            tunnel: None,
        }
    }
}

/// Counters for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub tcp_segments: u64,
    /// TCP flows seen (a SYN, or data picked up mid-stream).
    pub tcp_flows: u64,
    pub rdp_flows: u64,
    pub ignored_flows: u64,
    /// Flows dropped or finished early because the table was full.
    pub evicted_for_limit: u64,
    /// Flows given up because [`MAX_HELD_SEGMENTS`] were held before their first bytes were known.
    pub held_limit_hits: u64,
    /// Failed TCP connection attempts (refused, unanswered, unreachable) to ports not known as RDP.
    pub unknown_port_failures: u64,
    /// Flows not classified because the snapshot length cut their first payload bytes off.
    pub cut_unclassified: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    pub conflicts: u64,
}


/// A flow in the table: boxed states keep the table's entries small (it is probed once per packet).
#[derive(Debug)]
enum Flow {
    Undecided(Box<Undecided>),
    Rdp(Box<RdpFlow>, i64),
    /// Not RDP: dropped on the fast path.
    Ignored(i64),
}

impl Flow {
    /// A flow a client's SYN opens (its SYN is counted when the segment itself is handled).
    fn opened_by(seg: &TcpSegment<'_>, ts: i64, packet: u64) -> Self {
        Flow::Undecided(Box::new(Undecided::new(
            seg.src,
            seg.dst,
            Some((ts, packet)),
            ts,
        )))
    }

    fn last_seen(&self) -> i64 {
        match self {
            Flow::Undecided(u) => u.last,
            Flow::Rdp(_, last) | Flow::Ignored(last) => *last,
        }
    }
}

/// The table of every flow in one capture.
#[derive(Debug)]
pub struct FlowTable {
    opts: FlowOptions,
    /// Keyed with foldhash, randomly seeded per process: a fast hash that a crafted capture cannot aim at.
    flows: foldhash::HashMap<FlowKey, Flow>,
    rdp_active: usize,
    pub stats: FlowStats,
    last_sweep: i64,
    now: i64,
    /// The number of the packet being handled.
    packet: u64,
    /// Notes for the summary about limits hit.
    pub notes: Vec<String>,
    /// Flows seen per server port (allocated at the first flow), for the summary of a capture without RDP.
    server_ports: Vec<u32>,
    /// Sources with many attempts pending or failed, and the scanners among them.
    pub scan: scan::ScanTracker,
    /// Failed connection attempts to ports not known as RDP, reported at the end if nothing was RDP.
    unknown_port_failures: Vec<FinishedFlow>,
    /// The packet being handled and how many of its payload bytes the snapshot length cut off.
    cut: (u64, u32),
    /// Flows marked ignored while they stay in the table, for an [`IgnoredFilter`] to learn (when kept).
    marks: Option<Vec<Mark>>,
}

/// A flow the table just marked ignored: its key, the packet that decided it and the time of that packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub key: FlowKey,
    pub packet: u64,
    pub ts: i64,
}

impl FlowTable {
    pub fn new(opts: FlowOptions) -> Self {
        Self {
            opts,
            flows: foldhash::HashMap::default(),
            rdp_active: 0,
            stats: FlowStats::default(),
            last_sweep: 0,
            now: 0,
            packet: 0,
            notes: Vec::new(),
            marks: None,
            cut: (0, 0),
            unknown_port_failures: Vec::new(),
            scan: scan::ScanTracker::default(),
            server_ports: Vec::new(),
        }
    }

    /// Keeps every flow marked ignored from now on, for [`FlowTable::take_marks`].
    pub fn keep_marks(&mut self) {
        self.marks.get_or_insert_with(Vec::new);
    }

    /// The flows marked ignored since the last call (kept only after [`FlowTable::keep_marks`]).
    pub fn take_marks(&mut self) -> Vec<Mark> {
        self.marks.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Leaves a marker so the flow's later packets are dropped, noting it for the filter.
    fn mark_ignored(&mut self, key: FlowKey, ts: i64) {
        self.flows.insert(key, Flow::Ignored(ts));
        if let Some(marks) = &mut self.marks {
            marks.push(Mark {
                key,
                packet: self.packet,
                ts,
            });
        }
    }

    /// One TCP segment. Finished flows go to `out`.
    pub fn segment(
        &mut self,
        seg: &TcpSegment<'_>,
        ts: i64,
        packet: u64,
        out: &mut dyn FnMut(FinishedFlow),
    ) {
        self.now = ts;
        self.packet = packet;
        self.stats.tcp_segments += 1;
        self.place(seg, ts, packet, out);
        if sweep_due(self.last_sweep, ts) {
            self.sweep(ts, out);
        }
    }

    /// One TCP segment of which `missing` payload bytes were cut off by the capture's snapshot length
    /// (none: [`FlowTable::segment`]); in an RDP flow they are a capture gap.
    pub fn segment_cut(
        &mut self,
        seg: &TcpSegment<'_>,
        missing: u32,
        ts: i64,
        packet: u64,
        out: &mut dyn FnMut(FinishedFlow),
    ) {
        self.cut = (packet, missing);
        self.segment(seg, ts, packet, out);
        self.cut = (0, 0);
    }

    /// Counts a new flow by its server port.
    fn count_flow(&mut self, flow: &Flow) {
        if let Flow::Undecided(u) = flow {
            self.count_server_port(u.server.port());
        }
    }

    fn count_server_port(&mut self, port: u16) {
        self.stats.tcp_flows += 1;
        if self.server_ports.is_empty() {
            self.server_ports = vec![0; usize::from(u16::MAX) + 1];
        }
        if let Some(n) = self.server_ports.get_mut(usize::from(port)) {
            *n = n.saturating_add(1);
        }
    }

    /// The server ports most flows went to, busiest first (at most `n`).
    pub fn busiest_ports(&self, n: usize) -> Vec<(u16, u32)> {
        let mut ports: Vec<(u16, u32)> = (0..=u16::MAX)
            .zip(self.server_ports.iter().copied())
            .filter(|&(_, count)| count > 0)
            .collect();
        ports.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ports.truncate(n);
        ports
    }

    /// Payload bytes of packet `packet` the snapshot length cut off.
    fn missing(&self, packet: u64) -> u32 {
        if self.cut.0 == packet {
            self.cut.1
        } else {
            0
        }
    }

    /// Finds or opens the segment's flow and hands the segment to it.
    fn place(
        &mut self,
        seg: &TcpSegment<'_>,
        ts: i64,
        packet: u64,
        out: &mut dyn FnMut(FinishedFlow),
    ) {
        let key = FlowKey::of(seg.src, seg.dst);
        let syn = seg.flags.contains(TcpFlags::SYN);
        let ack = seg.flags.contains(TcpFlags::ACK);
        let flow = match self.flows.get_mut(&key) {
            Some(f) => f,
            None => {
                // A new flow: a SYN opens it; data may be a mid-stream pickup; anything else is ignored.
                let new = if syn && !ack {
                    // A scanner's SYN is counted, not tracked.
                    if self.scan.syn(seg.src.ip(), seg.dst.port(), ts) {
                        return;
                    }
                    self.scan.opened(seg.src.ip(), seg.dst.port(), ts);
                    Flow::opened_by(seg, ts, packet)
                } else if syn && ack && seg.payload.is_empty() && self.scan.answer(seg.dst.ip(), false)
                {
                    return;
                } else if !seg.payload.is_empty() || (syn && ack) {
                    let (client, server) = if syn
                        || starts_rdp(seg.payload, 0xD0)
                        || is_rdp_port(&self.opts.ports, seg.src.port())
                    {
                        (seg.dst, seg.src)
                    } else {
                        (seg.src, seg.dst)
                    };
                    Flow::Undecided(Box::new(Undecided::new(client, server, None, ts)))
                } else {
                    if seg.flags.contains(TcpFlags::RST) && seg.payload.is_empty() {
                        self.scan.answer(seg.dst.ip(), true);
                    }
                    return;
                };
                if self.flows.len() >= self.opts.max_flows {
                    self.make_room(out);
                }
                self.count_flow(&new);
                self.flows.entry(key).or_insert(new)
            }
        };
        match flow {
            // A new SYN on a finished or ignored 4-tuple is a new connection (ports are reused).
            Flow::Ignored(_) if syn && !ack => {
                if self.scan.syn(seg.src.ip(), seg.dst.port(), ts) {
                    return;
                }
                *flow = Flow::opened_by(seg, ts, packet);
                self.scan.opened(seg.src.ip(), seg.dst.port(), ts);
                self.count_server_port(seg.dst.port());
                self.undecided(key, seg, ts, packet, out);
            }
            // An ignored flow idle past the timeout is over, whether or not a sweep has run since: this
            // packet starts afresh (the same rule as the reader thread's IgnoredFilter).
            Flow::Ignored(last) if ts.saturating_sub(*last) > self.opts.idle_timeout_us => {
                self.flows.remove(&key);
                self.place(seg, ts, packet, out);
            }
            Flow::Ignored(last) => *last = ts,
            Flow::Undecided(_) => self.undecided(key, seg, ts, packet, out),
            Flow::Rdp(..) => self.rdp(key, seg, ts, packet, out),
        }
    }


    /// An ICMP unreachable quoting one of our flows.
    pub fn icmp(
        &mut self,
        icmp: &IcmpUnreachable,
        ts: i64,
        packet: u64,
        out: &mut dyn FnMut(FinishedFlow),
    ) {
        self.now = ts;
        self.packet = packet;
        let key = FlowKey::of(icmp.quoted_src, icmp.quoted_dst);
        let fact = TransportFact::IcmpUnreachable {
            icmp_type: icmp.icmp_type,
            code: icmp.code,
            reporter: icmp.reporter.to_string(),
        };
        match self.flows.get_mut(&key) {
            Some(Flow::Rdp(f, _)) => {
                f.session.on_transport(Timestamp(ts), Some(packet), fact);
                self.finish(key, false, out);
            }
            Some(Flow::Undecided(u)) if u.first_syn.is_some() => {
                let mut session = Session::new();
                start_session(&mut session, u.first_syn);
                session.on_transport(Timestamp(ts), Some(packet), fact);
                let flow = FinishedFlow::new(u.client, u.server, session.finish());
                if u.pending {
                    self.scan.settled(u.client.ip());
                }
                self.mark_ignored(key, ts);
                self.failed_attempt(flow, false, out);
            }
            _ => {}
        }
    }

    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

}


/// Idle flows are looked for at the first segment of each new second of capture time: a rule that only
/// needs the time of the segments that raise the capture's second, which the reader thread passes on as
/// ticks when it drops them (so the table sweeps at the same packets whatever was dropped).
pub fn sweep_due(last_sweep: i64, ts: i64) -> bool {
    ts.div_euclid(1_000_000) > last_sweep.div_euclid(1_000_000)
}

fn first_time(f: &Flow) -> i64 {
    match f {
        Flow::Undecided(u) if u.first_syn.is_some() => u.first_syn.map_or(0, |(t, _)| t),
        Flow::Rdp(r, _) => r.first_syn.map_or(0, |(t, _)| t),
        other => other.last_seen(),
    }
}

fn start_session(session: &mut Session, first_syn: Option<(i64, u64)>) {
    if let Some((t, p)) = first_syn {
        session.on_transport(Timestamp(t), Some(p), TransportFact::Syn);
    }
}

/// 3389, or a port given with `--port`.
pub fn is_rdp_port(ports: &[u16], port: u16) -> bool {
    port == RDP_PORT || ports.contains(&port)
}
