//! Hello extensions (RFC 8446 §4.2, RFC 5246 §7.4.1.4): `extension_type u16 | extension_data<0..2^16-1>`.
//!
//! The few a diagnosis reads are parsed (server_name, supported_groups, signature_algorithms, ALPN,
//! supported_versions, key_share); every other one is kept raw, and order and duplicates are kept.
//! One bad extension does not lose the others: it becomes [`Extension::Malformed`] and parsing goes on.

use nom::number::streaming::{be_u16, u8 as byte};
use nom::Parser;

use super::super::{WireError, WireResult};
use super::{list, u16_prefixed, u8_prefixed, whole, NamedGroup, ProtocolVersion, SignatureScheme};

open_value! {
    /// RFC 8446 §4.2 ExtensionType and the IANA "TLS ExtensionType Values" registry.
    ExtensionType(u16);
    SERVER_NAME = 0, "server_name";
    MAX_FRAGMENT_LENGTH = 1, "max_fragment_length";
    CLIENT_CERTIFICATE_URL = 2, "client_certificate_url";
    TRUSTED_CA_KEYS = 3, "trusted_ca_keys";
    TRUNCATED_HMAC = 4, "truncated_hmac";
    STATUS_REQUEST = 5, "status_request";
    USER_MAPPING = 6, "user_mapping";
    CLIENT_AUTHZ = 7, "client_authz";
    SERVER_AUTHZ = 8, "server_authz";
    CERT_TYPE = 9, "cert_type";
    SUPPORTED_GROUPS = 10, "supported_groups";
    EC_POINT_FORMATS = 11, "ec_point_formats";
    SRP = 12, "srp";
    SIGNATURE_ALGORITHMS = 13, "signature_algorithms";
    USE_SRTP = 14, "use_srtp";
    HEARTBEAT = 15, "heartbeat";
    APPLICATION_LAYER_PROTOCOL_NEGOTIATION = 16, "application_layer_protocol_negotiation";
    STATUS_REQUEST_V2 = 17, "status_request_v2";
    SIGNED_CERTIFICATE_TIMESTAMP = 18, "signed_certificate_timestamp";
    CLIENT_CERTIFICATE_TYPE = 19, "client_certificate_type";
    SERVER_CERTIFICATE_TYPE = 20, "server_certificate_type";
    PADDING = 21, "padding";
    ENCRYPT_THEN_MAC = 22, "encrypt_then_mac";
    EXTENDED_MASTER_SECRET = 23, "extended_master_secret";
    TOKEN_BINDING = 24, "token_binding";
    CACHED_INFO = 25, "cached_info";
    COMPRESS_CERTIFICATE = 27, "compress_certificate";
    RECORD_SIZE_LIMIT = 28, "record_size_limit";
    DELEGATED_CREDENTIAL = 34, "delegated_credential";
    SESSION_TICKET = 35, "session_ticket";
    /// Code point of key_share in TLS 1.3 drafts before 23 (the tls13draft16 captures send it).
    KEY_SHARE_DRAFT = 40, "key_share_draft";
    PRE_SHARED_KEY = 41, "pre_shared_key";
    EARLY_DATA = 42, "early_data";
    SUPPORTED_VERSIONS = 43, "supported_versions";
    COOKIE = 44, "cookie";
    PSK_KEY_EXCHANGE_MODES = 45, "psk_key_exchange_modes";
    CERTIFICATE_AUTHORITIES = 47, "certificate_authorities";
    OID_FILTERS = 48, "oid_filters";
    POST_HANDSHAKE_AUTH = 49, "post_handshake_auth";
    SIGNATURE_ALGORITHMS_CERT = 50, "signature_algorithms_cert";
    KEY_SHARE = 51, "key_share";
    TRANSPARENCY_INFO = 52, "transparency_info";
    CONNECTION_ID = 54, "connection_id";
    QUIC_TRANSPORT_PARAMETERS = 57, "quic_transport_parameters";
    TICKET_REQUEST = 58, "ticket_request";
    NEXT_PROTOCOL_NEGOTIATION = 0x3374, "next_protocol_negotiation";
    APPLICATION_SETTINGS_OLD = 0x4469, "application_settings_old";
    APPLICATION_SETTINGS = 0x44cd, "application_settings";
    CHANNEL_ID = 0x7550, "channel_id";
    ECH_OUTER_EXTENSIONS = 0xfd00, "ech_outer_extensions";
    ENCRYPTED_CLIENT_HELLO = 0xfe0d, "encrypted_client_hello";
    RENEGOTIATION_INFO = 0xff01, "renegotiation_info";
}
display_named_or_grease!(ExtensionType);

/// Which message an extension block belongs to: some extensions change shape with it (RFC 8446 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionContext {
    ClientHello,
    ServerHello,
    HelloRetryRequest,
}

/// RFC 6066 §3 ServerName: `name_type u8 | HostName<1..2^16-1>` (name_type 0 is host_name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerName<'a> {
    pub name_type: u8,
    pub name: &'a [u8],
}

impl<'a> ServerName<'a> {
    /// The host name, when this is a host_name entry and valid UTF-8.
    pub fn host_name(&self) -> Option<&'a str> {
        (self.name_type == 0)
            .then(|| std::str::from_utf8(self.name).ok())
            .flatten()
    }
}

/// RFC 8446 §4.2.8 KeyShareEntry: `group | key_exchange<1..2^16-1>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyShareEntry<'a> {
    pub group: NamedGroup,
    pub key_exchange: &'a [u8],
}

/// One extension of a hello, in the order it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension<'a> {
    /// server_name (RFC 6066 §3): the names a ClientHello asks for; empty in a ServerHello's acknowledgement.
    ServerName(Vec<ServerName<'a>>),
    /// supported_groups (RFC 8446 §4.2.7, RFC 8422 §5.1.1).
    SupportedGroups(Vec<NamedGroup>),
    /// signature_algorithms (RFC 8446 §4.2.3, RFC 5246 §7.4.1.4.1).
    SignatureAlgorithms(Vec<SignatureScheme>),
    /// application_layer_protocol_negotiation (RFC 7301 §3.1): protocol names; one in a ServerHello.
    Alpn(Vec<&'a [u8]>),
    /// supported_versions in a ClientHello (RFC 8446 §4.2.1): the versions offered.
    SupportedVersions(Vec<ProtocolVersion>),
    /// supported_versions in a ServerHello or HelloRetryRequest: the version chosen.
    SelectedVersion(ProtocolVersion),
    /// key_share in a ClientHello (RFC 8446 §4.2.8): the shares offered.
    KeyShare(Vec<KeyShareEntry<'a>>),
    /// key_share in a ServerHello: the server's share.
    ServerKeyShare(KeyShareEntry<'a>),
    /// key_share in a HelloRetryRequest: the group the server asks the client to use.
    SelectedGroup(NamedGroup),
    /// Any other extension, raw.
    Other {
        ext_type: ExtensionType,
        body: &'a [u8],
    },
    /// An extension whose body does not parse as its type says.
    Malformed {
        ext_type: ExtensionType,
        body: &'a [u8],
        error: WireError,
    },
    /// The end of the extension block does not hold a whole extension (header or body overruns the block).
    Overrun { bytes: &'a [u8], error: WireError },
}

impl Extension<'_> {
    /// The extension's type (`None` for [`Extension::Overrun`], whose type may be unreadable).
    pub fn ext_type(&self) -> Option<ExtensionType> {
        Some(match self {
            Extension::ServerName(_) => ExtensionType::SERVER_NAME,
            Extension::SupportedGroups(_) => ExtensionType::SUPPORTED_GROUPS,
            Extension::SignatureAlgorithms(_) => ExtensionType::SIGNATURE_ALGORITHMS,
            Extension::Alpn(_) => ExtensionType::APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
            Extension::SupportedVersions(_) | Extension::SelectedVersion(_) => {
                ExtensionType::SUPPORTED_VERSIONS
            }
            Extension::KeyShare(_) | Extension::ServerKeyShare(_) | Extension::SelectedGroup(_) => {
                ExtensionType::KEY_SHARE
            }
            Extension::Other { ext_type, .. } | Extension::Malformed { ext_type, .. } => *ext_type,
            Extension::Overrun { .. } => return None,
        })
    }
}

/// Parses an extension block, `extensions<0..2^16-1>`, streaming on its outer length (a cut inside the
/// block is `Incomplete`). Inside, it never fails: problems are recorded as [`Extension::Malformed`] or
/// [`Extension::Overrun`].
pub fn parse_extension_block(
    i: &[u8],
    ctx: ExtensionContext,
) -> WireResult<'_, Vec<Extension<'_>>> {
    let (rest, mut block) = u16_prefixed(i)?;
    let mut extensions = Vec::new();
    while !block.is_empty() {
        match (be_u16, u16_prefixed).parse(block) {
            Ok((next, (ext_type, body))) => {
                extensions.push(extension(ExtensionType(ext_type), body, ctx));
                block = next;
            }
            Err(e) => {
                let error = match e {
                    nom::Err::Error(e) | nom::Err::Failure(e) => e,
                    nom::Err::Incomplete(_) => WireError::Truncated {
                        pdu: "extension",
                        kind: nom::error::ErrorKind::Eof,
                    },
                };
                extensions.push(Extension::Overrun {
                    bytes: block,
                    error,
                });
                break;
            }
        }
    }
    Ok((rest, extensions))
}

fn extension<'a>(ext_type: ExtensionType, body: &'a [u8], ctx: ExtensionContext) -> Extension<'a> {
    use ExtensionContext::{ClientHello, HelloRetryRequest, ServerHello};
    let parsed = match (ext_type, ctx) {
        (ExtensionType::SERVER_NAME, _) if body.is_empty() => {
            Ok((body, Extension::ServerName(vec![])))
        }
        (ExtensionType::SERVER_NAME, _) => whole("server_name", body, |i| {
            let (i, names) = u16_prefixed(i)?;
            let names = list("server_name", names, |i| {
                let (i, (name_type, name)) = (byte, u16_prefixed).parse(i)?;
                Ok((i, ServerName { name_type, name }))
            })?;
            Ok((i, Extension::ServerName(names.1)))
        }),
        (ExtensionType::SUPPORTED_GROUPS, _) => whole("supported_groups", body, |i| {
            let (i, groups) = u16_prefixed(i)?;
            let (_, groups) = list("supported_groups", groups, be_u16.map(NamedGroup))?;
            Ok((i, Extension::SupportedGroups(groups)))
        }),
        (ExtensionType::SIGNATURE_ALGORITHMS, _) => whole("signature_algorithms", body, |i| {
            let (i, schemes) = u16_prefixed(i)?;
            let (_, schemes) = list("signature_algorithms", schemes, be_u16.map(SignatureScheme))?;
            Ok((i, Extension::SignatureAlgorithms(schemes)))
        }),
        (ExtensionType::APPLICATION_LAYER_PROTOCOL_NEGOTIATION, _) => whole("ALPN", body, |i| {
            let (i, names) = u16_prefixed(i)?;
            let (_, names) = list("ALPN", names, u8_prefixed)?;
            Ok((i, Extension::Alpn(names)))
        }),
        (ExtensionType::SUPPORTED_VERSIONS, ClientHello) => {
            whole("supported_versions", body, |i| {
                let (i, versions) = u8_prefixed(i)?;
                let (_, versions) =
                    list("supported_versions", versions, be_u16.map(ProtocolVersion))?;
                Ok((i, Extension::SupportedVersions(versions)))
            })
        }
        (ExtensionType::SUPPORTED_VERSIONS, ServerHello | HelloRetryRequest) => whole(
            "supported_versions",
            body,
            be_u16.map(|v| Extension::SelectedVersion(ProtocolVersion(v))),
        ),
        (ExtensionType::KEY_SHARE, ClientHello) => whole("key_share", body, |i| {
            let (i, shares) = u16_prefixed(i)?;
            let (_, shares) = list("key_share", shares, key_share_entry)?;
            Ok((i, Extension::KeyShare(shares)))
        }),
        (ExtensionType::KEY_SHARE, ServerHello) => whole("key_share", body, |i| {
            key_share_entry(i).map(|(i, e)| (i, Extension::ServerKeyShare(e)))
        }),
        (ExtensionType::KEY_SHARE, HelloRetryRequest) => whole(
            "key_share",
            body,
            be_u16.map(|g| Extension::SelectedGroup(NamedGroup(g))),
        ),
        _ => Ok((body, Extension::Other { ext_type, body })),
    };
    match parsed {
        Ok((_, ext)) => ext,
        Err(nom::Err::Error(error) | nom::Err::Failure(error)) => Extension::Malformed {
            ext_type,
            body,
            error,
        },
        Err(nom::Err::Incomplete(_)) => Extension::Malformed {
            ext_type,
            body,
            error: WireError::Truncated {
                pdu: "extension",
                kind: nom::error::ErrorKind::Eof,
            },
        },
    }
}

fn key_share_entry(i: &[u8]) -> WireResult<'_, KeyShareEntry<'_>> {
    let (i, (group, key_exchange)) = (be_u16, u16_prefixed).parse(i)?;
    Ok((
        i,
        KeyShareEntry {
            group: NamedGroup(group),
            key_exchange,
        },
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_extension_does_not_hide_the_next_one() {
        let block = [
            0x00, 0x0e, // extensions length 14
            0x00, 0x0a, 0x00, 0x03, // supported_groups, length 3
            0x00, 0x02, 0x00, //   list length 2 but only one byte: malformed
            0x00, 0x17, 0x00, 0x00, // extended_master_secret, empty
            0xff, 0x01, 0x00, // renegotiation_info header cut: overruns the block
        ];
        let (rest, exts) = parse_extension_block(&block, ExtensionContext::ClientHello).unwrap();
        assert!(rest.is_empty());
        assert!(matches!(
            exts[0],
            Extension::Malformed {
                ext_type: ExtensionType::SUPPORTED_GROUPS,
                body: [0x00, 0x02, 0x00],
                error: WireError::Truncated {
                    pdu: "supported_groups",
                    ..
                }
            }
        ));
        assert_eq!(
            exts[1],
            Extension::Other {
                ext_type: ExtensionType::EXTENDED_MASTER_SECRET,
                body: &[]
            }
        );
        assert!(matches!(
            exts[2],
            Extension::Overrun {
                bytes: [0xff, 0x01, 0x00],
                ..
            }
        ));
        assert_eq!(exts.len(), 3);
    }

    #[test]
    fn shapes_depend_on_the_message() {
        let sv = [0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04];
        let (_, exts) = parse_extension_block(&sv, ExtensionContext::ServerHello).unwrap();
        assert_eq!(exts, [Extension::SelectedVersion(ProtocolVersion::TLS1_3)]);
        let (_, exts) = parse_extension_block(&sv, ExtensionContext::ClientHello).unwrap();
        assert!(matches!(exts[0], Extension::Malformed { .. }));
        let ks = [0x00, 0x06, 0x00, 0x33, 0x00, 0x02, 0x00, 0x17];
        let (_, exts) = parse_extension_block(&ks, ExtensionContext::HelloRetryRequest).unwrap();
        assert_eq!(exts, [Extension::SelectedGroup(NamedGroup::SECP256R1)]);
        assert_eq!(exts[0].ext_type(), Some(ExtensionType::KEY_SHARE));
    }
}
