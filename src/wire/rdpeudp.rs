//! MS-RDPEUDP connection initialization: the SYN datagram a client sends to open RDP's UDP transport
//! (section 3.1.5.1.1) and the server's SYN+ACK (3.1.5.1.2). Read: the RDPUDP_FEC_HEADER (2.2.2.1), the
//! RDPUDP_SYNDATA_PAYLOAD (2.2.2.5), the RDPUDP_CORRELATION_ID_PAYLOAD (2.2.2.8) and the
//! RDPUDP_SYNDATAEX_PAYLOAD (2.2.2.9), all in network byte order. Data transfer (Coded Packets, and
//! MS-RDPEUDP2 once version 3 is agreed) is not read. A datagram is a whole message: a short one is an
//! error, not `Incomplete`.

use nom::number::complete::{be_u16, be_u32};

use super::{fail, take_n, write_flags, write_named, WireError, WireResult};

/// RDPUDP_FEC_HEADER uFlags (2.2.2.1). Unknown bits are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UdpFlags(pub u16);

impl UdpFlags {
    pub const SYN: Self = Self(0x0001);
    pub const FIN: Self = Self(0x0002);
    pub const ACK: Self = Self(0x0004);
    pub const DATA: Self = Self(0x0008);
    pub const FEC: Self = Self(0x0010);
    pub const CN: Self = Self(0x0020);
    pub const CWR: Self = Self(0x0040);
    pub const SACK_OPTION: Self = Self(0x0080);
    pub const ACK_OF_ACKS: Self = Self(0x0100);
    pub const SYNLOSSY: Self = Self(0x0200);
    pub const ACKDELAYED: Self = Self(0x0400);
    pub const CORRELATION_ID: Self = Self(0x0800);
    pub const SYNEX: Self = Self(0x1000);

    const NAMES: [(Self, &'static str); 13] = [
        (Self::SYN, "SYN"),
        (Self::FIN, "FIN"),
        (Self::ACK, "ACK"),
        (Self::DATA, "DATA"),
        (Self::FEC, "FEC"),
        (Self::CN, "CN"),
        (Self::CWR, "CWR"),
        (Self::SACK_OPTION, "SACK_OPTION"),
        (Self::ACK_OF_ACKS, "ACK_OF_ACKS"),
        (Self::SYNLOSSY, "SYNLOSSY"),
        (Self::ACKDELAYED, "ACKDELAYED"),
        (Self::CORRELATION_ID, "CORRELATION_ID"),
        (Self::SYNEX, "SYNEX"),
    ];

    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::fmt::Display for UdpFlags {
    /// `SYN|CORRELATION_ID|SYNEX`; unknown bits in hex.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = Self::NAMES.map(|(flag, name)| (u64::from(flag.0), name));
        write_flags(f, u64::from(self.0), names)
    }
}

/// RDPUDP_SYNDATAEX_PAYLOAD uUdpVer (2.2.2.9). Unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpVersion(pub u16);

impl UdpVersion {
    pub const V1: Self = Self(0x0001);
    pub const V2: Self = Self(0x0002);
    /// Version 3: data transfer as in MS-RDPEUDP2; the SYN carries a cookie hash.
    pub const V3: Self = Self(0x0101);

    pub fn name(self) -> Option<&'static str> {
        match self {
            Self::V1 => Some("RDPUDP_PROTOCOL_VERSION_1"),
            Self::V2 => Some("RDPUDP_PROTOCOL_VERSION_2"),
            Self::V3 => Some("RDPUDP_PROTOCOL_VERSION_3"),
            _ => None,
        }
    }
}

impl std::fmt::Display for UdpVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_named(f, self.name(), u64::from(self.0))
    }
}

/// RDPUDP_FEC_HEADER (2.2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FecHeader {
    /// -1 (0xFFFFFFFF) in a SYN; the SYN's initial sequence number in a SYN+ACK.
    pub source_ack: u32,
    pub receive_window: u16,
    pub flags: UdpFlags,
}

/// The SYNEX payload: which transport version the sender speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynEx {
    pub flags: u16,
    pub version: UdpVersion,
}

/// A SYN or SYN+ACK datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynDatagram {
    pub header: FecHeader,
    pub initial_sequence: u32,
    pub up_mtu: u16,
    pub down_mtu: u16,
    pub correlation_id: Option<[u8; 16]>,
    pub synex: Option<SynEx>,
}

impl SynDatagram {
    /// A server's answer: SYN with ACK (3.1.5.1.2).
    pub fn is_syn_ack(&self) -> bool {
        self.header.flags.contains(UdpFlags::ACK)
    }
}

const PDU: &str = "RDPUDP SYN datagram";

/// RDPUDP_FEC_HEADER at the start of any datagram.
pub fn parse_fec_header(i: &[u8]) -> WireResult<'_, FecHeader> {
    let (i, source_ack) = u32_be(i)?;
    let (i, receive_window) = u16_be(i)?;
    let (rest, flags) = u16_be(i)?;
    Ok((
        rest,
        FecHeader {
            source_ack,
            receive_window,
            flags: UdpFlags(flags),
        },
    ))
}

fn truncated() -> WireError {
    WireError::Truncated {
        pdu: PDU,
        kind: nom::error::ErrorKind::Eof,
    }
}

fn u32_be(i: &[u8]) -> WireResult<'_, u32> {
    be_u32::<_, WireError>(i).map_err(|e| e.map(|_| truncated()))
}

fn u16_be(i: &[u8]) -> WireResult<'_, u16> {
    be_u16::<_, WireError>(i).map_err(|e| e.map(|_| truncated()))
}

fn bytes(i: &[u8], n: usize) -> WireResult<'_, &[u8]> {
    take_n(i, n).map_err(|e| e.map(|_| truncated()))
}

/// A SYN or SYN+ACK datagram; anything else (no SYN flag) is an error. What follows the payloads (the
/// padding to the MTU a SYN carries) is the rest.
pub fn parse_syn_datagram(i: &[u8]) -> WireResult<'_, SynDatagram> {
    let (i, header) = parse_fec_header(i)?;
    if !header.flags.contains(UdpFlags::SYN) {
        return fail(WireError::BadValue {
            pdu: PDU,
            field: "uFlags",
            got: u64::from(header.flags.0),
            expected: "RDPUDP_FLAG_SYN set",
        });
    }
    // A SYN (not a SYN+ACK) says -1 here (3.1.5.1.1).
    if !header.flags.contains(UdpFlags::ACK) && header.source_ack != u32::MAX {
        return fail(WireError::BadValue {
            pdu: PDU,
            field: "snSourceAck",
            got: u64::from(header.source_ack),
            expected: "0xffffffff in a SYN",
        });
    }
    let (i, initial_sequence) = u32_be(i)?;
    let (i, up_mtu) = u16_be(i)?;
    let (i, down_mtu) = u16_be(i)?;
    let (i, correlation_id) = if header.flags.contains(UdpFlags::CORRELATION_ID) {
        let (i, id) = bytes(i, 16)?;
        let (i, _reserved) = bytes(i, 16)?;
        let mut out = [0u8; 16];
        out.copy_from_slice(id);
        (i, Some(out))
    } else {
        (i, None)
    };
    let (i, synex) = if header.flags.contains(UdpFlags::SYNEX) {
        let (i, flags) = u16_be(i)?;
        let (i, version) = u16_be(i)?;
        let version = UdpVersion(version);
        // Version 3 adds a 32-byte cookie hash (2.2.2.9).
        let i = if version == UdpVersion::V3 {
            bytes(i, 32)?.0
        } else {
            i
        };
        (i, Some(SynEx { flags, version }))
    } else {
        (i, None)
    };
    Ok((
        i,
        SynDatagram {
            header,
            initial_sequence,
            up_mtu,
            down_mtu,
            correlation_id,
            synex,
        },
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A client SYN as 3.1.5.1.1 builds it (made-up numbers), then some of its padding.
    fn client_syn() -> Vec<u8> {
        let mut b = vec![
            0xff, 0xff, 0xff, 0xff, // snSourceAck -1
            0x00, 0x40, // uReceiveWindowSize 64
            0x18, 0x01, // uFlags SYN | CORRELATION_ID | SYNEX
            0x12, 0x34, 0x56, 0x78, // snInitialSequenceNumber
            0x04, 0xd0, 0x04, 0xd0, // uUpStreamMtu 1232, uDownStreamMtu 1232
        ];
        b.extend((0u8..16).map(|n| n + 1)); // uCorrelationId
        b.extend([0u8; 16]); // uReserved
        b.extend([0x00, 0x01, 0x00, 0x02]); // uSynExFlags, uUdpVer 2
        b.extend([0u8; 8]); // padding
        b
    }

    #[test]
    fn a_client_syn() {
        let bytes = client_syn();
        let (rest, syn) = parse_syn_datagram(&bytes).unwrap();
        assert_eq!(rest, &[0u8; 8]);
        assert!(!syn.is_syn_ack());
        assert_eq!(syn.header.flags.to_string(), "SYN|CORRELATION_ID|SYNEX");
        assert_eq!(syn.header.receive_window, 64);
        assert_eq!(
            (syn.initial_sequence, syn.up_mtu, syn.down_mtu),
            (0x1234_5678, 1232, 1232)
        );
        assert_eq!(syn.correlation_id.unwrap()[0], 1);
        let ex = syn.synex.unwrap();
        assert_eq!((ex.flags, ex.version), (1, UdpVersion::V2));
        assert_eq!(ex.version.to_string(), "RDPUDP_PROTOCOL_VERSION_2");
    }

    #[test]
    fn a_server_syn_ack_and_version_3() {
        let bytes = [
            0x12, 0x34, 0x56, 0x78, // snSourceAck: the client's initial sequence number
            0x00, 0x40, 0x10, 0x05, // window 64, SYN | ACK | SYNEX
            0x00, 0x00, 0x00, 0x09, 0x04, 0xd0, 0x04, 0xd0, // sequence 9, MTUs
            0x00, 0x00, 0x01, 0x01, // SYNEX: version 3
        ];
        let mut v3 = bytes.to_vec();
        v3.extend([0xab; 32]); // cookieHash
        let (rest, syn) = parse_syn_datagram(&v3).unwrap();
        assert!(rest.is_empty());
        assert!(syn.is_syn_ack());
        assert_eq!(syn.header.flags.to_string(), "SYN|ACK|SYNEX");
        assert_eq!(syn.synex.unwrap().version, UdpVersion::V3);
        // Version 3 without its cookie hash is short.
        assert!(parse_syn_datagram(&bytes).is_err());
    }

    #[test]
    fn not_a_syn() {
        let ack = [0x00, 0x00, 0x00, 0x01, 0x00, 0x40, 0x04, 0x04, 0, 0, 0, 0];
        assert!(matches!(
            parse_syn_datagram(&ack),
            Err(nom::Err::Error(WireError::BadValue {
                field: "uFlags",
                ..
            }))
        ));
        let mut bad_ack = client_syn();
        bad_ack[0] = 0;
        assert!(matches!(
            parse_syn_datagram(&bad_ack),
            Err(nom::Err::Error(WireError::BadValue {
                field: "snSourceAck",
                ..
            }))
        ));
        assert_eq!(UdpFlags(0x8000).to_string(), "0x8000");
        assert_eq!(UdpFlags(0).to_string(), "0x0");
        assert_eq!(UdpFlags(0x0404).to_string(), "ACK|ACKDELAYED");
    }

    #[test]
    fn every_cut_is_an_error_not_a_panic() {
        let bytes = client_syn();
        for cut in 0..bytes.len() - 8 {
            assert!(parse_syn_datagram(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok((rest, _)) = parse_syn_datagram(&bytes) {
                prop_assert!(bytes.ends_with(rest));
            }
            let _ = parse_fec_header(&bytes);
        }
    }
}
