//! Floods stay bounded and a scan reads as a scan (issue 12 §3): the summary counts a scanner's SYNs,
//! answers and ports instead of one record per probe, and the real connections among them are reported.
//! The memory bounds themselves are benchmarks (`benches/compare.sh --floods`), not timed tests.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;

use rdpdiag::capture::{PcapWriter, TcpConversation};
use rdpdiag::session::Direction::{ClientToServer as C, ServerToClient as S};

const T0: i64 = 1_700_000_000_000_000;

const CONNECTION_REQUEST: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x03,
    0x00, 0x00, 0x00,
];
const NEGOTIATION_FAILURE: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x03, 0x00, 0x08, 0x00, 0x02,
    0x00, 0x00, 0x00,
];

#[test]
fn a_scan_is_summarised_and_the_real_connection_among_it_reported() {
    let dir = std::env::temp_dir().join(format!("rdpdiag-floods-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("scan.pcap");
    let file = std::fs::File::create(&path).unwrap();
    let mut w = PcapWriter::new(std::io::BufWriter::new(file)).unwrap();
    let scanner = Ipv4Addr::new(10, 66, 0, 1);
    const SYNS: u32 = 5_000;
    for i in 0..SYNS {
        let ts = T0 + i64::from(i) * 100;
        let target = SocketAddr::from((Ipv4Addr::from(0x0A00_0000 | (i + 1)), 3389));
        let port = if i % 10 == 9 { 22 } else { 3389 };
        let target = SocketAddr::new(target.ip(), port);
        let mut tcp = TcpConversation::new(SocketAddr::from((scanner, 40_000)), target, i, 7);
        w.frame(ts, &tcp.syn(ts).bytes).unwrap();
        if i % 16 == 5 {
            w.frame(ts + 50, &tcp.refused(ts + 50).bytes).unwrap();
        }
        if i % 100 == 3 {
            // An open port: SYN/ACK, and the scanner resets.
            w.frame(ts + 50, &tcp.syn_ack(ts + 50).bytes).unwrap();
            w.frame(ts + 60, &tcp.rst(ts + 60, C).bytes).unwrap();
        }
        if i == SYNS / 2 {
            let mut rdp = TcpConversation::new(
                "192.168.7.1:50000".parse().unwrap(),
                "10.200.0.1:3389".parse().unwrap(),
                1,
                2,
            );
            for f in rdp.handshake(ts, 300) {
                w.frame(f.ts_us, &f.bytes).unwrap();
            }
            for f in rdp.data(ts + 1_000, C, &CONNECTION_REQUEST) {
                w.frame(f.ts_us, &f.bytes).unwrap();
            }
            for f in rdp.data(ts + 1_500, S, &NEGOTIATION_FAILURE) {
                w.frame(f.ts_us, &f.bytes).unwrap();
            }
        }
    }
    w.into_inner().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args(["replay", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let conns: Vec<_> = lines.iter().filter(|v| v["kind"] == "connection").collect();
    // The real connection is there; the scan's probes are not, beyond the few before it was recognised.
    assert!(
        conns
            .iter()
            .any(|c| c["verdict"] == "neg-ssl-not-allowed" && c["client"] == "192.168.7.1:50000"),
        "{conns:?}"
    );
    assert!(conns.len() < 64, "{} records", conns.len());
    let notes = lines.last().unwrap()["notes"].to_string();
    assert!(notes.contains("scan from 10.66.0.1: "), "{notes}");
    assert!(notes.contains("to ports 3389 ("), "{notes}");
    assert!(notes.contains(", 22 ("), "{notes}");
    assert!(
        notes.contains("refused") && notes.contains("answered"),
        "{notes}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
