//! MCS (ITU-T T.125) PDUs as RDP carries them in X.224 Data TPDUs, and what RDP puts inside them during
//! connection setup: the GCC Conference Create Request/Response (T.124) with their settings data blocks
//! (MS-RDPBCGR 2.2.1.3 and 2.2.1.4), the server certificate of standard RDP security (2.2.1.4.3.1), and
//! the slow-path headers down to the Set Error Info PDU (2.2.5.1).
//!
//! The input of [`parse_mcs`] is the X.224 Data TPDU user data: the bytes after TPKT (4 bytes) and the
//! X.224 DT header `02 F0 80` (3 bytes). Connect-Initial and Connect-Response are BER-encoded
//! (T.125 §7 part 2) and say how long they are; the domain PDUs are PER-encoded (aligned) and start with
//! their choice index in the top six bits of the first byte.
//!
//! Layout: [`connect`] (BER envelopes), [`gcc`] (T.124 Conference Create), [`client_data`] and
//! [`server_data`] (settings data blocks), [`server_cert`] (proprietary / X.509 server certificate),
//! [`slow_path`] (security, share control and share data headers), [`error_info`] (errorInfo values).

pub mod client_data;
pub mod connect;
pub mod error_info;
pub mod gcc;
pub mod server_cert;
pub mod server_data;
pub mod slow_path;

#[cfg(test)]
mod tests;

use std::fmt;

use nom::number::streaming::{be_u16, u8 as byte};
use nom::Parser;

use super::{fail, take_n, write_named, WireError, WireResult};

pub use client_data::{
    ChannelDef, ClientCoreData, ClientDataBlock, ClientNetworkData, ClientSecurityData,
};
pub use connect::{ConnectInitial, ConnectResponse, DomainParameters};
pub use error_info::ErrorInfo;
pub use gcc::{ConferenceCreateRequest, ConferenceCreateResponse, DataBlockType};
pub use server_cert::{
    CertificateChain, ProprietaryCertificate, RsaPublicKey, ServerCertificate, X509CertificateChain,
};
pub use server_data::{
    EncryptionLevel, EncryptionMethod, ServerCoreData, ServerDataBlock, ServerNetworkData,
    ServerSecurityData,
};
pub use slow_path::{
    parse_set_error_info, parse_slow_path, BasicSecurityHeader, ErrorInfoLookup, PduType2,
    SecurityFlags, ShareControlHeader, ShareDataHeader, SlowPath, SlowPathContent,
};

/// T.125 §7 part 10 `DomainMCSPDU`: the CHOICE index of a PER-encoded domain PDU (first byte >> 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DomainMcsPdu(pub u8);

impl DomainMcsPdu {
    pub const PLUMB_DOMAIN_INDICATION: Self = Self(0);
    pub const ERECT_DOMAIN_REQUEST: Self = Self(1);
    pub const MERGE_CHANNELS_REQUEST: Self = Self(2);
    pub const MERGE_CHANNELS_CONFIRM: Self = Self(3);
    pub const PURGE_CHANNELS_INDICATION: Self = Self(4);
    pub const MERGE_TOKENS_REQUEST: Self = Self(5);
    pub const MERGE_TOKENS_CONFIRM: Self = Self(6);
    pub const PURGE_TOKENS_INDICATION: Self = Self(7);
    pub const DISCONNECT_PROVIDER_ULTIMATUM: Self = Self(8);
    pub const REJECT_MCS_PDU_ULTIMATUM: Self = Self(9);
    pub const ATTACH_USER_REQUEST: Self = Self(10);
    pub const ATTACH_USER_CONFIRM: Self = Self(11);
    pub const DETACH_USER_REQUEST: Self = Self(12);
    pub const DETACH_USER_INDICATION: Self = Self(13);
    pub const CHANNEL_JOIN_REQUEST: Self = Self(14);
    pub const CHANNEL_JOIN_CONFIRM: Self = Self(15);
    pub const CHANNEL_LEAVE_REQUEST: Self = Self(16);
    pub const CHANNEL_CONVENE_REQUEST: Self = Self(17);
    pub const CHANNEL_CONVENE_CONFIRM: Self = Self(18);
    pub const CHANNEL_DISBAND_REQUEST: Self = Self(19);
    pub const CHANNEL_DISBAND_INDICATION: Self = Self(20);
    pub const CHANNEL_ADMIT_REQUEST: Self = Self(21);
    pub const CHANNEL_ADMIT_INDICATION: Self = Self(22);
    pub const CHANNEL_EXPEL_REQUEST: Self = Self(23);
    pub const CHANNEL_EXPEL_INDICATION: Self = Self(24);
    pub const SEND_DATA_REQUEST: Self = Self(25);
    pub const SEND_DATA_INDICATION: Self = Self(26);
    pub const UNIFORM_SEND_DATA_REQUEST: Self = Self(27);
    pub const UNIFORM_SEND_DATA_INDICATION: Self = Self(28);

    /// The T.125 name, when this is one of the choices listed above.
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 29] = [
            "plumbDomainIndication",
            "erectDomainRequest",
            "mergeChannelsRequest",
            "mergeChannelsConfirm",
            "purgeChannelsIndication",
            "mergeTokensRequest",
            "mergeTokensConfirm",
            "purgeTokensIndication",
            "disconnectProviderUltimatum",
            "rejectMCSPDUUltimatum",
            "attachUserRequest",
            "attachUserConfirm",
            "detachUserRequest",
            "detachUserIndication",
            "channelJoinRequest",
            "channelJoinConfirm",
            "channelLeaveRequest",
            "channelConveneRequest",
            "channelConveneConfirm",
            "channelDisbandRequest",
            "channelDisbandIndication",
            "channelAdmitRequest",
            "channelAdmitIndication",
            "channelExpelRequest",
            "channelExpelIndication",
            "sendDataRequest",
            "sendDataIndication",
            "uniformSendDataRequest",
            "uniformSendDataIndication",
        ];
        NAMES.get(usize::from(self.0)).copied()
    }
}

impl fmt::Display for DomainMcsPdu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_named(f, self.name(), self.0.into())
    }
}

/// T.125 §7 part 1 `Reason` (in DisconnectProviderUltimatum, DetachUserRequest/Indication).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DisconnectReason(pub u8);

impl DisconnectReason {
    pub const DOMAIN_DISCONNECTED: Self = Self(0);
    pub const PROVIDER_INITIATED: Self = Self(1);
    pub const TOKEN_PURGED: Self = Self(2);
    pub const USER_REQUESTED: Self = Self(3);
    pub const CHANNEL_PURGED: Self = Self(4);

    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::DOMAIN_DISCONNECTED => "rn-domain-disconnected",
            Self::PROVIDER_INITIATED => "rn-provider-initiated",
            Self::TOKEN_PURGED => "rn-token-purged",
            Self::USER_REQUESTED => "rn-user-requested",
            Self::CHANNEL_PURGED => "rn-channel-purged",
            _ => return None,
        })
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_named(f, self.name(), self.0.into())
    }
}

/// T.125 §7 part 1 `Result` (in Connect-Response, AttachUserConfirm, ChannelJoinConfirm, ...).
/// Named `McsResult` so that it does not shadow `std::result::Result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct McsResult(pub u8);

impl McsResult {
    pub const SUCCESSFUL: Self = Self(0);
    pub const DOMAIN_MERGING: Self = Self(1);
    pub const DOMAIN_NOT_HIERARCHICAL: Self = Self(2);
    pub const NO_SUCH_CHANNEL: Self = Self(3);
    pub const NO_SUCH_DOMAIN: Self = Self(4);
    pub const NO_SUCH_USER: Self = Self(5);
    pub const NOT_ADMITTED: Self = Self(6);
    pub const OTHER_USER_ID: Self = Self(7);
    pub const PARAMETERS_UNACCEPTABLE: Self = Self(8);
    pub const TOKEN_NOT_AVAILABLE: Self = Self(9);
    pub const TOKEN_NOT_POSSESSED: Self = Self(10);
    pub const TOO_MANY_CHANNELS: Self = Self(11);
    pub const TOO_MANY_TOKENS: Self = Self(12);
    pub const TOO_MANY_USERS: Self = Self(13);
    pub const UNSPECIFIED_FAILURE: Self = Self(14);
    pub const USER_REJECTED: Self = Self(15);

    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 16] = [
            "rt-successful",
            "rt-domain-merging",
            "rt-domain-not-hierarchical",
            "rt-no-such-channel",
            "rt-no-such-domain",
            "rt-no-such-user",
            "rt-not-admitted",
            "rt-other-user-id",
            "rt-parameters-unacceptable",
            "rt-token-not-available",
            "rt-token-not-possessed",
            "rt-too-many-channels",
            "rt-too-many-tokens",
            "rt-too-many-users",
            "rt-unspecified-failure",
            "rt-user-rejected",
        ];
        NAMES.get(usize::from(self.0)).copied()
    }

    pub fn is_success(self) -> bool {
        self == Self::SUCCESSFUL
    }
}

impl fmt::Display for McsResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_named(f, self.name(), self.0.into())
    }
}

/// One MCS PDU (T.125), as far as connection-setup diagnosis needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mcs<'a> {
    /// MCS Connect-Initial with the GCC Conference Create Request (MS-RDPBCGR 2.2.1.3).
    ConnectInitial(ConnectInitial<'a>),
    /// MCS Connect-Response with the GCC Conference Create Response (MS-RDPBCGR 2.2.1.4).
    ConnectResponse(ConnectResponse<'a>),
    /// T.125 §11.15 DisconnectProviderUltimatum (MS-RDPBCGR 2.2.2.3).
    DisconnectProviderUltimatum { reason: DisconnectReason },
    /// T.125 §11.18 AttachUserConfirm (MS-RDPBCGR 2.2.1.7); `initiator` is the user id given to the client.
    AttachUserConfirm {
        result: McsResult,
        initiator: Option<u16>,
    },
    /// T.125 §11.22 ChannelJoinConfirm (MS-RDPBCGR 2.2.1.9).
    ChannelJoinConfirm {
        result: McsResult,
        initiator: u16,
        requested: u16,
        channel_id: Option<u16>,
    },
    /// T.125 §11.32 SendDataRequest (client) or §11.33 SendDataIndication (server, `indication`).
    /// `initiator` is the user id (the PER offset 1001 added back); `priority_segmentation` is the byte
    /// holding dataPriority (top two bits) and segmentation (next two bits).
    SendData {
        indication: bool,
        initiator: u16,
        channel_id: u16,
        priority_segmentation: u8,
        user_data: &'a [u8],
    },
    /// Any other domain PDU. `body` is the whole PDU, its first byte included. Its length is exact for
    /// erectDomainRequest, attachUserRequest and channelJoinRequest; for the others, whose layout we do not
    /// decode, it is the rest of the input.
    Other {
        pdu_type: DomainMcsPdu,
        body: &'a [u8],
    },
}

/// The first byte of a BER-encoded MCS connect PDU (`[APPLICATION n]` with a high tag number).
const BER_APPLICATION_HIGH_TAG: u8 = 0x7F;
/// T.125 §7 part 10: UserId ::= DynamicChannelId (1001..65535), PER-encoded as an offset from 1001.
const USER_ID_BASE: u16 = 1001;

/// Parses one MCS PDU from X.224 Data TPDU user data. `Incomplete` when the PDU is cut; bytes after the
/// PDU are returned as the remainder.
pub fn parse_mcs(i: &[u8]) -> WireResult<'_, Mcs<'_>> {
    let (_, first) = byte(i)?;
    if first == BER_APPLICATION_HIGH_TAG {
        return connect::parse_connect(i);
    }
    let pdu_type = DomainMcsPdu(first >> 2);
    match pdu_type {
        DomainMcsPdu::DISCONNECT_PROVIDER_ULTIMATUM => {
            let (rest, (b0, b1)) = (byte, byte).parse(i)?;
            // 6-bit choice, then the 3-bit Reason: its top two bits end byte 0, its low bit starts byte 1.
            let reason = ((b0 & 0x03) << 1) | (b1 >> 7);
            Ok((
                rest,
                Mcs::DisconnectProviderUltimatum {
                    reason: DisconnectReason(reason),
                },
            ))
        }
        DomainMcsPdu::ATTACH_USER_CONFIRM => {
            let (rest, (b0, b1)) = (byte, byte).parse(i)?;
            // optional-field bit (initiator present), then the 4-bit Result.
            let result = McsResult(((b0 & 0x01) << 3) | (b1 >> 5));
            let (rest, initiator) = if b0 & 0x02 != 0 {
                let (rest, id) = user_id(rest)?;
                (rest, Some(id))
            } else {
                (rest, None)
            };
            Ok((rest, Mcs::AttachUserConfirm { result, initiator }))
        }
        DomainMcsPdu::CHANNEL_JOIN_CONFIRM => {
            let (rest, (b0, b1)) = (byte, byte).parse(i)?;
            let result = McsResult(((b0 & 0x01) << 3) | (b1 >> 5));
            let (rest, initiator) = user_id(rest)?;
            let (rest, requested) = be_u16(rest)?;
            let (rest, channel_id) = if b0 & 0x02 != 0 {
                let (rest, id) = be_u16(rest)?;
                (rest, Some(id))
            } else {
                (rest, None)
            };
            Ok((
                rest,
                Mcs::ChannelJoinConfirm {
                    result,
                    initiator,
                    requested,
                    channel_id,
                },
            ))
        }
        DomainMcsPdu::SEND_DATA_REQUEST | DomainMcsPdu::SEND_DATA_INDICATION => {
            let (rest, _) = byte(i)?;
            let (rest, initiator) = user_id(rest)?;
            let (rest, channel_id) = be_u16(rest)?;
            let (rest, priority_segmentation) = byte(rest)?;
            let (rest, len) = per_length(rest)?;
            let (rest, user_data) = take_n(rest, len)?;
            Ok((
                rest,
                Mcs::SendData {
                    indication: pdu_type == DomainMcsPdu::SEND_DATA_INDICATION,
                    initiator,
                    channel_id,
                    priority_segmentation,
                    user_data,
                },
            ))
        }
        _ => {
            let len = match pdu_type {
                DomainMcsPdu::ATTACH_USER_REQUEST => 1,
                // choice, initiator UserId (2), channelId (2)
                DomainMcsPdu::CHANNEL_JOIN_REQUEST => 5,
                // choice, subHeight and subInterval: two unconstrained INTEGERs (length byte + value)
                DomainMcsPdu::ERECT_DOMAIN_REQUEST => {
                    let (after, _) = byte(i)?;
                    let (after, height_len) = byte(after)?;
                    let (after, _) = take_n(after, usize::from(height_len))?;
                    let (_, interval_len) = byte(after)?;
                    3 + usize::from(height_len) + usize::from(interval_len)
                }
                _ => i.len(),
            };
            let (rest, body) = take_n(i, len)?;
            Ok((rest, Mcs::Other { pdu_type, body }))
        }
    }
}

/// A PER-encoded UserId (T.125 §7 part 10): a 16-bit offset from 1001.
fn user_id(i: &[u8]) -> WireResult<'_, u16> {
    let (rest, raw) = be_u16(i)?;
    match raw.checked_add(USER_ID_BASE) {
        Some(id) => Ok((rest, id)),
        None => fail(WireError::BadValue {
            pdu: "MCS",
            field: "UserId",
            got: raw.into(),
            expected: "an offset of at most 64534 from 1001",
        }),
    }
}

/// X.691 §10.9 length determinant (aligned PER): `0xxxxxxx` is 0..127, `10xxxxxx xxxxxxxx` is 0..16383.
/// Fragmented lengths (`11xxxxxx`) never occur in RDP connection setup and are refused.
pub(crate) fn per_length(i: &[u8]) -> WireResult<'_, usize> {
    let (rest, b0) = byte(i)?;
    if b0 & 0x80 == 0 {
        return Ok((rest, usize::from(b0)));
    }
    if b0 & 0x40 != 0 {
        return fail(WireError::BadValue {
            pdu: "PER",
            field: "length determinant",
            got: b0.into(),
            expected: "a one- or two-byte length, not a fragment count",
        });
    }
    let (rest, b1) = byte(rest)?;
    Ok((rest, usize::from(b0 & 0x3F) << 8 | usize::from(b1)))
}

/// Reads little-endian integers out of a fixed-size slice (used for optional trailing fields).
pub(crate) fn le_u16_of(s: &[u8]) -> Option<u16> {
    <[u8; 2]>::try_from(s).ok().map(u16::from_le_bytes)
}

pub(crate) fn le_u32_of(s: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(s).ok().map(u32::from_le_bytes)
}

/// The optional fields at the end of a settings data block: each is present only when every field
/// before it is, and only when the block has room for all of its bytes.
pub(crate) struct OptionalTail<'a> {
    rest: &'a [u8],
    ended: bool,
}

impl<'a> OptionalTail<'a> {
    pub(crate) fn new(rest: &'a [u8]) -> Self {
        Self { rest, ended: false }
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.ended {
            return None;
        }
        match (self.rest.get(..n), self.rest.get(n..)) {
            (Some(head), Some(tail)) => {
                self.rest = tail;
                Some(head)
            }
            _ => {
                self.ended = true;
                None
            }
        }
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).and_then(|s| s.first().copied())
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take(2).and_then(le_u16_of)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take(4).and_then(le_u32_of)
    }

    /// What is left: fields this parser does not decode, or a partial field.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

/// Decodes a UTF-16LE string that ends at the first NUL (or at the end of `bytes`).
pub(crate) fn utf16z(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .filter_map(|c| <[u8; 2]>::try_from(c).ok())
        .map(u16::from_le_bytes)
        .take_while(|&u| u != 0);
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}
