//! From libpcap's packets to reports, in two halves: the [`Reader`] decodes frames and drops the packets
//! of flows already known to be ignored; the [`Analysis`] runs the flow table (reassembly, sessions) and
//! the diagnosis. A file is read on a thread of its own, a batch or a few ahead of the analysis; standard
//! input and a live interface are read and analysed on one thread, packet by packet. Either way the analysis sees the same
//! packets in the same order with the same numbers, so the reports are the same.

use std::ops::Range;
use std::sync::mpsc;
use std::time::Instant;

use super::flows::{is_rdp_port, FinishedFlow, FlowTable, IgnoredFilter, Mark, Sorted};
use super::cut::cut_tcp;
use super::packet::{
    peek_tcp4, Decoded, Decoder, IcmpUnreachable, LinkType, TcpFlags, TcpSegment,
};
use super::udp::UdpTransports;
use super::file::{FileError, FileReader, Next, Skip};
use super::{now_us, report_flow, ts_us, Progress, ReplayError, ReplayOptions, ReplayStats};
use crate::report::ConnectionReport;

/// A batch is handed over when it holds this many payload bytes or [`BATCH_ITEMS`] packets.
pub const BATCH_BYTES: usize = 256 * 1024;
pub const BATCH_ITEMS: usize = 1024;
/// Batches in flight from the reader to the analysis: the read-ahead is bounded by about this many times
/// [`BATCH_BYTES`] (plus one packet).
pub const BATCHES_IN_FLIGHT: usize = 4;

/// A packet the analysis needs, decoded.
#[derive(Debug, Clone)]
enum Item {
    Tcp {
        src: std::net::SocketAddr,
        dst: std::net::SocketAddr,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        window: u16,
        /// Where its payload sits in the batch's bytes.
        payload: Range<usize>,
        /// Payload bytes the capture's snapshot length cut off.
        missing: u32,
    },
    Icmp(IcmpUnreachable),
    /// A segment dropped by the filter that starts a new second of capture time: the table's clock.
    Tick,
}

/// Decoded packets with their payloads back to back; each with its time and packet number.
#[derive(Debug, Default)]
pub(super) struct Batch {
    data: Vec<u8>,
    items: Vec<(Item, i64, u64)>,
    /// How reading ended after these packets, if it did.
    end: Option<Option<ReplayError>>,
}

impl Batch {
    fn full(&self) -> bool {
        self.data.len() >= BATCH_BYTES || self.items.len() >= BATCH_ITEMS
    }

    fn clear(&mut self) {
        self.data.clear();
        self.items.clear();
        self.end = None;
    }

    fn push_tcp(&mut self, seg: &TcpSegment<'_>, missing: u32, ts: i64, packet: u64) {
        let start = self.data.len();
        self.data.extend_from_slice(seg.payload);
        let item = Item::Tcp {
            src: seg.src,
            dst: seg.dst,
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags,
            window: seg.window,
            payload: start..self.data.len(),
            missing,
        };
        self.items.push((item, ts, packet));
    }
}

/// What the analysis tells the reader after each batch: flows it marked ignored, the last packet it
/// handled, and the batch back for reuse.
struct Feedback {
    marks: Vec<Mark>,
    handled: u64,
    spare: Batch,
}

/// The decoding half: counts and numbers packets, decodes them, filters ignored flows' packets out.
pub(super) struct Reader {
    source_name: String,
    /// The link type of a live capture (a file's packets each bring theirs).
    link: Option<LinkType>,
    decoder: Decoder,
    /// Only when reading ahead on a thread of its own (a file).
    filter: Option<IgnoredFilter>,
    progress: Progress,
    pub stats: ReplayStats,
    pub last_ts: i64,
    /// RDP's UDP transport, listed in the notes.
    udp: UdpTransports,
    /// Ports treated as RDP besides 3389 (`--port`).
    rdp_ports: Vec<u16>,
}

impl Reader {
    pub fn new(
        source_name: &str,
        link: Option<LinkType>,
        progress: Progress,
        rdp_ports: Vec<u16>,
    ) -> Self {
        Self {
            source_name: source_name.to_string(),
            link,
            decoder: Decoder::new(),
            filter: None,
            progress,
            stats: ReplayStats::default(),
            last_ts: 0,
            udp: UdpTransports::default(),
            rdp_ports,
        }
    }

    /// One captured packet (`wire_len` bytes long on the wire), numbered in capture order from 1; what
    /// the analysis needs goes to `batch`.
    fn packet(
        &mut self,
        ts: i64,
        data: &[u8],
        wire_len: u32,
        link: Result<LinkType, Skip>,
        batch: &mut Batch,
    ) {
        self.stats.packets += 1;
        let cut = usize::try_from(wire_len).is_ok_and(|w| w > data.len());
        if cut {
            self.stats.cut_packets += 1;
            let kept = u32::try_from(data.len()).unwrap_or(u32::MAX);
            self.stats.snaplen = Some(self.stats.snaplen.map_or(kept, |s| s.max(kept)));
        }
        self.stats.bytes += u64::try_from(data.len()).unwrap_or(u64::MAX);
        self.last_ts = self.last_ts.max(ts);
        let number = self.stats.packets;
        if number % 65_536 == 0 {
            self.progress
                .set(self.stats.bytes + 16 * self.stats.packets + 24);
        }
        let link = match link {
            Ok(link) => link,
            Err(Skip::Unsupported) => {
                self.stats.unsupported_link += 1;
                return;
            }
            Err(Skip::Filtered) => return,
        };
        // Most packets of a file belong to flows the table already ignores: a peek at an IPv4 TCP
        // frame's endpoints and flags is enough to drop them, without decoding it.
        let mut sorted = None;
        if let Some(filter) = &mut self.filter {
            if let Some(peek) = peek_tcp4(link, data) {
                match filter.sort_peeked(&peek, ts, number) {
                    Sorted::Needed => sorted = Some(Sorted::Needed),
                    dropped => {
                        self.decoder.expire(ts);
                        if dropped == Sorted::Tick {
                            batch.items.push((Item::Tick, ts, number));
                        }
                        return;
                    }
                }
            }
        }
        let decoded = match self.decoder.decode(link, data, ts) {
            // Cut inside the IP packet: its headers still place the segment, and the bytes the capture
            // did not keep become a gap in its flow.
            Err(_) if cut => match cut_tcp(link, data) {
                Some(c) => Ok((Decoded::Tcp(c.segment), c.missing)),
                None => {
                    self.stats.cut_undecodable += 1;
                    return;
                }
            },
            other => other.map(|d| (d, 0)),
        };
        match decoded {
            Ok((Decoded::Tcp(seg), missing)) => {
                let sorted =
                    sorted.or_else(|| self.filter.as_mut().map(|f| f.sort(&seg, ts, number)));
                match sorted.unwrap_or(Sorted::Needed) {
                    Sorted::Needed => batch.push_tcp(&seg, missing, ts, number),
                    Sorted::Tick => batch.items.push((Item::Tick, ts, number)),
                    Sorted::Dropped => {}
                }
            }
            Ok((Decoded::IcmpUnreachable(icmp), _)) => batch.items.push((Item::Icmp(icmp), ts, number)),
            Ok((Decoded::Udp(d), _)) => {
                let ports = &self.rdp_ports;
                self.udp.datagram(&d, number, |p| is_rdp_port(ports, p));
            }
            Ok(_) => {}
            Err(e) => {
                self.stats.undecodable += 1;
                if self.stats.first_undecodable.is_none() {
                    self.stats.first_undecodable = Some(format!("packet {number}: {e}"));
                }
            }
        }
    }

    fn read_error(&self, message: String) -> ReplayError {
        ReplayError::Read {
            source_name: self.source_name.clone(),
            packet: self.stats.packets + 1,
            message,
        }
    }

    /// The counters and notes for the summary, with the flow table's.
    pub fn summarise(mut self, table: &FlowTable) -> ReplayStats {
        let mut stats = std::mem::take(&mut self.stats);
        stats.flows = table.stats.clone();
        stats.flows.tcp_segments += self.filter.as_ref().map_or(0, |f| f.dropped);
        stats.notes = table.notes.clone();
        stats.busiest_ports = table.busiest_ports(5);
        stats
            .notes
            .extend(table.scan.scanners.iter().map(|s| s.describe()));
        let d = self.decoder.stats();
        if d.sets_dropped_for_limit > 0 || d.fragments_dropped_for_limit > 0 || d.sets_expired > 0 {
            stats.notes.push(format!(
                "IP fragments: {} datagrams reassembled, {} incomplete sets expired, {} sets and {} fragments dropped at the limits",
                d.datagrams_reassembled, d.sets_expired, d.sets_dropped_for_limit, d.fragments_dropped_for_limit
            ));
        }
        if stats.flows.held_limit_hits > 0 {
            stats.notes.push(format!(
                "{} flows held {} segments without {} in-order bytes from their start and were not classified (lost or reordered segments at the start)",
                stats.flows.held_limit_hits,
                super::flows::MAX_HELD_SEGMENTS,
                super::flows::SNIFF_BYTES
            ));
        }
        if stats.flows.gaps > 0 {
            stats.notes.push(format!(
                "{} capture gaps ({} bytes missing) in RDP connections",
                stats.flows.gaps, stats.flows.gap_bytes
            ));
        }
        stats.notes.extend(self.udp.notes());
        if stats.undecodable > 0 {
            stats.notes.push(format!(
                "{} packets could not be decoded; first: {}",
                stats.undecodable,
                stats.first_undecodable.clone().unwrap_or_default()
            ));
        }
        stats
    }
}

/// What one read gave.
pub(super) enum Read {
    Packet,
    /// Nothing waiting (a live capture).
    Idle,
    End,
    Failed(ReplayError),
}

/// Where packets come from: libpcap (a live interface) or a capture file.
pub(super) trait Packets: Send {
    /// Reads one packet and hands it to `reader`, which puts what the analysis needs in `batch`.
    fn read_into(&mut self, reader: &mut Reader, batch: &mut Batch) -> Read;
}

impl<T: pcap::Activated + ?Sized> Packets for pcap::Capture<T> {
    fn read_into(&mut self, reader: &mut Reader, batch: &mut Batch) -> Read {
        match self.next_packet() {
            Ok(p) => {
                let link = reader.link.ok_or(Skip::Unsupported);
                reader.packet(ts_us(p.header), p.data, p.header.len, link, batch);
                Read::Packet
            }
            Err(pcap::Error::NoMorePackets) => Read::End,
            Err(pcap::Error::TimeoutExpired) => Read::Idle,
            Err(e) => Read::Failed(reader.read_error(e.to_string())),
        }
    }
}

impl Packets for FileReader {
    fn read_into(&mut self, reader: &mut Reader, batch: &mut Batch) -> Read {
        match self.next() {
            Next::Packet(p) => {
                reader.packet(p.ts_us, p.data, p.wire_len, p.link, batch);
                Read::Packet
            }
            Next::End => Read::End,
            Next::Failed(FileError::Read(message)) => Read::Failed(reader.read_error(message)),
            Next::Failed(FileError::Filter(message)) => Read::Failed(ReplayError::Filter {
                source_name: reader.source_name.clone(),
                filter: self.filter().unwrap_or_default().to_string(),
                message,
            }),
            Next::Failed(FileError::LinkType(dlt, name)) => Read::Failed(ReplayError::LinkType {
                source_name: reader.source_name.clone(),
                dlt,
                name,
            }),
        }
    }
}

/// Reads a file to its end on the reader's thread, a batch at a time; learns the marks the analysis sends
/// back before starting each batch. Stops early when the analysis hangs up.
fn read_ahead<P: Packets + ?Sized>(
    reader: &mut Reader,
    packets: &mut P,
    to_analysis: &mpsc::SyncSender<Batch>,
    feedback: &mpsc::Receiver<Feedback>,
) {
    let mut spares: Vec<Batch> = Vec::new();
    let mut batch = Batch::default();
    loop {
        match packets.read_into(reader, &mut batch) {
            Read::Packet | Read::Idle => {
                if !batch.full() {
                    continue;
                }
            }
            Read::End => batch.end = Some(None),
            Read::Failed(e) => batch.end = Some(Some(e)),
        }
        let done = batch.end.is_some();
        if to_analysis.send(std::mem::take(&mut batch)).is_err() || done {
            return;
        }
        while let Ok(back) = feedback.try_recv() {
            if let Some(filter) = &mut reader.filter {
                filter.learn(&back.marks, back.handled);
            }
            if spares.len() < BATCHES_IN_FLIGHT {
                spares.push(back.spare);
            }
        }
        batch = spares.pop().unwrap_or_default();
    }
}

/// The analysing half: the flow table, and the sink its finished flows go to.
pub(super) struct Analysis<'a> {
    pub name: &'a str,
    pub opts: &'a ReplayOptions,
    pub table: FlowTable,
    pub reported: u64,
    pub stop: bool,
    pub sink: &'a mut dyn FnMut(ConnectionReport) -> bool,
}

impl Analysis<'_> {
    /// Reads a file (or standard input) to its end: libpcap and the decoding on a thread of their own, a
    /// few batches ahead, while this one analyses.
    pub fn file<P: Packets + ?Sized>(
        &mut self,
        reader: &mut Reader,
        packets: &mut P,
    ) -> Option<ReplayError> {
        reader.filter = Some(IgnoredFilter::new(&self.opts.flows));
        self.table.keep_marks();
        let (to_analysis, batches) = mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT);
        let (to_reader, feedback) = mpsc::channel::<Feedback>();
        std::thread::scope(|scope| {
            let spawned = std::thread::Builder::new()
                .name("pcap-reader".into())
                .spawn_scoped(scope, move || {
                    read_ahead(reader, packets, &to_analysis, &feedback)
                });
            if let Err(e) = spawned {
                return Some(ReplayError::Read {
                    source_name: self.name.to_string(),
                    packet: 1,
                    message: format!("cannot start the reader thread: {e}"),
                });
            }
            let mut error = None;
            for mut batch in batches.iter() {
                self.batch(&batch);
                if let Some(end) = batch.end.take() {
                    error = end;
                    break;
                }
                if self.stop || self.opts.control.stopped() {
                    break;
                }
                let handled = batch.items.last().map_or(0, |(_, _, n)| *n);
                let marks = self.table.take_marks();
                batch.clear();
                // The reader may be gone already; then nothing needs telling.
                let _ = to_reader.send(Feedback {
                    marks,
                    handled,
                    spare: batch,
                });
            }
            // Hanging up stops the reader at its next hand-over.
            drop(batches);
            error
        })
    }

    /// On this thread, each packet analysed as soon as it is read: a live interface (idle flows are then
    /// finished on the wall clock when it is quiet, and `--for` ends it) or standard input.
    pub fn packet_by_packet<P: Packets + ?Sized>(
        &mut self,
        reader: &mut Reader,
        packets: &mut P,
    ) -> Option<ReplayError> {
        let started = Instant::now();
        let mut batch = Batch::default();
        while !self.stop && !self.opts.control.stopped() {
            if self.opts.duration.is_some_and(|d| started.elapsed() >= d) {
                break;
            }
            match packets.read_into(reader, &mut batch) {
                Read::Packet => {
                    self.batch(&batch);
                    batch.clear();
                }
                Read::End => break,
                Read::Idle => {
                    // Nothing to read without blocking: wait a little, then let idle flows finish.
                    std::thread::sleep(super::LIVE_POLL);
                    let (table, mut emit) = self.split();
                    table.tick(now_us(), &mut |f| emit.flow(f));
                }
                Read::Failed(e) => return Some(e),
            }
        }
        None
    }

    /// Hands every packet of a batch to the flow table, until the sink says stop.
    fn batch(&mut self, batch: &Batch) {
        let (table, mut emit) = self.split();
        for (item, ts, number) in &batch.items {
            if *emit.stop {
                break;
            }
            match item {
                Item::Tcp {
                    src,
                    dst,
                    seq,
                    ack,
                    flags,
                    window,
                    payload,
                    missing,
                } => {
                    let seg = TcpSegment {
                        src: *src,
                        dst: *dst,
                        seq: *seq,
                        ack: *ack,
                        flags: *flags,
                        window: *window,
                        payload: batch.data.get(payload.clone()).unwrap_or_default(),
                    };
                    table.segment_cut(&seg, *missing, *ts, *number, &mut |f| emit.flow(f));
                }
                Item::Icmp(icmp) => table.icmp(icmp, *ts, *number, &mut |f| emit.flow(f)),
                Item::Tick => table.tick(*ts, &mut |f| emit.flow(f)),
            }
        }
    }

    /// The end of the source: every flow still open is finished.
    pub fn end(&mut self, end: i64) {
        let (table, mut emit) = self.split();
        table.end(end, &mut |f| emit.flow(f));
    }

    /// The flow table, and where the flows it finishes go.
    fn split(&mut self) -> (&mut FlowTable, Emit<'_, '_>) {
        let emit = Emit {
            name: self.name,
            opts: self.opts,
            reported: &mut self.reported,
            stop: &mut self.stop,
            sink: &mut *self.sink,
        };
        (&mut self.table, emit)
    }
}

/// Where finished flows go: diagnosed, reported to the sink, counted against `--count`.
struct Emit<'a, 'b> {
    name: &'a str,
    opts: &'a ReplayOptions,
    reported: &'b mut u64,
    stop: &'b mut bool,
    sink: &'b mut dyn FnMut(ConnectionReport) -> bool,
}

impl Emit<'_, '_> {
    fn flow(&mut self, flow: FinishedFlow) {
        *self.reported += 1;
        if !(self.sink)(report_flow(self.name, flow, self.opts.warn_days))
            || self
                .opts
                .max_connections
                .is_some_and(|m| *self.reported >= m)
        {
            *self.stop = true;
        }
    }
}
