//! MCS tests on golden bytes: the MS-RDPBCGR 4.1.4 example and PDUs cut from the captures in
//! `fixtures/wire/mcs/` (see its README for capture and frame). Each fixture is a whole TCP payload;
//! the tests strip TPKT (4 bytes) and the X.224 DT header (3 bytes) themselves.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use proptest::prelude::*;

use super::*;

/// Decodes a fixture and returns the X.224 user data after checking the TPKT and DT headers.
fn user_data(hex_text: &str) -> Vec<u8> {
    let bytes = hex::decode(hex_text.trim()).unwrap();
    assert_eq!(bytes[0], 3, "TPKT version");
    assert_eq!(
        usize::from(u16::from_be_bytes([bytes[2], bytes[3]])),
        bytes.len(),
        "TPKT length"
    );
    assert_eq!(&bytes[4..7], &[0x02, 0xf0, 0x80], "X.224 DT header");
    bytes[7..].to_vec()
}

const PROPRIETARY_CI: &str =
    include_str!("../../../fixtures/wire/mcs/proprietary_connect_initial.hex");
const PROPRIETARY_CR: &str =
    include_str!("../../../fixtures/wire/mcs/proprietary_connect_response.hex");
const X509_CI: &str = include_str!("../../../fixtures/wire/mcs/x509_connect_initial.hex");
const X509_CR: &str = include_str!("../../../fixtures/wire/mcs/x509_connect_response.hex");
const RDP003_CI: &str = include_str!("../../../fixtures/wire/mcs/rdp003_connect_initial.hex");
const RDP003_CR: &str = include_str!("../../../fixtures/wire/mcs/rdp003_connect_response.hex");
const RDP3_CI: &str = include_str!("../../../fixtures/wire/mcs/rdp3_connect_initial.hex");
const RDP3_CR: &str = include_str!("../../../fixtures/wire/mcs/rdp3_connect_response.hex");
const FIXTURES: [&str; 8] = [
    PROPRIETARY_CI,
    PROPRIETARY_CR,
    X509_CI,
    X509_CR,
    RDP003_CI,
    RDP003_CR,
    RDP3_CI,
    RDP3_CR,
];

fn connect_initial(u: &[u8]) -> ConnectInitial<'_> {
    match parse_mcs(u).unwrap() {
        ([], Mcs::ConnectInitial(ci)) => ci,
        other => panic!("not a whole Connect-Initial: {other:?}"),
    }
}

fn connect_response(u: &[u8]) -> ConnectResponse<'_> {
    match parse_mcs(u).unwrap() {
        ([], Mcs::ConnectResponse(cr)) => cr,
        other => panic!("not a whole Connect-Response: {other:?}"),
    }
}

fn channel_names<'a>(ci: &ConnectInitial<'a>) -> Vec<&'a str> {
    ci.conference
        .network()
        .unwrap()
        .channels
        .iter()
        .map(|c| c.name_str().unwrap())
        .collect()
}

// --- MS-RDPBCGR 4.1.4 Server MCS Connect Response PDU -------------------------------------------------

/// serverRandom of the 4.1.4 example.
const RANDOM_4_1_4: [u8; 32] = [
    0x10, 0x11, 0x77, 0x20, 0x30, 0x61, 0x0a, 0x12, 0xe4, 0x34, 0xa1, 0x1e, 0xf2, 0xc3, 0x9f, 0x31,
    0x7d, 0xa4, 0x5f, 0x01, 0x89, 0x34, 0x96, 0xe0, 0xff, 0x11, 0x08, 0x69, 0x7f, 0x1a, 0xc3, 0xd2,
];
/// RSA modulus (64 bytes, little-endian) and its 8 bytes of zero padding.
const MODULUS_4_1_4: [u8; 72] = [
    0xcb, 0x81, 0xfe, 0xba, 0x6d, 0x61, 0xc3, 0x55, 0x05, 0xd5, 0x5f, 0x2e, 0x87, 0xf8, 0x71, 0x94,
    0xd6, 0xf1, 0xa5, 0xcb, 0xf1, 0x5f, 0x0c, 0x3d, 0xf8, 0x70, 0x02, 0x96, 0xc4, 0xfb, 0x9b, 0xc8,
    0x3c, 0x2d, 0x55, 0xae, 0xe8, 0xff, 0x32, 0x75, 0xea, 0x68, 0x79, 0xe5, 0xa2, 0x01, 0xfd, 0x31,
    0xa0, 0xb1, 0x1f, 0x55, 0xa6, 0x1f, 0xc1, 0xf6, 0xd1, 0x83, 0x88, 0x63, 0x26, 0x56, 0x12, 0xbc,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];
/// Signature (64 bytes) and its 8 bytes of zero padding.
const SIGNATURE_4_1_4: [u8; 72] = [
    0xe9, 0xe1, 0xd6, 0x28, 0x46, 0x8b, 0x4e, 0xf5, 0x0a, 0xdf, 0xfd, 0xee, 0x21, 0x99, 0xac, 0xb4,
    0xe1, 0x8f, 0x5f, 0x81, 0x57, 0x82, 0xef, 0x9d, 0x96, 0x52, 0x63, 0x27, 0x18, 0x29, 0xdb, 0xb3,
    0x4a, 0xfd, 0x9a, 0xda, 0x42, 0xad, 0xb5, 0x69, 0x21, 0x89, 0x0e, 0x1d, 0xc0, 0x4c, 0x1a, 0xa8,
    0xaa, 0x71, 0x3e, 0x0f, 0x54, 0xb9, 0x9a, 0xe4, 0x99, 0x68, 0x3f, 0x6c, 0xd6, 0x76, 0x84, 0x61,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// The user data of the MS-RDPBCGR 4.1.4 example (bytes as transcribed in a public RDP implementation's
/// test suite; the layout matches the spec's annotation).
fn example_4_1_4() -> Vec<u8> {
    let rsa_key: &[&[u8]] = &[
        &[0x52, 0x53, 0x41, 0x31], // magic "RSA1"
        &[0x48, 0x00, 0x00, 0x00], // keylen 72
        &[0x00, 0x02, 0x00, 0x00], // bitlen 512
        &[0x3f, 0x00, 0x00, 0x00], // datalen 63
        &[0x01, 0x00, 0x01, 0x00], // pubExp 65537
        &MODULUS_4_1_4,            // modulus
    ];
    let parts: &[&[u8]] = &[
        &[0x7f, 0x66],                         // BER [APPLICATION 102] Connect-Response
        &[0x82, 0x01, 0x45],                   // length 325
        &[0x0a, 0x01, 0x00],                   // result ENUMERATED rt-successful
        &[0x02, 0x01, 0x00],                   // calledConnectId 0
        &[0x30, 0x1a],                         // domainParameters SEQUENCE, 26 bytes
        &[0x02, 0x01, 0x22],                   //   maxChannelIds 34
        &[0x02, 0x01, 0x03],                   //   maxUserIds 3
        &[0x02, 0x01, 0x00],                   //   maxTokenIds 0
        &[0x02, 0x01, 0x01],                   //   numPriorities 1
        &[0x02, 0x01, 0x00],                   //   minThroughput 0
        &[0x02, 0x01, 0x01],                   //   maxHeight 1
        &[0x02, 0x03, 0x00, 0xff, 0xf8],       // maxMCSPDUsize 65528
        &[0x02, 0x01, 0x02],                   //   protocolVersion 2
        &[0x04, 0x82, 0x01, 0x1f],             // userData OCTET STRING, 287 bytes
        &[0x00],                               //   ConnectData key: object
        &[0x05, 0x00, 0x14, 0x7c, 0x00, 0x01], // t124Identifier 0.0.20.124.0.1
        &[0x2a],       //   connectPDU length 42 (as declared; not the real length)
        &[0x14],       //   ConnectGCCPDU: conferenceCreateResponse
        &[0x76, 0x0a], //   nodeID 0x760a + 1001 = 31219
        &[0x01, 0x01], //   tag: 1 byte, 1
        &[0x00],       //   result: success
        &[0x01],       //   one UserData set
        &[0xc0],       //   value present, h221NonStandard
        &[0x00, 0x4d, 0x63, 0x44, 0x6e], // key length 0+4, "McDn"
        &[0x81, 0x08], //   value length 264
        &[0x01, 0x0c, 0x0c, 0x00], //   SC_CORE, 12 bytes
        &[0x04, 0x00, 0x08, 0x00], //     version 0x00080004
        &[0x00, 0x00, 0x00, 0x00], //     clientRequestedProtocols PROTOCOL_RDP
        &[0x03, 0x0c, 0x10, 0x00], //   SC_NET, 16 bytes
        &[0xeb, 0x03], //     MCSChannelId 1003
        &[0x03, 0x00], //     channelCount 3
        &[0xec, 0x03, 0xed, 0x03, 0xee, 0x03], // channelIdArray 1004, 1005, 1006
        &[0x00, 0x00], //     Pad
        &[0x02, 0x0c, 0xec, 0x00], //   SC_SECURITY, 236 bytes
        &[0x02, 0x00, 0x00, 0x00], //     encryptionMethod ENCRYPTION_METHOD_128BIT
        &[0x02, 0x00, 0x00, 0x00], //     encryptionLevel ENCRYPTION_LEVEL_CLIENT_COMPATIBLE
        &[0x20, 0x00, 0x00, 0x00], //     serverRandomLen 32
        &[0xb8, 0x00, 0x00, 0x00], //     serverCertLen 184
        &RANDOM_4_1_4, //     serverRandom
        &[0x01, 0x00, 0x00, 0x00], //     dwVersion CERT_CHAIN_VERSION_1, permanent
        &[0x01, 0x00, 0x00, 0x00], //     dwSigAlgId SIGNATURE_ALG_RSA
        &[0x01, 0x00, 0x00, 0x00], //     dwKeyAlgId KEY_EXCHANGE_ALG_RSA
        &[0x06, 0x00, 0x5c, 0x00], //     wPublicKeyBlobType BB_RSA_KEY_BLOB, wPublicKeyBlobLen 92
        &rsa_key.concat(), //     PublicKeyBlob
        &[0x08, 0x00, 0x48, 0x00], //     wSignatureBlobType BB_RSA_SIGNATURE_BLOB, wSignatureBlobLen 72
        &SIGNATURE_4_1_4,          //     SignatureBlob
    ];
    parts.concat()
}

#[test]
fn ms_rdpbcgr_4_1_4_connect_response() {
    let bytes = example_4_1_4();
    assert_eq!(bytes.len(), 330);
    let cr = connect_response(&bytes);
    let key_blob = &bytes[bytes.len() - 72 - 4 - 92..bytes.len() - 72 - 4];
    let cert_bytes = &bytes[bytes.len() - 184..];
    let expected = ConnectResponse {
        result: McsResult::SUCCESSFUL,
        called_connect_id: 0,
        domain_parameters: DomainParameters {
            max_channel_ids: 34,
            max_user_ids: 3,
            max_token_ids: 0,
            num_priorities: 1,
            min_throughput: 0,
            max_height: 1,
            max_mcs_pdu_size: 65528,
            protocol_version: 2,
        },
        user_data: &bytes[43..],
        conference: Some(ConferenceCreateResponse {
            connect_pdu_length: 42,
            node_id: 31219,
            tag: 1,
            result: 0,
            h221_key: b"McDn",
            blocks: vec![
                ServerDataBlock::Core(ServerCoreData {
                    version: 0x0008_0004,
                    client_requested_protocols: Some(0),
                    early_capability_flags: None,
                    rest: &[],
                }),
                ServerDataBlock::Network(ServerNetworkData {
                    mcs_channel_id: 1003,
                    channel_ids: vec![1004, 1005, 1006],
                    padding: &[0, 0],
                }),
                ServerDataBlock::Security(ServerSecurityData {
                    encryption_method: EncryptionMethod::ENCRYPTION_128BIT,
                    encryption_level: EncryptionLevel::CLIENT_COMPATIBLE,
                    server_random: Some(&RANDOM_4_1_4),
                    server_certificate_bytes: Some(cert_bytes),
                    server_certificate: Some(ServerCertificate {
                        dw_version: 1,
                        chain: CertificateChain::Proprietary(ProprietaryCertificate {
                            sig_alg_id: 1,
                            key_alg_id: 1,
                            public_key_blob_type: ProprietaryCertificate::BB_RSA_KEY_BLOB,
                            public_key_blob: key_blob,
                            public_key: Some(RsaPublicKey {
                                magic: RsaPublicKey::RSA1_MAGIC,
                                keylen: 72,
                                bitlen: 512,
                                datalen: 63,
                                pub_exp: 65537,
                                modulus: &MODULUS_4_1_4,
                            }),
                            signature_blob_type: ProprietaryCertificate::BB_RSA_SIGNATURE_BLOB,
                            signature_blob: &SIGNATURE_4_1_4,
                            rest: &[],
                        }),
                    }),
                    server_certificate_error: None,
                }),
            ],
        }),
    };
    assert_eq!(cr, expected);
}

// --- Captures ----------------------------------------------------------------------------------------

#[test]
fn proprietary_capture_connect_initial() {
    // zeek rdp-proprietary-encryption.pcap, stream 1; rdp.log: FROG-POND, RDP 6.0, 1152x864,
    // English - United States, channels rdpdr,rdpsnd,drdynvc,cliprdr
    let u = user_data(PROPRIETARY_CI);
    let ci = connect_initial(&u);
    assert_eq!(ci.calling_domain_selector, &[0x01]);
    assert_eq!(ci.called_domain_selector, &[0x01]);
    assert!(ci.upward_flag);
    assert_eq!(ci.target_parameters.max_channel_ids, 34);
    assert_eq!(ci.maximum_parameters.max_mcs_pdu_size, 0xffff);
    assert_eq!(ci.conference.h221_key, b"Duca");
    let core = ci.conference.core().unwrap();
    assert_eq!(core.client_name(), "FROG-POND");
    assert_eq!(core.client_build, 6000);
    assert_eq!((core.desktop_width, core.desktop_height), (1152, 864));
    assert_eq!(core.keyboard_layout, 0x409);
    assert_eq!(core.version, 0x0008_0004);
    assert_eq!(
        channel_names(&ci),
        ["rdpdr", "rdpsnd", "drdynvc", "cliprdr"]
    );
    let sec = ci.conference.security().unwrap();
    assert!(sec
        .encryption_methods
        .contains(EncryptionMethod::ENCRYPTION_128BIT));
    assert!(ci.conference.blocks.iter().any(|b| matches!(
        b,
        ClientDataBlock::Other {
            block_type: DataBlockType::CS_CLUSTER,
            ..
        }
    )));
}

#[test]
fn proprietary_capture_connect_response() {
    // tshark: encryptionMethod=128BIT encryptionLevel=HIGH, proprietary certificate, permanent
    let u = user_data(PROPRIETARY_CR);
    let cr = connect_response(&u);
    assert!(cr.result.is_success());
    let conf = cr.conference.as_ref().unwrap();
    let sec = conf.security().unwrap();
    assert_eq!(sec.encryption_method, EncryptionMethod::ENCRYPTION_128BIT);
    assert_eq!(sec.encryption_level, EncryptionLevel::HIGH);
    assert!(sec.is_standard_rdp_security());
    assert_eq!(sec.server_random.unwrap().len(), 32);
    let cert = sec.server_certificate.as_ref().unwrap();
    assert_eq!(
        cert.chain_version(),
        ServerCertificate::CERT_CHAIN_VERSION_1
    );
    assert!(!cert.temporary());
    let CertificateChain::Proprietary(p) = &cert.chain else {
        panic!("not proprietary")
    };
    assert_eq!(p.public_key.unwrap().bitlen, 512);
    assert_eq!(
        conf.network().unwrap().channel_ids,
        [1004, 1005, 1006, 1007]
    );
    assert_eq!(conf.core().unwrap().client_requested_protocols, Some(0));
}

#[test]
fn x509_capture() {
    // zeek rdp-x509.pcap; rdp.log: JOHN-PC-LAPTOP, RDP 8.1, 1920x1080, X.509, 2 certs, not permanent,
    // Client compatible, 128bit; x509.log: two 512-bit RSA certificates
    let ci_bytes = user_data(X509_CI);
    let ci = connect_initial(&ci_bytes);
    let core = ci.conference.core().unwrap();
    assert_eq!(core.client_name(), "JOHN-PC-LAPTOP");
    assert_eq!(core.client_build, 9600);
    assert_eq!((core.desktop_width, core.desktop_height), (1920, 1080));
    assert_eq!(
        core.client_dig_product_id().as_deref(),
        Some("3c571ed0-3415-474b-ae94-74e151b")
    );
    assert_eq!(
        channel_names(&ci),
        ["rdpdr", "rdpsnd", "cliprdr", "drdynvc"]
    );

    let cr_bytes = user_data(X509_CR);
    let cr = connect_response(&cr_bytes);
    let sec = cr.conference.as_ref().unwrap().security().unwrap();
    assert_eq!(sec.encryption_method, EncryptionMethod::ENCRYPTION_128BIT);
    assert_eq!(sec.encryption_level, EncryptionLevel::CLIENT_COMPATIBLE);
    let cert = sec.server_certificate.as_ref().unwrap();
    assert_eq!(
        cert.chain_version(),
        ServerCertificate::CERT_CHAIN_VERSION_2
    );
    assert!(cert.temporary());
    let CertificateChain::X509(chain) = &cert.chain else {
        panic!("not X.509")
    };
    assert_eq!(chain.certificates.len(), 2);
    for der in &chain.certificates {
        // each blob is one whole DER SEQUENCE
        assert_eq!(der[0], 0x30);
        let len = usize::from(u16::from_be_bytes([der[2], der[3]]));
        assert_eq!((der[1], der.len()), (0x82, len + 4));
    }
}

/// Where the serverCertificate bytes start in Connect-Response user data.
fn server_certificate_offset(user_data: &[u8]) -> usize {
    let cr = connect_response(user_data);
    let sec = cr.conference.as_ref().unwrap().security().unwrap();
    let cert = sec.server_certificate_bytes.unwrap();
    cert.as_ptr() as usize - user_data.as_ptr() as usize
}

/// The invariant "a parse failure of an inner field never hides the outer facts": a corrupt server
/// certificate leaves the Connect-Response, the method, level and random readable, its error beside them.
#[test]
fn a_corrupt_server_certificate_keeps_the_connect_response() {
    // zeek rdp-proprietary-encryption.pcap frame 15; proprietary certificate: dwVersion, dwSigAlgId,
    // dwKeyAlgId, wPublicKeyBlobType, then wPublicKeyBlobLen at offset 14, set far past the blob.
    let mut u = user_data(PROPRIETARY_CR);
    let at = server_certificate_offset(&u) + 14;
    u[at..at + 2].copy_from_slice(&[0xff, 0xff]);
    let cr = connect_response(&u);
    assert!(cr.result.is_success());
    let conf = cr.conference.as_ref().unwrap();
    let sec = conf.security().unwrap();
    assert_eq!(sec.encryption_method, EncryptionMethod::ENCRYPTION_128BIT);
    assert_eq!(sec.encryption_level, EncryptionLevel::HIGH);
    assert_eq!(sec.server_random.unwrap().len(), 32);
    assert!(sec.server_certificate_bytes.is_some());
    assert_eq!(sec.server_certificate, None);
    assert!(matches!(
        sec.server_certificate_error,
        Some(WireError::Truncated {
            pdu: "proprietary certificate",
            ..
        })
    ));
    assert_eq!(
        conf.network().unwrap().channel_ids,
        [1004, 1005, 1006, 1007]
    );

    // zeek rdp-x509.pcap frames 12+13; X.509 chain: dwVersion, then NumCertBlobs at offset 4.
    let mut u = user_data(X509_CR);
    let at = server_certificate_offset(&u) + 4;
    u[at..at + 4].copy_from_slice(&[0xff; 4]);
    let cr = connect_response(&u);
    let sec = cr.conference.as_ref().unwrap().security().unwrap();
    assert_eq!(sec.encryption_method, EncryptionMethod::ENCRYPTION_128BIT);
    assert_eq!(sec.encryption_level, EncryptionLevel::CLIENT_COMPATIBLE);
    assert_eq!(sec.server_random.unwrap().len(), 32);
    assert_eq!(sec.server_certificate, None);
    assert!(matches!(
        sec.server_certificate_error,
        Some(WireError::BadLength {
            pdu: "X.509 certificate chain",
            field: "NumCertBlobs",
            ..
        })
    ));
}

#[test]
fn rdp003_capture() {
    // suricata-verify RDP-003: client v5, Windows XP (2600), height 864, ISD2-KM84178, errinfo support,
    // id 55274-OEM-0011903-00107, channels rdpdr, cliprdr, rdpsnd; server 56BIT, CLIENT_COMPATIBLE,
    // proprietary certificate, permanent
    let ci_bytes = user_data(RDP003_CI);
    let ci = connect_initial(&ci_bytes);
    let core = ci.conference.core().unwrap();
    assert_eq!(core.version, 0x0008_0004);
    assert_eq!(core.client_build, 2600);
    assert_eq!(core.desktop_height, 864);
    assert_eq!(core.client_name(), "ISD2-KM84178");
    assert!(core.supports_error_info());
    assert_eq!(
        core.client_dig_product_id().as_deref(),
        Some("55274-OEM-0011903-00107")
    );
    assert_eq!(channel_names(&ci), ["rdpdr", "cliprdr", "rdpsnd"]);

    let cr_bytes = user_data(RDP003_CR);
    let cr = connect_response(&cr_bytes);
    let conf = cr.conference.as_ref().unwrap();
    let sec = conf.security().unwrap();
    assert_eq!(sec.encryption_method, EncryptionMethod::ENCRYPTION_56BIT);
    assert_eq!(sec.encryption_level, EncryptionLevel::CLIENT_COMPATIBLE);
    let cert = sec.server_certificate.as_ref().unwrap();
    assert!(matches!(cert.chain, CertificateChain::Proprietary(_)));
    assert!(!cert.temporary());
    // a legacy server: SC_CORE carries the version only
    assert_eq!(conf.core().unwrap().client_requested_protocols, None);
}

#[test]
fn rdp3_capture() {
    // ndpi rdp3.pcap: 128BIT, CLIENT_COMPATIBLE, proprietary certificate, permanent
    let ci_bytes = user_data(RDP3_CI);
    let ci = connect_initial(&ci_bytes);
    assert_eq!(ci.conference.core().unwrap().client_name(), "SEPTU");
    let cr_bytes = user_data(RDP3_CR);
    let cr = connect_response(&cr_bytes);
    let sec = cr.conference.as_ref().unwrap().security().unwrap();
    assert_eq!(sec.encryption_method, EncryptionMethod::ENCRYPTION_128BIT);
    assert_eq!(sec.encryption_level, EncryptionLevel::CLIENT_COMPATIBLE);
    let cert = sec.server_certificate.as_ref().unwrap();
    assert_eq!(cert.chain_version(), 1);
    assert!(!cert.temporary());
}

// --- Domain PDUs (PER), from zeek rdp-proprietary-encryption.pcap frames 16-32 and RDP-003 ----------

#[test]
fn disconnect_provider_ultimatum() {
    // RDP-003 frame 431
    let bytes = [
        0x21, // disconnectProviderUltimatum (8 << 2) | top two bits of reason (01)
        0x80, // low bit of reason (1), then padding: reason 3 rn-user-requested
    ];
    assert_eq!(
        parse_mcs(&bytes).unwrap(),
        (
            &[][..],
            Mcs::DisconnectProviderUltimatum {
                reason: DisconnectReason::USER_REQUESTED
            }
        )
    );
    for reason in 0u8..5 {
        let bytes = [0x20 | reason >> 1, (reason & 1) << 7];
        let (_, pdu) = parse_mcs(&bytes).unwrap();
        assert_eq!(
            pdu,
            Mcs::DisconnectProviderUltimatum {
                reason: DisconnectReason(reason)
            }
        );
    }
    assert_eq!(DisconnectReason(1).to_string(), "rn-provider-initiated");
    assert_eq!(DisconnectReason(7).to_string(), "0x7");
}

#[test]
fn connection_sequence_domain_pdus() {
    let erect = [
        0x04, // erectDomainRequest (1 << 2)
        0x01, 0x00, // subHeight: length 1, 0
        0x01, 0x00, // subInterval: length 1, 0
    ];
    assert_eq!(
        parse_mcs(&erect).unwrap().1,
        Mcs::Other {
            pdu_type: DomainMcsPdu::ERECT_DOMAIN_REQUEST,
            body: &erect
        }
    );
    let attach_request = [0x28]; // attachUserRequest (10 << 2)
    assert_eq!(
        parse_mcs(&attach_request).unwrap().1,
        Mcs::Other {
            pdu_type: DomainMcsPdu::ATTACH_USER_REQUEST,
            body: &attach_request
        }
    );
    let attach_confirm = [
        0x2e, // attachUserConfirm (11 << 2) | initiator present | result bit 3
        0x00, // result bits 2..0 (rt-successful), padding
        0x00, 0x07, // initiator 1001 + 7
    ];
    assert_eq!(
        parse_mcs(&attach_confirm).unwrap().1,
        Mcs::AttachUserConfirm {
            result: McsResult::SUCCESSFUL,
            initiator: Some(1008)
        }
    );
    let join_request = [
        0x38, // channelJoinRequest (14 << 2)
        0x00, 0x07, // initiator 1008
        0x03, 0xf0, // channelId 1008
    ];
    assert_eq!(
        parse_mcs(&join_request).unwrap().1,
        Mcs::Other {
            pdu_type: DomainMcsPdu::CHANNEL_JOIN_REQUEST,
            body: &join_request
        }
    );
    let join_confirm = [
        0x3e, // channelJoinConfirm (15 << 2) | channelId present | result bit 3
        0x00, // result rt-successful
        0x00, 0x07, // initiator 1008
        0x03, 0xeb, // requested 1003
        0x03, 0xeb, // channelId 1003
    ];
    assert_eq!(
        parse_mcs(&join_confirm).unwrap().1,
        Mcs::ChannelJoinConfirm {
            result: McsResult::SUCCESSFUL,
            initiator: 1008,
            requested: 1003,
            channel_id: Some(1003)
        }
    );
    // a refused join: rt-no-such-channel (3), no channelId
    let refused = [0x3c, 0x60, 0x00, 0x07, 0x03, 0xf5];
    assert_eq!(
        parse_mcs(&refused).unwrap().1,
        Mcs::ChannelJoinConfirm {
            result: McsResult::NO_SUCH_CHANNEL,
            initiator: 1008,
            requested: 1013,
            channel_id: None
        }
    );
}

#[test]
fn send_data_request_with_security_exchange() {
    // zeek rdp-proprietary-encryption.pcap frame 32, head of the Security Exchange PDU
    let mut bytes = vec![
        0x64, // sendDataRequest (25 << 2)
        0x00, 0x07, // initiator 1008
        0x03, 0xeb, // channelId 1003 (I/O channel)
        0x70, // dataPriority high, segmentation begin | end
        0x08, // userData length 8
        0x01, 0x02, // flags SEC_EXCHANGE_PKT | SEC_LICENSE_ENCRYPT
        0x00, 0x00, // flagsHi
        0x48, 0x00, 0x00,
        0x00, // length 72 (the encrypted client random follows in the capture)
    ];
    let (rest, pdu) = parse_mcs(&bytes).unwrap();
    assert!(rest.is_empty());
    let Mcs::SendData {
        indication: false,
        initiator: 1008,
        channel_id: 1003,
        priority_segmentation: 0x70,
        user_data,
    } = pdu
    else {
        panic!("not the expected Send Data Request: {pdu:?}")
    };
    let (_, slow) = parse_slow_path(user_data, true).unwrap();
    assert_eq!(slow.content, SlowPathContent::Security(&[0x48, 0, 0, 0]));
    // two-byte PER length (frame 33 uses 0x81 0x68 = 360)
    bytes[6] = 0x80;
    bytes.insert(7, 0x08);
    assert!(matches!(parse_mcs(&bytes).unwrap().1, Mcs::SendData { .. }));
}

#[test]
fn send_data_indication_encrypted() {
    // RDP-003 frame 430
    let bytes = hex::decode("68000103eb701008081000bdda349825c5ad3abe804796").unwrap();
    let (_, pdu) = parse_mcs(&bytes).unwrap();
    let Mcs::SendData {
        indication: true,
        initiator: 1002,
        channel_id: 1003,
        user_data,
        ..
    } = pdu
    else {
        panic!("not the expected Send Data Indication: {pdu:?}")
    };
    assert_eq!(
        parse_set_error_info(user_data, true).unwrap().1,
        ErrorInfoLookup::Encrypted
    );
}

#[test]
fn names_of_domain_pdus_and_results() {
    assert_eq!(DomainMcsPdu(26).to_string(), "sendDataIndication");
    assert_eq!(DomainMcsPdu(40).to_string(), "0x28");
    assert_eq!(McsResult(14).to_string(), "rt-unspecified-failure");
    assert_eq!(McsResult(16).to_string(), "0x10");
}

#[test]
fn unknown_domain_pdu_keeps_the_rest() {
    let bytes = [0x30, 0x00, 0x07]; // detachUserRequest (12 << 2): layout not decoded
    assert_eq!(
        parse_mcs(&bytes).unwrap(),
        (
            &[][..],
            Mcs::Other {
                pdu_type: DomainMcsPdu::DETACH_USER_REQUEST,
                body: &bytes
            }
        )
    );
}

// --- Truncation -------------------------------------------------------------------------------------

/// Every prefix of a complete PDU is "need more", never an error or a panic.
fn assert_every_prefix_incomplete(whole: &[u8]) {
    assert!(parse_mcs(whole).is_ok());
    for cut in 0..whole.len() {
        let r = parse_mcs(&whole[..cut]);
        assert!(
            matches!(r, Err(nom::Err::Incomplete(_))),
            "cut at {cut} of {}: {r:?}",
            whole.len()
        );
    }
}

#[test]
fn every_cut_is_incomplete() {
    for fixture in FIXTURES {
        assert_every_prefix_incomplete(&user_data(fixture));
    }
    assert_every_prefix_incomplete(&example_4_1_4());
    for pdu in [
        &[0x21, 0x80][..],
        &[0x04, 0x01, 0x00, 0x01, 0x00],
        &[0x2e, 0x00, 0x00, 0x07],
        &[0x38, 0x00, 0x07, 0x03, 0xf0],
        &[0x3e, 0x00, 0x00, 0x07, 0x03, 0xf0, 0x03, 0xf0],
        &hex::decode("68000103eb701008081000bdda349825c5ad3abe804796").unwrap(),
    ] {
        assert_every_prefix_incomplete(pdu);
    }
}

#[test]
fn a_cut_inside_a_declared_length_is_a_length_error() {
    // The BER length says the whole PDU is there, but a data block inside runs past it.
    let mut bytes = example_4_1_4();
    let sc_security = bytes.len() - 236;
    bytes[sc_security + 2] = 0xf0; // SC_SECURITY length 240 instead of 236
    let r = parse_mcs(&bytes);
    assert!(
        matches!(r, Err(nom::Err::Error(WireError::Truncated { .. }))),
        "{r:?}"
    );
}

#[test]
fn trailing_bytes_are_returned() {
    let mut bytes = example_4_1_4();
    bytes.extend_from_slice(&[0x21, 0x80]);
    let (rest, _) = parse_mcs(&bytes).unwrap();
    assert_eq!(rest, &[0x21, 0x80]);
}

// --- Arbitrary bytes --------------------------------------------------------------------------------

proptest! {
    #[test]
    fn parse_mcs_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_mcs(&bytes);
    }

    #[test]
    fn connect_pdus_with_random_content_never_panic(
        tag in 101u8..=102,
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        // a valid envelope around random content reaches the inner parsers
        let len = u16::try_from(bytes.len()).unwrap().to_be_bytes();
        let mut pdu = vec![0x7f, tag, 0x82, len[0], len[1]];
        pdu.extend_from_slice(&bytes);
        let _ = parse_mcs(&pdu);
    }

    #[test]
    fn slow_path_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        security in any::<bool>(),
    ) {
        let _ = parse_slow_path(&bytes, security);
        let _ = parse_set_error_info(&bytes, security);
    }

    #[test]
    fn inner_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = gcc::parse_conference_create_request(&bytes);
        let _ = gcc::parse_conference_create_response(&bytes);
        let _ = server_cert::parse_server_certificate(&bytes);
    }

    #[test]
    fn mutated_captures_never_panic(
        which in 0usize..8,
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let mut bytes = user_data(FIXTURES[which]);
        let at = at.index(bytes.len());
        bytes[at] = value;
        let _ = parse_mcs(&bytes);
    }
}
