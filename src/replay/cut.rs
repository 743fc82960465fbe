//! Frames cut short by the capture's snapshot length (`tcpdump -s 64`): the capture says how long the
//! frame was on the wire, and kept fewer bytes. The IP and TCP headers that were kept still tell which
//! connection the segment belongs to, its sequence number and its flags; the payload bytes that were
//! not kept are counted, so the flow table reports them as a capture gap instead of the frame being
//! thrown away as undecodable.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::ip::proto;
use super::packet::{network_layer, LinkType, Network, TcpFlags, TcpSegment};

/// The bytes of the TCP header needed to place a segment: ports, sequence and acknowledgement numbers,
/// data offset and flags, window (RFC 9293 §3.1).
const TCP_FIXED: usize = 16;

/// A TCP segment of a cut frame, with how many of its payload bytes the capture did not keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutSegment<'a> {
    pub segment: TcpSegment<'a>,
    pub missing: u32,
}

/// Reads a TCP segment from a frame the capture cut short. `None` when the frame is not an unfragmented
/// TCP segment over IPv4 or IPv6 (without extension headers), or was cut inside the fixed headers.
pub fn cut_tcp(link: LinkType, frame: &[u8]) -> Option<CutSegment<'_>> {
    let (src, dst, ip_payload, missing_ip) = match network_layer(link, frame).ok()? {
        Network::Ipv4(p) => ipv4(p)?,
        Network::Ipv6(p) => ipv6(p)?,
        Network::Other => return None,
    };
    let [sp0, sp1, dp0, dp1, s0, s1, s2, s3, a0, a1, a2, a3, offset, flags, w0, w1] =
        *ip_payload.get(..TCP_FIXED)?
    else {
        return None;
    };
    let header = usize::from(offset >> 4) * 4;
    if header < 20 {
        return None;
    }
    let payload = ip_payload.get(header..).unwrap_or_default();
    // The segment's length on the wire, less its header, less what was kept.
    let wire_len = ip_payload.len().saturating_add(missing_ip);
    let missing = wire_len
        .saturating_sub(header)
        .saturating_sub(payload.len());
    Some(CutSegment {
        segment: TcpSegment {
            src: SocketAddr::new(src, u16::from_be_bytes([sp0, sp1])),
            dst: SocketAddr::new(dst, u16::from_be_bytes([dp0, dp1])),
            seq: u32::from_be_bytes([s0, s1, s2, s3]),
            ack: u32::from_be_bytes([a0, a1, a2, a3]),
            flags: TcpFlags(flags),
            window: u16::from_be_bytes([w0, w1]),
            payload,
        },
        missing: u32::try_from(missing).unwrap_or(u32::MAX),
    })
}

/// Source, destination, the IP payload kept and how many bytes of it were not.
fn ipv4(p: &[u8]) -> Option<(IpAddr, IpAddr, &[u8], usize)> {
    let vihl = *p.first()?;
    let header = usize::from(vihl & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([*p.get(2)?, *p.get(3)?]));
    let fragment = u16::from_be_bytes([*p.get(6)?, *p.get(7)?]) & 0x3fff;
    if vihl >> 4 != 4 || header < 20 || *p.get(9)? != proto::TCP || fragment != 0 || total < header
    {
        return None;
    }
    let src: [u8; 4] = p.get(12..16)?.try_into().ok()?;
    let dst: [u8; 4] = p.get(16..20)?.try_into().ok()?;
    let kept = p.get(header..total.min(p.len()))?;
    let missing = total.saturating_sub(header).saturating_sub(kept.len());
    Some((
        IpAddr::V4(Ipv4Addr::from(src)),
        IpAddr::V4(Ipv4Addr::from(dst)),
        kept,
        missing,
    ))
}

fn ipv6(p: &[u8]) -> Option<(IpAddr, IpAddr, &[u8], usize)> {
    if p.first()? >> 4 != 6 || *p.get(6)? != proto::TCP {
        return None;
    }
    let payload_len = usize::from(u16::from_be_bytes([*p.get(4)?, *p.get(5)?]));
    let src: [u8; 16] = p.get(8..24)?.try_into().ok()?;
    let dst: [u8; 16] = p.get(24..40)?.try_into().ok()?;
    let rest = p.get(40..)?;
    let kept = rest.get(..payload_len.min(rest.len()))?;
    Some((
        IpAddr::V6(Ipv6Addr::from(src)),
        IpAddr::V6(Ipv6Addr::from(dst)),
        kept,
        payload_len.saturating_sub(kept.len()),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// An Ethernet/IPv4/TCP frame with a 32-byte TCP header and `payload` bytes of payload.
    fn frame(payload: usize) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = u16::try_from(20 + 32 + payload).unwrap();
        f.extend_from_slice(&[0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0]);
        f[16..18].copy_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&[0x9c, 0x40, 0x0d, 0x3d, 0, 0, 0, 100, 0, 0, 0, 7, 0x80, 0x18, 1, 0]);
        f.extend_from_slice(&[0; 16]);
        f.extend(std::iter::repeat_n(3u8, payload));
        f
    }

    #[test]
    fn a_frame_cut_in_the_payload_counts_the_missing_bytes() {
        let whole = frame(100);
        let cut = cut_tcp(LinkType::Ethernet, &whole[..96]).unwrap();
        assert_eq!(cut.segment.dst.port(), 3389);
        assert_eq!(cut.segment.seq, 100);
        assert_eq!(cut.segment.payload.len(), 96 - 66);
        assert_eq!(cut.missing, 70);
    }

    #[test]
    fn a_frame_cut_in_the_tcp_options_keeps_ports_and_flags() {
        let whole = frame(100);
        let cut = cut_tcp(LinkType::Ethernet, &whole[..64]).unwrap();
        assert!(cut.segment.payload.is_empty());
        assert_eq!(cut.missing, 100);
        assert_eq!(cut.segment.flags, TcpFlags::PSH | TcpFlags::ACK);
    }

    #[test]
    fn cut_inside_the_fixed_headers_is_nothing() {
        let whole = frame(100);
        for len in 0..14 + 20 + TCP_FIXED {
            assert!(cut_tcp(LinkType::Ethernet, &whole[..len]).is_none(), "{len}");
        }
    }
}
