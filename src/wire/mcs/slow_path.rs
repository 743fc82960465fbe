//! The user data of an MCS Send Data Request/Indication on the slow path, down to the Set Error Info PDU
//! (MS-RDPBCGR 2.2.5.1): the security header (2.2.8.1.1.2.1), the Share Control Header (2.2.8.1.1.1.1)
//! and the Share Data Header (2.2.8.1.1.1.2).
//!
//! With standard RDP security at any level above NONE the server encrypts these PDUs (SEC_ENCRYPT): we
//! cannot read them and say so ([`SlowPathContent::Encrypted`]). Under TLS (Enhanced RDP Security) there
//! is no security header, except on licensing PDUs.

use std::fmt;

use nom::number::streaming::{le_u16, le_u32, u8 as byte};

use super::error_info::ErrorInfo;
use crate::wire::{bounded, fail, take_n, write_named, WireError, WireResult};

/// MS-RDPBCGR 2.2.8.1.1.2.1 Basic Security Header `flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecurityFlags(pub u16);

impl SecurityFlags {
    pub const SEC_EXCHANGE_PKT: u16 = 0x0001;
    pub const SEC_TRANSPORT_REQ: u16 = 0x0002;
    pub const RDP_SEC_TRANSPORT_RSP: u16 = 0x0004;
    pub const SEC_ENCRYPT: u16 = 0x0008;
    pub const SEC_RESET_SEQNO: u16 = 0x0010;
    pub const SEC_IGNORE_SEQNO: u16 = 0x0020;
    pub const SEC_INFO_PKT: u16 = 0x0040;
    pub const SEC_LICENSE_PKT: u16 = 0x0080;
    pub const SEC_LICENSE_ENCRYPT: u16 = 0x0200;
    pub const SEC_REDIRECTION_PKT: u16 = 0x0400;
    pub const SEC_SECURE_CHECKSUM: u16 = 0x0800;
    pub const SEC_AUTODETECT_REQ: u16 = 0x1000;
    pub const SEC_AUTODETECT_RSP: u16 = 0x2000;
    pub const SEC_HEARTBEAT: u16 = 0x4000;
    pub const SEC_FLAGSHI_VALID: u16 = 0x8000;

    /// Flags that mean the content is not a Share Control PDU.
    const NOT_SHARE_CONTROL: u16 = Self::SEC_EXCHANGE_PKT
        | Self::SEC_TRANSPORT_REQ
        | Self::RDP_SEC_TRANSPORT_RSP
        | Self::SEC_INFO_PKT
        | Self::SEC_LICENSE_PKT
        | Self::SEC_REDIRECTION_PKT
        | Self::SEC_AUTODETECT_REQ
        | Self::SEC_AUTODETECT_RSP
        | Self::SEC_HEARTBEAT;

    pub fn contains(self, flag: u16) -> bool {
        self.0 & flag == flag
    }
}

impl fmt::Display for SecurityFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(u16, &str); 15] = [
            (SecurityFlags::SEC_EXCHANGE_PKT, "SEC_EXCHANGE_PKT"),
            (SecurityFlags::SEC_TRANSPORT_REQ, "SEC_TRANSPORT_REQ"),
            (
                SecurityFlags::RDP_SEC_TRANSPORT_RSP,
                "RDP_SEC_TRANSPORT_RSP",
            ),
            (SecurityFlags::SEC_ENCRYPT, "SEC_ENCRYPT"),
            (SecurityFlags::SEC_RESET_SEQNO, "SEC_RESET_SEQNO"),
            (SecurityFlags::SEC_IGNORE_SEQNO, "SEC_IGNORE_SEQNO"),
            (SecurityFlags::SEC_INFO_PKT, "SEC_INFO_PKT"),
            (SecurityFlags::SEC_LICENSE_PKT, "SEC_LICENSE_PKT"),
            (SecurityFlags::SEC_LICENSE_ENCRYPT, "SEC_LICENSE_ENCRYPT"),
            (SecurityFlags::SEC_REDIRECTION_PKT, "SEC_REDIRECTION_PKT"),
            (SecurityFlags::SEC_SECURE_CHECKSUM, "SEC_SECURE_CHECKSUM"),
            (SecurityFlags::SEC_AUTODETECT_REQ, "SEC_AUTODETECT_REQ"),
            (SecurityFlags::SEC_AUTODETECT_RSP, "SEC_AUTODETECT_RSP"),
            (SecurityFlags::SEC_HEARTBEAT, "SEC_HEARTBEAT"),
            (SecurityFlags::SEC_FLAGSHI_VALID, "SEC_FLAGSHI_VALID"),
        ];
        let mut first = true;
        let mut left = self.0;
        for (bit, name) in NAMES {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
                left &= !bit;
            }
        }
        if left != 0 || first {
            if !first {
                f.write_str("|")?;
            }
            write!(f, "{left:#x}")?;
        }
        Ok(())
    }
}

/// MS-RDPBCGR 2.2.8.1.1.2.1 Basic Security Header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicSecurityHeader {
    pub flags: SecurityFlags,
    pub flags_hi: u16,
}

/// MS-RDPBCGR 2.2.8.1.1.1.1 Share Control Header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareControlHeader {
    pub total_length: u16,
    /// pduType: type in the low 4 bits, protocol version (0x10) above.
    pub pdu_type: u16,
    /// pduSource; absent when totalLength is 4.
    pub pdu_source: Option<u16>,
}

impl ShareControlHeader {
    pub const PDUTYPE_DEMANDACTIVEPDU: u16 = 0x1;
    pub const PDUTYPE_CONFIRMACTIVEPDU: u16 = 0x3;
    pub const PDUTYPE_DEACTIVATEALLPDU: u16 = 0x6;
    pub const PDUTYPE_DATAPDU: u16 = 0x7;
    pub const PDUTYPE_SERVER_REDIR_PKT: u16 = 0xA;

    /// The type subfield (low 4 bits of pduType).
    pub fn kind(&self) -> u16 {
        self.pdu_type & 0x000F
    }
}

/// MS-RDPBCGR 2.2.8.1.1.1.2 Share Data Header `pduType2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PduType2(pub u8);

impl PduType2 {
    pub const UPDATE: Self = Self(2);
    pub const CONTROL: Self = Self(20);
    pub const SYNCHRONIZE: Self = Self(31);
    pub const SHUTDOWN_REQUEST: Self = Self(36);
    pub const SHUTDOWN_DENIED: Self = Self(37);
    pub const SAVE_SESSION_INFO: Self = Self(38);
    pub const FONTLIST: Self = Self(39);
    pub const FONTMAP: Self = Self(40);
    pub const SET_ERROR_INFO_PDU: Self = Self(47);

    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::UPDATE => "PDUTYPE2_UPDATE",
            Self::CONTROL => "PDUTYPE2_CONTROL",
            Self::SYNCHRONIZE => "PDUTYPE2_SYNCHRONIZE",
            Self::SHUTDOWN_REQUEST => "PDUTYPE2_SHUTDOWN_REQUEST",
            Self::SHUTDOWN_DENIED => "PDUTYPE2_SHUTDOWN_DENIED",
            Self::SAVE_SESSION_INFO => "PDUTYPE2_SAVE_SESSION_INFO",
            Self::FONTLIST => "PDUTYPE2_FONTLIST",
            Self::FONTMAP => "PDUTYPE2_FONTMAP",
            Self::SET_ERROR_INFO_PDU => "PDUTYPE2_SET_ERROR_INFO_PDU",
            _ => return None,
        })
    }
}

impl fmt::Display for PduType2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_named(f, self.name(), self.0.into())
    }
}

/// MS-RDPBCGR 2.2.8.1.1.1.2 Share Data Header (after the Share Control Header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareDataHeader {
    pub share_id: u32,
    pub pad1: u8,
    pub stream_id: u8,
    pub uncompressed_length: u16,
    pub pdu_type2: PduType2,
    pub compressed_type: u8,
    pub compressed_length: u16,
}

/// A slow-path PDU from Send Data user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowPath<'a> {
    /// The basic security header, when the caller said one is there.
    pub security: Option<BasicSecurityHeader>,
    pub content: SlowPathContent<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowPathContent<'a> {
    /// SEC_ENCRYPT is set: a MAC (and FIPS fields) then RC4/3DES ciphertext whose keys we never see.
    /// Nothing in it can be read, a Set Error Info PDU included.
    Encrypted(&'a [u8]),
    /// The security flags say this is not a Share Control PDU (security exchange, client info, licensing,
    /// redirection, auto-detect, heartbeat, multitransport): kept raw.
    Security(&'a [u8]),
    /// A Share Control PDU; `data` is its Share Data Header when it is a PDUTYPE_DATAPDU, and `body` what
    /// follows the headers, up to totalLength.
    ShareControl {
        header: ShareControlHeader,
        data: Option<ShareDataHeader>,
        body: &'a [u8],
    },
}

impl SlowPath<'_> {
    /// The errorInfo of a Set Error Info PDU (MS-RDPBCGR 2.2.5.1.1), if this is one.
    pub fn error_info(&self) -> Option<ErrorInfo> {
        match self.content {
            SlowPathContent::ShareControl {
                data: Some(data),
                body,
                ..
            } if data.pdu_type2 == PduType2::SET_ERROR_INFO_PDU => {
                body.get(..4).and_then(super::le_u32_of).map(ErrorInfo)
            }
            _ => None,
        }
    }
}

/// What a Send Data user data says about a Set Error Info PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorInfoLookup {
    /// A Set Error Info PDU with this errorInfo.
    Present(ErrorInfo),
    /// Encrypted with standard RDP security: it may be a Set Error Info PDU, we cannot tell.
    Encrypted,
    /// Readable, and not a Set Error Info PDU.
    Absent,
}

/// Parses the complete user data of a Send Data Request/Indication as a slow-path PDU.
/// `security_header_present`: standard RDP security is in force (encryption level above NONE) or the
/// PDU is a licensing or security exchange PDU; the caller knows from the Server Security Data.
/// Bytes after the Share Control PDU's totalLength are returned as the remainder.
pub fn parse_slow_path(i: &[u8], security_header_present: bool) -> WireResult<'_, SlowPath<'_>> {
    bounded("slow-path PDU", i, |i| {
        slow_path(i, security_header_present)
    })
}

/// Looks for a Set Error Info PDU (MS-RDPBCGR 2.2.5.1) in Send Data user data.
pub fn parse_set_error_info(
    i: &[u8],
    security_header_present: bool,
) -> WireResult<'_, ErrorInfoLookup> {
    let (rest, pdu) = parse_slow_path(i, security_header_present)?;
    let lookup = match (pdu.content, pdu.error_info()) {
        (SlowPathContent::Encrypted(_), _) => ErrorInfoLookup::Encrypted,
        (_, Some(e)) => ErrorInfoLookup::Present(e),
        (_, None) => ErrorInfoLookup::Absent,
    };
    Ok((rest, lookup))
}

fn slow_path(i: &[u8], security_header_present: bool) -> WireResult<'_, SlowPath<'_>> {
    let (i, security) = if security_header_present {
        let (i, flags) = le_u16(i)?;
        let (i, flags_hi) = le_u16(i)?;
        let header = BasicSecurityHeader {
            flags: SecurityFlags(flags),
            flags_hi,
        };
        if header.flags.contains(SecurityFlags::SEC_ENCRYPT) {
            return Ok((
                &[],
                SlowPath {
                    security: Some(header),
                    content: SlowPathContent::Encrypted(i),
                },
            ));
        }
        if flags & SecurityFlags::NOT_SHARE_CONTROL != 0 {
            return Ok((
                &[],
                SlowPath {
                    security: Some(header),
                    content: SlowPathContent::Security(i),
                },
            ));
        }
        (i, Some(header))
    } else {
        (i, None)
    };
    let (after_len, total_length) = le_u16(i)?;
    let Some(pdu_len) = usize::from(total_length).checked_sub(2) else {
        return fail(WireError::BadLength {
            pdu: "Share Control Header",
            field: "totalLength",
            got: total_length.into(),
            expected: "at least 4",
        });
    };
    let (rest, pdu) = take_n(after_len, pdu_len)?;
    let (_, (header, data, body)) = bounded("Share Control PDU", pdu, |p| {
        let (p, pdu_type) = le_u16(p)?;
        let (p, pdu_source) = if p.is_empty() {
            (p, None)
        } else {
            let (p, s) = le_u16(p)?;
            (p, Some(s))
        };
        let header = ShareControlHeader {
            total_length,
            pdu_type,
            pdu_source,
        };
        if header.kind() != ShareControlHeader::PDUTYPE_DATAPDU {
            return Ok((&[][..], (header, None, p)));
        }
        let (p, share_id) = le_u32(p)?;
        let (p, pad1) = byte(p)?;
        let (p, stream_id) = byte(p)?;
        let (p, uncompressed_length) = le_u16(p)?;
        let (p, pdu_type2) = byte(p)?;
        let (p, compressed_type) = byte(p)?;
        let (p, compressed_length) = le_u16(p)?;
        let data = ShareDataHeader {
            share_id,
            pad1,
            stream_id,
            uncompressed_length,
            pdu_type2: PduType2(pdu_type2),
            compressed_type,
            compressed_length,
        };
        Ok((&[][..], (header, Some(data), p)))
    })?;
    Ok((
        rest,
        SlowPath {
            security,
            content: SlowPathContent::ShareControl { header, data, body },
        },
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    /// A Set Error Info PDU as MS-RDPBCGR 2.2.5.1 lays it out, under TLS (no security header).
    const SET_ERROR_INFO: [u8; 22] = [
        0x16, 0x00, // totalLength 22
        0x17, 0x00, // pduType: PDUTYPE_DATAPDU (7) | TS_PROTOCOL_VERSION (0x10)
        0xea, 0x03, // pduSource 1002
        0xea, 0x03, 0x01, 0x00, // shareId 0x000103ea
        0x00, // pad1
        0x01, // streamId STREAM_LOW
        0x08, 0x00, // uncompressedLength 8
        0x2f, // pduType2 PDUTYPE2_SET_ERROR_INFO_PDU (47)
        0x00, // compressedType
        0x00, 0x00, // compressedLength
        0x07, 0x00, 0x00, 0x00, // errorInfo ERRINFO_SERVER_DENIED_CONNECTION
    ];

    #[test]
    fn set_error_info_under_tls() {
        let (rest, pdu) = parse_slow_path(&SET_ERROR_INFO, false).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            pdu,
            SlowPath {
                security: None,
                content: SlowPathContent::ShareControl {
                    header: ShareControlHeader {
                        total_length: 22,
                        pdu_type: 0x17,
                        pdu_source: Some(1002),
                    },
                    data: Some(ShareDataHeader {
                        share_id: 0x0001_03ea,
                        pad1: 0,
                        stream_id: 1,
                        uncompressed_length: 8,
                        pdu_type2: PduType2::SET_ERROR_INFO_PDU,
                        compressed_type: 0,
                        compressed_length: 0,
                    }),
                    body: &[0x07, 0, 0, 0],
                },
            }
        );
        assert_eq!(pdu.error_info(), Some(ErrorInfo::SERVER_DENIED_CONNECTION));
        assert_eq!(
            parse_set_error_info(&SET_ERROR_INFO, false).unwrap().1,
            ErrorInfoLookup::Present(ErrorInfo(7))
        );
    }

    #[test]
    fn set_error_info_with_a_clear_security_header() {
        // encryption level NONE with standard RDP security still carries a header, SEC_ENCRYPT clear
        let mut bytes = vec![
            0x00, 0x00, // flags: none
            0x00, 0x00, // flagsHi
        ];
        bytes.extend_from_slice(&SET_ERROR_INFO);
        let (_, pdu) = parse_slow_path(&bytes, true).unwrap();
        assert_eq!(
            pdu.security,
            Some(BasicSecurityHeader {
                flags: SecurityFlags(0),
                flags_hi: 0
            })
        );
        assert_eq!(pdu.error_info(), Some(ErrorInfo(7)));
    }

    #[test]
    fn encrypted_is_reported_not_guessed() {
        // RDP-003 frame 430: a Send Data Indication's user data under 56-bit RC4
        let bytes = [
            0x08, 0x08, // flags SEC_ENCRYPT | SEC_SECURE_CHECKSUM
            0x10, 0x00, // flagsHi
            0xbd, 0xda, 0x34, 0x98, 0x25, 0xc5, 0xad, 0x3a, // dataSignature (MAC)
            0xbe, 0x80, 0x47, 0x96, // ciphertext
        ];
        assert_eq!(
            parse_set_error_info(&bytes, true).unwrap().1,
            ErrorInfoLookup::Encrypted
        );
        let (_, pdu) = parse_slow_path(&bytes, true).unwrap();
        assert_eq!(pdu.content, SlowPathContent::Encrypted(&bytes[4..]));
        assert_eq!(
            pdu.security.unwrap().flags.to_string(),
            "SEC_ENCRYPT|SEC_SECURE_CHECKSUM"
        );
    }

    #[test]
    fn other_pdus_are_absent_and_lengths_are_checked() {
        let mut other = SET_ERROR_INFO;
        other[14] = 0x1f; // PDUTYPE2_SYNCHRONIZE
        assert_eq!(
            parse_set_error_info(&other, false).unwrap().1,
            ErrorInfoLookup::Absent
        );
        // totalLength beyond the user data
        assert!(matches!(
            parse_slow_path(&SET_ERROR_INFO[..21], false),
            Err(nom::Err::Error(WireError::Truncated { .. }))
        ));
        // a licensing PDU is not a share control PDU
        let license = [0x80, 0x00, 0x00, 0x00, 0xff, 0x03, 0x10, 0x00];
        assert_eq!(
            parse_slow_path(&license, true).unwrap().1.content,
            SlowPathContent::Security(&license[4..])
        );
    }
}
