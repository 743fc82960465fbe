//! Server settings data blocks of the GCC Conference Create Response (MS-RDPBCGR 2.2.1.4.2 – 2.2.1.4.4).

use std::fmt;

use nom::number::streaming::{le_u16, le_u32};

use super::gcc::DataBlockType;
use super::server_cert::{parse_server_certificate, ServerCertificate};
use super::OptionalTail;
use crate::wire::{bounded, fail, take_n, write_named, WireError, WireResult};

/// One server data block; blocks this module does not decode are kept raw with their type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerDataBlock<'a> {
    Core(ServerCoreData<'a>),
    Security(ServerSecurityData<'a>),
    Network(ServerNetworkData<'a>),
    Other {
        block_type: DataBlockType,
        body: &'a [u8],
    },
}

/// MS-RDPBCGR 2.2.1.4.2 Server Core Data (TS_UD_SC_CORE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCoreData<'a> {
    pub version: u32,
    /// clientRequestedProtocols: the requestedProtocols of the client's RDP_NEG_REQ, echoed.
    pub client_requested_protocols: Option<u32>,
    pub early_capability_flags: Option<u32>,
    /// Anything after earlyCapabilityFlags, undecoded.
    pub rest: &'a [u8],
}

/// MS-RDPBCGR 2.2.1.4.3 Server Security Data (TS_UD_SC_SEC1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSecurityData<'a> {
    pub encryption_method: EncryptionMethod,
    pub encryption_level: EncryptionLevel,
    /// serverRandom (serverRandomLen bytes, 32 in practice); `None` when the length fields are absent, as
    /// they are with Enhanced RDP Security (method and level both 0).
    pub server_random: Option<&'a [u8]>,
    /// serverCertificate as sent (serverCertLen bytes).
    pub server_certificate_bytes: Option<&'a [u8]>,
    /// serverCertificate decoded; `None` when absent, empty or malformed.
    pub server_certificate: Option<ServerCertificate<'a>>,
    /// Why serverCertificate did not decode. A bad certificate does not fail the block: method, level
    /// and random stay readable beside it.
    pub server_certificate_error: Option<WireError>,
}

impl ServerSecurityData<'_> {
    /// Standard RDP security is in force (the server picked an RC4/FIPS method), not TLS/CredSSP.
    pub fn is_standard_rdp_security(&self) -> bool {
        self.encryption_method != EncryptionMethod::NONE
            || self.encryption_level != EncryptionLevel::NONE
    }
}

/// MS-RDPBCGR 2.2.1.4.4 Server Network Data (TS_UD_SC_NET).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerNetworkData<'a> {
    /// MCSChannelId: the I/O channel.
    pub mcs_channel_id: u16,
    /// channelIdArray: the channel id given to each channel the client listed, in order.
    pub channel_ids: Vec<u16>,
    /// Pad (two bytes when the channel count is odd).
    pub padding: &'a [u8],
}

/// MS-RDPBCGR 2.2.1.4.3 encryptionMethod (a single value from the server) and 2.2.1.3.3
/// encryptionMethods (flags from the client): same bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncryptionMethod(pub u32);

impl EncryptionMethod {
    pub const NONE: Self = Self(0);
    /// 40-bit session keys (RC4).
    pub const ENCRYPTION_40BIT: Self = Self(0x0000_0001);
    /// 128-bit session keys (RC4).
    pub const ENCRYPTION_128BIT: Self = Self(0x0000_0002);
    /// 56-bit session keys (RC4).
    pub const ENCRYPTION_56BIT: Self = Self(0x0000_0008);
    /// FIPS 140-1 compliant: Triple DES and SHA-1.
    pub const FIPS: Self = Self(0x0000_0010);

    const BITS: [(u32, &'static str); 4] = [
        (0x01, "ENCRYPTION_METHOD_40BIT"),
        (0x02, "ENCRYPTION_METHOD_128BIT"),
        (0x08, "ENCRYPTION_METHOD_56BIT"),
        (0x10, "ENCRYPTION_METHOD_FIPS"),
    ];

    /// The spec name when this is exactly one known value.
    pub fn name(self) -> Option<&'static str> {
        if self == Self::NONE {
            return Some("ENCRYPTION_METHOD_NONE");
        }
        Self::BITS
            .iter()
            .find(|(bit, _)| *bit == self.0)
            .map(|(_, name)| *name)
    }

    /// Whether every bit of `other` is set (for the client's flag set).
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl fmt::Display for EncryptionMethod {
    /// One name, or the known flags joined by `|` with any unknown bits in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.name() {
            return f.write_str(name);
        }
        let names = Self::BITS.map(|(bit, name)| (u64::from(bit), name));
        crate::wire::write_flags(f, u64::from(self.0), names)
    }
}

/// MS-RDPBCGR 2.2.1.4.3 encryptionLevel (5.3.1 describes each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncryptionLevel(pub u32);

impl EncryptionLevel {
    pub const NONE: Self = Self(0);
    pub const LOW: Self = Self(1);
    pub const CLIENT_COMPATIBLE: Self = Self(2);
    pub const HIGH: Self = Self(3);
    pub const FIPS: Self = Self(4);

    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::NONE => "ENCRYPTION_LEVEL_NONE",
            Self::LOW => "ENCRYPTION_LEVEL_LOW",
            Self::CLIENT_COMPATIBLE => "ENCRYPTION_LEVEL_CLIENT_COMPATIBLE",
            Self::HIGH => "ENCRYPTION_LEVEL_HIGH",
            Self::FIPS => "ENCRYPTION_LEVEL_FIPS",
            _ => return None,
        })
    }
}

impl fmt::Display for EncryptionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_named(f, self.name(), self.0.into())
    }
}

pub(super) fn parse_server_data_block(
    block_type: DataBlockType,
    body: &[u8],
) -> Result<ServerDataBlock<'_>, nom::Err<WireError>> {
    Ok(match block_type {
        DataBlockType::SC_CORE => ServerDataBlock::Core(bounded("TS_UD_SC_CORE", body, core)?.1),
        DataBlockType::SC_SECURITY => {
            ServerDataBlock::Security(bounded("TS_UD_SC_SEC1", body, security)?.1)
        }
        DataBlockType::SC_NET => {
            ServerDataBlock::Network(bounded("TS_UD_SC_NET", body, network)?.1)
        }
        _ => ServerDataBlock::Other { block_type, body },
    })
}

fn core(i: &[u8]) -> WireResult<'_, ServerCoreData<'_>> {
    let (i, version) = le_u32(i)?;
    let mut tail = OptionalTail::new(i);
    let client_requested_protocols = tail.u32();
    let early_capability_flags = tail.u32();
    Ok((
        &[],
        ServerCoreData {
            version,
            client_requested_protocols,
            early_capability_flags,
            rest: tail.rest(),
        },
    ))
}

fn security(i: &[u8]) -> WireResult<'_, ServerSecurityData<'_>> {
    let (i, method) = le_u32(i)?;
    let (i, level) = le_u32(i)?;
    let mut data = ServerSecurityData {
        encryption_method: EncryptionMethod(method),
        encryption_level: EncryptionLevel(level),
        server_random: None,
        server_certificate_bytes: None,
        server_certificate: None,
        server_certificate_error: None,
    };
    if i.is_empty() {
        return Ok((i, data));
    }
    let (i, random_len) = le_u32(i)?;
    let (i, cert_len) = le_u32(i)?;
    let (i, random) = take_n(i, len_of(random_len)?)?;
    let (i, cert) = take_n(i, len_of(cert_len)?)?;
    data.server_random = Some(random);
    data.server_certificate_bytes = Some(cert);
    if !cert.is_empty() {
        match bounded("server certificate", cert, parse_server_certificate) {
            Ok((_, c)) => data.server_certificate = Some(c),
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                data.server_certificate_error = Some(e)
            }
            // `bounded` turns a cut into `Truncated`; kept for completeness.
            Err(nom::Err::Incomplete(_)) => {
                data.server_certificate_error = Some(WireError::Truncated {
                    pdu: "server certificate",
                    kind: nom::error::ErrorKind::Eof,
                })
            }
        }
    }
    Ok((i, data))
}

fn network(i: &[u8]) -> WireResult<'_, ServerNetworkData<'_>> {
    let (i, mcs_channel_id) = le_u16(i)?;
    let (mut i, count) = le_u16(i)?;
    if usize::from(count) > i.len() / 2 {
        return fail(WireError::BadLength {
            pdu: "TS_UD_SC_NET",
            field: "channelCount",
            got: count.into(),
            expected: "no more channel ids than the block holds",
        });
    }
    let mut channel_ids = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let (rest, id) = le_u16(i)?;
        channel_ids.push(id);
        i = rest;
    }
    Ok((
        &[],
        ServerNetworkData {
            mcs_channel_id,
            channel_ids,
            padding: i,
        },
    ))
}

/// A u32 length field as usize; on a 16-bit target a huge value is just a length that overruns.
fn len_of(n: u32) -> Result<usize, nom::Err<WireError>> {
    usize::try_from(n).map_err(|_| {
        nom::Err::Error(WireError::BadLength {
            pdu: "TS_UD_SC_SEC1",
            field: "length",
            got: n.into(),
            expected: "addressable",
        })
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn method_and_level_names() {
        assert_eq!(
            EncryptionMethod::ENCRYPTION_128BIT.to_string(),
            "ENCRYPTION_METHOD_128BIT"
        );
        assert_eq!(EncryptionMethod(0).to_string(), "ENCRYPTION_METHOD_NONE");
        assert_eq!(
            EncryptionMethod(0x1b).to_string(),
            "ENCRYPTION_METHOD_40BIT|ENCRYPTION_METHOD_128BIT|ENCRYPTION_METHOD_56BIT|ENCRYPTION_METHOD_FIPS"
        );
        assert_eq!(EncryptionMethod(0x104).to_string(), "0x104");
        assert!(EncryptionMethod(0x0b).contains(EncryptionMethod::ENCRYPTION_56BIT));
        assert_eq!(
            EncryptionLevel::CLIENT_COMPATIBLE.to_string(),
            "ENCRYPTION_LEVEL_CLIENT_COMPATIBLE"
        );
        assert_eq!(EncryptionLevel(9).to_string(), "0x9");
    }

    #[test]
    fn enhanced_security_has_no_random_or_certificate() {
        let body = [
            0x00, 0x00, 0x00, 0x00, // encryptionMethod NONE
            0x00, 0x00, 0x00, 0x00, // encryptionLevel NONE
        ];
        let ServerDataBlock::Security(s) =
            parse_server_data_block(DataBlockType::SC_SECURITY, &body).unwrap()
        else {
            panic!("not SC_SECURITY")
        };
        assert!(!s.is_standard_rdp_security());
        assert_eq!(s.server_random, None);
        assert_eq!(s.server_certificate, None);
    }

    #[test]
    fn certificate_longer_than_the_block_is_truncated() {
        let body = [
            0x02, 0x00, 0x00, 0x00, // encryptionMethod 128BIT
            0x03, 0x00, 0x00, 0x00, // encryptionLevel HIGH
            0x00, 0x00, 0x00, 0x00, // serverRandomLen 0
            0xff, 0xff, 0xff, 0xff, // serverCertLen: far more than the block
        ];
        assert!(matches!(
            parse_server_data_block(DataBlockType::SC_SECURITY, &body),
            Err(nom::Err::Error(WireError::Truncated {
                pdu: "TS_UD_SC_SEC1",
                ..
            }))
        ));
    }

    #[test]
    fn network_block_with_padding() {
        let body = [
            0xeb, 0x03, // MCSChannelId 1003
            0x03, 0x00, // channelCount 3
            0xec, 0x03, 0xed, 0x03, 0xee, 0x03, // 1004, 1005, 1006
            0x00, 0x00, // Pad
        ];
        let ServerDataBlock::Network(n) =
            parse_server_data_block(DataBlockType::SC_NET, &body).unwrap()
        else {
            panic!("not SC_NET")
        };
        assert_eq!(
            n,
            ServerNetworkData {
                mcs_channel_id: 1003,
                channel_ids: vec![1004, 1005, 1006],
                padding: &[0, 0],
            }
        );
    }
}
