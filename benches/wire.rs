//! Wire-layer throughput: ns per PDU and bytes per second for the PDUs every connection parses.
//! Inputs are real bytes from `fixtures/pcaps/` (see the comments).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use rdpdiag::wire::x224::parse_x224_packet;

/// ndpi__rdp.pcap frame 5: Connection Confirm selecting HYBRID_EX.
const CONNECTION_CONFIRM: &str = "030000130ed00000123400021f080008000000";
/// zeek__rdp-proprietary-encryption.pcap frame 4: Connection Request with cookie and RDP_NEG_REQ.
const CONNECTION_REQUEST: &str =
    "0300002f2ae00000000000436f6f6b69653a206d737473686173683d465442434f5c4137300d0a0100080001000000";

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

criterion_group!(benches, x224);
criterion_main!(benches);
