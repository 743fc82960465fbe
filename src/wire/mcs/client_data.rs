//! Client settings data blocks of the GCC Conference Create Request (MS-RDPBCGR 2.2.1.3.2 – 2.2.1.3.4).

use nom::number::streaming::{le_u16, le_u32};

use super::gcc::DataBlockType;
use super::server_data::EncryptionMethod;
use super::{utf16z, OptionalTail};
use crate::wire::{bounded, fail, take_n, WireError, WireResult};

/// One client data block; blocks this module does not decode are kept raw with their type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientDataBlock<'a> {
    Core(ClientCoreData<'a>),
    Security(ClientSecurityData),
    Network(ClientNetworkData<'a>),
    Other {
        block_type: DataBlockType,
        body: &'a [u8],
    },
}

/// MS-RDPBCGR 2.2.1.3.2 Client Core Data (TS_UD_CS_CORE). The optional fields are present only when
/// every field before them is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCoreData<'a> {
    /// RDP version: 0x00080001 RDP 4.0, 0x00080004 RDP 5.0 to 8.1, 0x00080005 10.0, and so on.
    pub version: u32,
    pub desktop_width: u16,
    pub desktop_height: u16,
    pub color_depth: u16,
    pub sas_sequence: u16,
    pub keyboard_layout: u32,
    pub client_build: u32,
    /// clientName: 32 bytes of NUL-terminated UTF-16LE; see [`ClientCoreData::client_name`].
    pub client_name: &'a [u8],
    pub keyboard_type: u32,
    pub keyboard_sub_type: u32,
    pub keyboard_function_key: u32,
    /// imeFileName: 64 bytes of NUL-terminated UTF-16LE.
    pub ime_file_name: &'a [u8],
    pub post_beta2_color_depth: Option<u16>,
    pub client_product_id: Option<u16>,
    pub serial_number: Option<u32>,
    pub high_color_depth: Option<u16>,
    pub supported_color_depths: Option<u16>,
    /// earlyCapabilityFlags; RNS_UD_CS_SUPPORT_ERRINFO_PDU (0x0001) says the server may send a Set Error
    /// Info PDU.
    pub early_capability_flags: Option<u16>,
    /// clientDigProductId: 64 bytes of NUL-terminated UTF-16LE.
    pub client_dig_product_id: Option<&'a [u8]>,
    pub connection_type: Option<u8>,
    pub pad1octet: Option<u8>,
    /// serverSelectedProtocol: the protocol the server chose in the X.224 Connection Confirm.
    pub server_selected_protocol: Option<u32>,
    /// Later fields (desktop physical size, orientation, scale factors), undecoded.
    pub rest: &'a [u8],
}

impl ClientCoreData<'_> {
    /// earlyCapabilityFlags bit: the client can receive the Set Error Info PDU.
    pub const RNS_UD_CS_SUPPORT_ERRINFO_PDU: u16 = 0x0001;

    /// clientName decoded (up to the first NUL).
    pub fn client_name(&self) -> String {
        utf16z(self.client_name)
    }

    /// clientDigProductId decoded (up to the first NUL).
    pub fn client_dig_product_id(&self) -> Option<String> {
        self.client_dig_product_id.map(utf16z)
    }

    /// Whether the client said it can receive the Set Error Info PDU.
    pub fn supports_error_info(&self) -> bool {
        self.early_capability_flags
            .is_some_and(|f| f & Self::RNS_UD_CS_SUPPORT_ERRINFO_PDU != 0)
    }
}

/// MS-RDPBCGR 2.2.1.3.3 Client Security Data (TS_UD_CS_SEC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSecurityData {
    /// The methods the client supports (flags with the values of [`EncryptionMethod`]).
    pub encryption_methods: EncryptionMethod,
    /// Used instead of `encryption_methods` by French-locale clients only.
    pub ext_encryption_methods: u32,
}

/// MS-RDPBCGR 2.2.1.3.4 Client Network Data (TS_UD_CS_NET).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientNetworkData<'a> {
    pub channels: Vec<ChannelDef<'a>>,
}

/// MS-RDPBCGR 2.2.1.3.4.1 Channel Definition Structure (CHANNEL_DEF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelDef<'a> {
    /// 8 bytes: an ANSI name of at most 7 characters, NUL-padded.
    pub name: &'a [u8],
    pub options: u32,
}

impl<'a> ChannelDef<'a> {
    /// The name up to its first NUL.
    pub fn name_bytes(&self) -> &'a [u8] {
        let end = self
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.name.len());
        self.name.get(..end).unwrap_or(self.name)
    }

    /// The name as text, when it is UTF-8 (channel names are ASCII in practice).
    pub fn name_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.name_bytes()).ok()
    }
}

/// Length of the fixed part of TS_UD_CS_CORE after the header.
const CORE_FIXED_LEN: usize = 4 + 2 + 2 + 2 + 2 + 4 + 4 + 32 + 4 + 4 + 4 + 64;
const CHANNEL_DEF_LEN: usize = 12;

pub(super) fn parse_client_data_block(
    block_type: DataBlockType,
    body: &[u8],
) -> Result<ClientDataBlock<'_>, nom::Err<WireError>> {
    Ok(match block_type {
        DataBlockType::CS_CORE => ClientDataBlock::Core(bounded("TS_UD_CS_CORE", body, core)?.1),
        DataBlockType::CS_SECURITY => {
            let (_, (encryption_methods, ext_encryption_methods)) =
                bounded("TS_UD_CS_SEC", body, |i| {
                    let (i, m) = le_u32(i)?;
                    let (i, ext) = le_u32(i)?;
                    Ok((i, (m, ext)))
                })?;
            ClientDataBlock::Security(ClientSecurityData {
                encryption_methods: EncryptionMethod(encryption_methods),
                ext_encryption_methods,
            })
        }
        DataBlockType::CS_NET => {
            ClientDataBlock::Network(bounded("TS_UD_CS_NET", body, network)?.1)
        }
        _ => ClientDataBlock::Other { block_type, body },
    })
}

fn core(i: &[u8]) -> WireResult<'_, ClientCoreData<'_>> {
    if i.len() < CORE_FIXED_LEN {
        return fail(WireError::BadLength {
            pdu: "TS_UD_CS_CORE",
            field: "block length",
            got: u64::try_from(i.len() + 4).unwrap_or(u64::MAX),
            expected: "at least 132",
        });
    }
    let (i, version) = le_u32(i)?;
    let (i, desktop_width) = le_u16(i)?;
    let (i, desktop_height) = le_u16(i)?;
    let (i, color_depth) = le_u16(i)?;
    let (i, sas_sequence) = le_u16(i)?;
    let (i, keyboard_layout) = le_u32(i)?;
    let (i, client_build) = le_u32(i)?;
    let (i, client_name) = take_n(i, 32)?;
    let (i, keyboard_type) = le_u32(i)?;
    let (i, keyboard_sub_type) = le_u32(i)?;
    let (i, keyboard_function_key) = le_u32(i)?;
    let (i, ime_file_name) = take_n(i, 64)?;
    let mut tail = OptionalTail::new(i);
    let post_beta2_color_depth = tail.u16();
    let client_product_id = tail.u16();
    let serial_number = tail.u32();
    let high_color_depth = tail.u16();
    let supported_color_depths = tail.u16();
    let early_capability_flags = tail.u16();
    let client_dig_product_id = tail.take(64);
    let connection_type = tail.u8();
    let pad1octet = tail.u8();
    let server_selected_protocol = tail.u32();
    let rest = tail.rest();
    Ok((
        &[],
        ClientCoreData {
            version,
            desktop_width,
            desktop_height,
            color_depth,
            sas_sequence,
            keyboard_layout,
            client_build,
            client_name,
            keyboard_type,
            keyboard_sub_type,
            keyboard_function_key,
            ime_file_name,
            post_beta2_color_depth,
            client_product_id,
            serial_number,
            high_color_depth,
            supported_color_depths,
            early_capability_flags,
            client_dig_product_id,
            connection_type,
            pad1octet,
            server_selected_protocol,
            rest,
        },
    ))
}

fn network(i: &[u8]) -> WireResult<'_, ClientNetworkData<'_>> {
    let (mut i, count) = le_u32(i)?;
    let room = i.len() / CHANNEL_DEF_LEN;
    if usize::try_from(count).map_or(true, |c| c > room) {
        return fail(WireError::BadLength {
            pdu: "TS_UD_CS_NET",
            field: "channelCount",
            got: count.into(),
            expected: "no more channels than the block holds (12 bytes each)",
        });
    }
    let mut channels = Vec::with_capacity(room.min(64));
    for _ in 0..count {
        let (rest, name) = take_n(i, 8)?;
        let (rest, options) = le_u32(rest)?;
        channels.push(ChannelDef { name, options });
        i = rest;
    }
    Ok((i, ClientNetworkData { channels }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn network_block() {
        let body = [
            0x02, 0x00, 0x00, 0x00, // channelCount 2
            b'r', b'd', b'p', b'd', b'r', 0, 0, 0, // name "rdpdr"
            0x00, 0x00, 0x80, 0x80, // options
            b'c', b'l', b'i', b'p', b'r', b'd', b'r', 0, // name "cliprdr"
            0x00, 0x00, 0xa0, 0xc0, // options
        ];
        let ClientDataBlock::Network(n) =
            parse_client_data_block(DataBlockType::CS_NET, &body).unwrap()
        else {
            panic!("not CS_NET")
        };
        assert_eq!(n.channels.len(), 2);
        assert_eq!(n.channels[0].name_str(), Some("rdpdr"));
        assert_eq!(n.channels[0].options, 0x8080_0000);
        assert_eq!(n.channels[1].name_str(), Some("cliprdr"));
        // a count larger than the block is a length error, not an allocation
        let lying = [0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            parse_client_data_block(DataBlockType::CS_NET, &lying),
            Err(nom::Err::Error(WireError::BadLength { .. }))
        ));
    }

    #[test]
    fn short_core_is_a_length_error() {
        assert!(matches!(
            parse_client_data_block(DataBlockType::CS_CORE, &[0; 100]),
            Err(nom::Err::Error(WireError::BadLength { .. }))
        ));
    }

    #[test]
    fn unknown_blocks_stay_raw() {
        assert_eq!(
            parse_client_data_block(DataBlockType(0xC0FF), &[1, 2]).unwrap(),
            ClientDataBlock::Other {
                block_type: DataBlockType(0xC0FF),
                body: &[1, 2]
            }
        );
    }
}
