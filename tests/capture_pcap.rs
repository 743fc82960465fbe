//! `rdpdiag::capture`: conversations written as pcap files decode with our own replay driver and with
//! tshark (when it is installed), with no checksum, length or sequence complaint.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::net::SocketAddr;
use std::process::Command;

use rdpdiag::capture::{Frame, PcapWriter, TcpConversation};
use rdpdiag::replay::{replay_source, ReplayOptions, Source};
use rdpdiag::session::Direction;
use rdpdiag::wire::rdp_neg::{FailureCode, NegData, NegFailure};
use rdpdiag::wire::x224::{
    encode_connection_confirm, encode_connection_request, ConnectionRequestSpec,
};

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;
const T0: i64 = 1_559_347_200_000_000;

/// A client asks, the server refuses with RDP_NEG_FAILURE `code`, both close: on `client` → `server`.
fn refused_negotiation(client: &str, server: &str, mss: usize, code: u32) -> Vec<Frame> {
    let client: SocketAddr = client.parse().unwrap();
    let server: SocketAddr = server.parse().unwrap();
    let mut tcp = TcpConversation::new(client, server, 0xffff_ff00, 4_000_000_000);
    tcp.set_mss(mss);
    let request = encode_connection_request(&ConnectionRequestSpec {
        cookie: Some("a-rather-long-cookie-so-the-request-needs-several-segments"),
        requested_protocols: Some(rdpdiag::wire::rdp_neg::SecurityProtocols(3)),
        ..Default::default()
    })
    .unwrap();
    let failure = NegData::Failure(NegFailure {
        flags: 0,
        length: 8,
        failure_code: FailureCode(code),
    });
    let mut frames = tcp.handshake(T0, 300);
    frames.extend(tcp.data(T0 + 1_000, C, &request));
    frames.push(tcp.ack(T0 + 1_200, S));
    frames.extend(tcp.data(
        T0 + 2_000,
        S,
        &encode_connection_confirm(Some(&failure)).unwrap(),
    ));
    frames.push(tcp.fin(T0 + 2_100, S));
    frames.push(tcp.fin(T0 + 2_300, C));
    frames.push(tcp.ack(T0 + 2_400, S));
    frames
}

fn write(name: &str, frames: &[Frame]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rdpdiag-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    w.frames(frames).unwrap();
    w.into_inner().unwrap();
    path
}

fn cases() -> Vec<(&'static str, Vec<Frame>)> {
    vec![
        (
            "v4.pcap",
            refused_negotiation("192.0.2.10:50123", "192.0.2.20:3389", 16, 5),
        ),
        (
            "v6.pcap",
            refused_negotiation("[::1]:50124", "[::1]:3389", 1460, 2),
        ),
        ("v4-odd-port.pcap", {
            // An odd payload length (checksum padding) on a port that is not 3389.
            refused_negotiation("127.0.0.1:40000", "127.0.0.1:13389", 7, 1)
        }),
    ]
}

#[test]
fn replay_reads_written_conversations() {
    for (name, frames) in cases() {
        let path = write(name, &frames);
        let mut reports = Vec::new();
        let (stats, err) = replay_source(
            &Source::File(path.display().to_string()),
            &ReplayOptions::default(),
            &mut |r| {
                reports.push(r);
                true
            },
        );
        assert_eq!(err, None, "{name}");
        assert_eq!(stats.undecodable, 0, "{name}: {stats:?}");
        assert_eq!(stats.packets, frames.len() as u64);
        assert_eq!(stats.flows.gaps + stats.flows.conflicts, 0, "{name}");
        assert_eq!(reports.len(), 1, "{name}");
        let verdict = reports[0].diagnosis.verdict_id().as_str();
        assert!(verdict.starts_with("neg-"), "{name}: {verdict}");
    }
}

#[test]
fn tshark_finds_nothing_to_flag() {
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("tshark is not installed: skipping the tshark check");
        return;
    }
    for (name, frames) in cases() {
        let path = write(name, &frames);
        let fields = Command::new("tshark")
            .args(["-n", "-r"])
            .arg(&path)
            .args([
                "-o",
                "ip.check_checksum:TRUE",
                "-o",
                "tcp.check_checksum:TRUE",
                "-o",
                "tcp.analyze_sequence_numbers:TRUE",
                "-T",
                "fields",
                "-E",
                "separator=;",
                "-E",
                "aggregator=+",
                "-e",
                "frame.number",
                "-e",
                "ip.checksum.status",
                "-e",
                "tcp.checksum.status",
                "-e",
                "tcp.analysis.flags",
                "-e",
                "_ws.expert.severity",
                "-e",
                "_ws.malformed",
                "-e",
                "tpkt.length",
            ])
            .output()
            .unwrap();
        assert!(fields.status.success(), "{name}: {fields:?}");
        let text = String::from_utf8(fields.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), frames.len(), "{name}: {text}");
        for line in &lines {
            let f: Vec<&str> = line.split(';').collect();
            // ip.checksum.status 1 = good (empty for IPv6, which has no header checksum).
            assert!(matches!(f[1], "1" | ""), "{name}: ip checksum: {line}");
            assert_eq!(f[2], "1", "{name}: tcp checksum: {line}");
            assert_eq!(f[3], "", "{name}: tcp analysis: {line}");
            // Chat (0x200000: SYN, FIN) and Note (0x400000: "initiates the connection closing") are the
            // narration of a normal connection; Warning (0x600000) and Error (0x800000) are complaints.
            for severity in f[4].split('+').filter(|s| !s.is_empty()) {
                let severity: u32 = severity.parse().unwrap();
                assert!(severity < 0x60_0000, "{name}: expert info: {line}");
            }
            assert_eq!(f[5], "", "{name}: malformed: {line}");
        }
        // tshark reassembled the TPKT PDUs across segments too (it looks for TPKT on port 3389 only).
        assert!(
            name.contains("odd-port") || lines.iter().filter(|l| !l.ends_with(';')).count() >= 2,
            "{name}: {text}"
        );
    }
}

#[test]
fn tshark_accepts_icmp_unreachable_checksums() {
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("tshark is not installed: skipping the tshark check");
        return;
    }
    for (name, client, server, reporter, icmp_type) in [
        (
            "icmp4.pcap",
            "10.0.0.1:50000",
            "10.9.9.9:3389",
            "192.0.2.1",
            3,
        ),
        (
            "icmp6.pcap",
            "[2001:db8::1]:50000",
            "[2001:db8::9]:3389",
            "2001:db8::ff",
            1,
        ),
    ] {
        let mut tcp = TcpConversation::new(client.parse().unwrap(), server.parse().unwrap(), 1, 2);
        let frames = vec![
            tcp.syn(T0),
            tcp.unreachable(T0 + 10, reporter.parse().unwrap(), icmp_type, 3),
        ];
        let path = write(name, &frames);
        let out = Command::new("tshark")
            .args(["-n", "-r"])
            .arg(&path)
            .args([
                "-T",
                "fields",
                "-E",
                "separator=;",
                "-e",
                "icmp.checksum.status",
            ])
            .args(["-e", "icmpv6.checksum.status", "-e", "_ws.malformed"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let last = text.lines().nth(1).unwrap_or_default();
        assert_eq!(last.replace(';', ""), "1", "{name}: {text}");
    }
}
