//! TCP reassembly of one direction: scripted segment sequences, and the property that any permutation or
//! duplication of segments reassembles to the same stream while holes become capture gaps of their size.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use proptest::prelude::*;
use rdpdiag::replay::reasm::{
    Delivery, ReasmStats, Reassembler, MAX_BUFFERED_SEGMENTS, MAX_SEQ_DISTANCE, RECENT_BYTES,
};

/// A delivery, owned, with the packet number that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum D {
    Data(Vec<u8>, u64),
    Gap(u64, u64),
    Conflict {
        offset: u64,
        len: usize,
        packet: u64,
    },
    Fin(u64),
}

fn own(d: Delivery<'_>) -> D {
    match d {
        Delivery::Data { bytes, packet, .. } => D::Data(bytes.to_vec(), packet),
        Delivery::Gap { bytes, packet, .. } => D::Gap(bytes, packet),
        Delivery::Conflict {
            offset,
            len,
            packet,
        } => D::Conflict {
            offset,
            len,
            packet,
        },
        Delivery::Fin { packet, .. } => D::Fin(packet),
    }
}

/// One segment: seq, SYN, FIN, payload.
type Seg<'a> = (u32, bool, bool, &'a [u8]);

/// Feeds the segments (packet numbers 1, 2, …; time = packet number), returns what came out.
fn feed(r: &mut Reassembler, segs: &[Seg<'_>]) -> Vec<D> {
    let mut got = Vec::new();
    for (i, &(seq, syn, fin, payload)) in segs.iter().enumerate() {
        let packet = i as u64 + 1;
        r.segment(seq, syn, fin, payload, packet, packet as i64, &mut |d| {
            got.push(own(d))
        });
    }
    got
}

fn flush(r: &mut Reassembler, packet: u64) -> Vec<D> {
    let mut got = Vec::new();
    r.flush(packet, packet as i64, &mut |d| got.push(own(d)));
    got
}

/// All Data bytes, concatenated.
fn data(ds: &[D]) -> Vec<u8> {
    ds.iter()
        .flat_map(|d| match d {
            D::Data(b, _) => b.clone(),
            _ => Vec::new(),
        })
        .collect()
}

fn data_of(b: &[u8], packet: u64) -> D {
    D::Data(b.to_vec(), packet)
}

const ISN: u32 = 1000;

#[test]
fn in_order_segments_come_out_as_they_are() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN + 1, false, false, b"abc"),
            (ISN + 4, false, false, b""), // pure ACK
            (ISN + 4, false, false, b"def"),
        ],
    );
    assert_eq!(got, vec![data_of(b"abc", 1), data_of(b"def", 3)]);
    let s = r.stats();
    assert_eq!((s.segments, s.bytes_delivered, s.gaps), (3, 6, 0));
    assert_eq!(r.offset(), 6);
}

#[test]
fn syn_fixes_the_start_and_syn_data_is_delivered() {
    let mut r = Reassembler::new();
    // TFO: the SYN carries data; the next segment starts after SYN + data.
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b"hello"),
            (ISN + 6, false, false, b" world"),
        ],
    );
    assert_eq!(got, vec![data_of(b"hello", 1), data_of(b" world", 2)]);
    assert_eq!(r.start_seq(), Some(ISN + 1));

    // A plain SYN, then data: the SYN's own number is not a byte.
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[(ISN, true, false, b""), (ISN + 1, false, false, b"x")],
    );
    assert_eq!(got, vec![data_of(b"x", 2)]);
}

#[test]
fn retransmitted_syn_is_harmless() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b"ab"),
            (ISN, true, false, b"ab"),
            (ISN + 3, false, false, b"c"),
        ],
    );
    assert_eq!(got, vec![data_of(b"ab", 1), data_of(b"c", 3)]);
    assert_eq!(r.stats().retransmitted_bytes, 2);
}

#[test]
fn capture_started_mid_stream_starts_at_the_first_data_segment() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (5_000_000, false, false, b""), // a pure ACK does not start the stream
            (7_000, false, false, b"mid"),
            (7_003, false, false, b"dle"),
        ],
    );
    assert_eq!(got, vec![data_of(b"mid", 2), data_of(b"dle", 3)]);
    assert_eq!(r.start_seq(), Some(7_000));
}

#[test]
fn identical_retransmission_is_dropped_without_conflict() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 1, false, false, b"abcd"),
            (ISN + 1, false, false, b"abcd"),
            (ISN + 3, false, false, b"cd"),
        ],
    );
    assert_eq!(got, vec![data_of(b"abcd", 2)]);
    let s = r.stats();
    assert_eq!((s.retransmitted_bytes, s.conflicts), (6, 0));
}

#[test]
fn different_retransmission_is_a_conflict_and_the_first_copy_wins() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 1, false, false, b"abcdef"),
            (ISN + 2, false, false, b"bXdYf"),
        ],
    );
    assert_eq!(
        got,
        vec![
            data_of(b"abcdef", 2),
            // offsets 2..5 hold the differing bytes ('X' at 2, 'Y' at 4).
            D::Conflict {
                offset: 2,
                len: 3,
                packet: 3
            },
        ]
    );
    assert_eq!(r.stats().conflicts, 1);
}

#[test]
fn retransmission_older_than_the_remembered_tail_is_not_compared() {
    let mut r = Reassembler::new();
    let big = vec![7u8; RECENT_BYTES + 100];
    let mut other = big.clone();
    other[10] = 8; // differs, but only where nothing is remembered any more
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 1, false, false, &big),
            (ISN + 1, false, false, &other[..50]),
        ],
    );
    assert_eq!(got, vec![data_of(&big, 2)]);
    assert_eq!(r.stats().conflicts, 0);
}

#[test]
fn keepalive_byte_before_next_is_not_a_conflict() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 1, false, false, b"abc"),
            (ISN + 3, false, false, b"\0"), // Windows keep-alive: one garbage byte at next - 1
        ],
    );
    assert_eq!(got, vec![data_of(b"abc", 2)]);
    assert_eq!((r.stats().keepalives, r.stats().conflicts), (1, 0));
}

#[test]
fn partial_overlap_delivers_only_the_new_part() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 1, false, false, b"abcd"),
            (ISN + 3, false, false, b"cdefg"),
        ],
    );
    assert_eq!(got, vec![data_of(b"abcd", 2), data_of(b"efg", 3)]);
    assert_eq!(r.stats().retransmitted_bytes, 2);
}

#[test]
fn out_of_order_segment_waits_for_the_hole() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 4, false, false, b"def"),
            (ISN + 1, false, false, b"abc"),
        ],
    );
    // The held bytes carry the packet that completed them.
    assert_eq!(got, vec![data_of(b"abc", 3), data_of(b"def", 3)]);
    assert_eq!(r.stats().out_of_order_segments, 1);
    assert_eq!(r.buffered_bytes(), 0);
}

#[test]
fn hole_filled_late_by_overlapping_segments() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 1, false, false, b"ab"),
            (ISN + 7, false, false, b"ghij"),
            (ISN + 5, false, false, b"ef"),
            (ISN + 6, false, false, b"fgh"), // entirely held already
            (ISN + 2, false, false, b"bcdefgh"), // fills the hole, overlaps both sides
        ],
    );
    assert_eq!(data(&got), b"abcdefghij");
    assert_eq!(
        got.last(),
        Some(&data_of(b"ghij", 6)),
        "held pieces come out with the completing packet"
    );
    assert_eq!(r.stats().conflicts, 0);
    assert_eq!(r.buffered_bytes(), 0);
}

#[test]
fn overlapping_held_segments_that_differ_are_conflicts() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 3, false, false, b"cdef"),
            (ISN + 5, false, false, b"XYgh"), // "ef" was held first
            (ISN + 1, false, false, b"ab"),
        ],
    );
    assert_eq!(
        got,
        vec![
            D::Conflict {
                offset: 4,
                len: 2,
                packet: 3
            },
            data_of(b"ab", 4),
            data_of(b"cdef", 4),
            data_of(b"gh", 4),
        ]
    );
}

#[test]
fn hole_never_filled_flush_gives_gap_then_held_data() {
    let mut r = Reassembler::new();
    let mut got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 1, false, false, b"ab"),
            (ISN + 6, false, false, b"fg"),
            (ISN + 10, false, false, b"jk"),
        ],
    );
    assert_eq!(got, vec![data_of(b"ab", 2)]);
    got = flush(&mut r, 99);
    assert_eq!(
        got,
        vec![
            D::Gap(3, 99),
            data_of(b"fg", 99),
            D::Gap(2, 99),
            data_of(b"jk", 99)
        ]
    );
    let s = r.stats();
    assert_eq!((s.gaps, s.gap_bytes, s.limit_hits), (2, 5, 0));
    assert_eq!(r.offset(), 11);
    // A flush with nothing held says nothing.
    assert_eq!(flush(&mut r, 100), vec![]);
}

#[test]
fn byte_limit_gives_up_on_the_oldest_hole_early() {
    let mut r = Reassembler::with_limit(10);
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 3, false, false, b"cdef"),  // held: 4
            (ISN + 9, false, false, b"ijklm"), // held: 9
            (ISN + 14, false, false, b"nop"),  // held: 12 > 10 → give up on the hole at 0..2
        ],
    );
    // 8 bytes are still held after that, within the limit: the second hole (6..8) waits.
    assert_eq!(got, vec![D::Gap(2, 4), data_of(b"cdef", 4)]);
    assert_eq!(r.stats().limit_hits, 1);
    assert_eq!(r.buffered_bytes(), 8);
    // The late bytes for the given-up hole are old now: dropped, counted.
    let got = feed(&mut r, &[(ISN + 1, false, false, b"ab")]);
    assert_eq!(got, vec![]);
    assert_eq!(r.stats().retransmitted_bytes, 2);
}

#[test]
fn segment_limit_gives_up_on_the_oldest_hole_early() {
    let mut r = Reassembler::new();
    let _ = feed(&mut r, &[(ISN, true, false, b"")]);
    let mut got = Vec::new();
    // One-byte segments at every other offset: each its own piece behind its own hole.
    for i in 0..=MAX_BUFFERED_SEGMENTS as u32 {
        r.segment(ISN + 2 + 2 * i, false, false, b"x", 1, 1, &mut |d| {
            got.push(own(d))
        });
    }
    assert_eq!(got, vec![D::Gap(1, 1), data_of(b"x", 1)]);
    assert_eq!(r.stats().limit_hits, 1);
}

#[test]
fn stream_across_the_sequence_wrap() {
    let isn = u32::MAX - 5;
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (isn, true, false, b""),
            (isn.wrapping_add(1), false, false, b"0123"),
            (isn.wrapping_add(9), false, false, b"89ab"), // after the wrap, ahead of a hole
            (isn.wrapping_add(5), false, false, b"4567"), // straddles 2^32
            (isn.wrapping_add(13), false, true, b"cd"),
        ],
    );
    assert_eq!(data(&got), b"0123456789abcd");
    assert_eq!(got.last(), Some(&D::Fin(5)));
    assert_eq!(r.offset(), 14);
}

#[test]
fn long_stream_wraps_more_than_once() {
    // 3 × 2^32 bytes would take too long; jump next forward through gaps instead, 512 MiB at a time.
    let mut r = Reassembler::with_limit(0);
    let isn = 0x8000_0000u32;
    let _ = feed(&mut r, &[(isn, true, false, b"")]);
    let step: u32 = 512 << 20;
    let mut seq = isn.wrapping_add(1);
    let mut got = Vec::new();
    for i in 0..24u64 {
        seq = seq.wrapping_add(step);
        r.segment(seq, false, false, b"z", i, 0, &mut |d| got.push(own(d)));
        seq = seq.wrapping_add(1);
    }
    assert_eq!(r.offset(), 24 * (u64::from(step) + 1));
    assert_eq!(data(&got), vec![b'z'; 24]);
    assert_eq!(r.stats().gap_bytes, 24 * u64::from(step));
    // An old segment from before the last wrap is still recognised as old (not as new data).
    let before = seq.wrapping_sub(step);
    let got = feed(&mut r, &[(before, false, false, b"q")]);
    assert_eq!(got, vec![]);
}

#[test]
fn fin_in_order() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 1, false, false, b"ab"),
            (ISN + 3, false, true, b"cd"), // FIN with data
            (ISN + 5, false, true, b""),   // FIN retransmitted
            (ISN + 5, false, false, b"late"),
        ],
    );
    assert_eq!(got, vec![data_of(b"ab", 2), data_of(b"cd", 3), D::Fin(3)]);
    assert_eq!(r.stats().after_fin_bytes, 4);
}

#[test]
fn fin_before_a_hole_waits_for_flush() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 1, false, false, b"ab"),
            (ISN + 5, false, true, b"ef"), // FIN after a hole at 2..4
        ],
    );
    assert_eq!(got, vec![data_of(b"ab", 2)]);
    assert_eq!(
        flush(&mut r, 9),
        vec![D::Gap(2, 9), data_of(b"ef", 9), D::Fin(9)]
    );

    // A bare FIN beyond a hole, nothing held: the flush gaps up to it.
    let mut r = Reassembler::new();
    let _ = feed(
        &mut r,
        &[(ISN, true, false, b""), (ISN + 4, false, true, b"")],
    );
    assert_eq!(flush(&mut r, 9), vec![D::Gap(3, 9), D::Fin(9)]);

    // The hole filled before the end: FIN delivered right then.
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 3, false, true, b"c"),
            (ISN + 1, false, false, b"ab"),
        ],
    );
    assert_eq!(got, vec![data_of(b"ab", 3), data_of(b"c", 3), D::Fin(3)]);
}

#[test]
fn held_bytes_beyond_a_later_fin_are_dropped() {
    let mut r = Reassembler::new();
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 3, false, false, b"cdefgh"),
            (ISN + 4, false, true, b"d"), // FIN at offset 4: "efgh" held beyond it
            (ISN + 1, false, false, b"ab"),
        ],
    );
    assert_eq!(got, vec![data_of(b"ab", 4), data_of(b"cd", 4), D::Fin(4)]);
    assert_eq!(r.stats().after_fin_bytes, 4);
}

#[test]
fn far_away_segments_are_dropped_unbuffered() {
    let mut r = Reassembler::new();
    let far = u32::try_from(MAX_SEQ_DISTANCE).unwrap() + 10;
    let got = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 1, false, false, b"ab"),
            (ISN + 3 + far, false, false, b"ahead"),
            (ISN.wrapping_sub(far), false, false, b"behind"),
            (ISN + 3, false, false, b"c"),
        ],
    );
    assert_eq!(got, vec![data_of(b"ab", 2), data_of(b"c", 5)]);
    let s = r.stats();
    assert_eq!((s.far_away_segments, s.out_of_order_segments), (2, 0));
    assert_eq!(r.buffered_bytes(), 0);
    assert_eq!(flush(&mut r, 6), vec![]);
}

#[test]
fn stats_add_up() {
    let mut r = Reassembler::new();
    let _ = feed(
        &mut r,
        &[
            (ISN, true, false, b""),
            (ISN + 3, false, false, b"cd"),
            (ISN + 1, false, false, b"ab"),
            (ISN + 1, false, false, b"ab"),
            (ISN + 9, false, false, b"ij"),
        ],
    );
    let _ = flush(&mut r, 9);
    assert_eq!(
        r.stats(),
        ReasmStats {
            segments: 5,
            bytes_delivered: 6,
            retransmitted_bytes: 2,
            out_of_order_segments: 2,
            gaps: 1,
            gap_bytes: 4,
            peak_buffered_bytes: 2,
            ..ReasmStats::default()
        }
    );
}

// ---- properties ----

/// A stream, its cut points (segment boundaries), and a seed-driven order with duplicates.
fn cut(stream_len: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % stream_len.max(1)).collect();
    points.push(0);
    points.push(stream_len);
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Feeds SYN, then the chosen data segments in the given order (indices into `segs`), then a FIN,
/// then flushes. The FIN is a separate segment so losing the last data segment leaves a hole to report.
fn run_stream(
    isn: u32,
    stream: &[u8],
    segs: &[(usize, usize)],
    order: &[usize],
    limit: usize,
) -> (Vec<D>, Reassembler) {
    let mut r = Reassembler::with_limit(limit);
    let mut got = Vec::new();
    let mut push = |d: Delivery<'_>| got.push(own(d));
    r.segment(isn, true, false, b"", 0, 0, &mut push);
    for (n, &i) in order.iter().enumerate() {
        let (a, b) = segs[i];
        let seq = isn.wrapping_add(1).wrapping_add(a as u32);
        r.segment(seq, false, false, &stream[a..b], n as u64 + 1, 0, &mut push);
    }
    let fin_seq = isn.wrapping_add(1).wrapping_add(stream.len() as u32);
    r.segment(fin_seq, false, true, b"", 1_000_000, 0, &mut push);
    r.flush(1_000_001, 0, &mut push);
    (got, r)
}

fn stream_and_cuts() -> impl Strategy<Value = (u32, Vec<u8>, Vec<usize>, Vec<usize>)> {
    (
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 1..3000),
        proptest::collection::vec(any::<usize>(), 0..60),
        proptest::collection::vec(any::<usize>(), 0..200),
    )
}

/// The partition plus extra segments over arbitrary ranges, overlapping the partition's boundaries.
fn with_overlaps(
    stream_len: usize,
    segs: &[(usize, usize)],
    extra: &[(usize, usize)],
) -> Vec<(usize, usize)> {
    let mut all = segs.to_vec();
    for &(x, y) in extra {
        let (a, b) = (x % stream_len, y % stream_len);
        all.push((a.min(b), a.max(b) + 1));
    }
    all
}

/// `order` seeds: a permutation of all segments (by sorting on random keys), plus duplicates.
fn shuffled(n: usize, keys: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| keys.get(i).copied().unwrap_or(i).wrapping_mul(2654435761));
    for k in keys.iter().skip(n).take(n) {
        order.insert(k % (order.len() + 1), k % n);
    }
    order
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_order_with_duplicates_gives_the_stream(
        (isn, stream, cuts, keys) in stream_and_cuts(),
        extra in proptest::collection::vec(any::<(usize, usize)>(), 0..20),
    ) {
        let segs = with_overlaps(stream.len(), &cut(stream.len(), &cuts), &extra);
        let order = shuffled(segs.len(), &keys);
        let (got, r) = run_stream(isn, &stream, &segs, &order, rdpdiag::replay::reasm::MAX_BUFFERED_BYTES);
        prop_assert_eq!(data(&got), stream.clone());
        let clean = !got.iter().any(|d| matches!(d, D::Gap(..) | D::Conflict { .. }));
        prop_assert!(clean, "gap or conflict in {:?}", got);
        prop_assert_eq!(got.last(), Some(&D::Fin(1_000_000)));
        prop_assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn lost_segments_become_gaps_of_their_size(
        (isn, stream, cuts, keys) in stream_and_cuts(),
        lost in proptest::collection::vec(any::<bool>(), 60),
    ) {
        let segs = cut(stream.len(), &cuts);
        let order: Vec<usize> = shuffled(segs.len(), &keys)
            .into_iter()
            .filter(|&i| !lost[i % lost.len()])
            .collect();
        let (got, _) = run_stream(isn, &stream, &segs, &order, rdpdiag::replay::reasm::MAX_BUFFERED_BYTES);
        // Expected: the stream as runs of kept bytes and merged lost ranges.
        let mut expected: Vec<D> = Vec::new();
        let mut kept = Vec::new();
        for (i, &(a, b)) in segs.iter().enumerate() {
            if lost[i % lost.len()] {
                match expected.last_mut() {
                    Some(D::Gap(n, _)) if kept.is_empty() => *n += (b - a) as u64,
                    _ => {
                        if !kept.is_empty() {
                            expected.push(D::Data(std::mem::take(&mut kept), 0));
                        }
                        expected.push(D::Gap((b - a) as u64, 0));
                    }
                }
            } else {
                kept.extend_from_slice(&stream[a..b]);
            }
        }
        if !kept.is_empty() {
            expected.push(D::Data(kept, 0));
        }
        // What came out, with Data runs merged and packets ignored.
        let mut merged: Vec<D> = Vec::new();
        for d in got {
            match (merged.last_mut(), d) {
                (Some(D::Data(acc, _)), D::Data(b, _)) => acc.extend_from_slice(&b),
                (_, D::Data(b, _)) => merged.push(D::Data(b, 0)),
                (_, D::Gap(n, _)) => merged.push(D::Gap(n, 0)),
                (_, D::Fin(_)) => {}
                (_, other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert_eq!(merged, expected);
    }

    #[test]
    fn tiny_limits_lose_bytes_only_as_gaps(
        (isn, stream, cuts, keys) in stream_and_cuts(),
        limit in 0usize..64,
        extra in proptest::collection::vec(any::<(usize, usize)>(), 0..20),
    ) {
        let segs = with_overlaps(stream.len(), &cut(stream.len(), &cuts), &extra);
        let order = shuffled(segs.len(), &keys);
        let (got, r) = run_stream(isn, &stream, &segs, &order, limit);
        // Every Data byte is the stream's byte at its offset; Data + Gap cover the stream exactly.
        let mut at = 0usize;
        for d in &got {
            match d {
                D::Data(b, _) => {
                    prop_assert_eq!(&stream[at..at + b.len()], &b[..]);
                    at += b.len();
                }
                D::Gap(n, _) => at += *n as usize,
                D::Fin(_) => prop_assert_eq!(at, stream.len()),
                D::Conflict { .. } => prop_assert!(false, "no conflicting bytes were sent"),
            }
        }
        prop_assert_eq!(at, stream.len());
        prop_assert!(matches!(got.last(), Some(D::Fin(_))));
        prop_assert_eq!(r.stats().bytes_delivered + r.stats().gap_bytes, stream.len() as u64);
    }
}
