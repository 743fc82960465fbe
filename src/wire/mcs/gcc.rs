//! T.124 §8.7 GCC Conference Create Request / Response, PER-encoded inside the MCS connect PDUs'
//! userData, carrying RDP's settings data blocks (MS-RDPBCGR 2.2.1.3.1 / 2.2.1.4.1 User Data Header).
//!
//! RDP fixes almost every choice in these structures (MS-RDPBCGR 4.1.3 and 4.1.4 annotate them); we read
//! the few variable fields and refuse layouts RDP never produces rather than guess at them.

use std::fmt;

use nom::number::streaming::{be_u16, le_u16, u8 as byte};

use super::client_data::{parse_client_data_block, ClientDataBlock};
use super::server_data::{parse_server_data_block, ServerDataBlock};
use super::{per_length, USER_ID_BASE};
use crate::wire::{bounded, fail, take_n, write_named, WireError, WireResult};

/// T.124 `t124Identifier` object identifier {itu-t(0) recommendation(0) t(20) t124(124) version(0) 1},
/// as its PER content bytes.
pub const T124_IDENTIFIER: [u8; 5] = [0x00, 0x14, 0x7C, 0x00, 0x01];
/// H.221 non-standard keys: client to server "Duca", server to client "McDn".
pub const H221_CLIENT_KEY: &[u8; 4] = b"Duca";
pub const H221_SERVER_KEY: &[u8; 4] = b"McDn";

/// ConnectGCCPDU choice bytes (choice index with the extension bit): conferenceCreateRequest 0, and
/// conferenceCreateResponse 1 as RDP encodes it (0x14).
const GCC_CONFERENCE_CREATE_REQUEST: u8 = 0x00;
const GCC_CONFERENCE_CREATE_RESPONSE: u8 = 0x14;
/// ConferenceCreateRequest optional-field bitmap with only userData present.
const REQUEST_ONLY_USER_DATA: u8 = 0x08;
/// UserData set element: value present, key is h221NonStandard.
const USER_DATA_H221_VALUE: u8 = 0xC0;

/// MS-RDPBCGR 2.2.1.3.1 / 2.2.1.4.1 User Data Header `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataBlockType(pub u16);

impl DataBlockType {
    pub const CS_CORE: Self = Self(0xC001);
    pub const CS_SECURITY: Self = Self(0xC002);
    pub const CS_NET: Self = Self(0xC003);
    pub const CS_CLUSTER: Self = Self(0xC004);
    pub const CS_MONITOR: Self = Self(0xC005);
    pub const CS_MCS_MSGCHANNEL: Self = Self(0xC006);
    pub const CS_MONITOR_EX: Self = Self(0xC008);
    pub const CS_MULTITRANSPORT: Self = Self(0xC00A);
    pub const SC_CORE: Self = Self(0x0C01);
    pub const SC_SECURITY: Self = Self(0x0C02);
    pub const SC_NET: Self = Self(0x0C03);
    pub const SC_MCS_MSGCHANNEL: Self = Self(0x0C04);
    pub const SC_MULTITRANSPORT: Self = Self(0x0C08);

    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::CS_CORE => "CS_CORE",
            Self::CS_SECURITY => "CS_SECURITY",
            Self::CS_NET => "CS_NET",
            Self::CS_CLUSTER => "CS_CLUSTER",
            Self::CS_MONITOR => "CS_MONITOR",
            Self::CS_MCS_MSGCHANNEL => "CS_MCS_MSGCHANNEL",
            Self::CS_MONITOR_EX => "CS_MONITOR_EX",
            Self::CS_MULTITRANSPORT => "CS_MULTITRANSPORT",
            Self::SC_CORE => "SC_CORE",
            Self::SC_SECURITY => "SC_SECURITY",
            Self::SC_NET => "SC_NET",
            Self::SC_MCS_MSGCHANNEL => "SC_MCS_MSGCHANNEL",
            Self::SC_MULTITRANSPORT => "SC_MULTITRANSPORT",
            _ => return None,
        })
    }
}

impl fmt::Display for DataBlockType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_named(f, self.name(), self.0.into())
    }
}

/// T.124 ConferenceCreateRequest as RDP sends it (MS-RDPBCGR 2.2.1.3), with the client data blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceCreateRequest<'a> {
    /// ConnectData::connectPDU length as declared.
    pub connect_pdu_length: usize,
    /// ConferenceName (numeric string, 4 bits per digit, as packed on the wire).
    pub conference_name: &'a [u8],
    /// H.221 non-standard key, "Duca" from a conforming client.
    pub h221_key: &'a [u8],
    pub blocks: Vec<ClientDataBlock<'a>>,
}

/// T.124 ConferenceCreateResponse as RDP sends it (MS-RDPBCGR 2.2.1.4), with the server data blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceCreateResponse<'a> {
    /// ConnectData::connectPDU length as declared. Windows servers declare 0x2a here whatever the real
    /// length, so it bounds nothing.
    pub connect_pdu_length: usize,
    /// nodeID (UserID, the 1001 offset added back).
    pub node_id: u16,
    pub tag: u32,
    /// GCC result (ENUMERATED; 0 is success).
    pub result: u8,
    /// H.221 non-standard key, "McDn" from a conforming server.
    pub h221_key: &'a [u8],
    pub blocks: Vec<ServerDataBlock<'a>>,
}

impl<'a> ConferenceCreateRequest<'a> {
    /// The Client Core Data block, if the client sent one.
    pub fn core(&self) -> Option<&super::ClientCoreData<'a>> {
        self.blocks.iter().find_map(|b| match b {
            ClientDataBlock::Core(c) => Some(c),
            _ => None,
        })
    }

    pub fn security(&self) -> Option<&super::ClientSecurityData> {
        self.blocks.iter().find_map(|b| match b {
            ClientDataBlock::Security(s) => Some(s),
            _ => None,
        })
    }

    pub fn network(&self) -> Option<&super::ClientNetworkData<'a>> {
        self.blocks.iter().find_map(|b| match b {
            ClientDataBlock::Network(n) => Some(n),
            _ => None,
        })
    }
}

impl<'a> ConferenceCreateResponse<'a> {
    pub fn core(&self) -> Option<&super::ServerCoreData<'a>> {
        self.blocks.iter().find_map(|b| match b {
            ServerDataBlock::Core(c) => Some(c),
            _ => None,
        })
    }

    pub fn security(&self) -> Option<&super::ServerSecurityData<'a>> {
        self.blocks.iter().find_map(|b| match b {
            ServerDataBlock::Security(s) => Some(s),
            _ => None,
        })
    }

    pub fn network(&self) -> Option<&super::ServerNetworkData<'a>> {
        self.blocks.iter().find_map(|b| match b {
            ServerDataBlock::Network(n) => Some(n),
            _ => None,
        })
    }
}

/// Parses the complete userData of a Connect-Initial. Run it with [`bounded`].
pub fn parse_conference_create_request(i: &[u8]) -> WireResult<'_, ConferenceCreateRequest<'_>> {
    let pdu = "GCC Conference Create Request";
    let (i, connect_pdu_length) = connect_data(pdu, i)?;
    let (i, choice) = byte(i)?;
    expect(
        pdu,
        "ConnectGCCPDU choice",
        choice,
        GCC_CONFERENCE_CREATE_REQUEST,
        "0x00",
    )?;
    let (i, selection) = byte(i)?;
    expect(
        pdu,
        "optional-field bitmap",
        selection,
        REQUEST_ONLY_USER_DATA,
        "0x08 (only userData present)",
    )?;
    // ConferenceName::numeric: length (minus 1) in one byte, then two digits per byte.
    let (i, name_len) = byte(i)?;
    let (i, conference_name) = take_n(i, (usize::from(name_len) + 2) / 2)?;
    // lockedConference, listedConference, conductibleConference, terminationMethod and padding.
    let (i, _) = byte(i)?;
    let (i, (h221_key, user_data)) = user_data_set(pdu, i)?;
    let (_, blocks) = bounded(pdu, user_data, |b| {
        data_blocks(pdu, b, parse_client_data_block)
    })?;
    Ok((
        i,
        ConferenceCreateRequest {
            connect_pdu_length,
            conference_name,
            h221_key,
            blocks,
        },
    ))
}

/// Parses the complete userData of a Connect-Response. Run it with [`bounded`].
pub fn parse_conference_create_response(i: &[u8]) -> WireResult<'_, ConferenceCreateResponse<'_>> {
    let pdu = "GCC Conference Create Response";
    let (i, connect_pdu_length) = connect_data(pdu, i)?;
    let (i, choice) = byte(i)?;
    expect(
        pdu,
        "ConnectGCCPDU choice",
        choice,
        GCC_CONFERENCE_CREATE_RESPONSE,
        "0x14",
    )?;
    let (i, raw_node_id) = be_u16(i)?;
    let node_id = raw_node_id.wrapping_add(USER_ID_BASE);
    let (i, tag_len) = byte(i)?;
    let (i, tag_bytes) = take_n(i, usize::from(tag_len))?;
    if tag_bytes.len() > 4 {
        return fail(WireError::BadLength {
            pdu,
            field: "tag",
            got: tag_len.into(),
            expected: "at most 4 bytes",
        });
    }
    let tag = tag_bytes
        .iter()
        .fold(0u32, |acc, &b| acc << 8 | u32::from(b));
    let (i, result) = byte(i)?;
    let (i, (h221_key, user_data)) = user_data_set(pdu, i)?;
    let (_, blocks) = bounded(pdu, user_data, |b| {
        data_blocks(pdu, b, parse_server_data_block)
    })?;
    Ok((
        i,
        ConferenceCreateResponse {
            connect_pdu_length,
            node_id,
            tag,
            result,
            h221_key,
            blocks,
        },
    ))
}

/// T.124 ConnectData: key (object, the T.124 identifier) and the connectPDU length.
fn connect_data<'a>(pdu: &'static str, i: &'a [u8]) -> WireResult<'a, usize> {
    let (i, key_choice) = byte(i)?;
    expect(pdu, "ConnectData key choice", key_choice, 0, "0 (object)")?;
    let (i, oid_len) = byte(i)?;
    let (i, oid) = take_n(i, usize::from(oid_len))?;
    if oid != T124_IDENTIFIER {
        return fail(WireError::BadValue {
            pdu,
            field: "t124Identifier",
            got: oid
                .iter()
                .take(8)
                .fold(0u64, |acc, &b| acc << 8 | u64::from(b)),
            expected: "0.0.20.124.0.1",
        });
    }
    per_length(i)
}

/// The one UserData set element: h221NonStandard key and the value holding the data blocks.
/// Returns the H.221 key and the value.
fn user_data_set<'a>(pdu: &'static str, i: &'a [u8]) -> WireResult<'a, (&'a [u8], &'a [u8])> {
    let (i, sets) = byte(i)?;
    if sets == 0 {
        return Err(nom::Err::Error(WireError::BadValue {
            pdu,
            field: "number of UserData sets",
            got: 0,
            expected: "at least 1",
        }));
    }
    let (i, choice) = byte(i)?;
    expect(
        pdu,
        "UserData choice",
        choice,
        USER_DATA_H221_VALUE,
        "0xc0 (value, h221NonStandard)",
    )?;
    let (i, key_len) = byte(i)?;
    let (i, h221_key) = take_n(i, usize::from(key_len) + 4)?;
    let (i, len) = per_length(i)?;
    let (i, value) = take_n(i, len)?;
    Ok((i, (h221_key, value)))
}

fn expect(
    pdu: &'static str,
    field: &'static str,
    got: u8,
    want: u8,
    expected: &'static str,
) -> Result<(), nom::Err<WireError>> {
    if got == want {
        Ok(())
    } else {
        Err(nom::Err::Error(WireError::BadValue {
            pdu,
            field,
            got: got.into(),
            expected,
        }))
    }
}

/// Splits concatenated settings data blocks (`type u16 | length u16 | body`, length counting the
/// 4-byte header) and parses each with `parse_block`.
fn data_blocks<'a, T>(
    pdu: &'static str,
    mut i: &'a [u8],
    parse_block: fn(DataBlockType, &'a [u8]) -> Result<T, nom::Err<WireError>>,
) -> WireResult<'a, Vec<T>> {
    let mut blocks = Vec::new();
    while !i.is_empty() {
        let (rest, block_type) = le_u16(i)?;
        let (rest, length) = le_u16(rest)?;
        let Some(body_len) = usize::from(length).checked_sub(4) else {
            return fail(WireError::BadLength {
                pdu,
                field: "data block length",
                got: length.into(),
                expected: "at least 4, the header",
            });
        };
        let (rest, body) = take_n(rest, body_len)?;
        blocks.push(parse_block(DataBlockType(block_type), body)?);
        i = rest;
    }
    Ok((i, blocks))
}
