//! `decode` held to the wire (issue 12 §6): handshake messages reassembled across TLS records, TLS 1.3
//! drafts named, an encrypted Finished after ChangeCipherSpec, X.224 and negotiation strictness, whole
//! captured frames, and a verdict (exit 1) on every path that prints a complaint.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::process::Command;

use rdpdiag::decode::{decode, Layer, Verdict};

fn run(bytes: &[u8], layer: Layer) -> (Verdict, String) {
    let mut out = Vec::new();
    let verdict = decode(bytes, layer, &mut out).unwrap();
    (verdict, String::from_utf8(out).unwrap())
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/wire/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    hex::decode(text.split_whitespace().collect::<String>()).unwrap()
}

/// One TLS 1.2 handshake record around `fragment`.
fn handshake_record(fragment: &[u8]) -> Vec<u8> {
    let len = u16::try_from(fragment.len()).unwrap().to_be_bytes();
    let mut r = vec![0x16, 0x03, 0x03, len[0], len[1]];
    r.extend_from_slice(fragment);
    r
}

/// ndpi__rdp.pcap frame 8 (ServerHello, Certificate, ServerKeyExchange, ServerHelloDone in one record),
/// its handshake bytes re-framed into records of at most `size` bytes, as a server with a small
/// record size would send them.
fn split_server_flight(size: usize) -> (Vec<u8>, usize) {
    let whole = fixture("tls/ndpi-rdp_f8_server_flight.hex");
    let stream = &whole[5..];
    let records: Vec<Vec<u8>> = stream.chunks(size).map(handshake_record).collect();
    (records.concat(), records.len())
}

#[test]
fn a_certificate_split_over_records_is_reassembled() {
    let whole = fixture("tls/ndpi-rdp_f8_server_flight.hex");
    let (_, one) = run(&whole, Layer::Auto);
    let (split, n) = split_server_flight(120);
    assert!(n >= 7, "{n} records");
    let (verdict, text) = run(&split, Layer::Auto);
    assert_eq!(verdict, Verdict::Clean, "{text}");
    assert!(!text.contains("hello_request"), "{text}");
    // The same messages, the same certificate line, as from the one record.
    for line in one
        .lines()
        .filter(|l| l.starts_with("  ") && !l.contains("(a message"))
    {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
    assert!(text.contains("Certificate: 1 in the chain"), "{text}");
    assert!(
        text.contains("CN=OFFICE-WIN10-VM issued by CN=OFFICE-WIN10-VM"),
        "{text}"
    );
    assert!(text.contains("continues in the next record"), "{text}");
    assert!(text.contains("whole after"), "{text}");
    // Every split size, down to one byte a record, reads the same messages.
    for size in [1, 3, 4, 5, 64, 700] {
        let (split, _) = split_server_flight(size);
        let (verdict, text) = run(&split, Layer::Tls);
        assert_eq!(verdict, Verdict::Clean, "size {size}");
        assert_eq!(text.matches("server_hello_done").count(), 1, "size {size}");
        assert!(text.contains("CN=OFFICE-WIN10-VM issued by"), "size {size}");
    }
    // Without its last record the Certificate is cut short: a complaint, exit 1.
    let (split, _) = split_server_flight(120);
    let cut = &split[..split.len() - 40];
    let (verdict, text) = run(&cut[..cut.len() - (cut.len() % 125)], Layer::Tls);
    assert_eq!(verdict, Verdict::Problems, "{text}");
    assert!(text.contains("is cut short: the input ends"), "{text}");
}

/// draft-thomson-tls-tls13-vectors-01 (the vectors rusticata/tls-parser's tests also use): a TLS 1.3
/// draft-18 ServerHello (no session id, no compression; key_share has the draft's code point 40).
const DRAFT18_SERVER_HELLO: &str = "160301005202 00004e 7f12 \
    20b9c9201cd171a15abba4e7eddcf3e8488e7192ffe01ea5c19f3d4b52ffeebe 1301 0028 \
    00280024001d00209c1b0a7421919a73cb57b3a0ad9d6805861a9c47e11df8639d25323b79ce201c";

#[test]
fn tls13_drafts_are_named() {
    let sh = hex::decode(DRAFT18_SERVER_HELLO.replace(' ', "")).unwrap();
    let (verdict, text) = run(&sh, Layer::Auto);
    assert_eq!(verdict, Verdict::Clean, "{text}");
    assert!(
        text.contains("ServerHello: TLS 1.3 draft 18 TLS_AES_128_GCM_SHA256"),
        "{text}"
    );
    // Draft 22 and later: legacy fields, the draft in supported_versions.
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x11; 32]);
    body.extend_from_slice(&[0x00, 0x13, 0x01, 0x00]); // no session id, suite, compression
    body.extend_from_slice(&[0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x7f, 0x17]); // supported_versions
    let len = u32::try_from(body.len()).unwrap().to_be_bytes();
    let mut msg = vec![0x02, len[1], len[2], len[3]];
    msg.extend_from_slice(&body);
    let (verdict, text) = run(&handshake_record(&msg), Layer::Auto);
    assert_eq!(verdict, Verdict::Clean, "{text}");
    assert!(
        text.contains("ServerHello: TLS 1.3 draft 23 (legacy_version TLS 1.2)"),
        "{text}"
    );
    // A draft ClientHello: zeek-tls__tls13draft16-ff52.a01-aborted.pcap frame 4.
    let (_, text) = run(
        &fixture("tls/ff52-aborted_f4_client_hello.hex"),
        Layer::Auto,
    );
    assert!(
        text.contains("supported_versions TLS 1.3 draft 16, TLS 1.2, TLS 1.1, TLS 1.0"),
        "{text}"
    );
}

#[test]
fn an_encrypted_finished_after_change_cipher_spec() {
    // ChangeCipherSpec, then a 40-byte AES-GCM Finished whose explicit nonce starts with zeros (which
    // read as hello_requests when taken for plaintext).
    let mut bytes = hex::decode("140303000101").unwrap();
    let mut finished = vec![0u8; 8];
    finished.extend_from_slice(&[0xa7; 32]);
    bytes.extend(handshake_record(&finished));
    let (verdict, text) = run(&bytes, Layer::Auto);
    assert_eq!(verdict, Verdict::Clean, "{text}");
    assert!(text.contains("  ChangeCipherSpec\n"), "{text}");
    assert!(
        text.contains("encrypted handshake message (40 bytes): Finished"),
        "{text}"
    );
    assert!(!text.contains("continues"), "{text}");
    assert!(!text.contains("hello_request"), "{text}");
    // Pasted alone, it still does not read as seven hello_requests.
    let (verdict, text) = run(&handshake_record(&finished), Layer::Auto);
    assert_eq!(verdict, Verdict::Clean, "{text}");
    assert!(
        text.contains("encrypted handshake message (40 bytes)"),
        "{text}"
    );
    // A message cut by ChangeCipherSpec is a complaint.
    let mut cut = handshake_record(&[0x0b, 0x00, 0x01, 0x00, 0x00]);
    cut.extend(hex::decode("140303000101").unwrap());
    let (verdict, text) = run(&cut, Layer::Auto);
    assert_eq!(verdict, Verdict::Problems, "{text}");
    assert!(text.contains("cut short: ChangeCipherSpec came"), "{text}");
}

#[test]
fn the_error_names_its_layer_once() {
    let (verdict, text) = run(&hex::decode("0300000b06e00000000000").unwrap(), Layer::Tls);
    assert_eq!(verdict, Verdict::Problems);
    assert!(
        text.starts_with("@0: TLS record: legacy_record_version"),
        "{text}"
    );
    assert!(!text.contains("TLS record: TLS record"), "{text}");
}

#[test]
fn negotiation_and_x224_strictness() {
    // A negotiation structure of type 3 (RDP_NEG_FAILURE's) in a Connection Request.
    let (verdict, text) = run(
        &hex::decode("030000130ee00000000000030008000b000000").unwrap(),
        Layer::Auto,
    );
    assert_eq!(verdict, Verdict::Problems, "{text}");
    assert!(
        text.contains("malformed negotiation structure: RDP_NEG_REQ: type is 0x3"),
        "{text}"
    );
    assert!(!text.contains("legacy client"), "{text}");
    // An unknown token line, escaped; a cookie line without CR LF.
    let mut cr = hex::decode("03000000 00e00000000000".replace(' ', "")).unwrap();
    cr.extend_from_slice(b"X-Token: \x1b]0;owned\x07\r\n");
    cr[4] = u8::try_from(cr.len() - 5).unwrap();
    cr[3] = u8::try_from(cr.len()).unwrap();
    let (verdict, text) = run(&cr, Layer::Auto);
    assert_eq!(verdict, Verdict::Problems, "{text}");
    assert!(
        text.contains("unknown token line (neither Cookie: mstshash= nor Cookie: msts=): X-Token: \\x1b]0;owned\\x07"),
        "{text}"
    );
    assert!(!text.contains('\x1b'));
    let mut cr = hex::decode("0300000000e00000000000").unwrap();
    cr.extend_from_slice(b"Cookie: mstshash=eve\x00\x0f");
    cr[4] = u8::try_from(cr.len() - 5).unwrap();
    cr[3] = u8::try_from(cr.len()).unwrap();
    let (verdict, text) = run(&cr, Layer::Auto);
    assert_eq!(verdict, Verdict::Problems, "{text}");
    assert!(text.contains("token line cut short (no CR LF before the end of the TPDU): Cookie: mstshash=eve\\x00\\x0f"), "{text}");
    // A routing token is named so.
    let mut cr = hex::decode("0300000000e00000000000").unwrap();
    cr.extend_from_slice(b"Cookie: msts=3640205228.15629.0000\r\n");
    cr[4] = u8::try_from(cr.len() - 5).unwrap();
    cr[3] = u8::try_from(cr.len()).unwrap();
    let (verdict, text) = run(&cr, Layer::Auto);
    assert_eq!(verdict, Verdict::Clean, "{text}");
    assert!(
        text.contains("routing token: Cookie: msts=3640205228.15629.0000"),
        "{text}"
    );
    // X.224 Data with LI 3.
    let (verdict, text) = run(&hex::decode("0300000a03f0807f2180").unwrap(), Layer::Auto);
    assert_eq!(verdict, Verdict::Problems, "{text}");
    assert!(
        text.contains("malformed: length indicator 3, class 0 says 2 (extra header bytes 7f)"),
        "{text}"
    );
    // An MCS PDU that does not parse says why, not only its hex.
    let (verdict, text) = run(
        &hex::decode("0300000c02f0807f6582ffff").unwrap(),
        Layer::Auto,
    );
    assert_eq!(verdict, Verdict::Problems, "{text}");
    assert!(text.contains("MCS PDU"), "{text}");
    assert!(
        text.contains("cut short") || text.contains("does not parse:"),
        "{text}"
    );
    // RDP_NEG_CORRELATION_INFO with length 35.
    let spec = rdpdiag::wire::x224::ConnectionRequestSpec {
        cookie: None,
        requested_protocols: Some(rdpdiag::wire::rdp_neg::SecurityProtocols::SSL),
        flags: rdpdiag::wire::rdp_neg::NegRequestFlags(0),
        correlation_id: Some([0x5a; 16]),
    };
    let mut cr = rdpdiag::wire::x224::encode_connection_request(&spec).unwrap();
    let (verdict, _) = run(&cr, Layer::Auto);
    assert_eq!(verdict, Verdict::Clean);
    cr[21] = 35;
    let (verdict, text) = run(&cr, Layer::Auto);
    assert_eq!(verdict, Verdict::Problems, "{text}");
    assert!(
        text.contains("RDP_NEG_CORRELATION_INFO flags 0x00 length 35"),
        "{text}"
    );
    assert!(text.contains("malformed: the length must be 36"), "{text}");
    // An RDP_NEG_RSP of length 0 (zeek__rdp-invalid-length.pcap frame 5): printed, and a complaint.
    let (verdict, text) = run(
        &hex::decode("030000130ed000001234000203000001000002001232000200080000000000").unwrap(),
        Layer::Auto,
    );
    assert_eq!(verdict, Verdict::Problems, "{text}");
    assert!(text.contains("malformed: the length must be 8"), "{text}");
}

/// Ethernet II, IPv4, TCP 54321 -> 3389, then `payload`: a frame as `tshark -x` prints it.
fn ethernet_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = hex::decode("000c29010203005056040506 0800".replace(' ', "")).unwrap();
    let total = u16::try_from(40 + payload.len()).unwrap().to_be_bytes();
    f.extend_from_slice(&[0x45, 0x00, total[0], total[1], 0, 1, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&[192, 168, 1, 2, 192, 168, 1, 1]);
    f.extend_from_slice(&hex::decode("d4310d3d000000010000000050180fff00000000").unwrap());
    f.extend_from_slice(payload);
    f
}

#[test]
fn whole_frames_are_skipped_to_their_payload() {
    // ndpi__rdp.pcap frame 4's Connection Request inside a frame, as `tshark -x` dumps it.
    let cr = hex::decode("030000130ee00000000000010008000b000000").unwrap();
    let frame = ethernet_frame(&cr);
    let mut dump = String::new();
    for (n, chunk) in frame.chunks(16).enumerate() {
        let hexes: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        dump.push_str(&format!(
            "{:04x}  {:<48}  ................\n",
            n * 16,
            hexes.join(" ")
        ));
    }
    let bytes = rdpdiag::decode::hexinput::parse_hex_input(&dump).unwrap();
    assert_eq!(bytes, frame);
    let (verdict, text) = run(&bytes, Layer::Auto);
    assert_eq!(verdict, Verdict::Clean, "{text}");
    assert!(
        text.starts_with("@0 ethernet frame, TCP 192.168.1.2:54321 -> 192.168.1.1:3389: payload at byte 54, 19 bytes\n@54 TPKT"),
        "{text}"
    );
    assert!(
        text.contains("requestedProtocols SSL|HYBRID|HYBRID_EX"),
        "{text}"
    );
    // tcpdump -x starts at the IP header.
    let (verdict, text) = run(&frame[14..], Layer::Auto);
    assert_eq!(verdict, Verdict::Clean, "{text}");
    assert!(text.starts_with("@0 raw frame"), "{text}");
    // A SYN carries nothing to decode: said, exit 1.
    let (verdict, text) = run(&ethernet_frame(&[]), Layer::Auto);
    assert_eq!(verdict, Verdict::Problems, "{text}");
    assert!(text.contains("carries no payload"), "{text}");
    // A frame cut inside its IP packet: the error says how to paste the payload.
    let (verdict, text) = run(&frame[..30], Layer::Auto);
    assert_eq!(verdict, Verdict::Problems, "{text}");
    assert!(text.contains("paste only the TCP payload"), "{text}");
}

#[test]
fn the_command_exits_1_on_every_complaint() {
    let exe = env!("CARGO_BIN_EXE_rdpdiag");
    let code = |hex: &str| {
        Command::new(exe)
            .args(["decode", hex])
            .output()
            .unwrap()
            .status
            .code()
    };
    // Clean.
    assert_eq!(code("030000130ed00000123400021f080008000000"), Some(0));
    assert_eq!(code("140303000101"), Some(0));
    // Malformed or cut short, each printed.
    for bad in [
        "030000130ee00000000000030008000b000000", // wrong negotiation type
        "0300000a03f0807f2180",                   // X.224 Data LI 3
        "0300000c02f0807f6582ffff",               // MCS that does not parse
        "030000130ed000001234000900080001000000", // rdpNegData type 9
        "16030100060100002a0303",                 // handshake message cut short
        "150303000102",                           // alert of 1 byte
        "140303000102",                           // ChangeCipherSpec that is not 01
        "0300000b06e00000000000ff",               // trailing unrecognised byte
        "1603030000",                             // empty handshake record
    ] {
        assert_eq!(code(bad), Some(1), "{bad}");
    }
}

fn frame_fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/wire/frames/{name}", env!("CARGO_MANIFEST_DIR"));
    rdpdiag::decode::hexinput::parse_hex_input(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn real_tshark_and_tcpdump_dumps() {
    // tshark -x of a loopback capture's frame: the 4-byte BSD loopback header, IPv4, TCP.
    let (verdict, text) = run(&frame_fixture("ndpi-rdp_f4_tshark-x.txt"), Layer::Auto);
    assert_eq!(verdict, Verdict::Clean, "{text}");
    assert!(
        text.starts_with("@0 null frame, TCP 172.16.2.185:52494 -> 192.168.2.142:3389: payload at byte 44, 19 bytes\n"),
        "{text}"
    );
    assert!(
        text.contains("requestedProtocols SSL|HYBRID|HYBRID_EX (0x0000000b)"),
        "{text}"
    );
    // tcpdump -x of the same packet, its summary line included: from the IP header.
    let (verdict, text) = run(&frame_fixture("ndpi-rdp_f4_tcpdump-x.txt"), Layer::Auto);
    assert_eq!(verdict, Verdict::Clean, "{text}");
    assert!(
        text.starts_with("@0 raw frame, TCP 172.16.2.185:52494"),
        "{text}"
    );
    // tshark -x with a reassembled PDU: the reassembled section is decoded.
    let (verdict, text) = run(&frame_fixture("rdp-x509_f13_tshark-x.txt"), Layer::Auto);
    assert_eq!(verdict, Verdict::Clean, "{text}");
    assert!(text.starts_with("@0 TPKT version 3, length 1405"), "{text}");
    assert!(
        text.contains("server certificate X.509 chain of 2, temporary"),
        "{text}"
    );
}
