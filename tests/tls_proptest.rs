//! Arbitrary bytes into every public TLS parse entry point never panic; a complete handshake message of a
//! parsed type never reads as an error (at worst `Handshake::Malformed`).

use proptest::prelude::*;
use rdpdiag::wire::tls::*;

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..2048)
}

proptest! {
    #[test]
    fn entry_points_never_panic(b in bytes()) {
        let _ = parse_tls_record_header(&b);
        let _ = parse_tls_record(&b);
        let _ = tls_frame(&b);
        let _ = looks_like_tls_record(&b);
        let _ = parse_change_cipher_spec(&b);
        let _ = parse_alert(&b);
        let _ = parse_handshake_header(&b);
        let _ = parse_handshake(&b);
        let _ = parse_client_hello(&b);
        let _ = parse_server_hello(&b);
        let _ = parse_certificate(&b);
        let _ = parse_certificate_tls13(&b);
        let _ = parse_certificate_request(&b);
        let _ = parse_server_hello_done(&b);
        let _ = parse_extension_block(&b, ExtensionContext::ClientHello);
        let _ = parse_extension_block(&b, ExtensionContext::ServerHello);
        let _ = parse_extension_block(&b, ExtensionContext::HelloRetryRequest);
        let _ = parse_sslv2(&b);
        let _ = looks_like_sslv2_hello(&b);
    }

    #[test]
    fn complete_messages_never_error(
        msg_type in prop::sample::select(vec![1u8, 2, 11, 13, 14, 12, 99]),
        body in bytes(),
    ) {
        let len = u32::try_from(body.len()).unwrap().to_be_bytes();
        let mut message = vec![msg_type, len[1], len[2], len[3]];
        message.extend_from_slice(&body);
        let (rest, m) = parse_handshake(&message).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(m.msg_type(), HandshakeType(msg_type));
    }

    /// Hello bodies with a valid prefix and random extensions reach the extension parsers.
    #[test]
    fn hellos_with_random_extensions(
        exts in proptest::collection::vec((any::<u16>(), proptest::collection::vec(any::<u8>(), 0..64)), 0..12),
        server in any::<bool>(),
    ) {
        let mut block = Vec::new();
        for (t, body) in &exts {
            let t = [0, 10, 13, 16, 43, 51, *t][usize::from(*t % 7)];
            block.extend_from_slice(&t.to_be_bytes());
            block.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
            block.extend_from_slice(body);
        }
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0);
        if server {
            body.extend_from_slice(&[0x13, 0x01, 0]);
        } else {
            body.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
        }
        body.extend_from_slice(&u16::try_from(block.len()).unwrap().to_be_bytes());
        body.extend_from_slice(&block);
        let (_, exts_out) = if server {
            parse_server_hello(&body).map(|(r, h)| (r, h.extensions)).unwrap()
        } else {
            parse_client_hello(&body).map(|(r, h)| (r, h.extensions)).unwrap()
        };
        prop_assert_eq!(exts_out.len(), exts.len());
    }
}
