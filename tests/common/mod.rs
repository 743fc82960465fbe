//! Scripted conversations for session and diagnosis tests: a builder that plays bytes and transport facts
//! at chosen times into a `Session`, made from our own encoders and from real flights in `fixtures/`.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::SocketAddr;

use rdpdiag::capture::{Frame, PcapWriter, TcpConversation};
use rdpdiag::diagnose::{diagnose, Context, Diagnosis};
use rdpdiag::session::{Direction, Observation, Session, Timestamp, TransportFact};
use rdpdiag::wire::rdp_neg::{
    FailureCode, NegData, NegFailure, NegResponse, NegResponseFlags, SecurityProtocols,
};
use rdpdiag::wire::tls::{encode_tls_record, ContentType, ProtocolVersion};
use rdpdiag::wire::x224::{
    encode_connection_confirm, encode_connection_request, encode_data, ConnectionRequestSpec,
};

pub mod scripts;
#[allow(unused_imports)]
pub use scripts::*;
pub mod shadow;

pub const C: Direction = Direction::ClientToServer;
pub const S: Direction = Direction::ServerToClient;

/// 2019-06-01T00:00:00Z: inside the validity of the ndpi__rdp.pcap certificate (2019-03-19 .. 2019-09-18).
pub const JUNE_2019: i64 = 1_559_347_200;

#[derive(Debug, Clone)]
pub enum Step {
    Bytes(Direction, Vec<u8>),
    Fact(TransportFact),
    Timeout,
}

/// A conversation: steps at times (microseconds after `base`).
#[derive(Debug, Clone)]
pub struct Script {
    pub base: i64,
    pub now_us: i64,
    pub steps: Vec<(i64, Step)>,
}

pub fn fixture_hex(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/wire/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    hex::decode(text.split_whitespace().collect::<String>()).unwrap()
}

pub fn fixture_bin(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/wire/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn record(ct: ContentType, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_tls_record(ct, ProtocolVersion::TLS1_2, body, &mut out).unwrap();
    out
}

/// A handshake message: type, u24 length, body.
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap().to_be_bytes();
    let mut out = vec![msg_type, len[1], len[2], len[3]];
    out.extend_from_slice(body);
    out
}

/// A TLS 1.2 ServerHello body choosing TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (or `version`).
pub fn server_hello_body(version: u16) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&[0x42; 32]); // random
    b.push(0); // session id length
    b.extend_from_slice(&[0xc0, 0x30]); // cipher suite
    b.push(0); // compression
    b
}

/// A Certificate message body holding `ders`.
pub fn certificate_body(ders: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for der in ders {
        let l = u32::try_from(der.len()).unwrap().to_be_bytes();
        list.extend_from_slice(&l[1..]);
        list.extend_from_slice(der);
    }
    let l = u32::try_from(list.len()).unwrap().to_be_bytes();
    let mut body = l[1..].to_vec();
    body.extend_from_slice(&list);
    body
}

/// A server flight: ServerHello, Certificate with `ders`, ServerHelloDone, in one record.
pub fn server_flight_with(ders: &[&[u8]], version: u16) -> Vec<u8> {
    let mut hs = handshake(2, &server_hello_body(version));
    hs.extend(handshake(11, &certificate_body(ders)));
    hs.extend(handshake(14, &[]));
    record(ContentType::HANDSHAKE, &hs)
}

impl Script {
    pub fn new(base_secs: i64) -> Self {
        Self {
            base: base_secs * 1_000_000,
            now_us: 0,
            steps: Vec::new(),
        }
    }

    /// Moves the clock to `ms` after the start.
    pub fn at(mut self, ms: f64) -> Self {
        self.now_us = (ms * 1000.0) as i64;
        self
    }

    /// Moves the clock forward by `ms`.
    pub fn wait(mut self, ms: f64) -> Self {
        self.now_us += (ms * 1000.0) as i64;
        self
    }

    pub fn bytes(mut self, dir: Direction, bytes: Vec<u8>) -> Self {
        self.steps.push((self.now_us, Step::Bytes(dir, bytes)));
        self.now_us += 100;
        self
    }

    pub fn fact(mut self, fact: TransportFact) -> Self {
        self.steps.push((self.now_us, Step::Fact(fact)));
        self.now_us += 100;
        self
    }

    pub fn timeout(mut self) -> Self {
        self.steps.push((self.now_us, Step::Timeout));
        self
    }

    pub fn connect(self) -> Self {
        self.fact(TransportFact::Syn)
            .wait(1.0)
            .fact(TransportFact::Connected)
    }

    pub fn request(self, requested: Option<u32>) -> Self {
        let spec = ConnectionRequestSpec {
            cookie: Some("tester"),
            requested_protocols: requested.map(SecurityProtocols),
            ..Default::default()
        };
        let bytes = encode_connection_request(&spec).unwrap();
        self.bytes(C, bytes)
    }

    pub fn select(self, selected: u32) -> Self {
        let rsp = NegData::Response(NegResponse {
            flags: NegResponseFlags(0x1f),
            length: 8,
            selected_protocol: SecurityProtocols(selected),
        });
        self.bytes(S, encode_connection_confirm(Some(&rsp)).unwrap())
    }

    pub fn refuse(self, code: u32) -> Self {
        let f = NegData::Failure(NegFailure {
            flags: 0,
            length: 8,
            failure_code: FailureCode(code),
        });
        self.bytes(S, encode_connection_confirm(Some(&f)).unwrap())
    }

    pub fn legacy_confirm(self) -> Self {
        self.bytes(S, encode_connection_confirm(None).unwrap())
    }

    /// The TLS 1.2 ClientHello of a Windows 10 RDP client (ndpi__rdp.pcap frame 7, SNI 192.168.2.142).
    pub fn client_hello(self) -> Self {
        self.bytes(C, fixture_hex("tls/ndpi-rdp_f7_client_hello.hex"))
    }

    /// The server's answer from ndpi__rdp.pcap frame 8: ServerHello, Certificate (self-signed
    /// CN=OFFICE-WIN10-VM, 2019-03-19 .. 2019-09-18), ServerKeyExchange, ServerHelloDone.
    pub fn server_flight(self) -> Self {
        self.bytes(S, fixture_hex("tls/ndpi-rdp_f8_server_flight.hex"))
    }

    /// The client's ClientKeyExchange, ChangeCipherSpec and (encrypted) Finished.
    pub fn client_finish(self) -> Self {
        let mut b = record(ContentType::HANDSHAKE, &handshake(16, &[0x41; 66]));
        b.extend(record(ContentType::CHANGE_CIPHER_SPEC, &[1]));
        b.extend(record(ContentType::HANDSHAKE, &[0x17; 40]));
        self.bytes(C, b)
    }

    /// The server's ChangeCipherSpec and (encrypted) Finished.
    pub fn server_finish(self) -> Self {
        let mut b = record(ContentType::CHANGE_CIPHER_SPEC, &[1]);
        b.extend(record(ContentType::HANDSHAKE, &[0x18; 40]));
        self.bytes(S, b)
    }

    /// The whole TLS 1.2 handshake of ndpi__rdp.pcap.
    pub fn tls12(self) -> Self {
        self.client_hello()
            .wait(2.0)
            .server_flight()
            .wait(2.0)
            .client_finish()
            .wait(2.0)
            .server_finish()
    }

    /// One application-data record of `len` bytes.
    pub fn app(self, dir: Direction, len: usize) -> Self {
        self.bytes(dir, record(ContentType::APPLICATION_DATA, &vec![0x55; len]))
    }

    pub fn alert(self, dir: Direction, description: u8) -> Self {
        self.bytes(dir, record(ContentType::ALERT, &[2, description]))
    }

    pub fn encrypted_alert(self, dir: Direction) -> Self {
        self.bytes(dir, record(ContentType::ALERT, &[0x99; 26]))
    }

    pub fn fin(self, dir: Direction) -> Self {
        self.fact(TransportFact::Fin(dir))
    }

    pub fn rst(self, dir: Direction) -> Self {
        self.fact(TransportFact::Rst(dir))
    }

    /// An MCS PDU in an X.224 Data TPDU.
    pub fn mcs(self, dir: Direction, mcs: &[u8]) -> Self {
        self.bytes(dir, encode_data(mcs).unwrap())
    }

    /// Plays the script into a session, each step's bytes cut into pieces by `split`.
    pub fn play_with(&self, split: impl Fn(usize, &[u8]) -> Vec<Vec<u8>>) -> Observation {
        let mut session = Session::new();
        for (n, (t, step)) in self.steps.iter().enumerate() {
            let at = Timestamp::from_micros(self.base + t);
            let packet = Some(u64::try_from(n + 1).unwrap());
            match step {
                Step::Bytes(dir, bytes) => {
                    for piece in split(n, bytes) {
                        session.on_bytes(at, *dir, packet, &piece);
                    }
                }
                Step::Fact(fact) => session.on_transport(at, packet, fact.clone()),
                Step::Timeout => session.on_timeout(at),
            }
        }
        session.finish()
    }

    pub fn play(&self) -> Observation {
        self.play_with(|_, b| vec![b.to_vec()])
    }

    pub fn diagnose(&self) -> Diagnosis {
        self.diagnose_with(&Context::default())
    }

    pub fn diagnose_with(&self, ctx: &Context) -> Diagnosis {
        diagnose(&self.play(), ctx)
    }
}

/// A frame that is not TCP nor ICMP (EtherType 0x88b5, IEEE local experimental): it only marks the time a
/// capture ends, since the replay ends a capture's open connections at its last frame.
pub fn end_marker(ts_us: i64) -> Frame {
    let mut bytes = vec![0xff; 6];
    bytes.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x03, 0x88, 0xb5]);
    bytes.extend_from_slice(b"capture end");
    Frame { ts_us, bytes }
}

impl Script {
    /// The conversation as a capture can hold it: a capture has no timeouts, so a `Timeout` step becomes
    /// the end of the capture (`CaptureEnd`) at that time. Other steps are kept.
    pub fn capture_view(&self) -> Script {
        let mut view = self.clone();
        for (_, step) in &mut view.steps {
            if matches!(step, Step::Timeout) {
                *step = Step::Fact(TransportFact::CaptureEnd);
            }
        }
        view
    }

    /// The frames of a capture of this conversation between `client` and `server`, one group per step,
    /// data cut at `mss(step index)`. Steps map to packets as a capture shows them:
    /// - `Bytes` → data segments (PSH on the last);
    /// - `Syn` → the client's SYN; `Connected` → SYN/ACK and the client's ACK; `Refused` → RST/ACK;
    /// - `NoAnswer { syns, waited_us }` → `syns - 1` retransmitted SYNs, the last `waited_us` after the
    ///   first (the replay dates the no-answer at the last packet, the probe when it gave up);
    /// - `IcmpUnreachable` → an ICMP destination unreachable from the reporter quoting the SYN;
    /// - `Fin` / `Rst` → FIN/ACK, RST/ACK from that side;
    /// - `CaptureEnd` and `Timeout` → [`end_marker`] at that time (a capture ends; it has no timeouts);
    /// - `Gap` → nothing (a gap is a segment missing from the capture, made by removing frames);
    /// - `ConnectError` → nothing (the probe's view of a failed connect; no packet was seen).
    pub fn frames(
        &self,
        client: SocketAddr,
        server: SocketAddr,
        mss: impl Fn(usize) -> usize,
    ) -> Vec<Vec<Frame>> {
        let mut tcp = TcpConversation::new(client, server, 0xfff0_0000, 0x1234_5678);
        let mut first_syn = None;
        self.steps
            .iter()
            .enumerate()
            .map(|(n, (t, step))| {
                let ts = self.base + t;
                tcp.set_mss(mss(n));
                match step {
                    Step::Bytes(dir, bytes) => tcp.data(ts, *dir, bytes),
                    Step::Fact(TransportFact::Syn) => {
                        first_syn.get_or_insert(ts);
                        vec![tcp.syn(ts)]
                    }
                    Step::Fact(TransportFact::Connected) => {
                        vec![tcp.syn_ack(ts), tcp.ack(ts, C)]
                    }
                    Step::Fact(TransportFact::Refused) => vec![tcp.refused(ts)],
                    Step::Fact(TransportFact::NoAnswer { syns, waited_us }) => {
                        let first = first_syn.unwrap_or(ts);
                        let more = i64::from(syns.saturating_sub(1));
                        (1..=more)
                            .map(|i| tcp.syn(first + waited_us * i / more))
                            .collect()
                    }
                    Step::Fact(TransportFact::IcmpUnreachable {
                        icmp_type,
                        code,
                        reporter,
                    }) => vec![tcp.unreachable(ts, reporter.parse().unwrap(), *icmp_type, *code)],
                    Step::Fact(TransportFact::Fin(dir)) => vec![tcp.fin(ts, *dir)],
                    Step::Fact(TransportFact::Rst(dir)) => vec![tcp.rst(ts, *dir)],
                    Step::Fact(TransportFact::CaptureEnd) | Step::Timeout => vec![end_marker(ts)],
                    Step::Fact(TransportFact::Gap { .. } | TransportFact::ConnectError { .. }) => {
                        Vec::new()
                    }
                }
            })
            .collect()
    }
}

/// Writes `frames` as a pcap file at `path`.
pub fn write_pcap(path: &std::path::Path, frames: &[Frame]) {
    let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut w = PcapWriter::new(std::io::BufWriter::new(file)).unwrap();
    w.frames(frames).unwrap();
    w.into_inner().unwrap();
}

/// The finding ids of a diagnosis, in order.
pub fn ids(d: &Diagnosis) -> Vec<&'static str> {
    d.findings.iter().map(|f| f.id.as_str()).collect()
}
