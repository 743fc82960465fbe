//! ServerHello and HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4; RFC 5246 §7.4.1.3).

use nom::number::streaming::{be_u16, u8 as byte};
use nom::Parser;

use super::super::WireResult;
use super::client_hello::{random, session_id};
use super::{
    parse_extension_block, whole, CipherSuite, Extension, ExtensionContext, NamedGroup,
    ProtocolVersion,
};

/// The `random` that marks a ServerHello as a HelloRetryRequest: SHA-256 of "HelloRetryRequest"
/// (RFC 8446 §4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The first TLS 1.3 draft whose ServerHello has the legacy fields (session id echo, compression) and
/// puts the version in supported_versions: draft 22 (`0x7f16`).
pub const FIRST_DRAFT_WITH_LEGACY_FIELDS: u8 = 22;

/// RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3 ServerHello (also the shape of a HelloRetryRequest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello<'a> {
    /// `legacy_version` (`server_version` in TLS 1.2); 0x0303 when TLS 1.3 is chosen.
    pub legacy_version: ProtocolVersion,
    pub random: &'a [u8; 32],
    /// `legacy_session_id_echo`.
    pub session_id: &'a [u8],
    pub cipher_suite: CipherSuite,
    /// `legacy_compression_method`.
    pub compression_method: u8,
    /// In wire order; empty when the message ends after the compression method.
    pub extensions: Vec<Extension<'a>>,
}

impl ServerHello<'_> {
    /// Whether this ServerHello is a HelloRetryRequest (RFC 8446 §4.1.3).
    pub fn is_hello_retry_request(&self) -> bool {
        *self.random == HELLO_RETRY_REQUEST_RANDOM
    }

    /// The version the server chose: supported_versions when present (TLS 1.3), else `legacy_version`.
    pub fn negotiated_version(&self) -> ProtocolVersion {
        self.extensions
            .iter()
            .find_map(|e| match e {
                Extension::SelectedVersion(v) => Some(*v),
                _ => None,
            })
            .unwrap_or(self.legacy_version)
    }

    /// The key-exchange group of a TLS 1.3 ServerHello (its key_share) or HelloRetryRequest (the group
    /// asked for).
    pub fn key_share_group(&self) -> Option<NamedGroup> {
        self.extensions.iter().find_map(|e| match e {
            Extension::ServerKeyShare(share) => Some(share.group),
            Extension::SelectedGroup(group) => Some(*group),
            _ => None,
        })
    }

    /// The TLS 1.3 downgrade sentinel in the last 8 bytes of `random` (RFC 8446 §4.1.3): a 1.3-capable server
    /// that negotiated `TLS1_2` (`DOWNGRD\x01`) or `TLS1_1`, meaning 1.1 or below (`DOWNGRD\x00`).
    pub fn downgrade_sentinel(&self) -> Option<ProtocolVersion> {
        match self.random.get(24..) {
            Some(b"DOWNGRD\x01") => Some(ProtocolVersion::TLS1_2),
            Some(b"DOWNGRD\x00") => Some(ProtocolVersion::TLS1_1),
            _ => None,
        }
    }
}

/// Parses the complete body of a ServerHello message. Its extensions are read as a HelloRetryRequest's when
/// the random says so. A ServerHello of TLS 1.3 drafts 0 to 21 (its version `0x7f00`–`0x7f15`) has no
/// session id and no compression method (draft-ietf-tls-tls13-21 §4.1.3): those read as empty and 0.
pub fn parse_server_hello(body: &[u8]) -> WireResult<'_, ServerHello<'_>> {
    whole("ServerHello", body, |i| {
        let (i, legacy_version) = be_u16.map(ProtocolVersion).parse(i)?;
        let (i, random) = random(i)?;
        let early_draft = legacy_version
            .tls13_draft()
            .is_some_and(|d| d < FIRST_DRAFT_WITH_LEGACY_FIELDS);
        let (i, session_id, cipher_suite, compression_method) = if early_draft {
            let (i, cipher_suite) = be_u16.map(CipherSuite).parse(i)?;
            (i, &[][..], cipher_suite, 0)
        } else {
            let (i, session_id) = session_id("ServerHello", i)?;
            let (i, (cipher_suite, compression_method)) =
                (be_u16.map(CipherSuite), byte).parse(i)?;
            (i, session_id, cipher_suite, compression_method)
        };
        let ctx = if *random == HELLO_RETRY_REQUEST_RANDOM {
            ExtensionContext::HelloRetryRequest
        } else {
            ExtensionContext::ServerHello
        };
        let (i, extensions) = if i.is_empty() {
            (i, Vec::new())
        } else {
            parse_extension_block(i, ctx)?
        };
        Ok((
            i,
            ServerHello {
                legacy_version,
                random,
                session_id,
                cipher_suite,
                compression_method,
                extensions,
            },
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn hrr_random_is_the_hash_of_its_name() {
        assert_eq!(
            Sha256::digest(b"HelloRetryRequest").as_slice(),
            HELLO_RETRY_REQUEST_RANDOM
        );
    }
}
