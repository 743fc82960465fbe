//! The session observer: one per connection, fed both directions' bytes and the transport facts by a
//! driver (probe or replay), turning them into a [`Timeline`] of stages. Pure: it does no I/O and reads no
//! clock; every input carries its time. Unexpected input becomes a timeline entry, never a panic.

pub mod phase;
mod standard;
pub mod timeline;
mod tls;
mod tpkt_stream;

use phase::{next, Phase, Signal};
pub use standard::{
    license_msg_name, DEMAND_ACTIVE_MIN_BYTES, MAX_STANDARD_PDUS, STANDARD_FOLLOW_US,
};
pub use timeline::{
    CertEntry, CertSource, ConnectError, Direction, Entry, Event, StandardPdu, Stage, Timeline, Timestamp,
};
pub use tpkt_stream::cert_entry;

use crate::wire::tls::{looks_like_sslv2_hello, looks_like_tls_record};

/// The most bytes buffered per direction while waiting for a PDU to complete: one TPKT packet (65535) or
/// one over-long TLS record (5 + 65535), with room to spare.
pub const MAX_PDU_BYTES: usize = 70_000;
/// The most bytes of one TLS handshake message kept while it is reassembled across records.
pub const MAX_HANDSHAKE_MESSAGE_BYTES: usize = 256 * 1024;
/// How many of a foreign side's first bytes a `NotRdp` entry shows.
pub const FOREIGN_BYTES_KEPT: usize = 16;
/// The most timeline entries kept for one connection; later events are counted, not recorded.
pub const MAX_ENTRIES: usize = 1024;

/// A transport fact the driver knows and the bytes cannot tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportFact {
    /// The client's SYN (replay), or the start of a connect (probe).
    Syn,
    /// The connection is up (SYN/ACK, or `connect()` returned).
    Connected,
    /// RST in answer to the SYN.
    Refused,
    /// The SYN got no answer.
    NoAnswer {
        syns: u32,
        waited_us: i64,
    },
    /// ICMP destination unreachable quoting this connection.
    IcmpUnreachable {
        icmp_type: u8,
        code: u8,
        reporter: String,
    },
    /// The local network stack failed the connect (probe; no packet seen).
    ConnectError {
        error: ConnectError,
        os_error: String,
    },
    Fin(Direction),
    Rst(Direction),
    /// Bytes the capture lacks in one direction.
    Gap {
        dir: Direction,
        bytes: u64,
    },
    /// The capture ended with the connection still open.
    CaptureEnd,
}

/// How a direction's bytes are being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing seen yet: the first bytes decide.
    Sniff,
    Tpkt,
    Tls,
    /// Past setup, or past the point where bytes made sense: counted, not parsed.
    Skip,
}

#[derive(Debug, Default)]
struct Stream {
    buf: Vec<u8>,
    mode: Option<Mode>,
    bytes: u64,
}

impl Stream {
    fn mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::Sniff)
    }
}

/// The observer of one connection.
#[derive(Debug)]
pub struct Session {
    start: Option<Timestamp>,
    phase: Phase,
    timeline: Timeline,
    dropped_entries: u64,
    client: Stream,
    server: Stream,
    tls: tls::TlsTrack,
    standard: standard::StandardTrack,
    syn_at: Option<Timestamp>,
    last_request_at: Option<Timestamp>,
    /// The `NotRdp` entry of a side whose first bytes were foreign, and those bytes (up to
    /// [`FOREIGN_BYTES_KEPT`]): later bytes complete it, so it does not depend on how they were split.
    foreign: Option<(Direction, usize, Vec<u8>)>,
    // The input being processed: every entry it produces carries these.
    now: Timestamp,
    packet: Option<u64>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

/// What a session hands to the diagnosis when its connection is over.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub timeline: Timeline,
    /// The furthest stage the connection reached.
    pub stage_reached: Stage,
    /// Entries not recorded because [`MAX_ENTRIES`] was reached.
    pub dropped_entries: u64,
    pub client_bytes: u64,
    pub server_bytes: u64,
}

impl Default for Observation {
    fn default() -> Self {
        Self {
            timeline: Timeline::default(),
            stage_reached: Stage::Tcp,
            dropped_entries: 0,
            client_bytes: 0,
            server_bytes: 0,
        }
    }
}

impl Session {
    pub fn new() -> Self {
        Self {
            start: None,
            phase: Phase::Idle,
            timeline: Timeline::default(),
            dropped_entries: 0,
            client: Stream::default(),
            server: Stream::default(),
            tls: tls::TlsTrack::default(),
            standard: standard::StandardTrack::default(),
            syn_at: None,
            last_request_at: None,
            foreign: None,
            now: Timestamp::default(),
            packet: None,
        }
    }

    pub fn stage(&self) -> Stage {
        self.phase.stage()
    }

    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// True once the secure channel is up: later bytes are only counted.
    pub fn is_established(&self) -> bool {
        self.phase == Phase::Established
    }

    /// The observation so far.
    pub fn observation(&self) -> Observation {
        Observation {
            timeline: self.timeline.clone(),
            stage_reached: self.phase.stage(),
            dropped_entries: self.dropped_entries,
            client_bytes: self.client.bytes,
            server_bytes: self.server.bytes,
        }
    }

    /// Ends the session and hands over what it saw.
    pub fn finish(self) -> Observation {
        Observation {
            stage_reached: self.phase.stage(),
            timeline: self.timeline,
            dropped_entries: self.dropped_entries,
            client_bytes: self.client.bytes,
            server_bytes: self.server.bytes,
        }
    }

    fn begin(&mut self, at: Timestamp, packet: Option<u64>) {
        self.start.get_or_insert(at);
        self.now = at;
        self.packet = packet;
    }

    fn signal(&mut self, signal: Signal) {
        let before = self.phase;
        self.phase = next(self.phase, signal);
        if self.phase == Phase::Established && before != Phase::Established {
            let how = match (before, self.timeline.entries.last().map(|e| &e.event)) {
                (
                    Phase::StandardSecurity { step },
                    Some(Event::StandardSecurityPdu { pdu, inferred, .. }),
                ) => {
                    let after = match step {
                        phase::StandardStep::ClientInfo => "after the client's Client Info PDU",
                        _ => "after the MCS connect",
                    };
                    let by_size = if *inferred { " (known by its size)" } else { "" };
                    format!(
                        "standard RDP security: the server sent its {}{by_size} {after}",
                        pdu.label()
                    )
                }
                _ => "the server answered the client's first flight after the security handshake"
                    .to_string(),
            };
            self.push(None, Event::Established { how });
            // From here on the bytes are the session itself: count them, parse nothing.
            self.client.mode = Some(Mode::Skip);
            self.server.mode = Some(Mode::Skip);
        }
    }

    fn push(&mut self, dir: Option<Direction>, event: Event) {
        if self.timeline.entries.len() >= MAX_ENTRIES {
            self.dropped_entries = self.dropped_entries.saturating_add(1);
            return;
        }
        let start = self.start.unwrap_or(self.now);
        self.timeline.entries.push(Entry {
            t_us: self.now.micros_since(start),
            at: self.now,
            dir,
            packet: self.packet,
            stage: self.phase.stage(),
            event,
        });
    }

    /// Updates the last entry when it is the same kind of run from the same side (a flight of records),
    /// else pushes a new one. Keeps timelines short however many records a side sends.
    fn push_or_extend(&mut self, dir: Direction, event: Event) {
        if let Some(last) = self.timeline.entries.last_mut() {
            if last.dir == Some(dir) {
                match (&mut last.event, &event) {
                    (
                        Event::TlsApplicationData { records, bytes },
                        Event::TlsApplicationData { bytes: more, .. },
                    )
                    | (
                        Event::StandardSecurityData { records, bytes },
                        Event::StandardSecurityData { bytes: more, .. },
                    ) => {
                        *records = records.saturating_add(1);
                        *bytes = bytes.saturating_add(*more);
                        return;
                    }
                    (
                        Event::TlsEncryptedHandshake { records },
                        Event::TlsEncryptedHandshake { .. },
                    ) => {
                        *records = records.saturating_add(1);
                        return;
                    }
                    _ => {}
                }
            }
        }
        self.push(Some(dir), event);
    }

    /// A transport fact at time `at` (`packet` is the capture frame that showed it, when there is one).
    pub fn on_transport(&mut self, at: Timestamp, packet: Option<u64>, fact: TransportFact) {
        self.begin(at, packet);
        match fact {
            TransportFact::Syn => {
                self.syn_at.get_or_insert(at);
                self.push(Some(Direction::ClientToServer), Event::TcpSyn);
                self.signal(Signal::Syn);
            }
            TransportFact::Connected => {
                let rtt_us = self.syn_at.map(|syn| at.micros_since(syn));
                self.push(
                    Some(Direction::ServerToClient),
                    Event::TcpConnected { rtt_us },
                );
                self.signal(Signal::Connected);
            }
            TransportFact::Refused => {
                let rtt_us = self.syn_at.map(|syn| at.micros_since(syn));
                self.push(
                    Some(Direction::ServerToClient),
                    Event::TcpRefused { rtt_us },
                );
            }
            TransportFact::NoAnswer { syns, waited_us } => {
                self.push(None, Event::TcpNoAnswer { syns, waited_us })
            }
            TransportFact::IcmpUnreachable {
                icmp_type,
                code,
                reporter,
            } => {
                self.push(
                    None,
                    Event::IcmpUnreachable {
                        icmp_type,
                        code,
                        reporter,
                    },
                );
            }
            TransportFact::ConnectError { error, os_error } => {
                self.push(None, Event::TcpConnectError { error, os_error });
            }
            TransportFact::Fin(dir) => self.push(Some(dir), Event::Fin),
            TransportFact::Rst(dir) => self.push(Some(dir), Event::Rst),
            TransportFact::Gap { dir, bytes } => {
                self.push(Some(dir), Event::CaptureGap { bytes });
                // Bytes are missing: a framed stream cannot be trusted past the hole.
                if !self.is_established() {
                    let stream = self.stream_mut(dir);
                    stream.buf.clear();
                    stream.mode = Some(Mode::Skip);
                }
            }
            TransportFact::CaptureEnd => self.push(None, Event::CaptureEnd),
        }
    }

    /// The driver waited until `at` without hearing from the server.
    pub fn on_timeout(&mut self, at: Timestamp) {
        self.begin(at, None);
        let since = self
            .last_request_at
            .or(self.syn_at)
            .or(self.start)
            .unwrap_or(at);
        self.push(
            None,
            Event::Timeout {
                waited_us: at.micros_since(since),
            },
        );
    }

    /// Takes back the last timeout entry (a driver that waited on purpose and heard nothing).
    pub fn forget_timeout(&mut self) {
        if matches!(
            self.timeline.entries.last(),
            Some(Entry {
                event: Event::Timeout { .. },
                ..
            })
        ) {
            self.timeline.entries.pop();
        }
    }

    /// A bound the driver hit (bytes read, time spent): recorded, never silent.
    pub fn on_limit(&mut self, at: Timestamp, what: String) {
        self.begin(at, None);
        self.push(None, Event::LimitHit { what });
    }

    /// Bytes from one side, as they arrived (any split is fine: the result does not depend on it).
    pub fn on_bytes(&mut self, at: Timestamp, dir: Direction, packet: Option<u64>, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.begin(at, packet);
        let stream = self.stream_mut(dir);
        stream.bytes = stream
            .bytes
            .saturating_add(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        if stream.mode() == Mode::Skip {
            self.complete_foreign(dir, bytes);
            self.count_skipped(dir, bytes.len());
            return;
        }
        stream.buf.extend_from_slice(bytes);
        self.drain(dir);
    }

    fn stream_mut(&mut self, dir: Direction) -> &mut Stream {
        match dir {
            Direction::ClientToServer => &mut self.client,
            Direction::ServerToClient => &mut self.server,
        }
    }

    fn stream(&self, dir: Direction) -> &Stream {
        match dir {
            Direction::ClientToServer => &self.client,
            Direction::ServerToClient => &self.server,
        }
    }

    fn count_skipped(&mut self, dir: Direction, len: usize) {
        // Standard RDP security traffic after the connect response is worth a line per flight until established.
        if matches!(self.phase, Phase::StandardSecurity { .. }) && !self.standard.gave_up {
            let bytes = u64::try_from(len).unwrap_or(u64::MAX);
            self.push_or_extend(dir, Event::StandardSecurityData { records: 1, bytes });
        }
    }

    /// Parses every complete PDU buffered for `dir`.
    fn drain(&mut self, dir: Direction) {
        let mut buf = std::mem::take(&mut self.stream_mut(dir).buf);
        let mut used = 0usize;
        while let Some(rest) = buf.get(used..).filter(|r| !r.is_empty()) {
            let mode = self.stream(dir).mode();
            let step = match mode {
                Mode::Sniff => {
                    self.sniff(dir, rest);
                    Some(0)
                }
                Mode::Tpkt => self.tpkt_pdu(dir, rest),
                Mode::Tls => self.tls_record(dir, rest),
                Mode::Skip => {
                    self.count_skipped(dir, rest.len());
                    Some(rest.len())
                }
            };
            match step {
                Some(n) => used = used.saturating_add(n),
                None => break,
            }
            if mode == Mode::Sniff && self.stream(dir).mode() == Mode::Sniff {
                break;
            }
        }
        let left = buf.get(used..).unwrap_or_default();
        if left.len() > MAX_PDU_BYTES {
            self.push(Some(dir), Event::LimitHit { what: format!("a PDU larger than {MAX_PDU_BYTES} bytes: the rest of this direction is not parsed") });
            self.stream_mut(dir).mode = Some(Mode::Skip);
            buf.clear();
        } else {
            buf.drain(..used.min(buf.len()));
        }
        let stream = self.stream_mut(dir);
        if stream.mode() != Mode::Skip {
            stream.buf = buf;
        }
    }

    /// Decides how a direction's first bytes are read.
    fn sniff(&mut self, dir: Direction, first: &[u8]) {
        let client_tls = self.client.mode() == Mode::Tls;
        let mode = match first.first() {
            None => return,
            // The server answers a Direct Approach client in TLS, whatever its first byte.
            Some(_) if dir == Direction::ServerToClient && client_tls => Mode::Tls,
            Some(0x03) => Mode::Tpkt,
            // The Direct Approach (MS-RDPBCGR 5.4.2.2): a client may start TLS at once. A server may not.
            Some(_)
                if dir == Direction::ClientToServer
                    && (looks_like_tls_record(first) || looks_like_sslv2_hello(first)) =>
            {
                self.stream_mut(dir).mode = Some(Mode::Tls);
                self.signal(Signal::DirectTls);
                return;
            }
            Some(_) if first.len() < 4 && first.iter().all(|b| b.is_ascii_alphabetic()) => return,
            Some(_) => {
                let kept = first.get(..FOREIGN_BYTES_KEPT).unwrap_or(first).to_vec();
                self.push(
                    Some(dir),
                    Event::NotRdp {
                        first_bytes: hex::encode(&kept),
                        looks_like: describe_foreign(&kept),
                    },
                );
                let entry = self.timeline.entries.len().saturating_sub(1);
                if self.foreign.is_none() {
                    self.foreign = Some((dir, entry, kept));
                }
                self.signal(Signal::Broken);
                Mode::Skip
            }
        };
        self.stream_mut(dir).mode = Some(mode);
    }

    /// More bytes from a side whose first bytes were foreign: its `NotRdp` entry shows the first
    /// [`FOREIGN_BYTES_KEPT`] of them, however they arrived.
    fn complete_foreign(&mut self, dir: Direction, bytes: &[u8]) {
        let Some((side, entry, kept)) = &mut self.foreign else {
            return;
        };
        if *side != dir || kept.len() >= FOREIGN_BYTES_KEPT {
            return;
        }
        let want = FOREIGN_BYTES_KEPT - kept.len();
        kept.extend_from_slice(bytes.get(..want).unwrap_or(bytes));
        if let Some(Entry {
            event:
                Event::NotRdp {
                    first_bytes,
                    looks_like,
                },
            ..
        }) = self.timeline.entries.get_mut(*entry)
        {
            *first_bytes = hex::encode(&*kept);
            *looks_like = describe_foreign(kept);
        }
    }

    /// Switches both directions to TLS (after a Connection Confirm that selected a TLS-based protocol).
    fn switch_to_tls(&mut self) {
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            let stream = self.stream_mut(dir);
            if stream.mode() != Mode::Skip {
                stream.mode = Some(Mode::Tls);
            }
        }
    }
}

/// What [`describe_foreign`] says of bytes it cannot name.
pub const UNRECOGNISED: &str = "binary data that is not TPKT";

/// Says what foreign bytes look like, for `not-rdp` evidence.
pub fn describe_foreign(first: &[u8]) -> String {
    let text = |p: &[u8]| first.starts_with(p);
    let what =
        if text(b"HTTP/") || text(b"GET ") || text(b"POST ") || text(b"<!DOC") || text(b"<html") {
            "HTTP"
        } else if text(b"SSH-") {
            "an SSH banner"
        } else if text(b"220 ") || text(b"220-") {
            "an FTP or SMTP banner"
        } else if text(b"RFB ") {
            "VNC (RFB)"
        } else if looks_like_tls_record(first) {
            "TLS without X.224 negotiation first"
        } else if looks_like_sslv2_hello(first) {
            "an SSLv2 hello"
        } else if first
            .iter()
            .take(32)
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        {
            "text"
        } else {
            "binary data that is not TPKT"
        };
    what.to_string()
}
