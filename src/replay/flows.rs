//! The flow table: every TCP connection in a capture, classified on a fast path (RDP or not, by content or
//! port), reassembled per direction and fed into its own [`Session`], then reported when it ends.
//! Bounded: limits on tracked flows and on bytes held per flow are named constants and options, and a hit
//! limit is reported, never silent.

use std::net::SocketAddr;

use super::packet::{IcmpUnreachable, TcpSegment};
use super::reasm::{Delivery, Reassembler};
use crate::session::{Direction, Observation, Session, Timestamp, TransportFact};

/// The default most flows tracked at once (RDP flows, undecided flows and markers of ignored ones).
pub const MAX_FLOWS: usize = 100_000;
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
}

/// Counters for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub tcp_segments: u64,
    pub rdp_flows: u64,
    pub ignored_flows: u64,
    /// Flows dropped or finished early because the table was full.
    pub evicted_for_limit: u64,
    /// Flows given up because [`MAX_HELD_SEGMENTS`] were held before their first bytes were known.
    pub held_limit_hits: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    pub conflicts: u64,
}

/// Both endpoints, in a canonical order so both directions find the same flow. Plain integers: hashed and
/// compared once per packet, so they are kept small and cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey(Endpoint, Endpoint);

/// One side of a flow: IPv4 addresses as IPv4-mapped IPv6 with `v6` false, so no IPv6 address aliases one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Endpoint {
    v6: bool,
    /// The address's high and low 64 bits (a `u128` would double the key's size by its alignment).
    ip: (u64, u64),
    port: u16,
}

impl Endpoint {
    /// The socket address back (IPv4 from its mapped form).
    fn addr(&self) -> SocketAddr {
        let ip = u128::from(self.ip.0) << 64 | u128::from(self.ip.1);
        let v6 = std::net::Ipv6Addr::from(ip);
        match v6.to_ipv4_mapped() {
            Some(v4) if !self.v6 => SocketAddr::from((v4, self.port)),
            _ => SocketAddr::from((v6, self.port)),
        }
    }

    fn of(a: SocketAddr) -> Self {
        match a {
            SocketAddr::V4(a) => Self {
                v6: false,
                ip: halves(u128::from(a.ip().to_ipv6_mapped())),
                port: a.port(),
            },
            SocketAddr::V6(a) => Self {
                v6: true,
                ip: halves(u128::from(*a.ip())),
                port: a.port(),
            },
        }
    }
}

fn halves(x: u128) -> (u64, u64) {
    let [h0, h1, h2, h3, h4, h5, h6, h7, l0, l1, l2, l3, l4, l5, l6, l7] = x.to_be_bytes();
    (
        u64::from_be_bytes([h0, h1, h2, h3, h4, h5, h6, h7]),
        u64::from_be_bytes([l0, l1, l2, l3, l4, l5, l6, l7]),
    )
}

impl FlowKey {
    /// The flow of a packet from `a` to `b` (or from `b` to `a`: the same flow).
    pub fn of(a: SocketAddr, b: SocketAddr) -> Self {
        let (a, b) = (Endpoint::of(a), Endpoint::of(b));
        if a <= b {
            Self(a, b)
        } else {
            Self(b, a)
        }
    }
}

#[derive(Debug)]
struct RdpFlow {
    client: SocketAddr,
    server: SocketAddr,
    session: Session,
    to_server: Reassembler,
    to_client: Reassembler,
    first_syn: Option<(i64, u64)>,
    connected: bool,
    fins: u8,
}

/// A segment of an undecided flow, kept to be fed to the flow once it is found to be RDP.
#[derive(Debug, Clone)]
struct HeldSegment {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    flags: super::packet::TcpFlags,
    payload: Vec<u8>,
    ts: i64,
    packet: u64,
}

impl HeldSegment {
    fn of(seg: &TcpSegment<'_>, ts: i64, packet: u64) -> Self {
        Self {
            src: seg.src,
            dst: seg.dst,
            seq: seg.seq,
            flags: seg.flags,
            payload: seg.payload.to_vec(),
            ts,
            packet,
        }
    }

    fn segment(&self) -> TcpSegment<'_> {
        TcpSegment {
            src: self.src,
            dst: self.dst,
            seq: self.seq,
            ack: 0,
            flags: self.flags,
            window: 0,
            payload: &self.payload,
        }
    }
}

/// The first bytes of the stream that starts at sequence number `start`, from the held segments sent by
/// `src`, as far as they are contiguous (at most [`SNIFF_BYTES`]).
fn stream_prefix(held: &[HeldSegment], src: SocketAddr, start: u32) -> Vec<u8> {
    let mut prefix = Vec::new();
    while prefix.len() < SNIFF_BYTES {
        let at = start.wrapping_add(u32::try_from(prefix.len()).unwrap_or(0));
        let more = held.iter().filter(|h| h.src == src).find_map(|h| {
            let skip = usize::try_from(at.wrapping_sub(h.seq)).ok()?;
            h.payload.get(skip..).filter(|rest| !rest.is_empty())
        });
        match more {
            Some(bytes) => {
                let want = SNIFF_BYTES - prefix.len();
                prefix.extend_from_slice(bytes.get(..want).unwrap_or(bytes));
            }
            None => break,
        }
    }
    prefix
}

/// A flow whose content has not decided yet (SYN seen, or data that may follow a proxy handshake).
#[derive(Debug)]
struct Undecided {
    client: SocketAddr,
    server: SocketAddr,
    first_syn: Option<(i64, u64)>,
    syns: u32,
    syn_ack: Option<(i64, u64)>,
    /// Initial sequence numbers from the SYN and the SYN/ACK, to start reassembly at the right place.
    isn: (Option<u32>, Option<u32>),
    sniffed: u32,
    /// Payload segments held until a stream's first bytes decide (tiny or out-of-order segments).
    held: Vec<HeldSegment>,
    last: i64,
}

impl Undecided {
    fn new(client: SocketAddr, server: SocketAddr, first_syn: Option<(i64, u64)>, ts: i64) -> Self {
        Self {
            client,
            server,
            first_syn,
            syns: 0,
            syn_ack: None,
            isn: (None, None),
            sniffed: 0,
            held: Vec::new(),
            last: ts,
        }
    }
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

/// Does this payload start with a TPKT + X.224 Connection Request (client) or Confirm (server)?
pub fn starts_rdp(payload: &[u8], code: u8) -> bool {
    matches!(payload, [3, 0, hi, lo, li, c, ..] if (u16::from(*hi) << 8 | u16::from(*lo)) >= 11 && *li >= 6 && c & 0xF0 == code)
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

    /// Finds or opens the segment's flow and hands the segment to it.
    fn place(
        &mut self,
        seg: &TcpSegment<'_>,
        ts: i64,
        packet: u64,
        out: &mut dyn FnMut(FinishedFlow),
    ) {
        let key = FlowKey::of(seg.src, seg.dst);
        let syn = seg.flags.contains(super::packet::TcpFlags::SYN);
        let ack = seg.flags.contains(super::packet::TcpFlags::ACK);
        let rst = seg.flags.contains(super::packet::TcpFlags::RST);
        let fin = seg.flags.contains(super::packet::TcpFlags::FIN);
        let flow = match self.flows.get_mut(&key) {
            Some(f) => f,
            None => {
                // A new flow: a SYN opens it; data may be a mid-stream pickup; anything else is ignored.
                let new = if syn && !ack {
                    Flow::opened_by(seg, ts, packet)
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
                    return;
                };
                if self.flows.len() >= self.opts.max_flows {
                    self.make_room(out);
                }
                self.flows.entry(key).or_insert(new)
            }
        };
        match flow {
            // A new SYN on a finished or ignored 4-tuple is a new connection (ports are reused).
            Flow::Ignored(_) if syn && !ack => {
                *flow = Flow::opened_by(seg, ts, packet);
                self.undecided(key, seg, ts, packet, (syn, ack, rst, fin), out);
            }
            // An ignored flow idle past the timeout is over, whether or not a sweep has run since: this
            // packet starts afresh (the same rule as the reader thread's IgnoredFilter).
            Flow::Ignored(last) if ts.saturating_sub(*last) > self.opts.idle_timeout_us => {
                self.flows.remove(&key);
                self.place(seg, ts, packet, out);
            }
            Flow::Ignored(last) => *last = ts,
            Flow::Undecided(_) => self.undecided(key, seg, ts, packet, (syn, ack, rst, fin), out),
            Flow::Rdp(..) => self.rdp(key, seg, ts, packet, (syn, rst, fin), out),
        }
    }

    fn undecided(
        &mut self,
        key: FlowKey,
        seg: &TcpSegment<'_>,
        ts: i64,
        packet: u64,
        (syn, ack, rst, fin): (bool, bool, bool, bool),
        out: &mut dyn FnMut(FinishedFlow),
    ) {
        let Some(Flow::Undecided(undecided)) = self.flows.remove(&key) else {
            return;
        };
        let Undecided {
            client,
            server,
            mut first_syn,
            mut syns,
            mut syn_ack,
            mut isn,
            mut sniffed,
            mut held,
            ..
        } = *undecided;
        let from_client = seg.src == client;
        let known_port = is_rdp_port(&self.opts.ports, server.port());
        let keep = |first_syn, syns, syn_ack, isn, sniffed, held| {
            Flow::Undecided(Box::new(Undecided {
                client,
                server,
                first_syn,
                syns,
                syn_ack,
                isn,
                sniffed,
                held,
                last: ts,
            }))
        };
        if syn && !ack && from_client {
            syns += 1;
            first_syn.get_or_insert((ts, packet));
            isn.0.get_or_insert(seg.seq);
            self.flows
                .insert(key, keep(first_syn, syns, syn_ack, isn, sniffed, held));
            return;
        }
        if syn && ack && !from_client {
            syn_ack.get_or_insert((ts, packet));
            isn.1.get_or_insert(seg.seq);
            self.flows
                .insert(key, keep(first_syn, syns, syn_ack, isn, sniffed, held));
            return;
        }
        if rst && !from_client && syn_ack.is_none() && seg.payload.is_empty() && first_syn.is_some()
        {
            // RST in answer to the SYN: refused. Worth a report only where RDP was expected.
            self.mark_ignored(key, ts);
            if known_port {
                let mut session = Session::new();
                start_session(&mut session, first_syn);
                session.on_transport(Timestamp(ts), Some(packet), TransportFact::Refused);
                self.stats.rdp_flows += 1;
                out(FinishedFlow {
                    client,
                    server,
                    observation: session.finish(),
                });
            } else {
                self.stats.ignored_flows += 1;
            }
            return;
        }
        if seg.payload.is_empty() {
            // A FIN or RST behind held segments belongs with them, should the flow turn out to be RDP.
            if !held.is_empty() && (fin || rst) && held.len() < MAX_HELD_SEGMENTS {
                held.push(HeldSegment::of(seg, ts, packet));
            }
            self.flows
                .insert(key, keep(first_syn, syns, syn_ack, isn, sniffed, held));
            return;
        }
        // With the stream's start known (its SYN seen) and no proxy handshake, the stream's first bytes
        // decide, whatever segments they came in and in whatever order; otherwise this segment does.
        let stream_start = if from_client { isn.0 } else { isn.1 };
        let first_bytes = match stream_start {
            Some(start) if sniffed == 0 => {
                held.push(HeldSegment::of(seg, ts, packet));
                let prefix = stream_prefix(&held, seg.src, start.wrapping_add(1));
                if prefix.len() < SNIFF_BYTES && !known_port {
                    if held.len() < MAX_HELD_SEGMENTS {
                        self.flows
                            .insert(key, keep(first_syn, syns, syn_ack, isn, sniffed, held));
                    } else {
                        // Never silent (invariant 5): a flow given up for this limit is said in the summary.
                        self.mark_ignored(key, ts);
                        self.stats.ignored_flows += 1;
                        self.stats.held_limit_hits += 1;
                    }
                    return;
                }
                prefix
            }
            _ => seg.payload.to_vec(),
        };
        let is_rdp = known_port
            || if from_client {
                starts_rdp(&first_bytes, 0xE0)
            } else {
                starts_rdp(&first_bytes, 0xD0)
            };
        if !is_rdp {
            // A proxy handshake (SOCKS 4/5, HTTP CONNECT) may come first: search a few more client segments.
            // The RDP stream then starts at the segment that starts it: nothing held is needed.
            held.clear();
            let proxied = sniffed > 0 || (from_client && looks_like_proxy_handshake(&first_bytes));
            if from_client && proxied {
                sniffed += 1;
            }
            if proxied && sniffed < MAX_SNIFF_SEGMENTS {
                self.flows
                    .insert(key, keep(first_syn, syns, syn_ack, isn, sniffed, held));
            } else {
                self.mark_ignored(key, ts);
                self.stats.ignored_flows += 1;
            }
            return;
        }
        if self.rdp_active >= self.opts.max_rdp_flows {
            self.stats.evicted_for_limit += 1;
            self.note(format!("more than {} RDP connections were being set up at once: later ones were not analysed (--max-rdp-flows)", self.opts.max_rdp_flows));
            self.mark_ignored(key, ts);
            return;
        }
        // This flow is RDP: its session starts with what the TCP handshake showed.
        let mut session = Session::new();
        start_session(&mut session, first_syn);
        if let Some((t, p)) = syn_ack {
            session.on_transport(Timestamp(t), Some(p), TransportFact::Connected);
        }
        let mut to_server = Reassembler::with_limit(self.opts.max_buffered_bytes);
        let mut to_client = Reassembler::with_limit(self.opts.max_buffered_bytes);
        // Start both streams at their SYNs, so data that overtook a segment is not taken for a fresh start;
        // behind a proxy handshake the RDP stream starts here instead.
        if sniffed == 0 {
            let mut nothing = |_: Delivery<'_>| {};
            if let (Some(seq), Some((t, p))) = (isn.0, first_syn) {
                to_server.segment(seq, true, false, &[], p, t, &mut nothing);
            }
            if let (Some(seq), Some((t, p))) = (isn.1, syn_ack) {
                to_client.segment(seq, true, false, &[], p, t, &mut nothing);
            }
        }
        let flow = RdpFlow {
            client,
            server,
            session,
            to_server,
            to_client,
            first_syn,
            connected: syn_ack.is_some() || first_syn.is_none(),
            fins: 0,
        };
        self.flows.insert(key, Flow::Rdp(Box::new(flow), ts));
        self.rdp_active += 1;
        self.stats.rdp_flows += 1;
        if held.is_empty() {
            self.rdp(key, seg, ts, packet, (syn, rst, fin), out);
            return;
        }
        // The held segments (and this one, last) go through the flow as if it had been RDP from the start.
        if held.last().is_none_or(|h| h.packet != packet) {
            held.push(HeldSegment::of(seg, ts, packet));
        }
        for h in &held {
            let f = h.flags;
            let flags = (
                f.contains(super::packet::TcpFlags::SYN),
                f.contains(super::packet::TcpFlags::RST),
                f.contains(super::packet::TcpFlags::FIN),
            );
            if matches!(self.flows.get(&key), Some(Flow::Rdp(..))) {
                self.rdp(key, &h.segment(), h.ts, h.packet, flags, out);
            }
        }
    }

    fn rdp(
        &mut self,
        key: FlowKey,
        seg: &TcpSegment<'_>,
        ts: i64,
        packet: u64,
        (syn, rst, fin): (bool, bool, bool),
        out: &mut dyn FnMut(FinishedFlow),
    ) {
        let Some(Flow::Rdp(flow, last)) = self.flows.get_mut(&key) else {
            return;
        };
        *last = ts;
        let dir = if seg.src == flow.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        if syn && dir == Direction::ServerToClient && !flow.connected {
            flow.connected = true;
            flow.session
                .on_transport(Timestamp(ts), Some(packet), TransportFact::Connected);
        }
        let stats = &mut self.stats;
        let RdpFlow {
            session,
            to_server,
            to_client,
            fins,
            ..
        } = &mut **flow;
        let (reasm, other) = match dir {
            Direction::ClientToServer => (to_server, to_client),
            Direction::ServerToClient => (to_client, to_server),
        };
        let mut fin_seen = false;
        {
            let mut deliver = |d: Delivery<'_>| deliver_to(session, stats, dir, &mut fin_seen, d);
            reasm.segment(seg.seq, syn, fin, seg.payload, packet, ts, &mut deliver);
            if rst {
                reasm.flush(packet, ts, &mut deliver);
            }
        }
        if rst {
            // The connection is over: what the other side sent behind a hole is delivered after a gap
            // for the hole, not dropped unseen.
            let mut other_fin = false;
            other.flush(packet, ts, &mut |d| {
                deliver_to(session, stats, dir.other(), &mut other_fin, d)
            });
        }
        if rst {
            session.on_transport(Timestamp(ts), Some(packet), TransportFact::Rst(dir));
        }
        if fin_seen {
            *fins += 1;
        }
        if rst || *fins >= 2 || session.is_established() {
            self.finish(key, false, out);
        }
    }

    /// Reports a flow and leaves a marker so its later packets are dropped.
    fn finish(&mut self, key: FlowKey, capture_end: bool, out: &mut dyn FnMut(FinishedFlow)) {
        let now = self.now;
        // At the capture's end, and for idle or evicted flows, the marker is removed right after.
        let Some(flow) = self.flows.remove(&key) else {
            return;
        };
        if capture_end {
            self.flows.insert(key, Flow::Ignored(now));
        } else {
            self.mark_ignored(key, now);
        }
        match flow {
            Flow::Rdp(mut f, _) => {
                self.rdp_active = self.rdp_active.saturating_sub(1);
                if capture_end && !f.session.is_established() {
                    let stats = &mut self.stats;
                    let mut ignored = false;
                    let RdpFlow {
                        session,
                        to_server,
                        to_client,
                        ..
                    } = &mut *f;
                    to_server.flush(0, now, &mut |d| {
                        deliver_to(session, stats, Direction::ClientToServer, &mut ignored, d)
                    });
                    to_client.flush(0, now, &mut |d| {
                        deliver_to(session, stats, Direction::ServerToClient, &mut ignored, d)
                    });
                    session.on_transport(Timestamp(now), None, TransportFact::CaptureEnd);
                }
                out(FinishedFlow {
                    client: f.client,
                    server: f.server,
                    observation: f.session.finish(),
                });
            }
            Flow::Undecided(u)
                if u.syn_ack.is_none()
                    && u.first_syn.is_some()
                    && is_rdp_port(&self.opts.ports, u.server.port()) =>
            {
                let Undecided {
                    client,
                    server,
                    first_syn: Some(fs),
                    syns,
                    ..
                } = *u
                else {
                    return;
                };
                // Only SYNs: filtered when the capture went on long enough after the first, else unknown.
                let mut session = Session::new();
                start_session(&mut session, Some(fs));
                let waited = now.saturating_sub(fs.0);
                if waited >= self.opts.syn_timeout_us {
                    session.on_transport(
                        Timestamp(now),
                        None,
                        TransportFact::NoAnswer {
                            syns: syns.max(1),
                            waited_us: waited,
                        },
                    );
                } else {
                    session.on_transport(Timestamp(now), None, TransportFact::CaptureEnd);
                }
                self.stats.rdp_flows += 1;
                out(FinishedFlow {
                    client,
                    server,
                    observation: session.finish(),
                });
            }
            _ => {}
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
            Some(Flow::Undecided(u)) if is_rdp_port(&self.opts.ports, u.server.port()) => {
                let mut session = Session::new();
                start_session(&mut session, u.first_syn);
                session.on_transport(Timestamp(ts), Some(packet), fact);
                self.stats.rdp_flows += 1;
                out(FinishedFlow {
                    client: u.client,
                    server: u.server,
                    observation: session.finish(),
                });
                self.mark_ignored(key, ts);
            }
            _ => {}
        }
    }

    /// Finishes flows idle for too long.
    fn sweep(&mut self, now: i64, out: &mut dyn FnMut(FinishedFlow)) {
        self.last_sweep = now;
        let idle = self.opts.idle_timeout_us;
        // In the order they started, as at the end: the table's own order is its hasher's, random per run.
        let mut stale: Vec<(i64, FlowKey)> = self
            .flows
            .iter()
            .filter(|(_, f)| now.saturating_sub(f.last_seen()) > idle)
            .map(|(k, f)| (first_time(f), *k))
            .collect();
        stale.sort_unstable();
        for (_, key) in stale {
            self.finish(key, true, out);
            self.flows.remove(&key);
        }
    }

    /// The table is full: drop ignored markers first, then the oldest flows (reported, with a note).
    fn make_room(&mut self, out: &mut dyn FnMut(FinishedFlow)) {
        self.flows.retain(|_, f| !matches!(f, Flow::Ignored(_)));
        if self.flows.len() >= self.opts.max_flows {
            let mut by_age: Vec<(i64, FlowKey)> = self
                .flows
                .iter()
                .map(|(k, f)| (f.last_seen(), *k))
                .collect();
            by_age.sort_unstable();
            let drop = by_age.len() / 4 + 1;
            for (_, key) in by_age.into_iter().take(drop) {
                self.finish(key, true, out);
                self.flows.remove(&key);
                self.stats.evicted_for_limit += 1;
            }
            self.note(format!(
                "more than {} flows at once: the oldest were finished early (--max-flows)",
                self.opts.max_flows
            ));
        }
    }

    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// Time passes without packets for the table (a quiet live capture, or segments the reader thread
    /// dropped): flows idle for too long are finished.
    pub fn tick(&mut self, now: i64, out: &mut dyn FnMut(FinishedFlow)) {
        self.now = now.max(self.now);
        if sweep_due(self.last_sweep, now) {
            self.sweep(now, out);
        }
    }

    /// End of the capture: every open flow is finished.
    pub fn end(&mut self, ts: i64, out: &mut dyn FnMut(FinishedFlow)) {
        self.now = ts.max(self.now);
        let mut keys_sorted: Vec<(i64, FlowKey)> = self
            .flows
            .iter()
            .map(|(k, f)| (first_time(f), *k))
            .collect();
        keys_sorted.sort_unstable();
        for (_, key) in keys_sorted {
            self.finish(key, true, out);
        }
        self.flows.clear();
    }
}

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
            (SocketAddr::V4(a), SocketAddr::V4(b)) => {
                let pack = |e: std::net::SocketAddrV4| {
                    u64::from(u32::from(*e.ip())) << 16 | u64::from(e.port())
                };
                let (x, y) = (pack(a), pack(b));
                let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
                Self::V4(u128::from(lo) << 64 | u128::from(hi))
            }
            _ => Self::Other(FlowKey::of(a, b)),
        }
    }

    fn of_flow(key: &FlowKey) -> Self {
        Self::of(key.0.addr(), key.1.addr())
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
        let new_second = sweep_due(self.last_ts, ts);
        self.last_ts = self.last_ts.max(ts);
        if self.wants(seg, ts, packet) {
            Sorted::Needed
        } else if new_second {
            Sorted::Tick
        } else {
            Sorted::Dropped
        }
    }

    /// Whether the table needs this segment.
    fn wants(&mut self, seg: &TcpSegment<'_>, ts: i64, packet: u64) -> bool {
        let key = FilterKey::of(seg.src, seg.dst);
        let flags = seg.flags;
        if flags.contains(super::packet::TcpFlags::SYN)
            && !flags.contains(super::packet::TcpFlags::ACK)
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

/// The first bytes a client sends to a SOCKS 4/5 or HTTP proxy before the tunnelled protocol.
fn looks_like_proxy_handshake(p: &[u8]) -> bool {
    matches!(p.first(), Some(4 | 5)) || p.starts_with(b"CONNECT ")
}

fn deliver_to(
    session: &mut Session,
    stats: &mut FlowStats,
    dir: Direction,
    fin_seen: &mut bool,
    d: Delivery<'_>,
) {
    match d {
        Delivery::Data {
            bytes,
            packet,
            ts_us,
        } => session.on_bytes(Timestamp(ts_us), dir, Some(packet), bytes),
        Delivery::Gap {
            bytes,
            packet,
            ts_us,
        } => {
            stats.gaps += 1;
            stats.gap_bytes += bytes;
            session.on_transport(
                Timestamp(ts_us),
                Some(packet),
                TransportFact::Gap { dir, bytes },
            );
        }
        Delivery::Conflict { .. } => stats.conflicts += 1,
        Delivery::Fin { packet, ts_us } => {
            *fin_seen = true;
            session.on_transport(Timestamp(ts_us), Some(packet), TransportFact::Fin(dir));
        }
    }
}

#[cfg(test)]
mod filter_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::replay::packet::TcpFlags;

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
