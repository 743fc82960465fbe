//! `encode_client_hello` → the parsers, for every version the prober offers.

use rdpdiag::wire::tls::*;

const RANDOM: [u8; 32] = [0x42; 32];
const KEY: [u8; 32] = [0x09; 32];

fn spec(version: ProtocolVersion, cipher_suites: &[CipherSuite]) -> ClientHelloSpec<'_> {
    ClientHelloSpec {
        version,
        random: RANDOM,
        session_id: &[0x5e; 32],
        cipher_suites,
        sni: Some("rdp.example.test"),
        x25519_key_share: KEY,
    }
}

fn round_trip(spec: &ClientHelloSpec<'_>) -> Vec<Extension<'static>> {
    let bytes = encode_client_hello(spec).unwrap();
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let (rest, record) = parse_tls_record(bytes).unwrap();
    assert!(rest.is_empty());
    assert_eq!(record.header.content_type, ContentType::HANDSHAKE);
    assert_eq!(record.header.version, ProtocolVersion::TLS1_0);
    assert!(looks_like_tls_record(bytes));
    let (rest, m) = parse_handshake(record.fragment).unwrap();
    assert!(rest.is_empty());
    let Handshake::ClientHello(ch) = m else {
        panic!("{m:?}")
    };
    assert_eq!(*ch.random, RANDOM);
    assert_eq!(ch.session_id, spec.session_id);
    assert_eq!(ch.cipher_suites, spec.cipher_suites);
    assert_eq!(ch.compression_methods, &[0]);
    assert_eq!(ch.server_name(), spec.sni);
    assert_eq!(ch.max_version(), spec.version);
    for e in &ch.extensions {
        assert!(
            !matches!(e, Extension::Malformed { .. } | Extension::Overrun { .. }),
            "{e:?}"
        );
    }
    ch.extensions
}

fn types(exts: &[Extension<'_>]) -> Vec<ExtensionType> {
    exts.iter().map(|e| e.ext_type().unwrap()).collect()
}

#[test]
fn tls10_and_tls11() {
    for version in [ProtocolVersion::TLS1_0, ProtocolVersion::TLS1_1] {
        let exts = round_trip(&spec(version, LEGACY_CIPHER_SUITES));
        assert_eq!(
            types(&exts),
            [
                ExtensionType::SERVER_NAME,
                ExtensionType::SUPPORTED_GROUPS,
                ExtensionType::EC_POINT_FORMATS,
                ExtensionType::EXTENDED_MASTER_SECRET,
                ExtensionType::RENEGOTIATION_INFO,
            ]
        );
        assert!(exts.contains(&Extension::Other {
            ext_type: ExtensionType::RENEGOTIATION_INFO,
            body: &[0]
        }));
    }
}

#[test]
fn tls12() {
    let exts = round_trip(&spec(ProtocolVersion::TLS1_2, TLS12_CIPHER_SUITES));
    assert_eq!(
        types(&exts),
        [
            ExtensionType::SERVER_NAME,
            ExtensionType::SUPPORTED_GROUPS,
            ExtensionType::EC_POINT_FORMATS,
            ExtensionType::SIGNATURE_ALGORITHMS,
            ExtensionType::EXTENDED_MASTER_SECRET,
            ExtensionType::RENEGOTIATION_INFO,
        ]
    );
    assert!(exts.iter().any(
        |e| matches!(e, Extension::SignatureAlgorithms(s) if s.contains(&SignatureScheme::RSA_PSS_RSAE_SHA256))
    ));
}

#[test]
fn tls13() {
    let exts = round_trip(&spec(ProtocolVersion::TLS1_3, TLS13_CIPHER_SUITES));
    assert_eq!(
        types(&exts),
        [
            ExtensionType::SERVER_NAME,
            ExtensionType::SUPPORTED_GROUPS,
            ExtensionType::SIGNATURE_ALGORITHMS,
            ExtensionType::SUPPORTED_VERSIONS,
            ExtensionType::PSK_KEY_EXCHANGE_MODES,
            ExtensionType::KEY_SHARE,
        ]
    );
    assert!(exts.contains(&Extension::SupportedVersions(vec![ProtocolVersion::TLS1_3])));
    assert!(exts.contains(&Extension::KeyShare(vec![KeyShareEntry {
        group: NamedGroup::X25519,
        key_exchange: &KEY,
    }])));
    assert!(exts.contains(&Extension::Other {
        ext_type: ExtensionType::PSK_KEY_EXCHANGE_MODES,
        body: &[1, 1]
    }));
    // legacy_version stays TLS 1.2.
    let bytes = encode_client_hello(&spec(ProtocolVersion::TLS1_3, TLS13_CIPHER_SUITES)).unwrap();
    assert_eq!(bytes[9..11], [0x03, 0x03]);
}

#[test]
fn without_sni_or_session_id() {
    let mut s = spec(ProtocolVersion::TLS1_2, TLS12_CIPHER_SUITES);
    s.sni = None;
    s.session_id = &[];
    let exts = round_trip(&s);
    assert!(!types(&exts).contains(&ExtensionType::SERVER_NAME));
}

#[test]
fn refuses_what_it_cannot_encode() {
    let suites = TLS12_CIPHER_SUITES;
    assert!(encode_client_hello(&spec(ProtocolVersion::SSL3_0, suites)).is_err());
    assert!(encode_client_hello(&spec(ProtocolVersion(0x0305), suites)).is_err());
    let mut s = spec(ProtocolVersion::TLS1_2, suites);
    s.session_id = &[0; 33];
    assert!(encode_client_hello(&s).is_err());
    let long = "a".repeat(70_000);
    let mut s = spec(ProtocolVersion::TLS1_2, suites);
    s.sni = Some(&long);
    assert!(encode_client_hello(&s).is_err());
    let many = vec![CipherSuite(0x1301); 9000];
    assert!(encode_client_hello(&spec(ProtocolVersion::TLS1_3, &many)).is_err());
}
