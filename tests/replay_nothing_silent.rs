//! Never a silent "0 connections" (issue 12 §1): failed TCP attempts on any port when a capture holds no
//! recognised RDP, payloads cut by a small snapshot length, what an empty capture held, and `--expect`
//! with nothing analysed. Each capture is written by the test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rdpdiag::capture::{Frame, PcapWriter, TcpConversation};
use rdpdiag::session::Direction::{ClientToServer as C, ServerToClient as S};

const T0: i64 = 1_700_000_000_000_000;

/// A Connection Request asking for TLS and CredSSP (MS-RDPBCGR 2.2.1.1).
const CONNECTION_REQUEST: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x03,
    0x00, 0x00, 0x00,
];
/// A Connection Confirm selecting TLS (MS-RDPBCGR 2.2.1.2).
const CONNECTION_CONFIRM: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x00, 0x08, 0x00, 0x01,
    0x00, 0x00, 0x00,
];

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn write(name: &str, snaplen: u32, frames: &[Frame]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rdpdiag-silent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut frames = frames.to_vec();
    frames.sort_by_key(|f| f.ts_us);
    let file = std::fs::File::create(&path).unwrap();
    let mut w = PcapWriter::with_snaplen(std::io::BufWriter::new(file), snaplen).unwrap();
    w.frames(&frames).unwrap();
    w.into_inner().unwrap();
    path
}

fn replay(path: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .arg("replay")
        .args(extra)
        .arg(path)
        .output()
        .unwrap()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn kind<'a>(lines: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|v| v["kind"] == kind).collect()
}

fn summary_notes(lines: &[serde_json::Value]) -> Vec<String> {
    kind(lines, "summary")[0]["notes"]
        .as_array()
        .map(|a| a.iter().map(|n| n.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// A client failing three ways against servers on ports that are not RDP's: refused (8080), unanswered
/// for 4 s (5000), rejected by a router's ICMP administratively prohibited (4000).
fn failures_on_other_ports() -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut refused = TcpConversation::new(addr("10.0.0.5:40001"), addr("10.0.0.9:8080"), 1, 0);
    frames.push(refused.syn(T0));
    frames.push(refused.refused(T0 + 300));
    let mut silent = TcpConversation::new(addr("10.0.0.5:40002"), addr("10.0.0.9:5000"), 1, 0);
    for i in 0..3 {
        frames.push(silent.syn(T0 + 1_000 + i * 2_000_000));
    }
    let mut blocked = TcpConversation::new(addr("10.0.0.5:40003"), addr("10.0.0.7:4000"), 1, 0);
    frames.push(blocked.syn(T0 + 2_000));
    frames.push(blocked.unreachable(T0 + 2_500, "10.0.0.1".parse().unwrap(), 3, 13));
    // Later traffic, so the capture goes on past the SYN timeout.
    let mut web = TcpConversation::new(addr("10.0.0.5:40004"), addr("10.0.0.8:80"), 1, 0);
    frames.extend(web.handshake(T0 + 5_000_000, 1_000));
    frames.extend(web.data(T0 + 5_010_000, C, b"GET / HTTP/1.1\r\n\r\n"));
    frames
}

#[test]
fn failed_attempts_on_any_port_are_reported_when_no_rdp_is_seen() {
    let path = write("other-ports.pcap", 65_535, &failures_on_other_ports());
    let out = replay(&path, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    let conns = kind(&lines, "connection");
    let got: Vec<(String, String, String)> = conns
        .iter()
        .map(|c| {
            (
                c["server"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
                c["label"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let label = |p: u16| format!("port {p} not known as RDP; `--port {p}` to treat it as RDP");
    assert!(
        got.contains(&("10.0.0.9:8080".into(), "tcp-refused".into(), label(8080))),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "10.0.0.7:4000".into(),
            "tcp-unreachable".into(),
            label(4000)
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&("10.0.0.9:5000".into(), "tcp-filtered".into(), label(5000))),
        "{got:?}"
    );
    assert_eq!(got.len(), 3, "{got:?}");
    // The text report says it too.
    let text = String::from_utf8(replay(&path, &["--color", "never"]).stdout).unwrap();
    assert!(text.contains(&label(8080)), "{text}");
    // With `--port`, the port is RDP's: the same verdict without the mark.
    let out = replay(&path, &["--json", "--port", "8080"]);
    let lines = json_lines(&out);
    let conns = kind(&lines, "connection");
    assert_eq!(conns.len(), 1, "{conns:?}");
    assert_eq!(conns[0]["verdict"], "tcp-refused");
    assert!(conns[0].get("label").is_none(), "{:?}", conns[0]);
}

#[test]
fn failed_attempts_on_other_ports_stay_quiet_beside_real_rdp() {
    let mut frames = failures_on_other_ports();
    let mut rdp = TcpConversation::new(addr("10.0.0.6:50000"), addr("10.0.0.2:3389"), 7, 9);
    frames.extend(rdp.handshake(T0 + 10, 500));
    frames.extend(rdp.data(T0 + 2_000, C, &CONNECTION_REQUEST));
    frames.extend(rdp.data(T0 + 3_000, S, &CONNECTION_CONFIRM));
    let path = write("beside-rdp.pcap", 65_535, &frames);
    let lines = json_lines(&replay(&path, &["--json"]));
    let conns = kind(&lines, "connection");
    assert_eq!(conns.len(), 1, "{conns:?}");
    assert_eq!(conns[0]["server"], "10.0.0.2:3389");
}

/// A negotiation failure (MS-RDPBCGR 2.2.1.2.2): SSL_NOT_ALLOWED_BY_SERVER.
const NEGOTIATION_FAILURE: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x03, 0x00, 0x08, 0x00, 0x02,
    0x00, 0x00, 0x00,
];

/// An RDP setup whose every frame is cut to `snaplen` bytes, on `port`.
fn cut_capture(name: &str, port: u16, snaplen: u32) -> PathBuf {
    cut_capture_with(name, port, snaplen, &CONNECTION_CONFIRM)
}

fn cut_capture_with(name: &str, port: u16, snaplen: u32, answer: &[u8]) -> PathBuf {
    let mut rdp = TcpConversation::new(
        addr("10.0.0.6:50000"),
        SocketAddr::from(([10, 0, 0, 2], port)),
        7,
        9,
    );
    let mut frames = rdp.handshake(T0, 500);
    frames.extend(rdp.data(T0 + 2_000, C, &CONNECTION_REQUEST));
    frames.extend(rdp.data(T0 + 3_000, S, answer));
    if answer == CONNECTION_CONFIRM {
        frames.extend(rdp.data(T0 + 4_000, C, &[0x16, 3, 1, 0, 200]));
        frames.extend(rdp.data(T0 + 4_000, C, &[0x42; 200]));
    } else {
        // The RDP setup fits the snaplen; a web page beside it does not.
        let mut web = TcpConversation::new(addr("10.0.0.6:50001"), addr("10.0.0.8:80"), 1, 0);
        frames.extend(web.handshake(T0, 1_000));
        frames.extend(web.data(T0 + 4_000, S, &[b'x'; 200]));
    }
    write(name, snaplen, &frames)
}

#[test]
fn payloads_cut_by_the_snaplen_are_said_and_never_exit_0() {
    // On RDP's port: the connection is reported, its cut evidence a capture gap, nothing judged.
    let path = cut_capture("cut-3389.pcap", 3389, 64);
    let out = replay(&path, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    let conns = kind(&lines, "connection");
    assert_eq!(conns.len(), 1, "{conns:?}");
    assert_eq!(conns[0]["outcome"], "incomplete", "{:?}", conns[0]);
    let timeline = conns[0]["timeline"].to_string();
    assert!(timeline.contains("gap"), "{timeline}");
    let notes = summary_notes(&lines);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("snaplen 64, 3 packets cut")
                && n.contains("nothing could be judged")),
        "{notes:?}"
    );
    // On another port, cut before any payload byte: nothing to recognise, and still not a success.
    let path = cut_capture("cut-9999.pcap", 9999, 54);
    let out = replay(&path, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    assert!(kind(&lines, "connection").is_empty());
    let notes = summary_notes(&lines);
    assert!(notes.iter().any(|n| n.contains("snaplen 54")), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.contains("no RDP connection found")),
        "{notes:?}"
    );
    // Cut, but the first bytes of the Connection Request kept: recognised as RDP by content.
    let path = cut_capture("cut-9999-wide.pcap", 9999, 64);
    let lines = json_lines(&replay(&path, &["--json"]));
    assert_eq!(kind(&lines, "connection").len(), 1);
    // A snaplen that keeps the setup: judged, the cut bytes are gaps.
    let path = cut_capture_with("cut-3389-wide.pcap", 3389, 120, &NEGOTIATION_FAILURE);
    let lines = json_lines(&replay(&path, &["--json"]));
    let conns = kind(&lines, "connection");
    assert_eq!(conns.len(), 1, "{conns:?}");
    assert_eq!(conns[0]["verdict"], "neg-ssl-not-allowed", "{:?}", conns[0]);
    let notes = summary_notes(&lines);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("snaplen 120, 1 packets cut") && n.contains("capture gaps")),
        "{notes:?}"
    );
}

#[test]
fn zero_connections_say_what_the_input_held_and_fail_an_expectation() {
    let mut web = TcpConversation::new(addr("10.0.0.5:40004"), addr("10.0.0.8:80"), 1, 0);
    let mut frames = web.handshake(T0, 1_000);
    frames.extend(web.data(T0 + 10_000, C, b"GET / HTTP/1.1\r\n\r\n"));
    let mut tls = TcpConversation::new(addr("10.0.0.5:40005"), addr("10.0.0.8:443"), 1, 0);
    frames.extend(tls.handshake(T0, 1_000));
    frames.extend(tls.data(T0 + 10_000, C, &[0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0]));
    let mut web2 = TcpConversation::new(addr("10.0.0.5:40006"), addr("10.0.0.8:80"), 1, 0);
    frames.extend(web2.handshake(T0, 1_000));
    let path = write("no-rdp.pcap", 65_535, &frames);
    let out = replay(&path, &["--json"]);
    // Nothing to judge is never a success (the README's exit codes).
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let notes = summary_notes(&json_lines(&out));
    let held = format!(
        "no RDP connection found; the input held {} packets, 3 TCP flows (busiest server ports: 80 (2), 443 (1))",
        frames.len()
    );
    assert!(notes.iter().any(|n| n.ends_with(&held)), "{notes:?}");
    let text = String::from_utf8(replay(&path, &["--color", "never"]).stdout).unwrap();
    assert!(text.contains(&held), "{text}");
    // Expecting anything of nothing is a mismatch.
    let out = replay(&path, &["--json", "--expect", "healthy"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}
