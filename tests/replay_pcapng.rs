//! pcapng as `dumpcap -i eth0 -i any` writes it (issue 12 §2): several interfaces of different link types
//! (Ethernet, Linux cooked SLL) with their own timestamp resolutions, in one file that libpcap refuses.
//! The file is written by the test, block by block (pcapng, draft-ietf-opsawg-pcapng).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};

use rdpdiag::capture::{Frame, TcpConversation};
use rdpdiag::session::Direction::{ClientToServer as C, ServerToClient as S};

const T0: i64 = 1_700_000_000_000_000;

const CONNECTION_REQUEST: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x03,
    0x00, 0x00, 0x00,
];
/// RDP_NEG_FAILURE SSL_NOT_ALLOWED_BY_SERVER (MS-RDPBCGR 2.2.1.2.2).
const NEGOTIATION_FAILURE: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x03, 0x00, 0x08, 0x00, 0x02,
    0x00, 0x00, 0x00,
];

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    while body.len() % 4 != 0 {
        body.push(0);
    }
    let len = u32::try_from(body.len() + 12).unwrap();
    let mut b = kind.to_le_bytes().to_vec();
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(&body);
    b.extend_from_slice(&len.to_le_bytes());
    b
}

fn section_header() -> Vec<u8> {
    let mut body = 0x1A2B_3C4Du32.to_le_bytes().to_vec();
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(-1i64).to_le_bytes());
    block(0x0A0D_0D0A, &body)
}

/// An interface of `linktype` with `if_tsresol` = `tsresol` (10^-tsresol s).
fn interface(linktype: u16, tsresol: u8) -> Vec<u8> {
    let mut body = linktype.to_le_bytes().to_vec();
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&0u32.to_le_bytes()); // snaplen: none
    body.extend_from_slice(&9u16.to_le_bytes()); // if_tsresol
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&[tsresol, 0, 0, 0]);
    body.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
    block(1, &body)
}

fn packet(interface: u32, units: u64, data: &[u8]) -> Vec<u8> {
    let mut body = interface.to_le_bytes().to_vec();
    body.extend_from_slice(&u32::try_from(units >> 32).unwrap().to_le_bytes());
    body.extend_from_slice(&u32::try_from(units & 0xffff_ffff).unwrap().to_le_bytes());
    let len = u32::try_from(data.len()).unwrap().to_le_bytes();
    body.extend_from_slice(&len);
    body.extend_from_slice(&len);
    body.extend_from_slice(data);
    block(6, &body)
}

/// The Ethernet frame as Linux cooked capture v1 (LINKTYPE_LINUX_SLL) shows it.
fn as_sll(ethernet: &[u8]) -> Vec<u8> {
    let mut sll = vec![0, 4, 0, 1, 0, 6];
    sll.extend_from_slice(&ethernet[6..12]);
    sll.extend_from_slice(&[0, 0]);
    sll.extend_from_slice(&ethernet[12..]);
    sll
}

/// One RDP setup seen on two interfaces: the client's packets on an Ethernet interface with
/// microsecond timestamps, the server's on a Linux cooked one with nanosecond timestamps.
fn two_interfaces() -> (Vec<u8>, usize) {
    let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
    let mut tcp = TcpConversation::new(addr("10.0.0.6:50000"), addr("10.0.0.2:3389"), 7, 9);
    let mut frames: Vec<(bool, Frame)> = Vec::new();
    frames.push((true, tcp.syn(T0)));
    frames.push((false, tcp.syn_ack(T0 + 500)));
    frames.push((true, tcp.ack(T0 + 600, C)));
    frames.extend(
        tcp.data(T0 + 2_000, C, &CONNECTION_REQUEST)
            .into_iter()
            .map(|f| (true, f)),
    );
    frames.extend(
        tcp.data(T0 + 3_250, S, &NEGOTIATION_FAILURE)
            .into_iter()
            .map(|f| (false, f)),
    );
    frames.push((false, tcp.fin(T0 + 4_000, S)));
    let mut file = section_header();
    file.extend(interface(1, 6));
    file.extend(interface(113, 9));
    let n = frames.len();
    for (client, f) in frames {
        let ts = u64::try_from(f.ts_us).unwrap();
        if client {
            file.extend(packet(0, ts, &f.bytes));
        } else {
            file.extend(packet(1, ts * 1_000, &as_sll(&f.bytes)));
        }
    }
    (file, n)
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rdpdiag-pcapng-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn replay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .arg("replay")
        .args(args)
        .output()
        .unwrap()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn pcapng_with_interfaces_of_two_link_types_is_read() {
    let (bytes, frames) = two_interfaces();
    let path = write("two-links.pcapng", &bytes);
    let p = path.to_str().unwrap();
    let out = replay(&["--json", p]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    let conn = lines.iter().find(|v| v["kind"] == "connection").unwrap();
    assert_eq!(conn["verdict"], "neg-ssl-not-allowed", "{conn}");
    assert_eq!(conn["client"], "10.0.0.6:50000");
    // Each interface's timestamps in its own unit: the SYN/ACK 500 us after the SYN, the failure 1.25 ms
    // after the request, packet numbers as in the file.
    let timeline = conn["timeline"].as_array().unwrap();
    let connected = timeline
        .iter()
        .find(|e| e["event"] == "tcp_connected")
        .unwrap();
    assert_eq!(connected["rtt_us"], 500, "{connected}");
    assert_eq!(connected["packet"], 2);
    let failure = timeline
        .iter()
        .find(|e| e["event"] == "negotiation_failure")
        .unwrap();
    assert_eq!(failure["t_us"], 3_250, "{failure}");
    let summary = lines.iter().find(|v| v["kind"] == "summary").unwrap();
    let notes = summary["notes"].to_string();
    assert!(
        notes.contains("2 interfaces of 2 link types: ethernet, linux_sll"),
        "{notes}"
    );
    assert!(frames >= 6);
    // From standard input too.
    let out = Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args(["replay", "--json", "-"])
        .stdin(std::fs::File::open(&path).unwrap())
        .output()
        .unwrap();
    let verdicts: Vec<_> = json_lines(&out)
        .into_iter()
        .filter(|v| v["kind"] == "connection")
        .map(|v| v["verdict"].clone())
        .collect();
    assert_eq!(verdicts, ["neg-ssl-not-allowed"]);
}

#[test]
fn a_filter_applies_to_every_interface() {
    let (bytes, _) = two_interfaces();
    let path = write("filtered.pcapng", &bytes);
    let p = path.to_str().unwrap();
    // Both directions pass a port filter, whatever the interface's link type.
    let out = replay(&["--json", "--filter", "tcp port 3389", p]);
    let conns: Vec<_> = json_lines(&out)
        .into_iter()
        .filter(|v| v["kind"] == "connection")
        .collect();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["verdict"], "neg-ssl-not-allowed");
    // A filter that keeps only the server's side: the client's packets are gone, packet numbers stay.
    let out = replay(&["--json", "--filter", "src port 3389", p]);
    let conns: Vec<_> = json_lines(&out)
        .into_iter()
        .filter(|v| v["kind"] == "connection")
        .collect();
    assert_eq!(conns.len(), 1, "{conns:?}");
    assert!(conns[0]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["dir"] != "client_to_server"));
    // A filter that does not compile: refused once, before anything is read, one line naming it, exit 2.
    let out = replay(&["--filter", "tcp port banana", p]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("rdpdiag: --filter \"tcp port banana\": ") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn an_interface_of_an_unknown_link_type_is_skipped_and_said() {
    let (mut bytes, _) = two_interfaces();
    // A third interface (USER0, 147) with one packet.
    bytes.extend(interface(147, 6));
    bytes.extend(packet(2, 1, b"opaque"));
    let path = write("user0.pcapng", &bytes);
    let out = replay(&["--json", path.to_str().unwrap()]);
    let lines = json_lines(&out);
    assert_eq!(
        lines.iter().filter(|v| v["kind"] == "connection").count(),
        1
    );
    let notes = lines.last().unwrap()["notes"].to_string();
    assert!(
        notes.contains("1 packets on interfaces of a link type not decoded (first: 147"),
        "{notes}"
    );
    // Only such interfaces: an error, as for a pcap file of that link type.
    let mut only = section_header();
    only.extend(interface(147, 6));
    only.extend(packet(0, 1, b"opaque"));
    let path = write("only-user0.pcapng", &only);
    let out = replay(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("link type 147"));
}

#[test]
fn the_socks5_fixture_names_proxy_and_tunnelled_server_from_pcapng_too() {
    // The same capture as pcapng (one Ethernet interface), converted here from the classic fixture.
    let pcap = std::fs::read(format!(
        "{}/fixtures/pcaps/arkime__socks5-rdp.pcap",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(
        &pcap[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian, microseconds"
    );
    let mut file = section_header();
    file.extend(interface(1, 6));
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let word = |o: usize| u32::from_le_bytes(pcap[at + o..at + o + 4].try_into().unwrap());
        let (sec, usec, caplen) = (word(0), word(4), word(8) as usize);
        let data = &pcap[at + 16..at + 16 + caplen];
        file.extend(packet(
            0,
            u64::from(sec) * 1_000_000 + u64::from(usec),
            data,
        ));
        at += 16 + caplen;
    }
    let path = write("socks5.pcapng", &file);
    let out = replay(&["--json", path.to_str().unwrap()]);
    let conn = json_lines(&out)
        .into_iter()
        .find(|v| v["kind"] == "connection")
        .unwrap();
    assert_eq!(conn["server"], "10.0.0.2:42356");
    assert_eq!(conn["tunnelled_server"], "10.0.0.1:3389");
}
