//! Golden bytes cut from real captures in `../shared/corpus/pcaps/` (frame numbers as tshark numbers them;
//! the ground truth is `../shared/corpus/truth/tshark/<capture>.summary.txt` and `.tls.tsv`). Short records
//! are annotated here one field per line; long ones (certificate chains) live in `fixtures/wire/tls/`.

use rdpdiag::wire::tls::*;
use rdpdiag::wire::WireError;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/fixtures/wire/tls/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    hex::decode(text.trim()).unwrap()
}

/// The concatenated fragments of the handshake records in `bytes`, and the other records.
fn split_records(mut bytes: &[u8]) -> (Vec<u8>, Vec<TlsRecord<'_>>) {
    let mut stream = Vec::new();
    let mut others = Vec::new();
    while !bytes.is_empty() {
        let (rest, record) = parse_tls_record(bytes).unwrap();
        if record.header.content_type == ContentType::HANDSHAKE {
            stream.extend_from_slice(record.fragment);
        } else {
            others.push(record);
        }
        bytes = rest;
    }
    (stream, others)
}

fn messages(mut stream: &[u8]) -> Vec<Handshake<'_>> {
    let mut out = Vec::new();
    while !stream.is_empty() {
        let (rest, m) = parse_handshake(stream).unwrap();
        out.push(m);
        stream = rest;
    }
    out
}

fn random(bytes: &[u8]) -> &[u8; 32] {
    bytes[11..43].try_into().unwrap()
}

/// zeek__rdp-to-ssl.pcap frame 8 (C->S): an RDP client's TLS 1.0 ClientHello, the whole record.
const RDP_TO_SSL_F8: &[u8] = &[
    0x16, // content_type handshake
    0x03, 0x01, // legacy_record_version TLS 1.0
    0x00, 0x74, // length 116
    0x01, // msg_type client_hello
    0x00, 0x00, 0x70, // length 112
    0x03, 0x01, // legacy_version TLS 1.0
    0x4d, 0x57, 0x0e, 0xc5, 0x8a, 0x9b, 0x7d, 0x32, 0x5e, 0xd9, 0x08, 0xde, 0x8c, 0xb2, 0xb4,
    0xde, // random (bytes 11..43)
    0x50, 0xec, 0x88, 0x18, 0x4a, 0x1f, 0x6e, 0xc7, 0x23, 0xc1, 0xd5, 0xa3, 0x44, 0xa6, 0xcc, 0x34,
    0x00, // legacy_session_id: empty
    0x00, 0x18, // cipher_suites length 24
    0x00, 0x2f, // TLS_RSA_WITH_AES_128_CBC_SHA
    0x00, 0x35, // TLS_RSA_WITH_AES_256_CBC_SHA
    0x00, 0x05, // TLS_RSA_WITH_RC4_128_SHA
    0x00, 0x0a, // TLS_RSA_WITH_3DES_EDE_CBC_SHA
    0xc0, 0x13, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    0xc0, 0x14, // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
    0xc0, 0x09, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    0xc0, 0x0a, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
    0x00, 0x32, // TLS_DHE_DSS_WITH_AES_128_CBC_SHA
    0x00, 0x38, // TLS_DHE_DSS_WITH_AES_256_CBC_SHA
    0x00, 0x13, // TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA
    0x00, 0x04, // TLS_RSA_WITH_RC4_128_MD5
    0x01, 0x00, // compression_methods: [null]
    0x00, 0x2f, // extensions length 47
    0x00, 0x00, 0x00, 0x12, // server_name, length 18
    0x00, 0x10, //   server_name_list length 16
    0x00, //   name_type host_name
    0x00, 0x0d, //   host_name length 13
    0x31, 0x39, 0x32, 0x2e, 0x31, 0x36, 0x38, 0x2e, 0x31, 0x2e, 0x31, 0x35,
    0x30, //   "192.168.1.150"
    0x00, 0x05, 0x00, 0x05, // status_request, length 5
    0x01, 0x00, 0x00, 0x00, 0x00, //   ocsp, no responder ids, no extensions
    0x00, 0x0a, 0x00, 0x06, // supported_groups, length 6
    0x00, 0x04, //   list length 4
    0x00, 0x17, //   secp256r1
    0x00, 0x18, //   secp384r1
    0x00, 0x0b, 0x00, 0x02, // ec_point_formats, length 2
    0x01, 0x00, //   [uncompressed]
];

/// zeek__rdp-to-ssl.pcap frame 9 (S->C), its first 89 bytes; the whole record is `fixtures/wire/tls/rdp-to-ssl_f9_server_flight.hex`.
const RDP_TO_SSL_F9_HEAD: &[u8] = &[
    0x16, // content_type handshake
    0x03, 0x01, // legacy_record_version TLS 1.0
    0x03, 0x56, // length 854: ServerHello, Certificate, ServerHelloDone
    0x02, // msg_type server_hello
    0x00, 0x00, 0x46, // length 70
    0x03, 0x01, // legacy_version TLS 1.0
    0x4d, 0x57, 0x0e, 0xc5, 0xdc, 0xe9, 0x26, 0x33, 0x60, 0x48, 0xa8, 0x1f, 0x74, 0x58, 0x24,
    0x27, // random (bytes 11..43)
    0xb8, 0xdb, 0xdd, 0x75, 0xb0, 0x23, 0x96, 0x7b, 0xc5, 0xb9, 0xe8, 0xf0, 0xd6, 0x4a, 0x47, 0x3f,
    0x20, // legacy_session_id length 32
    0xbc, 0x33, 0x00, 0x00, 0xfe, 0xec, 0x80, 0x17, 0x71, 0x9c, 0x03, 0xaa, 0xf0, 0xab, 0x25,
    0x44, // session_id (bytes 44..76)
    0x48, 0x4d, 0x8c, 0xcf, 0xa3, 0xa8, 0xa3, 0x43, 0x23, 0x91, 0x61, 0xd7, 0x50, 0xf0, 0x89, 0xca,
    0x00, 0x2f, // cipher_suite TLS_RSA_WITH_AES_128_CBC_SHA
    0x00, // compression_method null; no extensions
    0x0b, // msg_type certificate
    0x00, 0x03, 0x04, // length 772
    0x00, 0x03, 0x01, // certificate_list length 769
    0x00, 0x02, 0xfe, // ASN.1Cert length 766 (the DER follows in the fixture)
];

/// ndpi__rdp.pcap frame 7 (C->S): an RDP client's TLS 1.2 ClientHello, the whole record.
const NDPI_RDP_F7: &[u8] = &[
    0x16, // content_type handshake
    0x03, 0x01, // legacy_record_version TLS 1.0
    0x00, 0xa8, // length 168
    0x01, // msg_type client_hello
    0x00, 0x00, 0xa4, // length 164
    0x03, 0x03, // legacy_version TLS 1.2
    0x5c, 0xef, 0x9e, 0x29, 0xf7, 0x05, 0x0d, 0x16, 0xa1, 0xa2, 0x39, 0x1d, 0x64, 0x62, 0x56,
    0x81, // random (bytes 11..43)
    0xe3, 0x42, 0x5a, 0x70, 0xbd, 0xd5, 0x04, 0x5d, 0xb0, 0xa2, 0x3d, 0x3d, 0xb2, 0x50, 0xdb, 0xe7,
    0x00, // legacy_session_id: empty
    0x00, 0x2c, // cipher_suites length 44
    0x00, 0xff, // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    0xc0, 0x2c, // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    0xc0, 0x2b, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    0xc0, 0x24, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
    0xc0, 0x23, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
    0xc0, 0x0a, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
    0xc0, 0x09, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    0xc0, 0x08, // TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA
    0xc0, 0x30, // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    0xc0, 0x2f, // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    0xc0, 0x28, // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
    0xc0, 0x27, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
    0xc0, 0x14, // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
    0xc0, 0x13, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    0xc0, 0x12, // TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA
    0x00, 0x9d, // TLS_RSA_WITH_AES_256_GCM_SHA384
    0x00, 0x9c, // TLS_RSA_WITH_AES_128_GCM_SHA256
    0x00, 0x3d, // TLS_RSA_WITH_AES_256_CBC_SHA256
    0x00, 0x3c, // TLS_RSA_WITH_AES_128_CBC_SHA256
    0x00, 0x35, // TLS_RSA_WITH_AES_256_CBC_SHA
    0x00, 0x2f, // TLS_RSA_WITH_AES_128_CBC_SHA
    0x00, 0x0a, // TLS_RSA_WITH_3DES_EDE_CBC_SHA
    0x01, 0x00, // compression_methods: [null]
    0x00, 0x4f, // extensions length 79
    0x00, 0x00, 0x00, 0x12, // server_name, length 18
    0x00, 0x10, //   server_name_list length 16
    0x00, //   name_type host_name
    0x00, 0x0d, //   host_name length 13
    0x31, 0x39, 0x32, 0x2e, 0x31, 0x36, 0x38, 0x2e, 0x32, 0x2e, 0x31, 0x34,
    0x32, //   "192.168.2.142"
    0x00, 0x0a, 0x00, 0x08, // supported_groups, length 8
    0x00, 0x06, //   list length 6
    0x00, 0x17, //   secp256r1
    0x00, 0x18, //   secp384r1
    0x00, 0x19, //   secp521r1
    0x00, 0x0b, 0x00, 0x02, // ec_point_formats, length 2
    0x01, 0x00, //   [uncompressed]
    0x00, 0x0d, 0x00, 0x12, // signature_algorithms, length 18
    0x00, 0x10, //   list length 16
    0x04, 0x01, //   rsa_pkcs1_sha256
    0x02, 0x01, //   rsa_pkcs1_sha1
    0x05, 0x01, //   rsa_pkcs1_sha384
    0x06, 0x01, //   rsa_pkcs1_sha512
    0x04, 0x03, //   ecdsa_secp256r1_sha256
    0x02, 0x03, //   ecdsa_sha1
    0x05, 0x03, //   ecdsa_secp384r1_sha384
    0x06, 0x03, //   ecdsa_secp521r1_sha512
    0x00, 0x05, 0x00, 0x05, // status_request, length 5
    0x01, 0x00, 0x00, 0x00, 0x00, //   ocsp, no responder ids, no extensions
    0x00, 0x12, 0x00, 0x00, // signed_certificate_timestamp, empty
    0x00, 0x17, 0x00, 0x00, // extended_master_secret, empty
];

/// ndpi__rdp.pcap frame 8 (S->C), its first 100 bytes; the whole record is `fixtures/wire/tls/ndpi-rdp_f8_server_flight.hex`.
const NDPI_RDP_F8_HEAD: &[u8] = &[
    0x16, // content_type handshake
    0x03, 0x03, // legacy_record_version TLS 1.2
    0x04, 0x96, // length 1174: ServerHello, Certificate, ServerKeyExchange, ServerHelloDone
    0x02, // msg_type server_hello
    0x00, 0x00, 0x51, // length 81
    0x03, 0x03, // legacy_version TLS 1.2
    0x5c, 0xef, 0x9e, 0x29, 0xfc, 0x01, 0x41, 0x94, 0x90, 0x9b, 0x53, 0xaf, 0x86, 0x69, 0x9d,
    0x23, // random (bytes 11..43)
    0x3e, 0xd9, 0x1a, 0xc0, 0xae, 0x93, 0xeb, 0x33, 0xba, 0x83, 0xc6, 0x7d, 0xc3, 0x25, 0x12, 0x84,
    0x20, // legacy_session_id length 32
    0x55, 0x46, 0x00, 0x00, 0x51, 0xf0, 0xa1, 0xcf, 0x87, 0xfe, 0x3f, 0xc0, 0xe3, 0x14, 0x72,
    0x67, // session_id (bytes 44..76)
    0x70, 0x19, 0x38, 0x1d, 0xca, 0xff, 0xb9, 0x35, 0x5b, 0x5e, 0x74, 0x6e, 0x41, 0xb2, 0xf4, 0x98,
    0xc0, 0x30, // cipher_suite TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    0x00, // compression_method null
    0x00, 0x09, // extensions length 9
    0x00, 0x17, 0x00, 0x00, // extended_master_secret, empty
    0xff, 0x01, 0x00, 0x01, // renegotiation_info, length 1
    0x00, //   renegotiated_connection: empty
    0x0b, // msg_type certificate
    0x00, 0x02, 0xec, // length 748
    0x00, 0x02, 0xe9, // certificate_list length 745
    0x00, 0x02, 0xe6, // ASN.1Cert length 742 (the DER follows in the fixture)
];

/// zeek-tls__hrr.pcap frame 6 (S->C): a HelloRetryRequest record, then a ChangeCipherSpec record.
const HRR_F6: &[u8] = &[
    0x16, // content_type handshake
    0x03, 0x03, // legacy_record_version TLS 1.2
    0x00, 0x58, // length 88
    0x02, // msg_type server_hello
    0x00, 0x00, 0x54, // length 84
    0x03, 0x03, // legacy_version TLS 1.2
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8,
    0x91, // random: SHA-256("HelloRetryRequest")
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
    0x20, // legacy_session_id length 32
    0x1a, 0x6b, 0xb8, 0x36, 0x8a, 0xdd, 0x0e, 0x28, 0x01, 0x5b, 0xd6, 0xcc, 0xed, 0x64, 0x82,
    0x36, // session_id echo (bytes 44..76)
    0xf4, 0x9e, 0x24, 0x07, 0xf1, 0x96, 0x53, 0xac, 0x1f, 0xdd, 0x1f, 0xfa, 0x48, 0xbf, 0xae, 0xcd,
    0x13, 0x02, // cipher_suite TLS_AES_256_GCM_SHA384
    0x00, // compression_method null
    0x00, 0x0c, // extensions length 12
    0x00, 0x2b, 0x00, 0x02, // supported_versions, length 2
    0x03, 0x04, //   selected_version TLS 1.3
    0x00, 0x33, 0x00, 0x02, // key_share, length 2
    0x00, 0x17, //   selected_group secp256r1
    0x14, // content_type change_cipher_spec
    0x03, 0x03, // legacy_record_version TLS 1.2
    0x00, 0x01, // length 1
    0x01, // change_cipher_spec
];

/// zeek-tls__ssl-v2.pcap frame 4 (C->S): an SSL 2.0 CLIENT-HELLO, the whole record.
const SSLV2_F4: &[u8] = &[
    0x80, 0x2e, // 2-byte header (high bit), length 46
    0x01, // msg_type CLIENT-HELLO
    0x00, 0x02, // version SSL 2.0
    0x00, 0x15, // cipher_spec_length 21
    0x00, 0x00, // session_id_length 0
    0x00, 0x10, // challenge_length 16
    0x07, 0x00, 0xc0, // SSL_CK_DES_192_EDE3_CBC_WITH_MD5
    0x05, 0x00, 0x80, // SSL_CK_IDEA_128_CBC_WITH_MD5
    0x03, 0x00, 0x80, // SSL_CK_RC2_128_CBC_WITH_MD5
    0x01, 0x00, 0x80, // SSL_CK_RC4_128_WITH_MD5
    0x06, 0x00, 0x40, // SSL_CK_DES_64_CBC_WITH_MD5
    0x04, 0x00, 0x80, // SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5
    0x02, 0x00, 0x80, // SSL_CK_RC4_128_EXPORT40_WITH_MD5
    0x1c, 0x30, 0xe2, 0xb1, 0x2f, 0x4c, 0x04, 0x52, 0x54, 0x76, 0xf2, 0x80, 0xc0, 0x7a, 0xbe,
    0xe5, // challenge (bytes 32..48)
];

#[test]
fn rdp_to_ssl_client_hello_tls10() {
    assert_eq!(fixture("rdp-to-ssl_f8_client_hello"), RDP_TO_SSL_F8);
    let (rest, record) = parse_tls_record(RDP_TO_SSL_F8).unwrap();
    assert!(rest.is_empty());
    assert_eq!(
        record.header,
        TlsRecordHeader {
            content_type: ContentType::HANDSHAKE,
            version: ProtocolVersion::TLS1_0,
            length: 116,
            over_length: false,
        }
    );
    let (rest, m) = parse_handshake(record.fragment).unwrap();
    assert!(rest.is_empty());
    let expected = ClientHello {
        legacy_version: ProtocolVersion::TLS1_0,
        random: random(RDP_TO_SSL_F8),
        session_id: &[],
        cipher_suites: [
            0x002f, 0x0035, 0x0005, 0x000a, 0xc013, 0xc014, 0xc009, 0xc00a, 0x0032, 0x0038, 0x0013,
            0x0004,
        ]
        .map(CipherSuite)
        .to_vec(),
        compression_methods: &[0],
        extensions: vec![
            Extension::ServerName(vec![ServerName {
                name_type: 0,
                name: b"192.168.1.150",
            }]),
            Extension::Other {
                ext_type: ExtensionType::STATUS_REQUEST,
                body: &[1, 0, 0, 0, 0],
            },
            Extension::SupportedGroups(vec![NamedGroup::SECP256R1, NamedGroup::SECP384R1]),
            Extension::Other {
                ext_type: ExtensionType::EC_POINT_FORMATS,
                body: &[1, 0],
            },
        ],
    };
    assert_eq!(m, Handshake::ClientHello(expected.clone()));
    assert_eq!(expected.server_name(), Some("192.168.1.150"));
    assert_eq!(expected.max_version(), ProtocolVersion::TLS1_0);
    assert_eq!(expected.supported_versions(), None);
}

#[test]
fn rdp_to_ssl_server_flight_tls10() {
    let flight = fixture("rdp-to-ssl_f9_server_flight");
    assert!(flight.starts_with(RDP_TO_SSL_F9_HEAD));
    let (stream, others) = split_records(&flight);
    assert!(others.is_empty());
    let msgs = messages(&stream);
    assert_eq!(msgs.len(), 3);
    assert_eq!(
        msgs[0],
        Handshake::ServerHello(ServerHello {
            legacy_version: ProtocolVersion::TLS1_0,
            random: random(RDP_TO_SSL_F9_HEAD),
            session_id: &RDP_TO_SSL_F9_HEAD[44..76],
            cipher_suite: CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA,
            compression_method: 0,
            extensions: vec![],
        })
    );
    let Handshake::Certificate(cert) = &msgs[1] else {
        panic!("{:?}", msgs[1])
    };
    assert_eq!(cert.certificate_list.len(), 1);
    let der = cert.certificate_list[0];
    assert_eq!(der.len(), 766);
    assert_eq!(der, &flight[RDP_TO_SSL_F9_HEAD.len()..][..766]);
    let (_, x509) = x509_parser::parse_x509_certificate(der).unwrap();
    assert_eq!(x509.subject().to_string(), "CN=WIN2K8R2.awakecoding.ath.cx");
    assert_eq!(msgs[2], Handshake::ServerHelloDone);
    let Handshake::ServerHello(sh) = &msgs[0] else {
        unreachable!()
    };
    assert_eq!(sh.negotiated_version(), ProtocolVersion::TLS1_0);
    assert!(!sh.is_hello_retry_request());
}

#[test]
fn ndpi_rdp_client_hello_tls12() {
    assert_eq!(fixture("ndpi-rdp_f7_client_hello"), NDPI_RDP_F7);
    let (_, record) = parse_tls_record(NDPI_RDP_F7).unwrap();
    assert_eq!(record.header.version, ProtocolVersion::TLS1_0);
    let (_, m) = parse_handshake(record.fragment).unwrap();
    let expected = ClientHello {
        legacy_version: ProtocolVersion::TLS1_2,
        random: random(NDPI_RDP_F7),
        session_id: &[],
        cipher_suites: [
            0x00ff, 0xc02c, 0xc02b, 0xc024, 0xc023, 0xc00a, 0xc009, 0xc008, 0xc030, 0xc02f, 0xc028,
            0xc027, 0xc014, 0xc013, 0xc012, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x000a,
        ]
        .map(CipherSuite)
        .to_vec(),
        compression_methods: &[0],
        extensions: vec![
            Extension::ServerName(vec![ServerName {
                name_type: 0,
                name: b"192.168.2.142",
            }]),
            Extension::SupportedGroups(vec![
                NamedGroup::SECP256R1,
                NamedGroup::SECP384R1,
                NamedGroup::SECP521R1,
            ]),
            Extension::Other {
                ext_type: ExtensionType::EC_POINT_FORMATS,
                body: &[1, 0],
            },
            Extension::SignatureAlgorithms(vec![
                SignatureScheme::RSA_PKCS1_SHA256,
                SignatureScheme::RSA_PKCS1_SHA1,
                SignatureScheme::RSA_PKCS1_SHA384,
                SignatureScheme::RSA_PKCS1_SHA512,
                SignatureScheme::ECDSA_SECP256R1_SHA256,
                SignatureScheme::ECDSA_SHA1,
                SignatureScheme::ECDSA_SECP384R1_SHA384,
                SignatureScheme::ECDSA_SECP521R1_SHA512,
            ]),
            Extension::Other {
                ext_type: ExtensionType::STATUS_REQUEST,
                body: &[1, 0, 0, 0, 0],
            },
            Extension::Other {
                ext_type: ExtensionType::SIGNED_CERTIFICATE_TIMESTAMP,
                body: &[],
            },
            Extension::Other {
                ext_type: ExtensionType::EXTENDED_MASTER_SECRET,
                body: &[],
            },
        ],
    };
    assert_eq!(m, Handshake::ClientHello(expected));
}

#[test]
fn ndpi_rdp_server_flight_tls12() {
    let flight = fixture("ndpi-rdp_f8_server_flight");
    assert!(flight.starts_with(NDPI_RDP_F8_HEAD));
    let (stream, _) = split_records(&flight);
    let msgs = messages(&stream);
    let types: Vec<_> = msgs.iter().map(|m| m.msg_type()).collect();
    assert_eq!(
        types,
        [
            HandshakeType::SERVER_HELLO,
            HandshakeType::CERTIFICATE,
            HandshakeType::SERVER_KEY_EXCHANGE,
            HandshakeType::SERVER_HELLO_DONE
        ]
    );
    assert_eq!(
        msgs[0],
        Handshake::ServerHello(ServerHello {
            legacy_version: ProtocolVersion::TLS1_2,
            random: random(NDPI_RDP_F8_HEAD),
            session_id: &NDPI_RDP_F8_HEAD[44..76],
            cipher_suite: CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            compression_method: 0,
            extensions: vec![
                Extension::Other {
                    ext_type: ExtensionType::EXTENDED_MASTER_SECRET,
                    body: &[],
                },
                Extension::Other {
                    ext_type: ExtensionType::RENEGOTIATION_INFO,
                    body: &[0],
                },
            ],
        })
    );
    let Handshake::Certificate(cert) = &msgs[1] else {
        panic!("{:?}", msgs[1])
    };
    assert_eq!(cert.certificate_list.len(), 1);
    assert_eq!(cert.certificate_list[0].len(), 742);
    let (_, x509) = x509_parser::parse_x509_certificate(cert.certificate_list[0]).unwrap();
    assert_eq!(x509.subject().to_string(), "CN=OFFICE-WIN10-VM");
    assert!(
        matches!(msgs[2], Handshake::Other { msg_type: HandshakeType::SERVER_KEY_EXCHANGE, body } if body[..4] == [0x03, 0x00, 0x17, 0x41])
    );
}

/// One handshake message may span records and one record may hold several: re-fragment the ndpi server
/// flight into records of 100 bytes and read the same messages back.
#[test]
fn messages_span_records() {
    let flight = fixture("ndpi-rdp_f8_server_flight");
    let (stream, _) = split_records(&flight);
    let mut records = Vec::new();
    for chunk in stream.chunks(100) {
        encode_tls_record(
            ContentType::HANDSHAKE,
            ProtocolVersion::TLS1_2,
            chunk,
            &mut records,
        )
        .unwrap();
    }
    let (again, _) = split_records(&records);
    assert_eq!(again, stream);
    assert_eq!(messages(&again), messages(&stream));
}

#[test]
fn hello_retry_request() {
    assert_eq!(fixture("hrr_f6_hrr_ccs"), HRR_F6);
    let (stream, others) = split_records(HRR_F6);
    let msgs = messages(&stream);
    let expected = ServerHello {
        legacy_version: ProtocolVersion::TLS1_2,
        random: &HELLO_RETRY_REQUEST_RANDOM,
        session_id: &HRR_F6[44..76],
        cipher_suite: CipherSuite::TLS_AES_256_GCM_SHA384,
        compression_method: 0,
        extensions: vec![
            Extension::SelectedVersion(ProtocolVersion::TLS1_3),
            Extension::SelectedGroup(NamedGroup::SECP256R1),
        ],
    };
    assert_eq!(msgs, [Handshake::ServerHello(expected.clone())]);
    assert!(expected.is_hello_retry_request());
    assert_eq!(expected.negotiated_version(), ProtocolVersion::TLS1_3);
    assert_eq!(expected.key_share_group(), Some(NamedGroup::SECP256R1));
    assert_eq!(others.len(), 1);
    assert_eq!(
        others[0].header.content_type,
        ContentType::CHANGE_CIPHER_SPEC
    );
    assert_eq!(
        parse_change_cipher_spec(others[0].fragment),
        Ok((&[][..], ()))
    );
}

/// zeek-tls__hrr.pcap frame 4: the ClientHello that drew the HelloRetryRequest (it offers a secp224r1 share).
#[test]
fn client_hello_before_hrr() {
    let bytes = fixture("hrr_f4_client_hello");
    let (stream, _) = split_records(&bytes);
    let [Handshake::ClientHello(ch)] = &messages(&stream)[..] else {
        panic!()
    };
    assert_eq!(ch.legacy_version, ProtocolVersion::TLS1_2);
    assert_eq!(ch.session_id.len(), 32);
    assert_eq!(
        ch.cipher_suites,
        [0x1302, 0x1303, 0x1301, 0x00ff].map(CipherSuite)
    );
    let types: Vec<u16> = ch
        .extensions
        .iter()
        .map(|e| e.ext_type().unwrap().0)
        .collect();
    assert_eq!(types, [11, 10, 35, 22, 23, 13, 43, 45, 51]);
    assert_eq!(
        ch.supported_versions(),
        Some(&[ProtocolVersion::TLS1_3][..])
    );
    assert_eq!(ch.max_version(), ProtocolVersion::TLS1_3);
    assert!(ch.extensions.contains(&Extension::SupportedGroups(vec![
        NamedGroup::SECP224R1,
        NamedGroup::SECP256R1,
        NamedGroup::SECP384R1
    ])));
    let Some(Extension::KeyShare(shares)) = ch.extensions.last() else {
        panic!()
    };
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].group, NamedGroup::SECP224R1);
    assert_eq!(shares[0].key_exchange.len(), 57);
    let Some(Extension::SignatureAlgorithms(schemes)) = ch.extensions.get(5) else {
        panic!()
    };
    assert_eq!(schemes.len(), 14);
    assert_eq!(schemes[0], SignatureScheme::ECDSA_SECP256R1_SHA256);
}

#[test]
fn fatal_handshake_failure_alert() {
    /// zeek-tls__tls-1.2-handshake-failure.pcap frame 6 (S->C).
    const BYTES: &[u8] = &[
        0x15, // content_type alert
        0x03, 0x03, // legacy_record_version TLS 1.2
        0x00, 0x02, // length 2
        0x02, // level fatal
        0x28, // description handshake_failure (40)
    ];
    let (_, record) = parse_tls_record(BYTES).unwrap();
    assert_eq!(record.header.content_type, ContentType::ALERT);
    let (_, alert) = parse_alert(record.fragment).unwrap();
    assert_eq!(
        alert,
        Alert::Plain {
            level: AlertLevel::FATAL,
            description: AlertDescription::HANDSHAKE_FAILURE,
        }
    );
    assert!(alert.is_fatal());
}

#[test]
fn protocol_version_alert_of_tls13_drafts() {
    /// zeek-tls__tls13draft16-ff52.a01-aborted.pcap frame 6 and
    /// zeek-tls__tls13draft16-chrome55.0.2879.0-canary-aborted.pcap frame 6 (S->C): the same bytes.
    const BYTES: &[u8] = &[
        0x15, // content_type alert
        0x03, 0x01, // legacy_record_version TLS 1.0
        0x00, 0x02, // length 2
        0x02, // level fatal
        0x46, // description protocol_version (70)
    ];
    let (_, record) = parse_tls_record(BYTES).unwrap();
    assert_eq!(record.header.version, ProtocolVersion::TLS1_0);
    let (_, alert) = parse_alert(record.fragment).unwrap();
    assert_eq!(
        alert,
        Alert::Plain {
            level: AlertLevel::FATAL,
            description: AlertDescription::PROTOCOL_VERSION,
        }
    );
    let Alert::Plain { description, .. } = alert else {
        unreachable!()
    };
    assert_eq!(description.to_string(), "protocol_version");
}

/// The ClientHellos those alerts answered: TLS 1.3 draft versions, the draft key_share code point, GREASE.
#[test]
fn tls13_draft_client_hellos() {
    let bytes = fixture("ff52-aborted_f4_client_hello");
    let (stream, _) = split_records(&bytes);
    let [Handshake::ClientHello(ch)] = &messages(&stream)[..] else {
        panic!()
    };
    assert_eq!(ch.server_name(), Some("tls13.crypto.mozilla.org"));
    assert_eq!(
        ch.supported_versions(),
        Some(&[0x7f10, 0x0303, 0x0302, 0x0301].map(ProtocolVersion)[..])
    );
    assert_eq!(
        ch.supported_versions().unwrap()[0].to_string(),
        "TLS 1.3 draft 16"
    );
    let types: Vec<u16> = ch
        .extensions
        .iter()
        .map(|e| e.ext_type().unwrap().0)
        .collect();
    assert_eq!(types, [0, 23, 65281, 10, 11, 35, 16, 5, 18, 40, 43, 13, 21]);
    assert!(ch
        .extensions
        .contains(&Extension::Alpn(vec![b"h2", b"http/1.1"])));
    assert!(matches!(
        ch.extensions[9],
        Extension::Other {
            ext_type: ExtensionType::KEY_SHARE_DRAFT,
            ..
        }
    ));
    assert_eq!(ch.cipher_suites.len(), 18);

    let bytes = fixture("chrome55-aborted_f4_client_hello");
    let (stream, _) = split_records(&bytes);
    let [Handshake::ClientHello(ch)] = &messages(&stream)[..] else {
        panic!()
    };
    assert_eq!(ch.cipher_suites[0], CipherSuite(0x2a2a));
    assert!(ch.cipher_suites[0].is_grease());
    assert_eq!(
        ch.cipher_suites[7].to_string(),
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256_OLD"
    );
    assert_eq!(
        ch.supported_versions(),
        Some(&[0x5a5a, 0x7f0e, 0x0303, 0x0302, 0x0301].map(ProtocolVersion)[..])
    );
    assert_eq!(ch.max_version(), ProtocolVersion(0x7f0e));
    let types: Vec<u16> = ch
        .extensions
        .iter()
        .map(|e| e.ext_type().unwrap().0)
        .collect();
    assert_eq!(
        types,
        [10794, 65281, 0, 23, 35, 13, 5, 18, 16, 30032, 11, 40, 43, 10, 24, 2570, 21]
    );
    assert_eq!(
        ch.extensions[0].ext_type().unwrap().to_string(),
        "GREASE(0x2a2a)"
    );
    assert!(ch.extensions.contains(&Extension::SupportedGroups(
        [0x6a6a, 0x001d, 0x0017, 0x0018].map(NamedGroup).to_vec()
    )));
}

#[test]
fn sslv2_client_hello() {
    assert!(looks_like_sslv2_hello(SSLV2_F4));
    assert!(!looks_like_tls_record(SSLV2_F4));
    let (rest, m) = parse_sslv2(SSLV2_F4).unwrap();
    assert!(rest.is_empty());
    assert_eq!(
        m,
        Sslv2Message::ClientHello(Sslv2ClientHello {
            version: ProtocolVersion::SSL2_0,
            cipher_specs: [0x0700c0, 0x050080, 0x030080, 0x010080, 0x060040, 0x040080, 0x020080]
                .map(Sslv2CipherSpec)
                .to_vec(),
            session_id: &[],
            challenge: &SSLV2_F4[32..],
        })
    );
}

/// zeek-tls__ssl-v2.pcap frame 6 (S->C): the server answers in SSLv2 and sends its certificate.
#[test]
fn sslv2_server_hello() {
    let bytes = fixture("ssl-v2_f6_server_hello");
    assert!(looks_like_sslv2_hello(&bytes));
    let (rest, m) = parse_sslv2(&bytes).unwrap();
    assert!(rest.is_empty());
    let Sslv2Message::ServerHello(sh) = m else {
        panic!("{m:?}")
    };
    assert_eq!(
        sh,
        Sslv2ServerHello {
            session_id_hit: 0,
            certificate_type: 1,
            version: ProtocolVersion::SSL2_0,
            certificate: &bytes[13..13 + 903],
            cipher_specs: [0x0700c0, 0x030080, 0x010080, 0x060040, 0x040080, 0x020080]
                .map(Sslv2CipherSpec)
                .to_vec(),
            connection_id: &bytes[13 + 903 + 18..],
        }
    );
    let (_, x509) = x509_parser::parse_x509_certificate(sh.certificate).unwrap();
    assert!(x509.subject().to_string().contains("CN=plesk"));
    assert_eq!(sh.version.to_string(), "SSL 2.0");
}

#[test]
fn tpkt_is_not_a_tls_record() {
    // The X.224 traffic that precedes TLS on port 3389 is rejected by the framer at its 3rd byte.
    assert!(matches!(
        tls_frame(&[0x03, 0x00, 0x00, 0x13, 0x0e]),
        Err(WireError::BadValue { .. })
    ));
}

/// A bad inner extension does not lose the ClientHello: the RDP hello of frame 8 with its supported_groups
/// list length changed from 4 to 5.
#[test]
fn a_bad_extension_keeps_the_client_hello() {
    let mut bytes = RDP_TO_SSL_F8.to_vec();
    let at = bytes
        .windows(6)
        .position(|w| w == [0x00, 0x0a, 0x00, 0x06, 0x00, 0x04])
        .unwrap();
    bytes[at + 5] = 0x05;
    let (_, record) = parse_tls_record(&bytes).unwrap();
    let (_, m) = parse_handshake(record.fragment).unwrap();
    let Handshake::ClientHello(ch) = m else {
        panic!("{m:?}")
    };
    assert_eq!(ch.server_name(), Some("192.168.1.150"));
    assert_eq!(ch.cipher_suites.len(), 12);
    assert!(matches!(
        ch.extensions[2],
        Extension::Malformed {
            ext_type: ExtensionType::SUPPORTED_GROUPS,
            error: WireError::Truncated {
                pdu: "supported_groups",
                ..
            },
            ..
        }
    ));
    assert_eq!(
        ch.extensions[3],
        Extension::Other {
            ext_type: ExtensionType::EC_POINT_FORMATS,
            body: &[1, 0]
        }
    );
}
