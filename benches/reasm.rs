//! TCP reassembly throughput: 1460-byte segments (one Ethernet MSS) of a 4 MiB stream, fed to a fresh
//! reassembler, all in order (the fast path) and with every tenth segment swapped with its successor
//! (10% of segments arrive ahead of a hole and are held).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use rdpdiag::replay::reasm::{Delivery, Reassembler};

const MSS: usize = 1460;
const STREAM: usize = 4 << 20;
const ISN: u32 = 0xFFF0_0000; // the stream crosses the 2^32 wrap

/// (seq, payload range) for every segment, in the order they are fed.
fn segments(reorder: bool) -> Vec<(u32, std::ops::Range<usize>)> {
    let mut segs: Vec<(u32, std::ops::Range<usize>)> = (0..STREAM)
        .step_by(MSS)
        .map(|a| {
            let seq = ISN
                .wrapping_add(1)
                .wrapping_add(u32::try_from(a).unwrap_or(0));
            (seq, a..(a + MSS).min(STREAM))
        })
        .collect();
    if reorder {
        for i in (0..segs.len().saturating_sub(1)).step_by(10) {
            segs.swap(i, i + 1);
        }
    }
    segs
}

fn run(stream: &[u8], segs: &[(u32, std::ops::Range<usize>)]) -> u64 {
    let mut r = Reassembler::new();
    let mut delivered = 0u64;
    let mut count = |d: Delivery<'_>| {
        if let Delivery::Data { bytes, .. } = d {
            delivered += bytes.len() as u64;
        }
    };
    r.segment(ISN, true, false, &[], 0, 0, &mut count);
    for (n, (seq, range)) in segs.iter().enumerate() {
        let payload = stream.get(range.clone()).unwrap_or_default();
        r.segment(*seq, false, false, payload, n as u64, 0, &mut count);
    }
    delivered
}

fn reasm(c: &mut Criterion) {
    let stream: Vec<u8> = (0..STREAM).map(|i| (i % 251) as u8).collect();
    let mut group = c.benchmark_group("reasm");
    group.throughput(Throughput::Bytes(STREAM as u64));
    for (name, reorder) in [("in_order", false), ("ten_percent_out_of_order", true)] {
        let segs = segments(reorder);
        assert_eq!(run(&stream, &segs), STREAM as u64);
        group.bench_function(name, |b| b.iter(|| run(black_box(&stream), &segs)));
    }
    group.finish();
}

criterion_group!(benches, reasm);
criterion_main!(benches);
