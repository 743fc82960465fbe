//! The TLS record layer (RFC 5246 §6.2.1, RFC 8446 §5.1) and the ChangeCipherSpec protocol (RFC 5246 §7.1).

use std::fmt;

use nom::number::streaming::{be_u16, u8 as byte};
use nom::Parser;

use super::super::tpkt::Frame;
use super::super::{fail, take_n, WireError, WireResult};
use super::whole;

/// Length of the record header: `type u8 | legacy_record_version u16 | length u16`.
pub const TLS_RECORD_HEADER_LEN: usize = 5;
/// Largest plaintext fragment (RFC 5246 §6.2.1, RFC 8446 §5.1): 2^14.
pub const MAX_PLAINTEXT_LEN: usize = 1 << 14;
/// Largest protected fragment TLS 1.2 allows (RFC 5246 §6.2.3): 2^14 + 2048. Longer records are flagged.
pub const MAX_CIPHERTEXT_LEN: usize = MAX_PLAINTEXT_LEN + 2048;

open_value! {
    /// RFC 8446 §5.1 / RFC 5246 §6.2.1 ContentType (heartbeat: RFC 6520).
    ContentType(u8);
    CHANGE_CIPHER_SPEC = 20, "change_cipher_spec";
    ALERT = 21, "alert";
    HANDSHAKE = 22, "handshake";
    APPLICATION_DATA = 23, "application_data";
    HEARTBEAT = 24, "heartbeat";
}
display_named!(ContentType);

open_value! {
    /// RFC 8446 §4.2.1 / RFC 5246 Appendix E ProtocolVersion. TLS 1.3 drafts are `0x7f` + draft number.
    ProtocolVersion(u16);
    SSL2_0 = 0x0002, "SSL 2.0";
    SSL3_0 = 0x0300, "SSL 3.0";
    TLS1_0 = 0x0301, "TLS 1.0";
    TLS1_1 = 0x0302, "TLS 1.1";
    TLS1_2 = 0x0303, "TLS 1.2";
    TLS1_3 = 0x0304, "TLS 1.3";
}

impl ProtocolVersion {
    /// Whether this is a GREASE value (RFC 8701 §2), which carries no meaning.
    pub fn is_grease(self) -> bool {
        super::is_grease(self.0)
    }

    /// The draft number of a TLS 1.3 draft version (`0x7f10` is draft 16).
    pub fn tls13_draft(self) -> Option<u8> {
        match self.0.to_be_bytes() {
            [0x7f, draft] => Some(draft),
            _ => None,
        }
    }

    /// TLS 1.3 or one of its drafts (draft-ietf-tls-tls13-NN, `0x7fNN`): everything after the
    /// ServerHello is encrypted.
    pub fn is_tls13(self) -> bool {
        self == Self::TLS1_3 || self.tls13_draft().is_some()
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.name() {
            f.write_str(name)
        } else if let Some(draft) = self.tls13_draft() {
            write!(f, "TLS 1.3 draft {draft}")
        } else if self.is_grease() {
            write!(f, "GREASE({:#06x})", self.0)
        } else {
            write!(f, "{:#06x}", self.0)
        }
    }
}

/// RFC 5246 §6.2.1 TLSPlaintext / RFC 8446 §5.1 record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsRecordHeader {
    pub content_type: ContentType,
    /// `legacy_record_version`: its major byte is always 3.
    pub version: ProtocolVersion,
    /// Length of the fragment that follows the header.
    pub length: u16,
    /// `length` exceeds [`MAX_CIPHERTEXT_LEN`]: a peer must answer `record_overflow`. Flagged, not rejected.
    pub over_length: bool,
}

/// A whole TLS record: its header and its (possibly protected) fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsRecord<'a> {
    pub header: TlsRecordHeader,
    pub fragment: &'a [u8],
}

/// Parses a record header (streaming). Fails as soon as the version's major byte is there and is not 3: the
/// bytes are not TLS. Any content type is kept.
pub fn parse_tls_record_header(i: &[u8]) -> WireResult<'_, TlsRecordHeader> {
    let (i, (content_type, version)) = (byte, be_u16).parse(i)?;
    if version >> 8 != 3 {
        return fail(WireError::BadValue {
            pdu: "TLS record",
            field: "legacy_record_version",
            got: version.into(),
            expected: "0x03xx",
        });
    }
    let (i, length) = be_u16(i)?;
    Ok((
        i,
        TlsRecordHeader {
            content_type: ContentType(content_type),
            version: ProtocolVersion(version),
            length,
            over_length: usize::from(length) > MAX_CIPHERTEXT_LEN,
        },
    ))
}

/// Parses a whole record; `Incomplete` until all `length` bytes of the fragment are there.
pub fn parse_tls_record(i: &[u8]) -> WireResult<'_, TlsRecord<'_>> {
    let (rest, header) = parse_tls_record_header(i)?;
    let (rest, fragment) = take_n(rest, usize::from(header.length))?;
    Ok((rest, TlsRecord { header, fragment }))
}

/// Says how many bytes the record at the head of `i` needs. An error means the bytes are not a TLS record.
pub fn tls_frame(i: &[u8]) -> Result<Frame, WireError> {
    match parse_tls_record_header(i) {
        Ok((_, h)) => {
            let total = TLS_RECORD_HEADER_LEN + usize::from(h.length);
            Ok(match total.checked_sub(i.len()) {
                Some(missing) if missing > 0 => Frame::Need(missing),
                _ => Frame::Ready(total),
            })
        }
        Err(nom::Err::Incomplete(_)) => Ok(Frame::Need(
            TLS_RECORD_HEADER_LEN.saturating_sub(i.len()).max(1),
        )),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e),
    }
}

/// Content sniffing: the first byte is a known content type (20..=24) and the version's major byte is 3.
/// Needs two bytes; fewer say `false`.
pub fn looks_like_tls_record(i: &[u8]) -> bool {
    matches!(i, [20..=24, 3, ..])
}

/// Parses a ChangeCipherSpec record fragment (RFC 5246 §7.1, RFC 8446 §5): exactly one byte, 1.
pub fn parse_change_cipher_spec(fragment: &[u8]) -> WireResult<'_, ()> {
    let (rest, value) = whole("ChangeCipherSpec", fragment, byte)?;
    if value != 1 {
        return fail(WireError::BadValue {
            pdu: "ChangeCipherSpec",
            field: "type",
            got: value.into(),
            expected: "1 (change_cipher_spec)",
        });
    }
    Ok((rest, ()))
}

/// Wraps `fragment` in a record header. Fails when the fragment exceeds 2^14 bytes.
pub fn encode_tls_record(
    content_type: ContentType,
    version: ProtocolVersion,
    fragment: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), WireError> {
    let length = u16::try_from(fragment.len())
        .ok()
        .filter(|n| usize::from(*n) <= MAX_PLAINTEXT_LEN)
        .ok_or(WireError::BadLength {
            pdu: "TLS record",
            field: "length",
            got: u64::try_from(fragment.len()).unwrap_or(u64::MAX),
            expected: "at most 2^14",
        })?;
    out.push(content_type.0);
    out.extend_from_slice(&version.0.to_be_bytes());
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(fragment);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    /// zeek-tls__hrr.pcap frame 6, its second record: the middlebox-compatibility ChangeCipherSpec.
    const CCS: [u8; 6] = [
        0x14, // content_type change_cipher_spec
        0x03, 0x03, // legacy_record_version TLS 1.2
        0x00, 0x01, // length 1
        0x01, // change_cipher_spec
    ];

    #[test]
    fn parses_a_change_cipher_spec_record() {
        let (rest, r) = parse_tls_record(&CCS).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            r,
            TlsRecord {
                header: TlsRecordHeader {
                    content_type: ContentType::CHANGE_CIPHER_SPEC,
                    version: ProtocolVersion::TLS1_2,
                    length: 1,
                    over_length: false,
                },
                fragment: &[0x01],
            }
        );
        assert_eq!(parse_change_cipher_spec(r.fragment), Ok((&[][..], ())));
        assert!(parse_change_cipher_spec(&[2]).is_err());
        assert!(parse_change_cipher_spec(&[1, 1]).is_err());
        assert!(parse_change_cipher_spec(&[]).is_err());
    }

    #[test]
    fn every_cut_is_incomplete() {
        for cut in 0..CCS.len() {
            assert!(
                matches!(parse_tls_record(&CCS[..cut]), Err(nom::Err::Incomplete(_))),
                "cut at {cut}"
            );
            assert!(matches!(tls_frame(&CCS[..cut]), Ok(Frame::Need(n)) if n > 0));
        }
        assert_eq!(tls_frame(&CCS), Ok(Frame::Ready(6)));
        assert_eq!(tls_frame(&CCS[..4]), Ok(Frame::Need(1)));
        assert_eq!(tls_frame(&CCS[..5]), Ok(Frame::Need(1)));
    }

    #[test]
    fn flags_over_length_and_rejects_non_tls() {
        let (_, h) = parse_tls_record_header(&[0x17, 0x03, 0x03, 0x48, 0x01]).unwrap();
        assert!(h.over_length, "18433 > 2^14 + 2048");
        let (_, h) = parse_tls_record_header(&[0x17, 0x03, 0x03, 0x48, 0x00]).unwrap();
        assert!(!h.over_length);
        // A TPKT header is not a TLS record.
        assert!(matches!(
            tls_frame(&[0x03, 0x00, 0x00, 0x13]),
            Err(WireError::BadValue {
                field: "legacy_record_version",
                ..
            })
        ));
        assert!(looks_like_tls_record(&[0x16, 0x03]));
        assert!(!looks_like_tls_record(&[0x16]));
        assert!(!looks_like_tls_record(&[0x03, 0x00, 0x00, 0x13]));
        assert!(!looks_like_tls_record(&[0x19, 0x03]));
    }

    #[test]
    fn versions_print_as_the_spec_says() {
        assert_eq!(ProtocolVersion::TLS1_2.to_string(), "TLS 1.2");
        assert_eq!(ProtocolVersion::SSL3_0.to_string(), "SSL 3.0");
        assert_eq!(ProtocolVersion(0x7f10).to_string(), "TLS 1.3 draft 16");
        assert_eq!(ProtocolVersion(0x5a5a).to_string(), "GREASE(0x5a5a)");
        assert_eq!(ProtocolVersion(0x0305).to_string(), "0x0305");
        assert_eq!(ContentType(99).to_string(), "0x63");
        assert_eq!(ContentType::ALERT.to_string(), "alert");
    }

    #[test]
    fn encode_round_trips() {
        let mut out = Vec::new();
        encode_tls_record(
            ContentType::ALERT,
            ProtocolVersion::TLS1_2,
            &[2, 40],
            &mut out,
        )
        .unwrap();
        assert_eq!(out, [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
        let (_, r) = parse_tls_record(&out).unwrap();
        assert_eq!(r.fragment, &[2, 40]);
        let too_big = vec![0; MAX_PLAINTEXT_LEN + 1];
        assert!(encode_tls_record(
            ContentType::ALERT,
            ProtocolVersion::TLS1_2,
            &too_big,
            &mut out
        )
        .is_err());
    }
}
