//! A file is read ahead on a thread of its own, which also drops the packets of flows the flow table has
//! marked ignored (`IgnoredFilter`) — marks it learns late, while packets of those flows are already on
//! their way. This proves the read-ahead changes nothing: the reports and counters of `replay_source`
//! equal those of a plain single-threaded loop (libpcap → `Decoder` → `FlowTable` without any filter →
//! `report_flow`), on every fixture capture and on captures built to stress the hand-over:
//! - hundreds of interleaved background flows, so batches are full and marks come back late;
//! - a 4-tuple reused by a new connection (an RDP one, on port 8080) 1 to 6000 packets after the flow on
//!   it was marked ignored, so the reusing SYN is handed over before or after the mark is learnt;
//! - a 4-tuple reused after an RDP connection on it finished;
//! - a non-RDP flow idle past the idle timeout that resumes with an RDP Connection Request (picked up
//!   mid-stream), and one that resumes with more of the same;
//! - every scripted RDP conversation of `tests/diagnose_rules.rs` among the background traffic;
//! - a scanner's SYNs (recognised as a scan part-way, so its later SYNs open no flow) among all of it;
//! - the same capture with every frame cut to a small snapshot length (segments placed from their
//!   headers, the cut bytes capture gaps).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use common::*;
use rdpdiag::capture::{Frame, TcpConversation};
use rdpdiag::replay::cut::cut_tcp;
use rdpdiag::replay::flows::{FlowOptions, FlowStats, FlowTable};
use rdpdiag::replay::packet::{Decoded, Decoder, LinkType};
use rdpdiag::replay::{replay_source, report_flow, ReplayOptions, Source};
use rdpdiag::report::ConnectionReport;

const WARN_DAYS: i64 = 30;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rdpdiag-readahead-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}.pcap"))
}

/// The oracle: one thread, every packet straight into the flow table.
fn single_threaded(path: &Path, flows: &FlowOptions) -> (Vec<ConnectionReport>, FlowStats, u64) {
    let name = path.display().to_string();
    let mut cap = pcap::Capture::from_file(path).unwrap();
    let link = LinkType::from_dlt(cap.get_datalink().0).unwrap();
    let mut decoder = Decoder::new();
    let mut table = FlowTable::new(flows.clone());
    let mut reports = Vec::new();
    let (mut packets, mut last_ts) = (0u64, 0i64);
    while let Ok(p) = cap.next_packet() {
        packets += 1;
        let ts = p.header.ts.tv_sec * 1_000_000 + p.header.ts.tv_usec;
        last_ts = last_ts.max(ts);
        let mut out = |f| reports.push(report_flow(&name, f, WARN_DAYS));
        let cut = p.header.len > p.header.caplen;
        match decoder.decode(link, p.data, ts) {
            Ok(Decoded::Tcp(seg)) => table.segment(&seg, ts, packets, &mut out),
            Ok(Decoded::IcmpUnreachable(icmp)) => table.icmp(&icmp, ts, packets, &mut out),
            Err(_) if cut => {
                if let Some(c) = cut_tcp(link, p.data) {
                    table.segment_cut(&c.segment, c.missing, ts, packets, &mut out);
                }
            }
            _ => {}
        }
    }
    table.end(last_ts, &mut |f| {
        reports.push(report_flow(&name, f, WARN_DAYS))
    });
    (reports, table.stats.clone(), packets)
}

fn check(path: &Path, flows: &FlowOptions) -> rdpdiag::replay::ReplayStats {
    let opts = ReplayOptions {
        warn_days: WARN_DAYS,
        flows: flows.clone(),
        ..ReplayOptions::default()
    };
    let mut reports = Vec::new();
    let (stats, err) = replay_source(&Source::File(path.display().to_string()), &opts, &mut |r| {
        reports.push(r);
        true
    });
    assert_eq!(err, None, "{}", path.display());
    let (want, want_flows, want_packets) = single_threaded(path, flows);
    assert_eq!(stats.packets, want_packets, "{}", path.display());
    assert_eq!(stats.flows, want_flows, "{}", path.display());
    assert_eq!(reports.len(), want.len(), "{}", path.display());
    for (got, want) in reports.iter().zip(&want) {
        assert_eq!(got, want, "{}", path.display());
    }
    stats
}

#[test]
fn every_fixture_capture_reads_the_same_ahead() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut n = 0;
    for dir in ["pcaps", "recorded"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
            .collect();
        files.sort();
        for f in files {
            check(&f, &FlowOptions::default());
            n += 1;
        }
    }
    assert!(n > 20, "only {n} fixture captures found");
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A non-RDP exchange on `tcp` from `t0`: handshake, a request and `segments` response segments, one
/// every `step_us`; without a close.
fn background(tcp: &mut TcpConversation, t0: i64, segments: usize, step_us: i64) -> Vec<Frame> {
    let mut frames = tcp.handshake(t0, 200);
    frames.extend(tcp.data(t0 + 500, C, b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"));
    for i in 0..segments {
        let t = t0 + 1_000 + step_us * i64::try_from(i).unwrap();
        frames.extend(tcp.data(t, S, &[b'a'; 400]));
        if i % 4 == 3 {
            frames.push(tcp.ack(t + 10, C));
        }
    }
    frames
}

/// Frames of `script` between `client` and `server`, shifted to start at `t0`.
fn script_at(script: &Script, client: SocketAddr, server: SocketAddr, t0: i64) -> Vec<Frame> {
    let shift = t0 - script.base;
    script
        .frames(client, server, |_| 1460)
        .into_iter()
        .flatten()
        .map(|f| Frame {
            ts_us: f.ts_us + shift,
            bytes: f.bytes,
        })
        .collect()
}

/// An RDP negotiation (SSL offered and selected) then an RST, as a script, spread over 3 s so that its
/// later packets come after the reader has learnt what happened to the 4-tuple before.
fn rdp_attempt() -> Script {
    Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .wait(1_500.0)
        .select(1)
        .wait(1_500.0)
        .client_hello()
        .rst(C)
}

/// The stress capture described at the top.
fn stress_frames() -> Vec<Frame> {
    let t0 = JUNE_2019 * 1_000_000;
    let mut frames: Vec<Frame> = Vec::new();
    // One long non-RDP transfer, a segment every 2 ms for 12 s: most packets of the capture are dropped
    // by the filter, and the table's clock runs on the ticks.
    let mut bulk = TcpConversation::new(addr("10.12.0.1:33000"), addr("10.12.0.2:445"), 5, 6);
    frames.extend(background(&mut bulk, t0, 6_000, 2_000));
    // 400 background flows, started 2 ms apart, 60 segments each 1 ms apart: about 30k packets, several
    // interleaved at any time.
    for i in 0..400u32 {
        let client = SocketAddr::from(([10, 1, (i / 200) as u8, (i % 200) as u8 + 1], 40_000));
        let server = SocketAddr::from(([10, 9, 0, (i % 7) as u8 + 1], 80));
        let mut tcp = TcpConversation::new(client, server, 1000 * i, 7_000_000 + i);
        frames.extend(background(&mut tcp, t0 + i64::from(i) * 2_000, 60, 1_000));
    }
    // Reused 4-tuples: a non-RDP flow, then, `gap` later, an RDP connection on the same ports (8080).
    for (n, gap_us) in [5_i64, 50, 500, 5_000, 50_000, 200_000]
        .into_iter()
        .enumerate()
    {
        let client = addr(&format!("10.4.0.{}:5555", n + 1));
        let server = addr("10.5.0.1:8080");
        let start = t0 + 100_000 + 97_000 * i64::try_from(n).unwrap();
        let mut first = TcpConversation::new(client, server, 42, 4242);
        let mut f = background(&mut first, start, 3, 100);
        f.push(first.fin(start + 2_000, C));
        frames.extend(f);
        frames.extend(script_at(
            &rdp_attempt(),
            client,
            server,
            start + 2_000 + gap_us,
        ));
    }
    // A 4-tuple reused after an RDP connection on it ended (RST), then again.
    for k in 0..3 {
        frames.extend(script_at(
            &rdp_attempt(),
            addr("10.6.0.1:6000"),
            addr("10.7.0.1:3389"),
            t0 + 150_000 + 40_000 * k,
        ));
    }
    // Idle past the timeout (300 s), then resumed: once with a Connection Request (picked up mid-stream),
    // once with more of the same. Background traffic keeps going meanwhile so sweeps run.
    let late = t0 + 400_000_000;
    for (n, resume_rdp) in [true, false].into_iter().enumerate() {
        let client = addr(&format!("10.8.0.{}:7000", n + 1));
        let server = addr("10.5.0.2:9000");
        let mut tcp = TcpConversation::new(client, server, 77, 7777);
        frames.extend(background(&mut tcp, t0 + 300_000, 2, 100));
        if resume_rdp {
            let request = Script::new(JUNE_2019).request(Some(3));
            let bytes = match &request.steps[0].1 {
                Step::Bytes(_, b) => b.clone(),
                other => panic!("{other:?}"),
            };
            frames.extend(tcp.data(late + 1_000, C, &bytes));
        } else {
            frames.extend(tcp.data(late + 1_000, C, b"more of the same"));
        }
    }
    for i in 0..50u32 {
        let client = SocketAddr::from(([10, 11, 0, i as u8 + 1], 41_000));
        let server = addr("10.9.0.1:80");
        let mut tcp = TcpConversation::new(client, server, i, i + 1);
        frames.extend(background(&mut tcp, late + i64::from(i) * 1_000, 20, 1_000));
    }
    // Every scripted conversation, 3 ms apart, among the background flows.
    for (i, (_, script)) in all_scripts().into_iter().enumerate() {
        let i = u32::try_from(i).unwrap();
        let client = SocketAddr::from(([10, 2, (i / 200) as u8, (i % 200) as u8 + 1], 50_000));
        let server = SocketAddr::from(([10, 3, 0, 1], 3389));
        frames.extend(script_at(
            &script.capture_view(),
            client,
            server,
            t0 + 20_000 + i64::from(i) * 3_000,
        ));
    }
    // A scanner: 2,000 SYNs to port 3389 of as many addresses, 100 us apart, one in 16 refused.
    for i in 0..2_000u32 {
        let ts = t0 + 50_000 + i64::from(i) * 100;
        let target = SocketAddr::from(([10, 13, (i / 250) as u8, (i % 250) as u8 + 1], 3389));
        let mut tcp = TcpConversation::new(addr("10.66.0.1:40000"), target, i, 9);
        frames.push(tcp.syn(ts));
        if i % 16 == 5 {
            frames.push(tcp.refused(ts + 40));
        }
    }
    frames.retain(|f| !f.bytes.ends_with(b"capture end"));
    frames.sort_by_key(|f| f.ts_us);
    assert!(frames.len() > 20_000, "{}", frames.len());
    frames
}

/// Writes `frames` cut to `snaplen` bytes each, as `tcpdump -s SNAPLEN` does.
fn write_cut_pcap(path: &Path, frames: &[Frame], snaplen: u32) {
    let file = std::fs::File::create(path).unwrap();
    let mut w =
        rdpdiag::capture::PcapWriter::with_snaplen(std::io::BufWriter::new(file), snaplen).unwrap();
    w.frames(frames).unwrap();
    w.into_inner().unwrap();
}

#[test]
fn a_capture_cut_by_its_snaplen_reads_the_same_ahead() {
    for snaplen in [64, 96] {
        let path = temp(&format!("stress-cut-{snaplen}"));
        write_cut_pcap(&path, &stress_frames(), snaplen);
        let stats = check(&path, &FlowOptions::default());
        assert!(stats.cut_packets > 10_000, "{}", stats.cut_packets);
        let _ = std::fs::remove_file(&path);
    }
}

fn stress(name: &str, flows: &FlowOptions) {
    let path = temp(name);
    write_pcap(&path, &stress_frames());
    // Thread timing varies from run to run: the equality must hold every time.
    for _ in 0..3 {
        let stats = check(&path, flows);
        assert!(
            stats
                .notes
                .iter()
                .any(|n| n.starts_with("scan from 10.66.0.1: ")),
            "{:?}",
            stats.notes
        );
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_stressed_hand_over_changes_nothing() {
    stress("stress-default", &FlowOptions::default());
}

/// Short timeouts: RDP flows go idle and are swept while the long transfer's dropped packets are all
/// that move the table's clock.
#[test]
fn sweeps_on_ticks_happen_at_the_same_packets() {
    stress(
        "stress-short-idle",
        &FlowOptions {
            idle_timeout_us: 2_000_000,
            syn_timeout_us: 1_000_000,
            ..FlowOptions::default()
        },
    );
}
