//! Every prefix of a complete record, handshake message, extension block or SSLv2 record is
//! `Incomplete`: never an error, never a panic. Run over the real captures in `fixtures/wire/tls/`.

use rdpdiag::wire::tls::*;
use rdpdiag::wire::tpkt::Frame;

const RECORD_FIXTURES: &[&str] = &[
    "rdp-to-ssl_f8_client_hello",
    "rdp-to-ssl_f9_server_flight",
    "ndpi-rdp_f7_client_hello",
    "ndpi-rdp_f8_server_flight",
    "hrr_f4_client_hello",
    "hrr_f6_hrr_ccs",
    "ff52-aborted_f4_client_hello",
    "chrome55-aborted_f4_client_hello",
];

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/fixtures/wire/tls/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    hex::decode(std::fs::read_to_string(path).unwrap().trim()).unwrap()
}

/// Every strict prefix of `$whole` parsed by `$parse` is `Incomplete`; the whole parses.
macro_rules! assert_every_prefix_incomplete {
    ($what:expr, $whole:expr, $parse:expr $(,)?) => {{
        let whole: &[u8] = $whole;
        for cut in 0..whole.len() {
            let r = $parse(&whole[..cut]);
            assert!(
                matches!(r, Err(nom::Err::Incomplete(_))),
                "{}: cut at {cut} of {} gave {r:?}",
                $what,
                whole.len()
            );
        }
        assert!($parse(whole).is_ok(), "{}: whole", $what);
    }};
}

#[test]
fn records() {
    for name in RECORD_FIXTURES {
        let bytes = fixture(name);
        let mut at = 0;
        while at < bytes.len() {
            let (rest, _) = parse_tls_record(&bytes[at..]).unwrap();
            let len = bytes.len() - at - rest.len();
            let record = &bytes[at..at + len];
            assert_every_prefix_incomplete!(name, record, parse_tls_record);
            for cut in 0..len {
                assert!(matches!(tls_frame(&record[..cut]), Ok(Frame::Need(n)) if n > 0));
            }
            assert_eq!(tls_frame(record), Ok(Frame::Ready(len)));
            at += len;
        }
    }
}

#[test]
fn handshake_messages_and_extension_blocks() {
    for name in RECORD_FIXTURES {
        let bytes = fixture(name);
        let mut stream = Vec::new();
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let (r, record) = parse_tls_record(rest).unwrap();
            if record.header.content_type == ContentType::HANDSHAKE {
                stream.extend_from_slice(record.fragment);
            }
            rest = r;
        }
        let mut at = 0;
        while at < stream.len() {
            let (r, message) = parse_handshake(&stream[at..]).unwrap();
            assert!(
                !matches!(message, Handshake::Malformed { .. }),
                "{name}: {message:?}"
            );
            let len = stream.len() - at - r.len();
            let whole = &stream[at..at + len];
            assert_every_prefix_incomplete!(name, whole, parse_handshake);
            // The extension block of a hello: its last bytes, from the block's length field on.
            let ext_len = match &message {
                Handshake::ClientHello(_) | Handshake::ServerHello(_) => {
                    whole.len() - offset_of_extensions(whole)
                }
                _ => 0,
            };
            if ext_len > 0 {
                let block = &whole[whole.len() - ext_len..];
                if matches!(message, Handshake::ClientHello(_)) {
                    assert_every_prefix_incomplete!(name, block, client_extensions);
                } else {
                    assert_every_prefix_incomplete!(name, block, server_extensions);
                }
            }
            at += len;
        }
    }
}

fn client_extensions(i: &[u8]) -> rdpdiag::wire::WireResult<'_, Vec<Extension<'_>>> {
    parse_extension_block(i, ExtensionContext::ClientHello)
}

fn server_extensions(i: &[u8]) -> rdpdiag::wire::WireResult<'_, Vec<Extension<'_>>> {
    parse_extension_block(i, ExtensionContext::ServerHello)
}

/// Where a hello's extension block starts: after version, random, session id, suites and compression.
fn offset_of_extensions(message: &[u8]) -> usize {
    let body = &message[4..];
    let mut at = 2 + 32;
    at += 1 + usize::from(body[at]);
    if message[0] == 1 {
        at += 2 + usize::from(u16::from_be_bytes([body[at], body[at + 1]]));
        at += 1 + usize::from(body[at]);
    } else {
        at += 3;
    }
    4 + at
}

#[test]
fn sslv2_records() {
    let hello = hex::decode(
        "802e0100020015000000100700c00500800300800100800600400400800200801c30e2b12f4c04525476f280c07abee5",
    )
    .unwrap();
    assert_every_prefix_incomplete!("SSLv2 CLIENT-HELLO", &hello, parse_sslv2);
    assert_every_prefix_incomplete!(
        "SSLv2 SERVER-HELLO",
        &fixture("ssl-v2_f6_server_hello"),
        parse_sslv2,
    );
}

#[test]
fn record_headers() {
    let header = [0x16, 0x03, 0x01, 0x00, 0x05];
    assert_every_prefix_incomplete!("record header", &header, parse_tls_record_header);
    let header = [0x01, 0x00, 0x00, 0x05];
    assert_every_prefix_incomplete!("handshake header", &header, parse_handshake_header);
}
