//! The ClientHello the prober sends (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2): one complete handshake record that
//! a real server of the chosen version accepts far enough to answer with a ServerHello or an alert.
//! No clock and no randomness here: the caller gives the random, the session id and the key share.

use super::super::WireError;
use super::{
    encode_tls_record, CipherSuite, ContentType, ExtensionType, HandshakeType, NamedGroup,
    ProtocolVersion, SignatureScheme,
};

/// Suites offered with TLS 1.3 (RFC 8446 §9.1 and the usual third).
pub const TLS13_CIPHER_SUITES: &[CipherSuite] = &[
    CipherSuite::TLS_AES_128_GCM_SHA256,
    CipherSuite::TLS_AES_256_GCM_SHA384,
    CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
];

/// Suites a TLS 1.2 server (Windows Schannel, OpenSSL, rustls) picks from, strongest first.
pub const TLS12_CIPHER_SUITES: &[CipherSuite] = &[
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    CipherSuite::TLS_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_RSA_WITH_AES_256_CBC_SHA256,
    CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA256,
    CipherSuite::TLS_RSA_WITH_AES_256_CBC_SHA,
    CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA,
    CipherSuite::TLS_RSA_WITH_3DES_EDE_CBC_SHA,
];

/// Suites a TLS 1.0/1.1 server (Windows Server 2008, old OpenSSL) picks from.
pub const LEGACY_CIPHER_SUITES: &[CipherSuite] = &[
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    CipherSuite::TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
    CipherSuite::TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
    CipherSuite::TLS_RSA_WITH_AES_256_CBC_SHA,
    CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA,
    CipherSuite::TLS_RSA_WITH_3DES_EDE_CBC_SHA,
    CipherSuite::TLS_RSA_WITH_RC4_128_SHA,
    CipherSuite::TLS_RSA_WITH_RC4_128_MD5,
];

const GROUPS: &[NamedGroup] = &[
    NamedGroup::X25519,
    NamedGroup::SECP256R1,
    NamedGroup::SECP384R1,
];

const SIGNATURE_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ECDSA_SECP256R1_SHA256,
    SignatureScheme::RSA_PSS_RSAE_SHA256,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::ECDSA_SECP384R1_SHA384,
    SignatureScheme::RSA_PSS_RSAE_SHA384,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PSS_RSAE_SHA512,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::ED25519,
    SignatureScheme::RSA_PKCS1_SHA1,
    SignatureScheme::ECDSA_SHA1,
];

/// What goes into our ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHelloSpec<'a> {
    /// TLS 1.0, 1.1, 1.2 or 1.3: the one version offered.
    pub version: ProtocolVersion,
    pub random: [u8; 32],
    /// At most 32 bytes; for TLS 1.3 a non-empty one turns on middlebox compatibility (RFC 8446 §D.4).
    pub session_id: &'a [u8],
    /// E.g. [`TLS13_CIPHER_SUITES`], [`TLS12_CIPHER_SUITES`], [`LEGACY_CIPHER_SUITES`].
    pub cipher_suites: &'a [CipherSuite],
    /// The server_name host name. RFC 6066 forbids IP literals here, but mstsc sends them.
    pub sni: Option<&'a str>,
    /// The x25519 public key of the TLS 1.3 key_share. Any 32 bytes get a ServerHello or an alert back.
    pub x25519_key_share: [u8; 32],
}

/// Encodes the ClientHello of `spec` as one handshake record (record version 0x0301).
///
/// TLS 1.0–1.2: `legacy_version` is the version, with server_name, supported_groups, ec_point_formats,
/// signature_algorithms (1.2 only, RFC 5246 §7.4.1.4.1), extended_master_secret and renegotiation_info.
/// TLS 1.3: `legacy_version` 0x0303 with server_name, supported_groups, signature_algorithms,
/// supported_versions (TLS 1.3), psk_key_exchange_modes (psk_dhe_ke) and an x25519 key_share.
/// Fails for other versions and for fields too long for their length prefix.
pub fn encode_client_hello(spec: &ClientHelloSpec<'_>) -> Result<Vec<u8>, WireError> {
    let tls13 = match spec.version {
        ProtocolVersion::TLS1_0 | ProtocolVersion::TLS1_1 | ProtocolVersion::TLS1_2 => false,
        ProtocolVersion::TLS1_3 => true,
        other => {
            return Err(WireError::BadValue {
                pdu: "ClientHello",
                field: "version",
                got: other.0.into(),
                expected: "TLS 1.0, 1.1, 1.2 or 1.3",
            })
        }
    };
    let legacy_version = if tls13 {
        ProtocolVersion::TLS1_2
    } else {
        spec.version
    };

    let mut body = Vec::with_capacity(512);
    body.extend_from_slice(&legacy_version.0.to_be_bytes());
    body.extend_from_slice(&spec.random);
    if spec.session_id.len() > 32 {
        return Err(too_long("legacy_session_id", spec.session_id.len()));
    }
    prefixed(&mut body, 1, "legacy_session_id", |b| {
        b.extend_from_slice(spec.session_id)
    })?;
    prefixed(&mut body, 2, "cipher_suites", |b| {
        spec.cipher_suites
            .iter()
            .for_each(|s| b.extend_from_slice(&s.0.to_be_bytes()));
    })?;
    body.extend_from_slice(&[1, 0]); // compression_methods: [null]
    let mut extensions = Vec::new();
    if let Some(host) = spec.sni {
        let host_len = u16::try_from(host.len()).map_err(|_| too_long("host_name", host.len()))?;
        extension(&mut extensions, ExtensionType::SERVER_NAME, |e| {
            prefixed(e, 2, "server_name_list", |l| {
                l.push(0); // name_type host_name
                l.extend_from_slice(&host_len.to_be_bytes());
                l.extend_from_slice(host.as_bytes());
            })
        })?;
    }
    extension(&mut extensions, ExtensionType::SUPPORTED_GROUPS, |e| {
        prefixed(e, 2, "named_group_list", |l| {
            GROUPS
                .iter()
                .for_each(|g| l.extend_from_slice(&g.0.to_be_bytes()));
        })
    })?;
    if !tls13 {
        extension(&mut extensions, ExtensionType::EC_POINT_FORMATS, |e| {
            e.extend_from_slice(&[1, 0]); // [uncompressed]
            Ok(())
        })?;
    }
    if spec.version == ProtocolVersion::TLS1_2 || tls13 {
        extension(&mut extensions, ExtensionType::SIGNATURE_ALGORITHMS, |e| {
            prefixed(e, 2, "supported_signature_algorithms", |l| {
                SIGNATURE_SCHEMES
                    .iter()
                    .for_each(|s| l.extend_from_slice(&s.0.to_be_bytes()));
            })
        })?;
    }
    if tls13 {
        extension(&mut extensions, ExtensionType::SUPPORTED_VERSIONS, |e| {
            e.extend_from_slice(&[2, 0x03, 0x04]); // [TLS 1.3]
            Ok(())
        })?;
        extension(
            &mut extensions,
            ExtensionType::PSK_KEY_EXCHANGE_MODES,
            |e| {
                e.extend_from_slice(&[1, 1]); // [psk_dhe_ke]
                Ok(())
            },
        )?;
        extension(&mut extensions, ExtensionType::KEY_SHARE, |e| {
            prefixed(e, 2, "client_shares", |l| {
                l.extend_from_slice(&NamedGroup::X25519.0.to_be_bytes());
                l.extend_from_slice(&[0, 32]);
                l.extend_from_slice(&spec.x25519_key_share);
            })
        })?;
    } else {
        extension(
            &mut extensions,
            ExtensionType::EXTENDED_MASTER_SECRET,
            |_| Ok(()),
        )?;
        extension(&mut extensions, ExtensionType::RENEGOTIATION_INFO, |e| {
            e.push(0); // renegotiated_connection: empty
            Ok(())
        })?;
    }
    prefixed(&mut body, 2, "extensions", |b| {
        b.extend_from_slice(&extensions)
    })?;

    let mut handshake = Vec::with_capacity(body.len() + 4);
    handshake.push(HandshakeType::CLIENT_HELLO.0);
    prefixed(&mut handshake, 3, "ClientHello length", |h| {
        h.extend_from_slice(&body)
    })?;
    let mut record = Vec::with_capacity(handshake.len() + 5);
    encode_tls_record(
        ContentType::HANDSHAKE,
        ProtocolVersion::TLS1_0,
        &handshake,
        &mut record,
    )?;
    Ok(record)
}

/// Appends `extension_type | extension_data<0..2^16-1>` written by `write`.
fn extension(
    out: &mut Vec<u8>,
    ext_type: ExtensionType,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), WireError>,
) -> Result<(), WireError> {
    out.extend_from_slice(&ext_type.0.to_be_bytes());
    let mut result = Ok(());
    prefixed(out, 2, "extension_data", |e| result = write(e))?;
    result
}

/// Appends what `write` writes, preceded by its length in `width` bytes (1, 2 or 3).
fn prefixed(
    out: &mut Vec<u8>,
    width: usize,
    field: &'static str,
    write: impl FnOnce(&mut Vec<u8>),
) -> Result<(), WireError> {
    let at = out.len();
    out.resize(at + width, 0);
    write(out);
    let len = out.len() - at - width;
    let bytes = u32::try_from(len)
        .map_err(|_| too_long(field, len))?
        .to_be_bytes();
    match (
        bytes.get(..4 - width),
        bytes.get(4 - width..),
        out.get_mut(at..at + width),
    ) {
        (Some(high), Some(low), Some(slot)) if high.iter().all(|b| *b == 0) => {
            slot.copy_from_slice(low);
            Ok(())
        }
        _ => Err(too_long(field, len)),
    }
}

fn too_long(field: &'static str, len: usize) -> WireError {
    WireError::BadLength {
        pdu: "ClientHello",
        field,
        got: u64::try_from(len).unwrap_or(u64::MAX),
        expected: "within its length prefix",
    }
}
