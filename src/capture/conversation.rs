//! One TCP connection's packets, built from what each side sent (RFC 9293 §3.1 for TCP, RFC 791 for
//! IPv4, RFC 8200 for IPv6, RFC 792 / RFC 4443 for ICMP destination unreachable), framed in Ethernet II.
//! Lengths, data offsets and checksums (IPv4 header, TCP, ICMP) are computed, so Wireshark and tshark
//! find nothing to flag. Sequence and acknowledgement numbers follow what each side has sent so far.
//!
//! Pure: no I/O and no clock; every frame carries the time it is given.

use std::net::{IpAddr, SocketAddr};

use crate::session::Direction;

/// The segment size used unless [`TcpConversation::set_mss`] says otherwise (Ethernet's).
pub const DEFAULT_MSS: usize = 1460;
/// The largest segment payload: an IPv4 packet of it, with headers, stays under 65535 bytes.
pub const MAX_MSS: usize = 65_000;
/// The receive window every segment advertises.
pub const WINDOW: u16 = 65_535;
/// The Ethernet address of the client (locally administered).
pub const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
/// The Ethernet address of the server (and of any router reporting ICMP on its side).
pub const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

const TTL: u8 = 64;
const PROTO_TCP: u8 = 6;
const PROTO_ICMP: u8 = 1;
const PROTO_ICMPV6: u8 = 58;
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// One Ethernet frame and the time it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Microseconds since the Unix epoch.
    pub ts_us: i64,
    pub bytes: Vec<u8>,
}

/// The packets of one TCP connection between `client` and `server`.
///
/// Calls follow the conversation: [`syn`](Self::syn), [`syn_ack`](Self::syn_ack), [`ack`](Self::ack)
/// (or [`handshake`](Self::handshake) for all three), [`data`](Self::data) from either side,
/// [`fin`](Self::fin) / [`rst`](Self::rst) from either side; a refused connect is [`syn`](Self::syn) then
/// [`refused`](Self::refused); an unanswered one is [`syn`](Self::syn) called again (each retransmission
/// repeats the initial sequence number). Both endpoints should be of one address family; when they are
/// not, the IPv4 one is written as an IPv4-mapped IPv6 address.
#[derive(Debug, Clone)]
pub struct TcpConversation {
    client: SocketAddr,
    server: SocketAddr,
    from_client: Side,
    from_server: Side,
    mss: usize,
    ip_id: u16,
}

/// What one side has sent so far.
#[derive(Debug, Clone, Copy)]
struct Side {
    isn: u32,
    /// The next sequence number this side sends.
    next: u32,
    /// Whether this side's SYN was sent (only then does the other side acknowledge anything).
    synced: bool,
}

impl Side {
    fn new(isn: u32) -> Self {
        Self {
            isn,
            next: isn,
            synced: false,
        }
    }
}

impl TcpConversation {
    /// A connection whose sides start their sequence numbers at `isn_client` and `isn_server`.
    pub fn new(client: SocketAddr, server: SocketAddr, isn_client: u32, isn_server: u32) -> Self {
        Self {
            client,
            server,
            from_client: Side::new(isn_client),
            from_server: Side::new(isn_server),
            mss: DEFAULT_MSS,
            ip_id: 1,
        }
    }

    pub fn client(&self) -> SocketAddr {
        self.client
    }

    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// Data segments from now on carry at most `mss` bytes (1 to [`MAX_MSS`]).
    pub fn set_mss(&mut self, mss: usize) {
        self.mss = mss.clamp(1, MAX_MSS);
    }

    pub fn mss(&self) -> usize {
        self.mss
    }

    /// The next sequence number `dir`'s side will send.
    pub fn next_seq(&self, dir: Direction) -> u32 {
        self.side(dir).next
    }

    /// The client's SYN (with an MSS option). Called again, a retransmission with the same sequence number.
    pub fn syn(&mut self, ts_us: i64) -> Frame {
        let seq = self.from_client.isn;
        self.from_client.next = seq.wrapping_add(1);
        self.from_client.synced = true;
        let mss = self.mss_option();
        self.tcp(ts_us, Direction::ClientToServer, seq, 0, SYN, &mss, &[])
    }

    /// The server's SYN/ACK (with an MSS option).
    pub fn syn_ack(&mut self, ts_us: i64) -> Frame {
        let seq = self.from_server.isn;
        self.from_server.next = seq.wrapping_add(1);
        self.from_server.synced = true;
        let ack = self.ack_for(Direction::ServerToClient);
        let mss = self.mss_option();
        self.tcp(
            ts_us,
            Direction::ServerToClient,
            seq,
            ack,
            SYN | ACK,
            &mss,
            &[],
        )
    }

    /// A bare ACK from `dir`'s side of everything the other side sent.
    pub fn ack(&mut self, ts_us: i64, dir: Direction) -> Frame {
        let (seq, ack) = (self.side(dir).next, self.ack_for(dir));
        self.tcp(ts_us, dir, seq, ack, ACK, &[], &[])
    }

    /// The three-way handshake: SYN at `ts_us`, SYN/ACK `rtt_us` later, and the client's ACK with it.
    pub fn handshake(&mut self, ts_us: i64, rtt_us: i64) -> Vec<Frame> {
        let connected = ts_us.saturating_add(rtt_us);
        vec![
            self.syn(ts_us),
            self.syn_ack(connected),
            self.ack(connected, Direction::ClientToServer),
        ]
    }

    /// `bytes` from `dir`'s side, cut into segments of at most the MSS; the last carries PSH.
    /// Nothing for no bytes.
    pub fn data(&mut self, ts_us: i64, dir: Direction, bytes: &[u8]) -> Vec<Frame> {
        let chunks: Vec<&[u8]> = bytes.chunks(self.mss).collect();
        let last = chunks.len().saturating_sub(1);
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| {
                let seq = self.side(dir).next;
                let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
                self.side_mut(dir).next = seq.wrapping_add(len);
                let flags = if i == last { ACK | PSH } else { ACK };
                let ack = self.ack_for(dir);
                self.tcp(ts_us, dir, seq, ack, flags, &[], chunk)
            })
            .collect()
    }

    /// A FIN (with ACK) from `dir`'s side; it takes one sequence number.
    pub fn fin(&mut self, ts_us: i64, dir: Direction) -> Frame {
        let seq = self.side(dir).next;
        self.side_mut(dir).next = seq.wrapping_add(1);
        let ack = self.ack_for(dir);
        self.tcp(ts_us, dir, seq, ack, FIN | ACK, &[], &[])
    }

    /// A RST (with ACK) from `dir`'s side, at its next sequence number.
    pub fn rst(&mut self, ts_us: i64, dir: Direction) -> Frame {
        let (seq, ack) = (self.side(dir).next, self.ack_for(dir));
        self.tcp(ts_us, dir, seq, ack, RST | ACK, &[], &[])
    }

    /// The server's RST/ACK answering the SYN: nothing listens (RFC 9293 §3.10.7.1).
    pub fn refused(&mut self, ts_us: i64) -> Frame {
        let ack = self.from_client.isn.wrapping_add(1);
        self.tcp(
            ts_us,
            Direction::ServerToClient,
            0,
            ack,
            RST | ACK,
            &[],
            &[],
        )
    }

    /// ICMP (IPv4, type 3) or ICMPv6 (type 1) destination unreachable from `reporter` to the client,
    /// quoting the client's SYN. `reporter` is written in the client's address family (IPv4-mapped
    /// when it must).
    pub fn unreachable(&mut self, ts_us: i64, reporter: IpAddr, icmp_type: u8, code: u8) -> Frame {
        let mss = self.mss_option();
        let quoted_tcp = tcp_header(
            self.client,
            self.server,
            self.from_client.isn,
            0,
            SYN,
            &mss,
            &[],
        );
        let quoted = self.ip_packet(self.client.ip(), self.server.ip(), PROTO_TCP, &quoted_tcp);
        let mut icmp = vec![icmp_type, code, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&quoted);
        let (src, dst) = same_family(reporter, self.client.ip());
        let protocol = match dst {
            IpAddr::V4(_) => PROTO_ICMP,
            IpAddr::V6(_) => PROTO_ICMPV6,
        };
        let sum = match dst {
            IpAddr::V4(_) => checksum(&[&icmp]),
            IpAddr::V6(_) => checksum(&[&pseudo_header(src, dst, protocol, icmp.len()), &icmp]),
        };
        if let Some(field) = icmp.get_mut(2..4) {
            field.copy_from_slice(&sum.to_be_bytes());
        }
        let packet = self.ip_packet(src, dst, protocol, &icmp);
        Frame {
            ts_us,
            bytes: ethernet(SERVER_MAC, CLIENT_MAC, dst, &packet),
        }
    }

    fn side(&self, dir: Direction) -> &Side {
        match dir {
            Direction::ClientToServer => &self.from_client,
            Direction::ServerToClient => &self.from_server,
        }
    }

    fn side_mut(&mut self, dir: Direction) -> &mut Side {
        match dir {
            Direction::ClientToServer => &mut self.from_client,
            Direction::ServerToClient => &mut self.from_server,
        }
    }

    fn mss_option(&self) -> [u8; 4] {
        let mss = u16::try_from(self.mss).unwrap_or(u16::MAX).to_be_bytes();
        [2, 4, mss[0], mss[1]] // kind 2 (MSS), length 4
    }

    /// What `dir`'s side acknowledges: everything the other side sent, once it has synchronised.
    fn ack_for(&self, dir: Direction) -> u32 {
        let other = self.side(dir.other());
        if other.synced {
            other.next
        } else {
            0
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp(
        &mut self,
        ts_us: i64,
        dir: Direction,
        seq: u32,
        ack: u32,
        flags: u8,
        options: &[u8],
        payload: &[u8],
    ) -> Frame {
        let (src, dst, src_mac, dst_mac) = match dir {
            Direction::ClientToServer => (self.client, self.server, CLIENT_MAC, SERVER_MAC),
            Direction::ServerToClient => (self.server, self.client, SERVER_MAC, CLIENT_MAC),
        };
        let segment = tcp_header(src, dst, seq, ack, flags, options, payload);
        let (src_ip, dst_ip) = same_family(src.ip(), dst.ip());
        let packet = self.ip_packet(src_ip, dst_ip, PROTO_TCP, &segment);
        Frame {
            ts_us,
            bytes: ethernet(src_mac, dst_mac, dst_ip, &packet),
        }
    }

    /// An IPv4 (DF set, a fresh identification) or IPv6 packet around `payload`.
    fn ip_packet(&mut self, src: IpAddr, dst: IpAddr, protocol: u8, payload: &[u8]) -> Vec<u8> {
        let (src, dst) = same_family(src, dst);
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let id = self.ip_id;
                self.ip_id = self.ip_id.wrapping_add(1);
                let total = u16::try_from(20 + payload.len()).unwrap_or(u16::MAX);
                let mut h = vec![0x45, 0]; // version 4, IHL 5 words; DSCP/ECN 0
                h.extend_from_slice(&total.to_be_bytes());
                h.extend_from_slice(&id.to_be_bytes());
                h.extend_from_slice(&[0x40, 0]); // flags: DF; fragment offset 0
                h.extend_from_slice(&[TTL, protocol, 0, 0]); // TTL, protocol, checksum (below)
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                let sum = checksum(&[&h]);
                if let Some(field) = h.get_mut(10..12) {
                    field.copy_from_slice(&sum.to_be_bytes());
                }
                h.extend_from_slice(payload);
                h
            }
            _ => {
                let (s, d) = (v6(src), v6(dst));
                let len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
                let mut h = vec![0x60, 0, 0, 0]; // version 6, traffic class 0, flow label 0
                h.extend_from_slice(&len.to_be_bytes());
                h.extend_from_slice(&[protocol, TTL]); // next header, hop limit
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                h.extend_from_slice(payload);
                h
            }
        }
    }
}

fn v6(a: IpAddr) -> std::net::Ipv6Addr {
    match a {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// Both addresses in one family: IPv6 (IPv4-mapped) when either is IPv6.
fn same_family(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    match (a, b) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => (a, b),
        _ => (IpAddr::V6(v6(a)), IpAddr::V6(v6(b))),
    }
}

fn ethernet(src: [u8; 6], dst: [u8; 6], dst_ip: IpAddr, packet: &[u8]) -> Vec<u8> {
    let ethertype: u16 = match dst_ip {
        IpAddr::V4(_) => 0x0800,
        IpAddr::V6(_) => 0x86dd,
    };
    let mut f = Vec::with_capacity(14 + packet.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(packet);
    f
}

/// A TCP header (data offset from the options, padded to words) and payload, with its checksum.
fn tcp_header(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: u8,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let padded = options.len().div_ceil(4) * 4;
    let words = u8::try_from((20 + padded) / 4).unwrap_or(15);
    let mut t = Vec::with_capacity(20 + padded + payload.len());
    t.extend_from_slice(&src.port().to_be_bytes());
    t.extend_from_slice(&dst.port().to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[words << 4, flags]); // data offset, flags
    t.extend_from_slice(&WINDOW.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0]); // checksum (below), urgent pointer
    t.extend_from_slice(options);
    t.resize(20 + padded, 0); // end-of-options padding
    t.extend_from_slice(payload);
    let (s, d) = same_family(src.ip(), dst.ip());
    let sum = checksum(&[&pseudo_header(s, d, PROTO_TCP, t.len()), &t]);
    if let Some(field) = t.get_mut(16..18) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
    t
}

/// The pseudo-header the TCP (and ICMPv6) checksum covers: RFC 9293 §3.1 and RFC 8200 §8.1.
fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, len: usize) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut p = Vec::with_capacity(12);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&[0, protocol]);
            p.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
            p
        }
        _ => {
            let mut p = Vec::with_capacity(40);
            p.extend_from_slice(&v6(src).octets());
            p.extend_from_slice(&v6(dst).octets());
            p.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, protocol]);
            p
        }
    }
}

/// The Internet checksum (RFC 1071) over the concatenation of `parts` (each but the last of even length).
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        let mut words = part.chunks_exact(2);
        for w in &mut words {
            if let [hi, lo] = w {
                sum = sum.wrapping_add(u32::from(u16::from_be_bytes([*hi, *lo])));
            }
        }
        if let [last] = words.remainder() {
            sum = sum.wrapping_add(u32::from(*last) << 8);
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !u16::try_from(sum).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use crate::replay::packet::{Decoded, Decoder, LinkType, TcpFlags};

    const C: Direction = Direction::ClientToServer;
    const S: Direction = Direction::ServerToClient;

    fn conversation(client: &str, server: &str) -> TcpConversation {
        TcpConversation::new(
            client.parse().unwrap(),
            server.parse().unwrap(),
            0xffff_fff0, // wraps during the data
            7_000,
        )
    }

    /// (src, dst, seq, ack, flags, payload) of every frame, through our own decoder.
    fn decode(frames: &[Frame]) -> Vec<(SocketAddr, SocketAddr, u32, u32, TcpFlags, Vec<u8>)> {
        let mut d = Decoder::new();
        frames
            .iter()
            .map(
                |f| match d.decode(LinkType::Ethernet, &f.bytes, f.ts_us).unwrap() {
                    Decoded::Tcp(s) => (s.src, s.dst, s.seq, s.ack, s.flags, s.payload.to_vec()),
                    other => panic!("{other:?}"),
                },
            )
            .collect()
    }

    #[test]
    fn rfc1071_example_and_verification() {
        // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2, so the checksum is its complement.
        assert_eq!(
            checksum(&[&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]]),
            !0xddf2
        );
        // A header with its checksum in place sums to zero.
        let mut tcp = conversation("10.0.0.1:50000", "10.0.0.2:3389");
        let f = tcp.syn(0);
        assert_eq!(checksum(&[&f.bytes[14..34]]), 0);
        let pseudo = pseudo_header(
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            PROTO_TCP,
            f.bytes.len() - 34,
        );
        assert_eq!(checksum(&[&pseudo, &f.bytes[34..]]), 0);
    }

    #[test]
    fn a_whole_conversation_keeps_seq_and_ack_right() {
        for (c, s) in [
            ("10.0.0.1:50000", "10.0.0.2:3389"),
            ("[::1]:50000", "[::1]:3389"),
        ] {
            let mut tcp = conversation(c, s);
            tcp.set_mss(10);
            let mut frames = tcp.handshake(100, 50);
            frames.extend(tcp.data(200, C, &[1; 25]));
            frames.extend(tcp.data(300, S, &[2; 5]));
            frames.push(tcp.fin(400, S));
            frames.push(tcp.fin(401, C));
            frames.push(tcp.ack(402, S));
            let got = decode(&frames);
            let (ci, si) = (0xffff_fff0u32, 7_000u32);
            let row = |i: usize| (got[i].2, got[i].3, got[i].4.to_string(), got[i].5.len());
            assert_eq!(row(0), (ci, 0, "SYN".into(), 0));
            assert_eq!(row(1), (si, ci.wrapping_add(1), "SYN|ACK".into(), 0));
            assert_eq!(row(2), (ci.wrapping_add(1), si + 1, "ACK".into(), 0));
            assert_eq!(row(3), (ci.wrapping_add(1), si + 1, "ACK".into(), 10));
            assert_eq!(row(4), (ci.wrapping_add(11), si + 1, "ACK".into(), 10));
            assert_eq!(row(5), (ci.wrapping_add(21), si + 1, "PSH|ACK".into(), 5));
            assert_eq!(row(6), (si + 1, ci.wrapping_add(26), "PSH|ACK".into(), 5));
            assert_eq!(row(7), (si + 6, ci.wrapping_add(26), "FIN|ACK".into(), 0));
            assert_eq!(row(8), (ci.wrapping_add(26), si + 7, "FIN|ACK".into(), 0));
            assert_eq!(row(9), (si + 7, ci.wrapping_add(27), "ACK".into(), 0));
            assert_eq!(got[0].0, c.parse().unwrap());
            assert_eq!(got[6].0, s.parse().unwrap());
        }
    }

    #[test]
    fn lengths_and_data_offset() {
        let mut tcp = conversation("10.0.0.1:50000", "10.0.0.2:3389");
        let syn = tcp.syn(0);
        assert_eq!(syn.bytes.len(), 14 + 20 + 24);
        assert_eq!(syn.bytes[14 + 2..14 + 4], [0, 44]); // total length
        assert_eq!(syn.bytes[34 + 12] >> 4, 6); // data offset: 5 words + the MSS option
        assert_eq!(syn.bytes[34 + 20..], [2, 4, 0x05, 0xb4]);
        let data = tcp.data(1, C, b"hello");
        assert_eq!(data[0].bytes[14 + 2..14 + 4], [0, 45]);
        assert_eq!(data[0].bytes[34 + 12] >> 4, 5);
        let mut tcp6 = conversation("[::1]:50000", "[::1]:3389");
        let syn6 = tcp6.syn(0);
        assert_eq!(syn6.bytes[12..14], [0x86, 0xdd]);
        assert_eq!(syn6.bytes[14 + 4..14 + 6], [0, 24]); // payload length
        assert_eq!(tcp6.data(1, C, &[]), vec![]);
    }

    #[test]
    fn refused_and_unanswered_connects() {
        let mut tcp = conversation("10.0.0.1:50000", "10.0.0.2:3389");
        let frames = vec![tcp.syn(0), tcp.syn(1_000_000), tcp.refused(1_000_100)];
        let got = decode(&frames);
        assert_eq!(got[0], got[1]);
        assert_eq!(
            (got[2].2, got[2].3, got[2].4.to_string()),
            (0, 0xffff_fff1, "RST|ACK".into())
        );
        let rst = decode(&[tcp.rst(2, C)]);
        assert_eq!(rst[0].4.to_string(), "RST|ACK");
    }

    #[test]
    fn icmp_unreachable_quotes_the_syn() {
        for (c, s, r) in [
            ("10.0.0.1:50000", "10.0.0.2:3389", "192.0.2.1"),
            ("[2001:db8::1]:50000", "[2001:db8::2]:3389", "2001:db8::ff"),
        ] {
            let mut tcp = conversation(c, s);
            let f = tcp.unreachable(
                5,
                r.parse().unwrap(),
                if r.contains(':') { 1 } else { 3 },
                4,
            );
            match Decoder::new()
                .decode(LinkType::Ethernet, &f.bytes, 5)
                .unwrap()
            {
                Decoded::IcmpUnreachable(i) => {
                    assert_eq!(i.reporter, r.parse::<IpAddr>().unwrap());
                    assert_eq!(i.code, 4);
                    assert_eq!(
                        (i.quoted_src, i.quoted_dst),
                        (c.parse().unwrap(), s.parse().unwrap())
                    );
                    assert_eq!(i.quoted_seq, Some(0xffff_fff0));
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
