//! Pure packet decoding for the capture replayer: link layer (Ethernet with VLAN tags, Linux cooked
//! SLL/SLL2, raw IP, BSD loopback) → IPv4/IPv6 (with fragment reassembly, in [`super::ip`]) → a TCP
//! segment or an ICMP destination unreachable quoting one. Everything else is [`Decoded::Other`], decided
//! as early as the bytes allow: this runs on every packet of multi-gigabyte captures.
//!
//! Bytes are hostile: every length is checked, nothing panics, and the only memory kept between packets
//! is the bounded fragment reassembly state.

use std::net::{IpAddr, SocketAddr};

use super::ip::{self, proto, FragmentKey, Ipv6Chain, Offer, Reassembler};
pub use super::ip::{
    FragmentStats as DecoderStats, FRAGMENT_TIMEOUT_US, MAX_FRAGMENTS_PER_SET, MAX_FRAGMENT_BYTES,
    MAX_FRAGMENT_SETS, MAX_IPV6_EXTENSION_HEADERS,
};

/// The most VLAN tags (802.1Q, 802.1ad QinQ) peeled off one frame.
pub const MAX_VLAN_TAGS: usize = 8;

/// Link types by libpcap DLT/LINKTYPE number (<https://www.tcpdump.org/linktypes.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// 1: Ethernet II, with any 802.1Q / QinQ tags.
    Ethernet,
    /// 0: BSD loopback, a 4-byte address family in the capturing host's byte order.
    Null,
    /// 108: OpenBSD loopback, a 4-byte address family in network byte order.
    Loop,
    /// 101 (and the DLT values 12 and 14 some systems use for it): raw IP, the version nibble decides.
    Raw,
    /// 228: raw IPv4.
    Ipv4,
    /// 229: raw IPv6.
    Ipv6,
    /// 113: Linux cooked capture v1 (16-byte header, protocol at offset 14).
    LinuxSll,
    /// 276: Linux cooked capture v2 (20-byte header, protocol at offset 0).
    LinuxSll2,
}

impl LinkType {
    /// Every link type, for tests and fuzzing.
    pub const ALL: [LinkType; 8] = [
        LinkType::Ethernet,
        LinkType::Null,
        LinkType::Loop,
        LinkType::Raw,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
    ];

    pub fn from_dlt(dlt: i32) -> Option<Self> {
        Some(match dlt {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }

    /// The LINKTYPE number written to pcap files (101 for [`LinkType::Raw`]).
    pub fn dlt(self) -> i32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
        }
    }

    /// The libpcap name (`LINKTYPE_` without the prefix, lowercase).
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Ethernet => "ethernet",
            LinkType::Null => "null",
            LinkType::Loop => "loop",
            LinkType::Raw => "raw",
            LinkType::Ipv4 => "ipv4",
            LinkType::Ipv6 => "ipv6",
            LinkType::LinuxSll => "linux_sll",
            LinkType::LinuxSll2 => "linux_sll2",
        }
    }
}

/// TCP header flags (RFC 9293 §3.1, RFC 3168 §6.1 for ECE and CWR), kept as the wire byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: TcpFlags = TcpFlags(0x01);
    pub const SYN: TcpFlags = TcpFlags(0x02);
    pub const RST: TcpFlags = TcpFlags(0x04);
    pub const PSH: TcpFlags = TcpFlags(0x08);
    pub const ACK: TcpFlags = TcpFlags(0x10);
    pub const URG: TcpFlags = TcpFlags(0x20);
    pub const ECE: TcpFlags = TcpFlags(0x40);
    pub const CWR: TcpFlags = TcpFlags(0x80);

    const NAMES: [(TcpFlags, &'static str); 8] = [
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::ACK, "ACK"),
        (TcpFlags::URG, "URG"),
        (TcpFlags::ECE, "ECE"),
        (TcpFlags::CWR, "CWR"),
    ];

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

/// `SYN|ACK`; no flag at all prints as `0x0`.
impl std::fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = TcpFlags::NAMES.map(|(flag, name)| (u64::from(flag.0), name));
        crate::wire::write_flags(f, u64::from(self.0), names)
    }
}

impl std::fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TcpFlags({self})")
    }
}

/// One TCP segment (RFC 9293 §3.1); options are skipped, the payload borrows the frame or the
/// reassembled datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub payload: &'a [u8],
}

/// One UDP datagram (RFC 768); the payload borrows the frame or the reassembled datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub payload: &'a [u8],
}

/// A UDP header and what its length field covers (a length past the bytes captured keeps what there is).
pub fn parse_udp(
    src: IpAddr,
    dst: IpAddr,
    datagram: &[u8],
) -> Result<UdpDatagram<'_>, PacketError> {
    let (Some(sport), Some(dport), Some(len)) =
        (be16(datagram, 0), be16(datagram, 2), be16(datagram, 4))
    else {
        return Err(PacketError::TooShort {
            layer: "udp",
            unit: "datagram",
            len: datagram.len(),
        });
    };
    let end = usize::from(len).clamp(8, datagram.len().max(8));
    Ok(UdpDatagram {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        payload: datagram.get(8..end).unwrap_or_default(),
    })
}

/// ICMP destination unreachable (RFC 792, type 3, any code) or ICMPv6 destination unreachable
/// (RFC 4443 §3.1, type 1, any code) quoting a TCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpUnreachable {
    /// Who sent the ICMP message (a router, or the destination host).
    pub reporter: IpAddr,
    pub icmp_type: u8,
    pub code: u8,
    /// The quoted packet's TCP endpoints as the original sender wrote them.
    pub quoted_src: SocketAddr,
    pub quoted_dst: SocketAddr,
    /// The quoted sequence number, when the quote reaches that far.
    pub quoted_seq: Option<u32>,
}

/// What one frame carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    Tcp(TcpSegment<'a>),
    IcmpUnreachable(IcmpUnreachable),
    /// A fragment was stored; nothing to deliver yet.
    FragmentHeld,
    /// A fragment was not stored because a reassembly limit was hit (counted in [`Decoder::stats`]).
    FragmentDropped,
    /// A UDP datagram (RFC 768): only RDP's UDP transport is looked at (`replay::udp`).
    Udp(UdpDatagram<'a>),
    /// Not TCP, UDP nor an ICMP unreachable quoting TCP (ARP, ESP, …): dropped on the fast path.
    Other,
}

/// Why a frame could not be decoded. Every message names the layer it happened in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("{layer}: {unit} shorter than its header ({len} bytes)")]
    TooShort {
        layer: &'static str,
        unit: &'static str,
        len: usize,
    },
    #[error("{layer}: more than {max} VLAN tags")]
    TooManyVlanTags { layer: &'static str, max: usize },
    #[error("{layer}: version {version}")]
    BadVersion { layer: &'static str, version: u8 },
    #[error("{layer}: header length {words} words")]
    HeaderLength { layer: &'static str, words: u8 },
    #[error("{layer}: header ({header} bytes) runs past the packet ({len} bytes)")]
    HeaderOverrun {
        layer: &'static str,
        header: usize,
        len: usize,
    },
    #[error("ipv4: total length {total} shorter than its header ({header} bytes)")]
    Ipv4TotalLengthShort { total: usize, header: usize },
    #[error(
        "ipv4: total length {total} exceeds the {captured} bytes captured (truncated capture)"
    )]
    Ipv4Truncated { total: usize, captured: usize },
    #[error(
        "ipv6: payload length {payload} exceeds the {captured} bytes captured (truncated capture)"
    )]
    Ipv6Truncated { payload: usize, captured: usize },
    #[error("ipv6: extension header runs past the packet")]
    Ipv6ExtensionOverrun,
    #[error("ipv6: more than {0} extension headers")]
    Ipv6TooManyExtensionHeaders(usize),
    #[error("tcp: data offset {0} words")]
    TcpDataOffset(u8),
    #[error("tcp: header ({header} bytes) runs past the segment ({len} bytes)")]
    TcpHeaderOverrun { header: usize, len: usize },
    #[error("{layer}: quoted packet too short to name a TCP connection ({len} bytes)")]
    QuoteTooShort { layer: &'static str, len: usize },
}

/// The network-layer packet a frame carries, link header and VLAN tags removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network<'a> {
    Ipv4(&'a [u8]),
    Ipv6(&'a [u8]),
    /// Another protocol (ARP, an 802.3 length, an unknown address family, …).
    Other,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let b: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(b))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// Follows an EtherType through up to [`MAX_VLAN_TAGS`] VLAN tags (each: TCI, then the next EtherType).
fn by_ethertype<'a>(
    layer: &'static str,
    mut ethertype: u16,
    mut rest: &'a [u8],
) -> Result<Network<'a>, PacketError> {
    for _ in 0..=MAX_VLAN_TAGS {
        match ethertype {
            ETHERTYPE_IPV4 => return Ok(Network::Ipv4(rest)),
            ETHERTYPE_IPV6 => return Ok(Network::Ipv6(rest)),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
                let (Some(inner), Some(tail)) = (be16(rest, 2), rest.get(4..)) else {
                    return Err(PacketError::TooShort {
                        layer: "vlan",
                        unit: "tag",
                        len: rest.len(),
                    });
                };
                ethertype = inner;
                rest = tail;
            }
            _ => return Ok(Network::Other),
        }
    }
    Err(PacketError::TooManyVlanTags {
        layer,
        max: MAX_VLAN_TAGS,
    })
}

/// Removes the link header (and VLAN tags) of `frame`.
pub fn network_layer(link: LinkType, frame: &[u8]) -> Result<Network<'_>, PacketError> {
    let short = |layer| PacketError::TooShort {
        layer,
        unit: "frame",
        len: frame.len(),
    };
    match link {
        LinkType::Ethernet => match (be16(frame, 12), frame.get(14..)) {
            (Some(ethertype), Some(rest)) => by_ethertype("ethernet", ethertype, rest),
            _ => Err(short("ethernet")),
        },
        LinkType::LinuxSll => match (be16(frame, 14), frame.get(16..)) {
            (Some(protocol), Some(rest)) => by_ethertype("linux_sll", protocol, rest),
            _ => Err(short("linux_sll")),
        },
        LinkType::LinuxSll2 => match (be16(frame, 0), frame.get(20..)) {
            (Some(protocol), Some(rest)) => by_ethertype("linux_sll2", protocol, rest),
            _ => Err(short("linux_sll2")),
        },
        LinkType::Null | LinkType::Loop => {
            let layer = link.name();
            let (Some(family), Some(rest)) = (frame.get(..4), frame.get(4..)) else {
                return Err(short(layer));
            };
            let family: [u8; 4] = family.try_into().map_err(|_| short(layer))?;
            let family = match link {
                // Host byte order, and the host is unknown: the family is a small number, so the
                // smaller reading is the right one.
                LinkType::Null => u32::from_le_bytes(family).min(u32::from_be_bytes(family)),
                _ => u32::from_be_bytes(family),
            };
            Ok(match family {
                2 => Network::Ipv4(rest),
                // AF_INET6: NetBSD/OpenBSD, FreeBSD, Darwin.
                24 | 28 | 30 => Network::Ipv6(rest),
                _ => Network::Other,
            })
        }
        LinkType::Raw => match frame.first().map(|b| b >> 4) {
            Some(4) => Ok(Network::Ipv4(frame)),
            Some(6) => Ok(Network::Ipv6(frame)),
            Some(version) => Err(PacketError::BadVersion {
                layer: "raw",
                version,
            }),
            None => Err(short("raw")),
        },
        LinkType::Ipv4 => Ok(Network::Ipv4(frame)),
        LinkType::Ipv6 => Ok(Network::Ipv6(frame)),
    }
}

/// Parses a TCP segment between `src` and `dst`.
pub fn parse_tcp(src: IpAddr, dst: IpAddr, segment: &[u8]) -> Result<TcpSegment<'_>, PacketError> {
    let too_short = PacketError::TooShort {
        layer: "tcp",
        unit: "segment",
        len: segment.len(),
    };
    if segment.len() < 20 {
        return Err(too_short);
    }
    let (Some(sport), Some(dport), Some(seq), Some(ack), Some(&offset), Some(&flags), Some(window)) = (
        be16(segment, 0),
        be16(segment, 2),
        be32(segment, 4),
        be32(segment, 8),
        segment.get(12),
        segment.get(13),
        be16(segment, 14),
    ) else {
        return Err(too_short);
    };
    let words = offset >> 4;
    if words < 5 {
        return Err(PacketError::TcpDataOffset(words));
    }
    let header = usize::from(words) * 4;
    let payload = segment.get(header..).ok_or(PacketError::TcpHeaderOverrun {
        header,
        len: segment.len(),
    })?;
    Ok(TcpSegment {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        seq,
        ack,
        flags: TcpFlags(flags),
        window,
        payload,
    })
}

/// The endpoints and flags of a frame that [`Decoder::decode`] reads as one unfragmented IPv4 TCP segment,
/// read with the decoder's own parsers but without its fragment state or the decoded segment's socket
/// addresses: what the file reader's filter needs to drop the packets of ignored flows (most packets of a
/// capture) cheaply. `None` for anything else, the full decode then decides. When it is `Some`, the decode
/// gives `Decoded::Tcp` with these endpoints and flags (the `packet` fuzz target and a property test hold it
/// to that).
pub fn peek_tcp4(link: LinkType, frame: &[u8]) -> Option<Tcp4Peek> {
    let Ok(Network::Ipv4(packet)) = network_layer(link, frame) else {
        return None;
    };
    // The protocol byte first, as the decoder reads it, before the header is parsed.
    if packet.get(9) != Some(&proto::TCP) {
        return None;
    }
    let p = ip::parse_ipv4(packet).ok().filter(|p| !p.is_fragment())?;
    let seg = parse_tcp(IpAddr::V4(p.src), IpAddr::V4(p.dst), p.payload).ok()?;
    Some(Tcp4Peek {
        src: (u32::from(p.src), seg.src.port()),
        dst: (u32::from(p.dst), seg.dst.port()),
        flags: seg.flags,
    })
}

/// What [`peek_tcp4`] reads: each endpoint as (address, port), and the TCP flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tcp4Peek {
    pub src: (u32, u16),
    pub dst: (u32, u16),
    pub flags: TcpFlags,
}

impl Tcp4Peek {
    /// Both endpoints as socket addresses, source first, as the decoded segment has them.
    pub fn addrs(&self) -> (SocketAddr, SocketAddr) {
        let addr = |(ip, port): (u32, u16)| SocketAddr::from((std::net::Ipv4Addr::from(ip), port));
        (addr(self.src), addr(self.dst))
    }
}

/// The TCP endpoints (and sequence number, if quoted) of a quoted TCP header.
fn quoted_tcp(
    layer: &'static str,
    src: IpAddr,
    dst: IpAddr,
    tcp: &[u8],
) -> Result<(SocketAddr, SocketAddr, Option<u32>), PacketError> {
    let (Some(sport), Some(dport)) = (be16(tcp, 0), be16(tcp, 2)) else {
        return Err(PacketError::QuoteTooShort {
            layer,
            len: tcp.len(),
        });
    };
    Ok((
        SocketAddr::new(src, sport),
        SocketAddr::new(dst, dport),
        be32(tcp, 4),
    ))
}

/// RFC 792 destination unreachable (type 3): 8-byte ICMP header, then the quoted IPv4 header and at
/// least 8 bytes of what followed it.
fn parse_icmpv4(reporter: IpAddr, message: &[u8]) -> Result<Decoded<'_>, PacketError> {
    let layer = "icmp";
    let (Some(&icmp_type), Some(&code), Some(quote)) =
        (message.first(), message.get(1), message.get(8..))
    else {
        return Err(PacketError::TooShort {
            layer,
            unit: "message",
            len: message.len(),
        });
    };
    if icmp_type != 3 {
        return Ok(Decoded::Other);
    }
    let too_short = PacketError::QuoteTooShort {
        layer,
        len: quote.len(),
    };
    let (Some(&vihl), Some(&protocol), Some(offset), Some(src), Some(dst)) = (
        quote.first(),
        quote.get(9),
        be16(quote, 6),
        quote.get(12..16),
        quote.get(16..20),
    ) else {
        return Err(too_short);
    };
    if vihl >> 4 != 4 {
        return Err(PacketError::BadVersion {
            layer: "icmp quote",
            version: vihl >> 4,
        });
    }
    let words = vihl & 0x0f;
    if words < 5 {
        return Err(PacketError::HeaderLength {
            layer: "icmp quote",
            words,
        });
    }
    // A quoted non-first fragment holds no TCP header.
    if protocol != proto::TCP || offset & 0x1fff != 0 {
        return Ok(Decoded::Other);
    }
    let tcp = quote
        .get(usize::from(words) * 4..)
        .ok_or(too_short.clone())?;
    let to_ip = |b: &[u8]| <[u8; 4]>::try_from(b).map(IpAddr::from);
    let (Ok(src), Ok(dst)) = (to_ip(src), to_ip(dst)) else {
        return Err(too_short);
    };
    let (quoted_src, quoted_dst, quoted_seq) = quoted_tcp(layer, src, dst, tcp)?;
    Ok(Decoded::IcmpUnreachable(IcmpUnreachable {
        reporter,
        icmp_type,
        code,
        quoted_src,
        quoted_dst,
        quoted_seq,
    }))
}

/// RFC 4443 §3.1 destination unreachable (type 1): 8-byte ICMPv6 header, then as much of the invoking
/// packet as fits; its extension headers are walked to find TCP.
fn parse_icmpv6(reporter: IpAddr, message: &[u8]) -> Result<Decoded<'_>, PacketError> {
    let layer = "icmpv6";
    let (Some(&icmp_type), Some(&code), Some(quote)) =
        (message.first(), message.get(1), message.get(8..))
    else {
        return Err(PacketError::TooShort {
            layer,
            unit: "message",
            len: message.len(),
        });
    };
    if icmp_type != 1 {
        return Ok(Decoded::Other);
    }
    let too_short = PacketError::QuoteTooShort {
        layer,
        len: quote.len(),
    };
    let quoted = ip::parse_ipv6(quote, true).map_err(|e| match e {
        PacketError::BadVersion { version, .. } => PacketError::BadVersion {
            layer: "icmpv6 quote",
            version,
        },
        _ => too_short.clone(),
    })?;
    let mut chain = ip::walk_ipv6(quoted.next_header, quoted.payload);
    // The first fragment of a fragmented packet still starts with its TCP header.
    if let Ok(Ipv6Chain::Fragment {
        offset: 0,
        next_header,
        data,
        ..
    }) = chain
    {
        chain = ip::walk_ipv6(next_header, data);
    }
    match chain {
        Ok(Ipv6Chain::Upper {
            protocol: proto::TCP,
            payload,
        }) => {
            let (quoted_src, quoted_dst, quoted_seq) =
                quoted_tcp(layer, quoted.src.into(), quoted.dst.into(), payload)?;
            Ok(Decoded::IcmpUnreachable(IcmpUnreachable {
                reporter,
                icmp_type,
                code,
                quoted_src,
                quoted_dst,
                quoted_seq,
            }))
        }
        // The quote is cut inside its extension headers.
        Err(PacketError::Ipv6ExtensionOverrun) => Err(too_short),
        Err(e) => Err(e),
        Ok(_) => Ok(Decoded::Other),
    }
}

/// The upper layer of an IP packet, once it is whole.
fn transport<'a>(
    protocol: u8,
    src: IpAddr,
    dst: IpAddr,
    payload: &'a [u8],
) -> Result<Decoded<'a>, PacketError> {
    match (protocol, src) {
        (proto::TCP, _) => parse_tcp(src, dst, payload).map(Decoded::Tcp),
        (proto::UDP, _) => parse_udp(src, dst, payload).map(Decoded::Udp),
        (proto::ICMP, IpAddr::V4(_)) => parse_icmpv4(src, payload),
        (proto::ICMPV6, IpAddr::V6(_)) => parse_icmpv6(src, payload),
        _ => Ok(Decoded::Other),
    }
}

/// Decodes frames, keeping the (bounded) state fragment reassembly needs between them.
#[derive(Debug, Default)]
pub struct Decoder {
    fragments: Reassembler,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// What fragment reassembly did so far, limits hit included.
    pub fn stats(&self) -> DecoderStats {
        self.fragments.stats()
    }

    /// Expires fragment sets older than the timeout at `ts_us`, as every [`Decoder::decode`] does first:
    /// for frames the reader handles without decoding them.
    pub fn expire(&mut self, ts_us: i64) {
        self.fragments.expire(ts_us);
    }

    /// Decodes one frame of link type `link`, captured at `ts_us` (microseconds; used to expire old
    /// fragments). A TCP payload borrows `frame`, or this decoder when the packet was reassembled.
    pub fn decode<'a>(
        &'a mut self,
        link: LinkType,
        frame: &'a [u8],
        ts_us: i64,
    ) -> Result<Decoded<'a>, PacketError> {
        self.fragments.expire(ts_us);
        match network_layer(link, frame)? {
            Network::Ipv4(packet) => self.ipv4(packet, ts_us),
            Network::Ipv6(packet) => self.ipv6(packet, ts_us),
            Network::Other => Ok(Decoded::Other),
        }
    }

    fn ipv4<'a>(&'a mut self, packet: &'a [u8], ts_us: i64) -> Result<Decoded<'a>, PacketError> {
        // Fast path: the protocol byte decides before anything else is read.
        if !matches!(
            packet.get(9),
            None | Some(&proto::TCP) | Some(&proto::ICMP) | Some(&proto::UDP)
        ) {
            return Ok(Decoded::Other);
        }
        let p = ip::parse_ipv4(packet)?;
        let (src, dst) = (IpAddr::V4(p.src), IpAddr::V4(p.dst));
        if !p.is_fragment() {
            return transport(p.protocol, src, dst, p.payload);
        }
        let key = FragmentKey::V4 {
            src: p.src,
            dst: p.dst,
            identification: p.identification,
            protocol: p.protocol,
        };
        let fragment = ip::Fragment {
            offset: p.fragment_offset,
            more: p.more_fragments,
            first_header: p.protocol,
            data: p.payload,
        };
        self.reassemble(key, fragment, ts_us, src, dst)
    }

    fn ipv6<'a>(&'a mut self, packet: &'a [u8], ts_us: i64) -> Result<Decoded<'a>, PacketError> {
        // Fast path: ESP and friends straight after the fixed header.
        if !matches!(
            packet.get(6),
            None | Some(
                &(proto::TCP
                    | proto::UDP
                    | proto::ICMPV6
                    | proto::HOP_BY_HOP
                    | proto::ROUTING
                    | proto::FRAGMENT
                    | proto::DESTINATION_OPTIONS
                    | proto::AH)
            )
        ) {
            return Ok(Decoded::Other);
        }
        let p = ip::parse_ipv6(packet, false)?;
        let (src, dst) = (IpAddr::V6(p.src), IpAddr::V6(p.dst));
        match ip::walk_ipv6(p.next_header, p.payload)? {
            Ipv6Chain::Upper { protocol, payload } => transport(protocol, src, dst, payload),
            Ipv6Chain::Stop => Ok(Decoded::Other),
            Ipv6Chain::Fragment {
                next_header,
                offset,
                more,
                identification,
                data,
            } => {
                if !matches!(
                    next_header,
                    proto::TCP
                        | proto::UDP
                        | proto::ICMPV6
                        | proto::ROUTING
                        | proto::DESTINATION_OPTIONS
                        | proto::AH
                ) {
                    return Ok(Decoded::Other);
                }
                let key = FragmentKey::V6 {
                    src: p.src,
                    dst: p.dst,
                    identification,
                };
                let fragment = ip::Fragment {
                    offset,
                    more,
                    first_header: next_header,
                    data,
                };
                self.reassemble(key, fragment, ts_us, src, dst)
            }
        }
    }

    fn reassemble<'a>(
        &'a mut self,
        key: FragmentKey,
        fragment: ip::Fragment<'_>,
        ts_us: i64,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<Decoded<'a>, PacketError> {
        let first_header = match self.fragments.offer(key, fragment, ts_us) {
            Offer::Held => return Ok(Decoded::FragmentHeld),
            Offer::Dropped => return Ok(Decoded::FragmentDropped),
            Offer::Complete { first_header } => first_header,
        };
        let whole = self.fragments.delivered();
        match key {
            FragmentKey::V4 { .. } => transport(first_header, src, dst, whole),
            // The fragmentable part may start with more extension headers; a second fragment header
            // inside a reassembled packet is not followed.
            FragmentKey::V6 { .. } => match ip::walk_ipv6(first_header, whole)? {
                Ipv6Chain::Upper { protocol, payload } => transport(protocol, src, dst, payload),
                Ipv6Chain::Fragment { .. } | Ipv6Chain::Stop => Ok(Decoded::Other),
            },
        }
    }
}

#[cfg(test)]
mod tests;
