//! ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2).

use nom::number::streaming::be_u16;
use nom::Parser;

use super::super::{fail, take_n, WireError, WireResult};
use super::{
    list, parse_extension_block, u16_prefixed, u8_prefixed, whole, CipherSuite, Extension,
    ExtensionContext, ProtocolVersion,
};

/// RFC 8446 §4.1.2 / RFC 5246 §7.4.1.2 ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// `legacy_version` (`client_version` in TLS 1.2): the highest version offered, 0x0303 for TLS 1.3.
    pub legacy_version: ProtocolVersion,
    pub random: &'a [u8; 32],
    /// `legacy_session_id<0..32>`.
    pub session_id: &'a [u8],
    pub cipher_suites: Vec<CipherSuite>,
    /// `legacy_compression_methods<1..2^8-1>`: 0 is null, 1 DEFLATE.
    pub compression_methods: &'a [u8],
    /// In wire order; empty when the message ends after the compression methods (allowed before TLS 1.3).
    pub extensions: Vec<Extension<'a>>,
}

impl<'a> ClientHello<'a> {
    /// The first host name of the server_name extension.
    pub fn server_name(&self) -> Option<&'a str> {
        self.extensions.iter().find_map(|e| match e {
            Extension::ServerName(names) => names.iter().find_map(|n| n.host_name()),
            _ => None,
        })
    }

    /// The versions of the supported_versions extension, when present (a TLS 1.3-capable client).
    pub fn supported_versions(&self) -> Option<&[ProtocolVersion]> {
        self.extensions.iter().find_map(|e| match e {
            Extension::SupportedVersions(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    /// The highest non-GREASE version offered: from supported_versions if present, else `legacy_version`.
    pub fn max_version(&self) -> ProtocolVersion {
        self.supported_versions()
            .and_then(|v| v.iter().filter(|v| !v.is_grease()).max().copied())
            .unwrap_or(self.legacy_version)
    }
}

/// Parses the complete body of a ClientHello message (the handshake header already removed).
pub fn parse_client_hello(body: &[u8]) -> WireResult<'_, ClientHello<'_>> {
    whole("ClientHello", body, |i| {
        let (i, legacy_version) = be_u16.map(ProtocolVersion).parse(i)?;
        let (i, random) = random(i)?;
        let (i, session_id) = session_id("ClientHello", i)?;
        let (i, suites) = u16_prefixed(i)?;
        let (_, cipher_suites) = list("ClientHello", suites, be_u16.map(CipherSuite))?;
        let (i, compression_methods) = u8_prefixed(i)?;
        let (i, extensions) = if i.is_empty() {
            (i, Vec::new())
        } else {
            parse_extension_block(i, ExtensionContext::ClientHello)?
        };
        Ok((
            i,
            ClientHello {
                legacy_version,
                random,
                session_id,
                cipher_suites,
                compression_methods,
                extensions,
            },
        ))
    })
}

/// `Random random` (RFC 5246 §7.4.1.2): 32 bytes.
pub(super) fn random(i: &[u8]) -> WireResult<'_, &[u8; 32]> {
    let (i, bytes) = take_n(i, 32)?;
    match <&[u8; 32]>::try_from(bytes) {
        Ok(random) => Ok((i, random)),
        Err(_) => fail(WireError::BadLength {
            pdu: "hello",
            field: "random",
            got: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            expected: "32",
        }),
    }
}

/// `legacy_session_id<0..32>`.
pub(super) fn session_id<'a>(pdu: &'static str, i: &'a [u8]) -> WireResult<'a, &'a [u8]> {
    let (rest, id) = u8_prefixed(i)?;
    if id.len() > 32 {
        return fail(WireError::BadLength {
            pdu,
            field: "legacy_session_id length",
            got: u64::try_from(id.len()).unwrap_or(u64::MAX),
            expected: "at most 32",
        });
    }
    Ok((rest, id))
}
