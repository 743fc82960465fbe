//! Writes a large mixed capture for `benches/compare.sh`: classic pcap, Ethernet/IPv4/TCP, written by
//! this code, deterministic from a seed.
//!
//! - Background (most of the bytes): HTTP-like flows on port 80 and TLS-like flows on 443 (SYN, SYN/ACK,
//!   request, a response of 1460-byte segments, FINs), and bulk transfers of 8960-byte (jumbo) segments on
//!   445. None of them is RDP: rdpdiag must drop them on its fast path.
//! - RDP connection setups: the RDP connections of real fixture captures, re-addressed per copy (a new
//!   client IP and port; IP total length kept, IP and TCP checksums zero), with their original relative
//!   timing, started at random moments among the background flows:
//!   `zeek__rdp-to-ssl.pcap` (2 setups: TLS + CredSSP), `zeek__rdp-proprietary-encryption.pcap`
//!   (2: RDP_NEG_FAILURE then a standard-security retry), `ndpi__rdp_over_tls.pcap` (1: NLA failure),
//!   and the refused port-3389 SYN of `ndpi__tcp_scan.pcapng` (1).
//!
//! It prints how many setups of each kind it wrote and writes the same to `OUT.counts`, so a replay's
//! connection count can be checked.
//!
//! `cargo run --release --example gen_capture -- [--size-gb N] [--out FILE] [--seed S]`
//!
//! `--rdp-only`: one public RDP capture (`zeek__rdp-to-ssl.pcap`, 2 setups: TLS, CredSSP, then the
//! session) repeated, re-addressed as above, without the background flows: what a capture filtered to
//! the RDP port holds (every packet belongs to an RDP connection), for `benches/compare.sh`.
//!
//! Floods, for the memory bounds (`benches/compare.sh --floods`):
//! - `--scan N`: a scanner (10.66.0.1) sends N SYNs to port 3389 of N addresses in 10.0.0.0/8, one
//!   every 10 us; one in 16 is refused (RST), the others unanswered; among them 4 real clients' RDP
//!   setups (Connection Request / Confirm, then FINs).
//! - `--concurrent N`: N RDP connections open at once: every one's SYN, SYN/ACK, ACK and Connection
//!   Request first, then every one's Connection Confirm and FINs.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;

use rdpdiag::replay::packet::{network_layer, LinkType, Network};

/// The capture's clock starts here (2024-09-01T00:00:00Z): inside the validity of the newest fixture
/// certificate, so `ndpi__rdp_over_tls.pcap` keeps its verdict.
const EPOCH_US: i64 = 1_725_148_800_000_000;
const BACKGROUND_FLOWS: usize = 256;
const RDP_SERVER_PORT: u16 = 3389;

/// splitmix64: small, deterministic, good enough for traffic shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// One fixture's RDP packets: (microseconds after its first packet, IPv4 packet).
struct Template {
    kind: &'static str,
    file: &'static str,
    setups: u64,
    weight: u64,
    packets: Vec<(i64, Vec<u8>)>,
    /// The client address (every connection of a template comes from one client).
    client: [u8; 4],
}

fn load(kind: &'static str, file: &'static str, setups: u64, weight: u64) -> Template {
    let path = format!("{}/fixtures/pcaps/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut cap = pcap::Capture::from_file(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let link = LinkType::from_dlt(cap.get_datalink().0).expect("a supported link type");
    let mut packets = Vec::new();
    let mut first = None;
    let mut client = None;
    while let Ok(p) = cap.next_packet() {
        let ts = p.header.ts.tv_sec * 1_000_000 + p.header.ts.tv_usec;
        let Ok(Network::Ipv4(ip)) = network_layer(link, p.data) else {
            continue;
        };
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        if ip[9] != 6 || ip.len() < total || total < ihl + 20 {
            continue;
        }
        let ip = &ip[..total]; // without Ethernet padding
        let (sport, dport) = (be16(ip, ihl), be16(ip, ihl + 2));
        if sport != RDP_SERVER_PORT && dport != RDP_SERVER_PORT {
            continue;
        }
        if dport == RDP_SERVER_PORT {
            client.get_or_insert([ip[12], ip[13], ip[14], ip[15]]);
        }
        let t0 = *first.get_or_insert(ts);
        packets.push((ts - t0, ip.to_vec()));
    }
    assert!(!packets.is_empty(), "{file}: no RDP packets");
    Template {
        kind,
        file,
        setups,
        weight,
        packets,
        client: client.expect("a client"),
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// A copy of a template's packet for one client: new address and port, checksums zero.
fn readdress(tpl: &Template, ip: &[u8], new_ip: [u8; 4], copy: u64) -> Vec<u8> {
    let mut p = ip.to_vec();
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let port_of = |port: u16| -> u16 {
        u16::try_from(10_000 + (u64::from(port) + copy * 7) % 50_000).unwrap_or(10_000)
    };
    if p[12..16] == tpl.client {
        p[12..16].copy_from_slice(&new_ip);
        let sp = port_of(be16(&p, ihl));
        p[ihl..ihl + 2].copy_from_slice(&sp.to_be_bytes());
    }
    if p[16..20] == tpl.client {
        p[16..20].copy_from_slice(&new_ip);
        let dp = port_of(be16(&p, ihl + 2));
        p[ihl + 2..ihl + 4].copy_from_slice(&dp.to_be_bytes());
    }
    p[10] = 0;
    p[11] = 0;
    p[ihl + 16] = 0;
    p[ihl + 17] = 0;
    p
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Http,
    Tls,
    Bulk,
}

/// A synthetic non-RDP flow, produced packet by packet.
struct Synth {
    kind: Kind,
    client: ([u8; 4], u16),
    server: ([u8; 4], u16),
    cseq: u32,
    sseq: u32,
    step: u32,
    /// Server data segments still to send, and in all.
    left: u32,
    step_total: u32,
    seg: usize,
}

enum Flow {
    Synth(Synth),
    Copy {
        tpl: usize,
        at: usize,
        t0: i64,
        ip: [u8; 4],
        copy: u64,
    },
}

struct Writer {
    out: BufWriter<std::fs::File>,
    bytes: u64,
    packets: u64,
    frame: Vec<u8>,
}

impl Writer {
    fn packet(&mut self, ts: i64, ip: &[u8]) -> std::io::Result<()> {
        self.frame.clear();
        self.frame
            .extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00]);
        self.frame.extend_from_slice(ip);
        let len = u32::try_from(self.frame.len()).unwrap_or(u32::MAX);
        let sec = u32::try_from(ts.div_euclid(1_000_000)).unwrap_or(0);
        let usec = u32::try_from(ts.rem_euclid(1_000_000)).unwrap_or(0);
        for v in [sec, usec, len, len] {
            self.out.write_all(&v.to_le_bytes())?;
        }
        self.out.write_all(&self.frame)?;
        self.bytes += 16 + u64::from(len);
        self.packets += 1;
        Ok(())
    }
}

/// An IPv4/TCP packet, checksums zero.
fn tcp_packet(
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let total = u16::try_from(40 + payload.len()).unwrap_or(u16::MAX);
    let mut p = Vec::with_capacity(usize::from(total));
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
    p.extend_from_slice(&src.0);
    p.extend_from_slice(&dst.0);
    p.extend_from_slice(&src.1.to_be_bytes());
    p.extend_from_slice(&dst.1.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ack.to_be_bytes());
    p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(payload);
    p
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

impl Synth {
    /// The next packet and the delay before the one after it; `None` when the flow is over.
    fn next(&mut self, rng: &mut Rng, filler: &[u8]) -> Option<(Vec<u8>, i64)> {
        let (c, s) = (self.client, self.server);
        let step = self.step;
        self.step += 1;
        let rtt = 2_000 + i64::try_from(rng.range(0, 30_000)).unwrap_or(0);
        Some(match step {
            0 => (tcp_packet(c, s, self.cseq, 0, SYN, &[]), rtt),
            1 => (
                tcp_packet(s, c, self.sseq, self.cseq + 1, SYN | ACK, &[]),
                200,
            ),
            2 => {
                self.cseq += 1;
                self.sseq += 1;
                (tcp_packet(c, s, self.cseq, self.sseq, ACK, &[]), 300)
            }
            3 => {
                let req: Vec<u8> = match self.kind {
                    Kind::Http => format!(
                        "GET /static/{}.bin HTTP/1.1\r\nHost: www{}.example.net\r\nUser-Agent: gen_capture\r\nAccept: */*\r\n\r\n",
                        rng.next() % 100_000,
                        rng.next() % 100
                    )
                    .into_bytes(),
                    // A TLS record header and the start of a ClientHello (content is filler).
                    Kind::Tls => {
                        let mut r = vec![0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0xfc, 0x03, 0x03];
                        r.extend_from_slice(&filler[..250]);
                        r
                    }
                    // An SMB-like start (a NetBIOS session header), never a TPKT.
                    Kind::Bulk => {
                        let mut r = filler[..120].to_vec();
                        r[..4].copy_from_slice(&[0, 0, 0, 116]);
                        r
                    }
                };
                let p = tcp_packet(c, s, self.cseq, self.sseq, PSH | ACK, &req);
                self.cseq += u32::try_from(req.len()).unwrap_or(0);
                (p, rtt)
            }
            _ if self.left > 0 => {
                self.left -= 1;
                let start = usize::try_from(rng.next() % 4096).unwrap_or(0);
                let mut data = filler[start..start + self.seg].to_vec();
                if step == 4 {
                    match self.kind {
                        Kind::Http => {
                            let h = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n";
                            data[..h.len()].copy_from_slice(h);
                        }
                        Kind::Tls => data[..5].copy_from_slice(&[0x16, 0x03, 0x03, 0x05, 0x00]),
                        Kind::Bulk => {}
                    }
                }
                let p = tcp_packet(s, c, self.sseq, self.cseq, ACK, &data);
                self.sseq += u32::try_from(data.len()).unwrap_or(0);
                let gap = 500 + i64::try_from(rng.range(0, 8_000)).unwrap_or(0);
                (p, gap)
            }
            _ => match step.saturating_sub(4 + self.total_segments()) {
                0 => (tcp_packet(c, s, self.cseq, self.sseq, FIN | ACK, &[]), 300),
                1 => {
                    self.cseq += 1;
                    (tcp_packet(s, c, self.sseq, self.cseq, FIN | ACK, &[]), 200)
                }
                2 => {
                    self.sseq += 1;
                    (tcp_packet(c, s, self.cseq, self.sseq, ACK, &[]), 0)
                }
                _ => return None,
            },
        })
    }

    fn total_segments(&self) -> u32 {
        self.step_total
    }
}

type Heap = BinaryHeap<Reverse<(i64, usize)>>;

fn spawn(
    flows: &mut Vec<Option<Flow>>,
    free: &mut Vec<usize>,
    heap: &mut Heap,
    flow: Flow,
    at: i64,
) {
    let id = match free.pop() {
        Some(id) => {
            flows[id] = Some(flow);
            id
        }
        None => {
            flows.push(Some(flow));
            flows.len() - 1
        }
    };
    heap.push(Reverse((at, id)));
}

enum Flood {
    Scan(u32),
    Concurrent(u32),
}

const CONNECTION_REQUEST: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x03,
    0x00, 0x00, 0x00,
];
/// RDP_NEG_FAILURE SSL_NOT_ALLOWED_BY_SERVER: a setup that ends (and fails) at the negotiation.
const NEGOTIATION_FAILURE: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x03, 0x00, 0x08, 0x00, 0x02,
    0x00, 0x00, 0x00,
];

/// Writes a flood capture (see the module's documentation) with the crate's pcap writer.
fn flood(out_path: &str, flood: Flood) -> Result<(), Box<dyn std::error::Error>> {
    use rdpdiag::capture::{PcapWriter, TcpConversation};
    use rdpdiag::session::Direction::{ClientToServer as C, ServerToClient as S};
    use std::net::SocketAddr;
    if let Some(dir) = std::path::Path::new(out_path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::File::create(out_path)?;
    let mut w = PcapWriter::new(BufWriter::with_capacity(1 << 20, file))?;
    let server = |n: u32| SocketAddr::from((Ipv4Addr::from(0x0A00_0000 | (n & 0x00ff_ffff)), 3389));
    let mut setups = 0u32;
    match flood {
        Flood::Scan(n) => {
            let scanner = Ipv4Addr::new(10, 66, 0, 1);
            for i in 0..n {
                let ts = EPOCH_US + i64::from(i) * 10;
                let client = SocketAddr::from((scanner, u16::try_from(1024 + i % 60_000)?));
                let mut tcp = TcpConversation::new(client, server(i + 1), i, 7);
                w.frame(ts, &tcp.syn(ts).bytes)?;
                if i % 16 == 5 {
                    w.frame(ts + 200, &tcp.refused(ts + 200).bytes)?;
                }
                if i % (n / 4).max(1) == 7 {
                    // A real client among the scan.
                    let c = SocketAddr::from(([192, 168, 7, 1 + (setups as u8)], 50_000));
                    let mut rdp = TcpConversation::new(c, server(0xff_fff0 + setups), 1, 2);
                    for f in rdp.handshake(ts, 300) {
                        w.frame(f.ts_us, &f.bytes)?;
                    }
                    for f in rdp.data(ts + 1_000, C, &CONNECTION_REQUEST) {
                        w.frame(f.ts_us, &f.bytes)?;
                    }
                    for f in rdp.data(ts + 1_500, S, &NEGOTIATION_FAILURE) {
                        w.frame(f.ts_us, &f.bytes)?;
                    }
                    w.frame(ts + 1_600, &rdp.fin(ts + 1_600, S).bytes)?;
                    w.frame(ts + 1_700, &rdp.fin(ts + 1_700, C).bytes)?;
                    setups += 1;
                }
            }
        }
        Flood::Concurrent(n) => {
            let client = |i: u32| {
                SocketAddr::from((
                    Ipv4Addr::from(0xAC10_0000 | (i / 50_000)),
                    u16::try_from(10_000 + i % 50_000).unwrap_or(10_000),
                ))
            };
            let mut conns: Vec<TcpConversation> = (0..n)
                .map(|i| TcpConversation::new(client(i), server(1 + i % 1000), i, 7))
                .collect();
            let mut ts = EPOCH_US;
            for c in &mut conns {
                ts += 5;
                for f in c.handshake(ts, 100) {
                    w.frame(f.ts_us, &f.bytes)?;
                }
                for f in c.data(ts + 200, C, &CONNECTION_REQUEST) {
                    w.frame(f.ts_us, &f.bytes)?;
                }
            }
            ts += 1_000;
            for c in &mut conns {
                ts += 5;
                for f in c.data(ts, S, &NEGOTIATION_FAILURE) {
                    w.frame(f.ts_us, &f.bytes)?;
                }
                w.frame(ts + 1, &c.fin(ts + 1, S).bytes)?;
                w.frame(ts + 2, &c.fin(ts + 2, C).bytes)?;
            }
            setups = n;
        }
    }
    let packets = w.written();
    w.into_inner()?.flush()?;
    println!("{out_path}: {packets} packets, {setups} RDP setups");
    std::fs::write(
        format!("{out_path}.counts"),
        format!("packets\t{packets}\nrdp_setups\t{setups}\n"),
    )?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut size_gb = 1.0f64;
    let mut out_path = format!("{}/target/bench/mixed-1g.pcap", env!("CARGO_MANIFEST_DIR"));
    let mut seed = 1u64;
    let mut flood_mode = None;
    let mut rdp_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--size-gb" => size_gb = val()?.parse()?,
            "--out" => out_path = val()?,
            "--seed" => seed = val()?.parse()?,
            "--rdp-only" => rdp_only = true,
            "--scan" => flood_mode = Some(Flood::Scan(val()?.parse()?)),
            "--concurrent" => flood_mode = Some(Flood::Concurrent(val()?.parse()?)),
            _ => {
                return Err(format!(
                    "usage: gen_capture [--size-gb N [--rdp-only] | --scan N | --concurrent N] [--out FILE] [--seed S]; got {a}"
                )
                .into())
            }
        }
    }
    if let Some(mode) = flood_mode {
        return flood(&out_path, mode);
    }
    let target = (size_gb * 1e9) as u64;
    let templates = [
        load("rdp-to-ssl (TLS+CredSSP)", "zeek__rdp-to-ssl.pcap", 2, 1),
        load(
            "neg-failure+standard-security retry",
            "zeek__rdp-proprietary-encryption.pcap",
            2,
            1,
        ),
        load("rdp-over-tls NLA failure", "ndpi__rdp_over_tls.pcap", 1, 4),
        load("refused (RST to SYN)", "ndpi__tcp_scan.pcapng", 1, 4),
    ];
    // All-RDP: one public capture repeated (zeek__rdp-to-ssl.pcap: TLS, CredSSP, then the session).
    let templates: Vec<Template> = if rdp_only {
        templates.into_iter().take(1).collect()
    } else {
        templates.into_iter().collect()
    };
    let weights: u64 = templates.iter().map(|t| t.weight).sum();
    if let Some(dir) = std::path::Path::new(&out_path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::File::create(&out_path)?;
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, file),
        bytes: 24,
        packets: 0,
        frame: Vec::with_capacity(10_000),
    };
    // Classic pcap header: microseconds, version 2.4, snaplen 262144, LINKTYPE_ETHERNET.
    w.out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
    w.out.write_all(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])?;
    w.out.write_all(&262_144u32.to_le_bytes())?;
    w.out.write_all(&1u32.to_le_bytes())?;

    let mut rng = Rng(seed);
    let filler: Vec<u8> = (0..16_384).map(|_| rng.next() as u8).collect();
    let mut flows: Vec<Option<Flow>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut heap: Heap = BinaryHeap::new();
    let mut copies = vec![0u64; templates.len()];
    let mut next_client = 0u32;
    let mut background = 0u64;
    let mut rdp_credit = 0u64;
    let mut now = EPOCH_US;

    let new_background = |rng: &mut Rng, n: u64| -> Synth {
        let kind = match rng.next() % 100 {
            0..=44 => Kind::Http,
            45..=84 => Kind::Tls,
            _ => Kind::Bulk,
        };
        let (port, segs, seg) = match kind {
            Kind::Http => (80, rng.range(5, 200), 1460),
            Kind::Tls => (443, rng.range(5, 200), 1460),
            Kind::Bulk => (445, rng.range(50, 600), 8960),
        };
        let n32 = u32::try_from(n % 4_000_000).unwrap_or(0);
        let client = Ipv4Addr::from(0xAC10_0000 | (n32 % 60_000)).octets(); // 172.16.0.0/16
        let server =
            Ipv4Addr::from(0xC0A8_0000 | u32::try_from(rng.next() % 1000).unwrap_or(0)).octets();
        let segs = u32::try_from(segs).unwrap_or(10);
        Synth {
            kind,
            client: (client, u16::try_from(1024 + n % 60_000).unwrap_or(1024)),
            server: (server, port),
            cseq: rng.next() as u32,
            sseq: rng.next() as u32,
            step: 0,
            left: segs,
            step_total: segs,
            seg,
        }
    };
    for _ in 0..BACKGROUND_FLOWS {
        background += 1;
        let f = new_background(&mut rng, background);
        let at = now + i64::try_from(rng.range(0, 100_000)).unwrap_or(0);
        spawn(&mut flows, &mut free, &mut heap, Flow::Synth(f), at);
    }
    while let Some(Reverse((ts, id))) = heap.pop() {
        now = ts;
        let Some(flow) = flows[id].as_mut() else {
            continue;
        };
        let next = match flow {
            Flow::Synth(s) => s.next(&mut rng, &filler),
            Flow::Copy {
                tpl,
                at,
                t0,
                ip,
                copy,
            } => {
                let t = &templates[*tpl];
                let (_, pkt) = &t.packets[*at];
                let p = readdress(t, pkt, *ip, *copy);
                *at += 1;
                let gap = t.packets.get(*at).map(|(rel, _)| *t0 + rel - ts);
                Some((p, gap.unwrap_or(-1)))
            }
        };
        let finished_background = matches!(flow, Flow::Synth(_));
        // All-RDP: the background flows still pace the setups, but are not written.
        let write = !(rdp_only && finished_background);
        match next {
            Some((p, gap)) if gap >= 0 => {
                if write {
                    w.packet(ts, &p)?;
                }
                heap.push(Reverse((ts + gap, id)));
                continue;
            }
            Some((p, _)) if write => w.packet(ts, &p)?, // a copy's last packet
            _ => {}
        }
        flows[id] = None;
        free.push(id);
        if !finished_background || w.bytes >= target {
            continue;
        }
        // A background flow ended: start another, and 1.5 RDP setups' worth of copies on average.
        background += 1;
        let f = new_background(&mut rng, background);
        let at = now + i64::try_from(rng.range(0, 20_000)).unwrap_or(0);
        spawn(&mut flows, &mut free, &mut heap, Flow::Synth(f), at);
        rdp_credit += 3;
        while rdp_credit >= 2 {
            rdp_credit -= 2;
            let mut pick = rng.next() % weights;
            let tpl = templates
                .iter()
                .position(|t| {
                    if pick < t.weight {
                        true
                    } else {
                        pick -= t.weight;
                        false
                    }
                })
                .unwrap_or(0);
            copies[tpl] += 1;
            next_client += 1;
            // 10.64.0.0/10: one client address per copy.
            let ip = Ipv4Addr::from(0x0A40_0000 | (next_client & 0x003f_ffff)).octets();
            let t0 = now + i64::try_from(rng.range(0, 50_000)).unwrap_or(0);
            let copy = u64::from(next_client);
            spawn(
                &mut flows,
                &mut free,
                &mut heap,
                Flow::Copy {
                    tpl,
                    at: 0,
                    t0,
                    ip,
                    copy,
                },
                t0,
            );
        }
    }
    w.out.flush()?;
    let mut report = String::new();
    let mut total = 0;
    for (t, n) in templates.iter().zip(&copies) {
        let setups = n * t.setups;
        total += setups;
        report.push_str(&format!(
            "kind\t{}\t{}\tcopies {}\tsetups {}\n",
            t.kind, t.file, n, setups
        ));
    }
    report.push_str(&format!("rdp_setups\t{total}\n"));
    report.push_str(&format!("background_flows\t{background}\n"));
    report.push_str(&format!("packets\t{}\nbytes\t{}\n", w.packets, w.bytes));
    std::fs::write(format!("{out_path}.counts"), &report)?;
    print!("{out_path}\n{report}");
    Ok(())
}
