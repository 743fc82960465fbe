//! TPKT (RFC 1006 §6, carried as in ITU-T T.123 §8): the 4-byte header framing every X.224 TPDU.

use nom::number::streaming::{be_u16, u8 as byte};
use nom::Parser;

use super::{fail, take_n, WireError, WireResult};

/// Length of the TPKT header.
pub const TPKT_HEADER_LEN: usize = 4;
/// The only TPKT version (RFC 1006 §6).
pub const TPKT_VERSION: u8 = 3;

/// RFC 1006 §6 TPKT header: `version=3 | reserved | length` (length counts the header too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TpktHeader {
    pub version: u8,
    pub reserved: u8,
    pub length: u16,
}

/// A whole TPKT packet: its header and the TPDU it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tpkt<'a> {
    pub header: TpktHeader,
    pub payload: &'a [u8],
}

/// What the framer knows about the bytes at the head of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// `n` more bytes are needed before the next PDU's length is known or the PDU is whole.
    Need(usize),
    /// The next PDU is complete and takes this many bytes.
    Ready(usize),
}

/// Parses a TPKT header (streaming: fewer than 4 bytes is `Incomplete`).
pub fn parse_tpkt_header(i: &[u8]) -> WireResult<'_, TpktHeader> {
    let (i, (version, reserved, length)) = (byte, byte, be_u16).parse(i)?;
    if version != TPKT_VERSION {
        return fail(WireError::BadValue {
            pdu: "TPKT",
            field: "version",
            got: version.into(),
            expected: "3",
        });
    }
    if usize::from(length) < TPKT_HEADER_LEN {
        return fail(WireError::BadLength {
            pdu: "TPKT",
            field: "length",
            got: length.into(),
            expected: "at least 4, the header",
        });
    }
    Ok((
        i,
        TpktHeader {
            version,
            reserved,
            length,
        },
    ))
}

/// Parses a whole TPKT packet; `Incomplete` until all `length` bytes are there.
pub fn parse_tpkt(i: &[u8]) -> WireResult<'_, Tpkt<'_>> {
    let (rest, header) = parse_tpkt_header(i)?;
    let (rest, payload) = take_n(rest, usize::from(header.length) - TPKT_HEADER_LEN)?;
    Ok((rest, Tpkt { header, payload }))
}

/// Says how many bytes the TPKT packet at the head of `i` needs. An error means the bytes are not TPKT.
pub fn tpkt_frame(i: &[u8]) -> Result<Frame, WireError> {
    match parse_tpkt_header(i) {
        Ok((_, h)) => {
            let total = usize::from(h.length);
            Ok(match total.checked_sub(i.len()) {
                Some(missing) if missing > 0 => Frame::Need(missing),
                _ => Frame::Ready(total),
            })
        }
        Err(nom::Err::Incomplete(_)) => {
            Ok(Frame::Need(TPKT_HEADER_LEN.saturating_sub(i.len()).max(1)))
        }
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e),
    }
}

/// Wraps `tpdu` in a TPKT header. Fails when the packet would exceed 65535 bytes.
pub fn encode_tpkt(tpdu: &[u8], out: &mut Vec<u8>) -> Result<(), WireError> {
    let length = u16::try_from(tpdu.len() + TPKT_HEADER_LEN).map_err(|_| WireError::BadLength {
        pdu: "TPKT",
        field: "length",
        got: u64::try_from(tpdu.len()).unwrap_or(u64::MAX),
        expected: "at most 65535",
    })?;
    out.extend_from_slice(&[TPKT_VERSION, 0]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(tpdu);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_and_payload() {
        let bytes = [
            0x03, // version 3
            0x00, // reserved
            0x00, 0x06, // length 6, header included
            0xaa, 0xbb, // payload
            0xcc, // next packet
        ];
        let (rest, p) = parse_tpkt(&bytes).unwrap();
        assert_eq!(
            p.header,
            TpktHeader {
                version: 3,
                reserved: 0,
                length: 6
            }
        );
        assert_eq!(p.payload, &[0xaa, 0xbb]);
        assert_eq!(rest, &[0xcc]);
    }

    #[test]
    fn every_cut_is_incomplete() {
        let bytes = [0x03, 0x00, 0x00, 0x06, 0xaa, 0xbb];
        for cut in 0..bytes.len() {
            assert!(
                matches!(parse_tpkt(&bytes[..cut]), Err(nom::Err::Incomplete(_))),
                "cut at {cut}"
            );
            assert!(matches!(tpkt_frame(&bytes[..cut]), Ok(Frame::Need(n)) if n > 0));
        }
        assert_eq!(tpkt_frame(&bytes), Ok(Frame::Ready(6)));
        assert_eq!(tpkt_frame(&bytes[..3]), Ok(Frame::Need(1)));
        assert_eq!(tpkt_frame(&bytes[..4]), Ok(Frame::Need(2)));
    }

    #[test]
    fn rejects_other_versions_and_short_lengths() {
        assert!(matches!(
            parse_tpkt_header(&[0x16, 0x03, 0x01, 0x00]),
            Err(nom::Err::Error(WireError::BadValue {
                field: "version",
                got: 0x16,
                ..
            }))
        ));
        assert!(matches!(
            parse_tpkt_header(&[0x03, 0x00, 0x00, 0x03]),
            Err(nom::Err::Error(WireError::BadLength { got: 3, .. }))
        ));
    }

    #[test]
    fn encode_round_trips() {
        let mut out = Vec::new();
        encode_tpkt(&[1, 2, 3], &mut out).unwrap();
        assert_eq!(out, [3, 0, 0, 7, 1, 2, 3]);
        let (_, p) = parse_tpkt(&out).unwrap();
        assert_eq!(p.payload, &[1, 2, 3]);
        assert!(encode_tpkt(&vec![0; 65532], &mut Vec::new()).is_err());
    }
}
