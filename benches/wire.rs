//! Wire-layer throughput: ns per PDU and bytes per second for the PDUs every connection parses.
//! Inputs are real bytes from `fixtures/pcaps/` (see the comments and `fixtures/wire/*/README.md`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use rdpdiag::wire::cert::summarize_certificate;
use rdpdiag::wire::mcs::{parse_mcs, Mcs};
use rdpdiag::wire::tls::{parse_handshake, parse_tls_record, ContentType, Handshake};
use rdpdiag::wire::x224::parse_x224_packet;

/// ndpi__rdp.pcap frame 5: Connection Confirm selecting HYBRID_EX.
const CONNECTION_CONFIRM: &str = "030000130ed00000123400021f080008000000";
/// zeek__rdp-proprietary-encryption.pcap frame 4: Connection Request with cookie and RDP_NEG_REQ.
const CONNECTION_REQUEST: &str =
    "0300002f2ae00000000000436f6f6b69653a206d737473686173683d465442434f5c4137300d0a0100080001000000";
/// ndpi__rdp.pcap frame 7: the TLS 1.2 ClientHello of an RDP client, one record.
const CLIENT_HELLO: &str = include_str!("../fixtures/wire/tls/ndpi-rdp_f7_client_hello.hex");
/// zeek__rdp-to-ssl.pcap frame 9: ServerHello, Certificate, ServerHelloDone of a Windows 2008 R2 RDP
/// server (TLS 1.0, one record).
const SERVER_FLIGHT: &str = include_str!("../fixtures/wire/tls/rdp-to-ssl_f9_server_flight.hex");
/// zeek__rdp-x509.pcap frames 12+13: MCS Connect-Response with an X.509 chain of two certificates.
const X509_CONNECT_RESPONSE: &str = include_str!("../fixtures/wire/mcs/x509_connect_response.hex");
/// zeek__rdp-proprietary-encryption.pcap frame 15: MCS Connect-Response, proprietary certificate.
const PROPRIETARY_CONNECT_RESPONSE: &str =
    include_str!("../fixtures/wire/mcs/proprietary_connect_response.hex");
/// TPKT header and X.224 Data TPDU header in front of every MCS PDU.
const TPKT_X224_DT_LEN: usize = 7;

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text.trim()).expect("fixture is hex")
}

fn bench_one(c: &mut Criterion, name: &str, bytes: &[u8], parse: fn(&[u8]) -> bool) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("parse", |b| b.iter(|| parse(black_box(bytes))));
    group.finish();
}

fn x224(c: &mut Criterion) {
    let cc = hex::decode(CONNECTION_CONFIRM).unwrap_or_default();
    let cr = hex::decode(CONNECTION_REQUEST).unwrap_or_default();
    bench_one(c, "connection_confirm", &cc, |b| {
        parse_x224_packet(b).is_ok()
    });
    bench_one(c, "connection_request", &cr, |b| {
        parse_x224_packet(b).is_ok()
    });
}

/// Parses every record of `bytes` and every handshake message in the handshake records; counts the
/// messages that parsed. Each record here holds whole messages, as in the captures.
fn parse_flight(bytes: &[u8]) -> usize {
    let mut parsed = 0;
    let mut input = bytes;
    while let Ok((rest, record)) = parse_tls_record(input) {
        if record.header.content_type == ContentType::HANDSHAKE {
            let mut stream = record.fragment;
            while let Ok((rest, message)) = parse_handshake(stream) {
                parsed += usize::from(!matches!(message, Handshake::Malformed { .. }));
                stream = rest;
                if stream.is_empty() {
                    break;
                }
            }
        }
        input = rest;
        if input.is_empty() {
            break;
        }
    }
    parsed
}

fn tls(c: &mut Criterion) {
    let client_hello = unhex(CLIENT_HELLO);
    assert_eq!(parse_flight(&client_hello), 1, "one ClientHello");
    bench_one(c, "client_hello", &client_hello, |b| parse_flight(b) == 1);

    let flight = unhex(SERVER_FLIGHT);
    assert_eq!(
        parse_flight(&flight),
        3,
        "ServerHello, Certificate, ServerHelloDone"
    );
    let certs = server_certificates(&flight);
    assert!(!certs.is_empty());
    let mut group = c.benchmark_group("server_hello_certificate");
    group.throughput(Throughput::Bytes(flight.len() as u64));
    group.bench_function("parse", |b| b.iter(|| parse_flight(black_box(&flight))));
    for (n, der) in certs.iter().enumerate() {
        assert!(summarize_certificate(der).is_ok());
        group.throughput(Throughput::Bytes(der.len() as u64));
        group.bench_function(format!("summarize_certificate_{n}"), |b| {
            b.iter(|| summarize_certificate(black_box(der)).is_ok())
        });
    }
    group.finish();
}

/// The DER certificates of the Certificate message in a server flight.
fn server_certificates(flight: &[u8]) -> Vec<Vec<u8>> {
    let mut certs = Vec::new();
    let mut input = flight;
    while let Ok((rest, record)) = parse_tls_record(input) {
        let mut stream = record.fragment;
        while let Ok((rest, message)) = parse_handshake(stream) {
            if let Handshake::Certificate(c) = message {
                certs.extend(c.certificate_list.iter().map(|der| der.to_vec()));
            }
            if rest.is_empty() {
                break;
            }
            stream = rest;
        }
        if rest.is_empty() {
            break;
        }
        input = rest;
    }
    certs
}

fn mcs(c: &mut Criterion) {
    fn parses(b: &[u8]) -> bool {
        matches!(
            parse_mcs(b),
            Ok((_, Mcs::ConnectResponse(cr))) if cr.conference.is_some()
        )
    }
    let x509 = unhex(X509_CONNECT_RESPONSE).split_off(TPKT_X224_DT_LEN);
    let proprietary = unhex(PROPRIETARY_CONNECT_RESPONSE).split_off(TPKT_X224_DT_LEN);
    assert!(parses(&x509) && parses(&proprietary));
    let mut group = c.benchmark_group("mcs_connect_response");
    group.throughput(Throughput::Bytes(x509.len() as u64));
    group.bench_function("x509", |b| b.iter(|| parses(black_box(&x509))));
    group.throughput(Throughput::Bytes(proprietary.len() as u64));
    group.bench_function("proprietary", |b| {
        b.iter(|| parses(black_box(&proprietary)))
    });
    group.finish();
}

criterion_group!(benches, x224, tls, mcs);
criterion_main!(benches);
