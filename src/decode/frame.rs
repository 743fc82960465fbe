//! Whole captured frames pasted into `decode`: `tshark -x` and `tcpdump -xx` print the link layer, IP
//! and TCP before the TPKT or TLS bytes; `tcpdump -x` starts at the IP header. The replay's packet
//! decoder finds the TCP payload; what is before it is named, not decoded.

use std::net::SocketAddr;

use crate::replay::packet::{Decoded, Decoder, LinkType};

/// Where the TCP payload of a pasted frame starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FramePayload {
    pub link: LinkType,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Offset of the payload in the pasted bytes.
    pub offset: usize,
    pub len: usize,
}

/// The link types a pasted frame is tried as, in order: Ethernet (`tshark -x`, `tcpdump -xx`), Linux
/// cooked capture (`-i any`), BSD and OpenBSD loopback, raw IP (`tcpdump -x`).
const LINKS: [LinkType; 6] = [
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Null,
    LinkType::Loop,
    LinkType::Raw,
];

/// The TCP segment `bytes` hold as one whole frame of a link type above, if they are one: a frame
/// whose IP header, lengths and TCP header all read. IP fragments are not frames of one segment.
pub(crate) fn tcp_payload(bytes: &[u8]) -> Option<FramePayload> {
    LINKS.iter().find_map(|&link| {
        let mut decoder = Decoder::new();
        let Ok(Decoded::Tcp(segment)) = decoder.decode(link, bytes, 0) else {
            return None;
        };
        // The payload borrows `bytes` (one frame, never reassembled): its offset is where it starts.
        let offset = (segment.payload.as_ptr() as usize).checked_sub(bytes.as_ptr() as usize)?;
        let end = offset.checked_add(segment.payload.len())?;
        (end <= bytes.len()).then_some(FramePayload {
            link,
            src: segment.src,
            dst: segment.dst,
            offset,
            len: segment.payload.len(),
        })
    })
}

/// Whether `bytes` start like a frame the decoder could not follow to a TCP payload (IPv4 or IPv6
/// behind an Ethernet header, or a bare IPv4 header): worth a hint on how to paste the payload.
pub(crate) fn looks_like_frame(bytes: &[u8]) -> bool {
    let ethertype = bytes.get(12..14);
    matches!(ethertype, Some([0x08, 0x00] | [0x86, 0xdd] | [0x81, 0x00]))
        || matches!(bytes.first(), Some(0x45..=0x4f))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Ethernet II, IPv4 (20 bytes), TCP (20 bytes), then 4 payload bytes.
    fn ethernet_frame(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x00, 0x0c, 0x29, 0x01, 0x02, 0x03, 0x00, 0x50, 0x56, 0x04, 0x05, 0x06];
        f.extend_from_slice(&[0x08, 0x00]); // IPv4
        let total = u16::try_from(40 + payload.len()).unwrap().to_be_bytes();
        f.extend_from_slice(&[0x45, 0x00, total[0], total[1], 0, 1, 0x40, 0, 64, 6, 0, 0]);
        f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&[0xd4, 0x31, 0x0d, 0x3d, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn finds_the_payload_of_an_ethernet_frame() {
        let f = ethernet_frame(&[3, 0, 0, 4]);
        let p = tcp_payload(&f).unwrap();
        assert_eq!((p.link, p.offset, p.len), (LinkType::Ethernet, 54, 4));
        assert_eq!(p.dst.port(), 3389);
        // Ethernet padding after the IP packet is not payload.
        let mut padded = ethernet_frame(&[3, 0]);
        padded.extend_from_slice(&[0; 4]);
        assert_eq!(tcp_payload(&padded).map(|p| p.len), Some(2));
        // The same packet without the link layer is raw IP.
        let raw = tcp_payload(&f[14..]).unwrap();
        assert_eq!((raw.link, raw.offset), (LinkType::Raw, 40));
        // Behind a BSD loopback header (AF_INET in host order), as ndpi__rdp.pcap holds it.
        let null = tcp_payload(&[&[2, 0, 0, 0][..], &f[14..]].concat()).unwrap();
        assert_eq!((null.link, null.offset), (LinkType::Null, 44));
    }

    #[test]
    fn tpkt_and_tls_are_not_frames() {
        assert_eq!(tcp_payload(&hex::decode("0300000b06e00000000000").unwrap()), None);
        assert_eq!(tcp_payload(&hex::decode("1503030002022f").unwrap()), None);
        assert!(!looks_like_frame(&hex::decode("0300000b06e00000000000").unwrap()));
    }
}
