//! RDP negotiation structures carried in the X.224 Connection Request and Confirm
//! (MS-RDPBCGR 2.2.1.1.1, 2.2.1.1.2, 2.2.1.2.1, 2.2.1.2.2).
//!
//! Every value is kept as it is on the wire: protocols and flags keep unknown bits, failure codes keep
//! unknown values, and the `length` field is recorded rather than trusted, so a malformed structure is
//! still visible (see [`NegResponse::length_ok`]).

use std::fmt;

use nom::number::streaming::{le_u16, le_u32, u8 as byte};
use nom::Parser;

use super::{fail, take_n, write_named, WireError, WireResult};

/// TYPE_RDP_NEG_REQ (MS-RDPBCGR 2.2.1.1.1).
pub const TYPE_RDP_NEG_REQ: u8 = 0x01;
/// TYPE_RDP_NEG_RSP (MS-RDPBCGR 2.2.1.2.1).
pub const TYPE_RDP_NEG_RSP: u8 = 0x02;
/// TYPE_RDP_NEG_FAILURE (MS-RDPBCGR 2.2.1.2.2).
pub const TYPE_RDP_NEG_FAILURE: u8 = 0x03;
/// TYPE_RDP_CORRELATION_INFO (MS-RDPBCGR 2.2.1.1.2).
pub const TYPE_RDP_CORRELATION_INFO: u8 = 0x06;
/// Length of RDP_NEG_REQ, RDP_NEG_RSP and RDP_NEG_FAILURE.
pub const NEG_STRUCT_LEN: u16 = 8;
/// Length of RDP_NEG_CORRELATION_INFO.
pub const CORRELATION_INFO_LEN: u16 = 36;

/// Security protocols (MS-RDPBCGR 2.2.1.1.1 requestedProtocols, 2.2.1.2.1 selectedProtocol).
/// A bit set that keeps unknown bits; `PROTOCOL_RDP` is the empty set (standard RDP security).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SecurityProtocols(pub u32);

impl SecurityProtocols {
    /// PROTOCOL_RDP: standard RDP security (no bit set).
    pub const RDP: Self = Self(0x0000_0000);
    /// PROTOCOL_SSL: TLS 1.0, 1.1 or 1.2 (and 1.3 in practice).
    pub const SSL: Self = Self(0x0000_0001);
    /// PROTOCOL_HYBRID: CredSSP (network level authentication), which implies TLS.
    pub const HYBRID: Self = Self(0x0000_0002);
    /// PROTOCOL_RDSTLS: RDSTLS.
    pub const RDSTLS: Self = Self(0x0000_0004);
    /// PROTOCOL_HYBRID_EX: CredSSP with the Early User Authorization Result PDU.
    pub const HYBRID_EX: Self = Self(0x0000_0008);
    /// PROTOCOL_RDSAAD: RDS AAD authentication.
    pub const RDSAAD: Self = Self(0x0000_0010);

    const NAMED: [(Self, &'static str); 5] = [
        (Self::SSL, "SSL"),
        (Self::HYBRID, "HYBRID"),
        (Self::RDSTLS, "RDSTLS"),
        (Self::HYBRID_EX, "HYBRID_EX"),
        (Self::RDSAAD, "RDSAAD"),
    ];

    /// Keeps every bit, named or not.
    pub const fn from_bits_retain(bits: u32) -> Self {
        Self(bits)
    }

    pub const fn bits(self) -> u32 {
        self.0
    }

    /// True when every bit of `other` is set (for `RDP`, the empty set, always true).
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when any bit of `other` is set.
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Bits no specification names.
    pub const fn unknown_bits(self) -> u32 {
        self.0 & !0x1f
    }

    /// True when the protocol switches the stream to TLS after the Connection Confirm
    /// (SSL, HYBRID, HYBRID_EX and RDSTLS all start with a TLS handshake).
    pub const fn uses_tls(self) -> bool {
        self.0
            & (Self::SSL.0 | Self::HYBRID.0 | Self::RDSTLS.0 | Self::HYBRID_EX.0 | Self::RDSAAD.0)
            != 0
    }

    /// True when CredSSP (network level authentication) follows the TLS handshake.
    pub const fn uses_credssp(self) -> bool {
        self.0 & (Self::HYBRID.0 | Self::HYBRID_EX.0) != 0
    }

    /// The names of the set bits, with unknown bits in hex.
    pub fn names(self) -> Vec<String> {
        let mut names: Vec<String> = Self::NAMED
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, name)| (*name).to_string())
            .collect();
        if self.unknown_bits() != 0 {
            names.push(format!("{:#x}", self.unknown_bits()));
        }
        names
    }
}

impl fmt::Display for SecurityProtocols {
    /// `RDP` for the empty set, else `SSL|HYBRID|0x40`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("RDP");
        }
        f.write_str(&self.names().join("|"))
    }
}

/// RDP_NEG_REQ flags (MS-RDPBCGR 2.2.1.1.1); unknown bits are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NegRequestFlags(pub u8);

impl NegRequestFlags {
    pub const RESTRICTED_ADMIN_MODE_REQUIRED: Self = Self(0x01);
    pub const REDIRECTED_AUTHENTICATION_MODE_REQUIRED: Self = Self(0x02);
    pub const CORRELATION_INFO_PRESENT: Self = Self(0x08);

    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// RDP_NEG_RSP flags (MS-RDPBCGR 2.2.1.2.1); unknown bits are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NegResponseFlags(pub u8);

impl NegResponseFlags {
    pub const EXTENDED_CLIENT_DATA_SUPPORTED: Self = Self(0x01);
    pub const DYNVC_GFX_PROTOCOL_SUPPORTED: Self = Self(0x02);
    pub const NEGRSP_FLAG_RESERVED: Self = Self(0x04);
    pub const RESTRICTED_ADMIN_MODE_SUPPORTED: Self = Self(0x08);
    pub const REDIRECTED_AUTHENTICATION_MODE_SUPPORTED: Self = Self(0x10);

    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// RDP_NEG_FAILURE failureCode (MS-RDPBCGR 2.2.1.2.2): an open code; unknown values survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FailureCode(pub u32);

impl FailureCode {
    pub const SSL_REQUIRED_BY_SERVER: Self = Self(0x0000_0001);
    pub const SSL_NOT_ALLOWED_BY_SERVER: Self = Self(0x0000_0002);
    pub const SSL_CERT_NOT_ON_SERVER: Self = Self(0x0000_0003);
    pub const INCONSISTENT_FLAGS: Self = Self(0x0000_0004);
    pub const HYBRID_REQUIRED_BY_SERVER: Self = Self(0x0000_0005);
    pub const SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: Self = Self(0x0000_0006);

    /// Every code the specification names, in order.
    pub const ALL: [Self; 6] = [
        Self::SSL_REQUIRED_BY_SERVER,
        Self::SSL_NOT_ALLOWED_BY_SERVER,
        Self::SSL_CERT_NOT_ON_SERVER,
        Self::INCONSISTENT_FLAGS,
        Self::HYBRID_REQUIRED_BY_SERVER,
        Self::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER,
    ];

    /// The specification's name, or `None` for a code it does not define.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "SSL_REQUIRED_BY_SERVER",
            2 => "SSL_NOT_ALLOWED_BY_SERVER",
            3 => "SSL_CERT_NOT_ON_SERVER",
            4 => "INCONSISTENT_FLAGS",
            5 => "HYBRID_REQUIRED_BY_SERVER",
            6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
            _ => return None,
        })
    }

    /// What the specification says the code means (MS-RDPBCGR 2.2.1.2.2), in one line.
    pub const fn meaning(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "the server requires Enhanced RDP Security with TLS or CredSSP; if only CredSSP was requested, the server supports only TLS",
            2 => "the server is configured to use only Standard RDP Security and supports no external security protocol",
            3 => "the server has no valid authentication certificate and cannot initialise TLS",
            4 => "the requested security protocols are inconsistent with the protocol already in effect",
            5 => "the server requires CredSSP (network level authentication)",
            6 => "the server requires TLS with certificate-based client authentication",
            _ => return None,
        })
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_named(f, self.name(), self.0.into())
    }
}

/// RDP_NEG_REQ (MS-RDPBCGR 2.2.1.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegRequest {
    pub flags: NegRequestFlags,
    /// The length field as sent (8 when well formed).
    pub length: u16,
    pub requested_protocols: SecurityProtocols,
}

/// RDP_NEG_RSP (MS-RDPBCGR 2.2.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegResponse {
    pub flags: NegResponseFlags,
    /// The length field as sent (8 when well formed).
    pub length: u16,
    pub selected_protocol: SecurityProtocols,
}

/// RDP_NEG_FAILURE (MS-RDPBCGR 2.2.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegFailure {
    pub flags: u8,
    /// The length field as sent (8 when well formed).
    pub length: u16,
    pub failure_code: FailureCode,
}

/// RDP_NEG_CORRELATION_INFO (MS-RDPBCGR 2.2.1.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationInfo<'a> {
    pub flags: u8,
    /// The length field as sent (36 when well formed).
    pub length: u16,
    pub correlation_id: &'a [u8],
    pub reserved: &'a [u8],
}

/// What a Connection Confirm carries after its fixed part (MS-RDPBCGR 2.2.1.2 rdpNegData).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegData {
    Response(NegResponse),
    Failure(NegFailure),
}

impl NegRequest {
    /// True when the length field says what the specification requires.
    pub fn length_ok(&self) -> bool {
        self.length == NEG_STRUCT_LEN
    }
}

impl CorrelationInfo<'_> {
    /// True when the length field says what the specification requires (36).
    pub fn length_ok(&self) -> bool {
        self.length == CORRELATION_INFO_LEN
    }
}

impl NegResponse {
    /// True when the length field says what the specification requires.
    pub fn length_ok(&self) -> bool {
        self.length == NEG_STRUCT_LEN
    }
}

impl NegFailure {
    /// True when the length field says what the specification requires.
    pub fn length_ok(&self) -> bool {
        self.length == NEG_STRUCT_LEN
    }
}

/// The 8-byte layout shared by RDP_NEG_REQ, RDP_NEG_RSP and RDP_NEG_FAILURE: `type, flags, length, u32`.
fn neg_struct(
    pdu: &'static str,
    expected_type: u8,
) -> impl Fn(&[u8]) -> WireResult<'_, (u8, u16, u32)> {
    move |i| {
        let (rest, (ty, flags, length, value)) = (byte, byte, le_u16, le_u32).parse(i)?;
        if ty != expected_type {
            return fail(WireError::BadValue {
                pdu,
                field: "type",
                got: ty.into(),
                expected: pdu_type_name(expected_type),
            });
        }
        Ok((rest, (flags, length, value)))
    }
}

const fn pdu_type_name(ty: u8) -> &'static str {
    match ty {
        TYPE_RDP_NEG_REQ => "0x01 TYPE_RDP_NEG_REQ",
        TYPE_RDP_NEG_RSP => "0x02 TYPE_RDP_NEG_RSP",
        TYPE_RDP_NEG_FAILURE => "0x03 TYPE_RDP_NEG_FAILURE",
        _ => "0x06 TYPE_RDP_CORRELATION_INFO",
    }
}

/// Parses an RDP_NEG_REQ (streaming: fewer than 8 bytes is `Incomplete`).
pub fn parse_neg_request(i: &[u8]) -> WireResult<'_, NegRequest> {
    let (rest, (flags, length, protocols)) = neg_struct("RDP_NEG_REQ", TYPE_RDP_NEG_REQ)(i)?;
    Ok((
        rest,
        NegRequest {
            flags: NegRequestFlags(flags),
            length,
            requested_protocols: SecurityProtocols(protocols),
        },
    ))
}

/// Parses the rdpNegData of a Connection Confirm: an RDP_NEG_RSP or an RDP_NEG_FAILURE.
pub fn parse_neg_data(i: &[u8]) -> WireResult<'_, NegData> {
    match i.first() {
        None => Err(nom::Err::Incomplete(nom::Needed::new(1))),
        Some(&TYPE_RDP_NEG_RSP) => {
            let (rest, (flags, length, selected)) = neg_struct("RDP_NEG_RSP", TYPE_RDP_NEG_RSP)(i)?;
            let rsp = NegResponse {
                flags: NegResponseFlags(flags),
                length,
                selected_protocol: SecurityProtocols(selected),
            };
            Ok((rest, NegData::Response(rsp)))
        }
        Some(&TYPE_RDP_NEG_FAILURE) => {
            let (rest, (flags, length, code)) =
                neg_struct("RDP_NEG_FAILURE", TYPE_RDP_NEG_FAILURE)(i)?;
            Ok((
                rest,
                NegData::Failure(NegFailure {
                    flags,
                    length,
                    failure_code: FailureCode(code),
                }),
            ))
        }
        Some(&other) => fail(WireError::BadValue {
            pdu: "rdpNegData",
            field: "type",
            got: other.into(),
            expected: "0x02 TYPE_RDP_NEG_RSP or 0x03 TYPE_RDP_NEG_FAILURE",
        }),
    }
}

/// Parses an RDP_NEG_CORRELATION_INFO (streaming).
pub fn parse_correlation_info(i: &[u8]) -> WireResult<'_, CorrelationInfo<'_>> {
    let (rest, (ty, flags, length)) = (byte, byte, le_u16).parse(i)?;
    if ty != TYPE_RDP_CORRELATION_INFO {
        return fail(WireError::BadValue {
            pdu: "RDP_NEG_CORRELATION_INFO",
            field: "type",
            got: ty.into(),
            expected: pdu_type_name(TYPE_RDP_CORRELATION_INFO),
        });
    }
    let (rest, correlation_id) = take_n(rest, 16)?;
    let (rest, reserved) = take_n(rest, 16)?;
    Ok((
        rest,
        CorrelationInfo {
            flags,
            length,
            correlation_id,
            reserved,
        },
    ))
}

/// Appends an RDP_NEG_REQ.
pub fn encode_neg_request(flags: NegRequestFlags, requested: SecurityProtocols, out: &mut Vec<u8>) {
    out.extend_from_slice(&[TYPE_RDP_NEG_REQ, flags.0]);
    out.extend_from_slice(&NEG_STRUCT_LEN.to_le_bytes());
    out.extend_from_slice(&requested.0.to_le_bytes());
}

/// Appends an RDP_NEG_RSP or RDP_NEG_FAILURE (as sent by a server; used by test servers).
pub fn encode_neg_data(data: &NegData, out: &mut Vec<u8>) {
    let (ty, flags, length, value) = match data {
        NegData::Response(r) => (TYPE_RDP_NEG_RSP, r.flags.0, r.length, r.selected_protocol.0),
        NegData::Failure(f) => (TYPE_RDP_NEG_FAILURE, f.flags, f.length, f.failure_code.0),
    };
    out.extend_from_slice(&[ty, flags]);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends an RDP_NEG_CORRELATION_INFO with the given id and zero reserved bytes.
pub fn encode_correlation_info(correlation_id: &[u8; 16], out: &mut Vec<u8>) {
    out.extend_from_slice(&[TYPE_RDP_CORRELATION_INFO, 0]);
    out.extend_from_slice(&CORRELATION_INFO_LEN.to_le_bytes());
    out.extend_from_slice(correlation_id);
    out.extend_from_slice(&[0; 16]);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn neg_request_golden() {
        let bytes = [
            0x01, // type TYPE_RDP_NEG_REQ
            0x00, // flags
            0x08, 0x00, // length 8
            0x0b, 0x00, 0x00,
            0x00, // requestedProtocols SSL|HYBRID|HYBRID_EX (Windows 10, ndpi__rdp.pcap)
        ];
        let (rest, req) = parse_neg_request(&bytes).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            req,
            NegRequest {
                flags: NegRequestFlags(0),
                length: 8,
                requested_protocols: SecurityProtocols::SSL
                    .union(SecurityProtocols::HYBRID)
                    .union(SecurityProtocols::HYBRID_EX),
            }
        );
        assert_eq!(req.requested_protocols.to_string(), "SSL|HYBRID|HYBRID_EX");
    }

    #[test]
    fn protocols_display_keeps_unknown_bits() {
        assert_eq!(SecurityProtocols::RDP.to_string(), "RDP");
        assert_eq!(
            SecurityProtocols(0x1f).to_string(),
            "SSL|HYBRID|RDSTLS|HYBRID_EX|RDSAAD"
        );
        assert_eq!(SecurityProtocols(0x41).to_string(), "SSL|0x40");
        assert!(SecurityProtocols::HYBRID.uses_tls());
        assert!(!SecurityProtocols::RDP.uses_tls());
        assert!(SecurityProtocols::HYBRID_EX.uses_credssp());
        assert!(!SecurityProtocols::SSL.uses_credssp());
    }

    #[test]
    fn every_failure_code_round_trips_and_prints() {
        let names = [
            "SSL_REQUIRED_BY_SERVER",
            "SSL_NOT_ALLOWED_BY_SERVER",
            "SSL_CERT_NOT_ON_SERVER",
            "INCONSISTENT_FLAGS",
            "HYBRID_REQUIRED_BY_SERVER",
            "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
        ];
        for (code, name) in FailureCode::ALL.iter().zip(names) {
            let data = NegData::Failure(NegFailure {
                flags: 0,
                length: 8,
                failure_code: *code,
            });
            let mut out = Vec::new();
            encode_neg_data(&data, &mut out);
            let (rest, parsed) = parse_neg_data(&out).unwrap();
            assert!(rest.is_empty());
            assert_eq!(parsed, data);
            assert_eq!(code.to_string(), name);
            assert!(code.meaning().is_some());
        }
        // An unknown code survives and prints in hex.
        let bytes = [
            0x03, // type TYPE_RDP_NEG_FAILURE
            0x00, // flags
            0x08, 0x00, // length 8
            0x07, 0x00, 0x00, 0x00, // failureCode 7: not in the specification
        ];
        let (_, parsed) = parse_neg_data(&bytes).unwrap();
        let NegData::Failure(f) = parsed else {
            panic!("not a failure: {parsed:?}")
        };
        assert_eq!(f.failure_code, FailureCode(7));
        assert_eq!(f.failure_code.to_string(), "0x7");
        assert_eq!(f.failure_code.name(), None);
    }

    #[test]
    fn malformed_length_is_kept_not_rejected() {
        // zeek__rdp-invalid-length.pcap: an RDP_NEG_RSP whose length field is 0.
        let bytes = [0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00];
        let (_, parsed) = parse_neg_data(&bytes).unwrap();
        let NegData::Response(r) = parsed else {
            panic!("not a response")
        };
        assert_eq!(r.length, 0);
        assert!(!r.length_ok());
        assert_eq!(r.selected_protocol, SecurityProtocols::SSL);
    }

    #[test]
    fn truncation_is_incomplete() {
        let mut req = Vec::new();
        encode_neg_request(NegRequestFlags(0), SecurityProtocols::HYBRID, &mut req);
        let mut corr = Vec::new();
        encode_correlation_info(&[0xab; 16], &mut corr);
        for cut in 0..req.len() {
            assert!(matches!(
                parse_neg_request(&req[..cut]),
                Err(nom::Err::Incomplete(_))
            ));
        }
        for cut in 0..corr.len() {
            assert!(matches!(
                parse_correlation_info(&corr[..cut]),
                Err(nom::Err::Incomplete(_))
            ));
        }
        let (_, c) = parse_correlation_info(&corr).unwrap();
        assert_eq!(c.correlation_id, &[0xab; 16]);
        assert_eq!(c.length, 36);
    }

    #[test]
    fn wrong_type_is_an_error() {
        assert!(matches!(
            parse_neg_data(&[0x05, 0, 8, 0, 0, 0, 0, 0]),
            Err(nom::Err::Error(WireError::BadValue {
                field: "type",
                got: 5,
                ..
            }))
        ));
        assert!(parse_neg_request(&[0x02, 0, 8, 0, 0, 0, 0, 0]).is_err());
    }
}
