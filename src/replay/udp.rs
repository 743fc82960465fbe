//! RDP's UDP transport (MS-RDPEUDP) in a capture: which flows opened it and how far their handshake went
//! (SYN, SYN+ACK, the client's first datagram after it), said in the summary's notes. The secure channel
//! of an RDP connection is set up over TCP first (the UDP transport is a side channel the TCP connection
//! offers), so these flows are listed, not diagnosed: a SYN left unanswered means the client stayed on TCP.
//!
//! A flow is tracked when it starts with an RDPEUDP SYN on any port, or when either side uses an RDP port
//! (3389 or `--port`; picked up mid-stream). Bounded: at most [`MAX_UDP_FLOWS`]; more are counted.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::packet::UdpDatagram;
use crate::wire::rdpeudp::{parse_syn_datagram, UdpVersion};

/// The most UDP flows tracked.
pub const MAX_UDP_FLOWS: usize = 4_096;
/// The most flows named one by one in the notes; the others are counted.
pub const NOTED_FLOWS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
struct UdpFlow {
    client: SocketAddr,
    server: SocketAddr,
    first_packet: u64,
    syns: u32,
    syn_version: Option<UdpVersion>,
    /// The SYN+ACK's packet and the version it agreed.
    syn_ack: Option<(u64, Option<UdpVersion>)>,
    /// A client datagram after the SYN+ACK: the handshake completed.
    established: bool,
    datagrams: u64,
    bytes: u64,
}

/// Every RDP UDP transport flow of one capture.
#[derive(Debug, Default)]
pub struct UdpTransports {
    flows: BTreeMap<(SocketAddr, SocketAddr), UdpFlow>,
    /// Flows not tracked for the limit.
    pub untracked: u64,
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl UdpTransports {
    /// One datagram (packet `packet`); `rdp_port` says whether a port is an RDP port.
    pub fn datagram(&mut self, d: &UdpDatagram<'_>, packet: u64, rdp_port: impl Fn(u16) -> bool) {
        let k = key(d.src, d.dst);
        let syn = parse_syn_datagram(d.payload).ok().map(|(_, s)| s);
        let flow = match self.flows.get_mut(&k) {
            Some(f) => f,
            None => {
                let (client, server) = match &syn {
                    Some(s) if !s.is_syn_ack() => (d.src, d.dst),
                    _ if rdp_port(d.dst.port()) => (d.src, d.dst),
                    _ if rdp_port(d.src.port()) => (d.dst, d.src),
                    _ => return,
                };
                if self.flows.len() >= MAX_UDP_FLOWS {
                    self.untracked += 1;
                    return;
                }
                self.flows.entry(k).or_insert(UdpFlow {
                    client,
                    server,
                    first_packet: packet,
                    syns: 0,
                    syn_version: None,
                    syn_ack: None,
                    established: false,
                    datagrams: 0,
                    bytes: 0,
                })
            }
        };
        flow.datagrams += 1;
        flow.bytes += u64::try_from(d.payload.len()).unwrap_or(u64::MAX);
        let from_client = d.src == flow.client;
        match syn {
            Some(s) if from_client && !s.is_syn_ack() => {
                flow.syns += 1;
                flow.syn_version = flow.syn_version.or(s.synex.map(|x| x.version));
            }
            Some(s) if !from_client && s.is_syn_ack() => {
                flow.syn_ack
                    .get_or_insert((packet, s.synex.map(|x| x.version)));
            }
            _ if from_client && flow.syn_ack.is_some() => flow.established = true,
            _ => {}
        }
    }

    /// The summary's notes: one line for the transport, one per flow (at most [`NOTED_FLOWS`]).
    pub fn notes(&self) -> Vec<String> {
        if self.flows.is_empty() && self.untracked == 0 {
            return Vec::new();
        }
        let mut flows: Vec<&UdpFlow> = self.flows.values().collect();
        flows.sort_by_key(|f| f.first_packet);
        let unanswered = flows
            .iter()
            .filter(|f| f.syns > 0 && f.syn_ack.is_none())
            .count();
        let mut notes = vec![format!(
            "RDP UDP transport (MS-RDPEUDP): {} flow(s){}, listed, not diagnosed: RDP sets up its secure channel over TCP first{}",
            flows.len(),
            if self.untracked > 0 {
                format!(" and {} more not tracked (limit {MAX_UDP_FLOWS})", self.untracked)
            } else {
                String::new()
            },
            if unanswered > 0 {
                format!("; {unanswered} SYN(s) unanswered: those clients stayed on TCP (UDP 3389 blocked, or the server offers no UDP)")
            } else {
                String::new()
            }
        )];
        for f in flows.iter().take(NOTED_FLOWS) {
            notes.push(format!(
                "udp {} -> {} (from packet {}): {}; {} datagram(s), {} bytes",
                f.client,
                f.server,
                f.first_packet,
                handshake(f),
                f.datagrams,
                f.bytes
            ));
        }
        if flows.len() > NOTED_FLOWS {
            notes.push(format!(
                "… and {} more UDP flow(s)",
                flows.len() - NOTED_FLOWS
            ));
        }
        notes
    }
}

fn version(v: Option<UdpVersion>) -> String {
    v.map(|v| format!(", version {v}")).unwrap_or_default()
}

/// How far the handshake went (MS-RDPEUDP 1.3.2.1: SYN, SYN+ACK, then the client's ACK or data).
fn handshake(f: &UdpFlow) -> String {
    match (f.syns, f.syn_ack, f.established) {
        (0, None, _) => "picked up mid-stream (no SYN in the capture)".to_string(),
        (0, Some((p, v)), _) => format!(
            "SYN+ACK at packet {p}{} (its SYN not in the capture)",
            version(v)
        ),
        (n, None, _) => format!(
            "{n} SYN(s){}, no SYN+ACK: unanswered",
            version(f.syn_version)
        ),
        (n, Some((p, v)), true) => format!(
            "{n} SYN(s), SYN+ACK at packet {p}{}, then the client's datagrams: established",
            version(v)
        ),
        (n, Some((p, v)), false) => format!(
            "{n} SYN(s), SYN+ACK at packet {p}{}, nothing more from the client",
            version(v)
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::cast_possible_truncation)]
    use super::*;

    fn syn(ack: Option<u32>) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(ack.unwrap_or(u32::MAX).to_be_bytes());
        b.extend([0x00, 0x40]);
        b.extend(if ack.is_some() {
            [0x10, 0x05]
        } else {
            [0x10, 0x01]
        });
        b.extend([0, 0, 0, 7, 0x04, 0xd0, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x02]);
        b
    }

    fn dgram<'a>(src: &str, dst: &str, payload: &'a [u8]) -> UdpDatagram<'a> {
        UdpDatagram {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            payload,
        }
    }

    const C: &str = "10.0.0.1:50000";
    const S: &str = "10.0.0.2:3389";

    #[test]
    fn a_handshake_and_an_unanswered_syn_and_a_pickup() {
        let mut u = UdpTransports::default();
        let rdp = |p: u16| p == 3389;
        let (s, sa) = (syn(None), syn(Some(7)));
        u.datagram(&dgram(C, S, &s), 1, rdp);
        u.datagram(&dgram(S, C, &sa), 2, rdp);
        u.datagram(&dgram(C, S, b"\x00\x00\x00\x07data"), 3, rdp);
        // A SYN to another port, never answered.
        u.datagram(&dgram("10.0.0.3:50001", "10.0.0.2:4000", &s), 4, rdp);
        u.datagram(&dgram("10.0.0.3:50001", "10.0.0.2:4000", &s), 5, rdp);
        // Mid-stream on 3389; and unrelated UDP (DNS) ignored.
        u.datagram(&dgram(S, "10.0.0.4:50002", b"data"), 6, rdp);
        u.datagram(&dgram("10.0.0.1:5353", "10.0.0.9:53", b"dns"), 7, rdp);
        let notes = u.notes();
        assert!(notes[0].contains("3 flow(s)"), "{notes:?}");
        assert!(notes[0].contains("1 SYN(s) unanswered"), "{notes:?}");
        assert!(
            notes[1].contains("SYN+ACK at packet 2, version RDPUDP_PROTOCOL_VERSION_2")
                && notes[1].contains("established"),
            "{notes:?}"
        );
        assert!(
            notes[2].contains("10.0.0.3:50001 -> 10.0.0.2:4000")
                && notes[2].contains("2 SYN(s)")
                && notes[2].contains("unanswered"),
            "{notes:?}"
        );
        assert!(
            notes[3].contains("10.0.0.4:50002 -> 10.0.0.2:3389") && notes[3].contains("mid-stream"),
            "{notes:?}"
        );
        assert_eq!(notes.len(), 4);
    }

    #[test]
    fn bounded() {
        let mut u = UdpTransports::default();
        for n in 0..(MAX_UDP_FLOWS as u32 + 10) {
            let c = format!("10.1.{}.{}:1000", n / 250, n % 250);
            u.datagram(&dgram(&c, S, b"x"), u64::from(n), |p| p == 3389);
        }
        assert_eq!(u.flows.len(), MAX_UDP_FLOWS);
        assert_eq!(u.untracked, 10);
        let notes = u.notes();
        assert!(notes[0].contains("10 more not tracked"));
        assert_eq!(notes.len(), 1 + NOTED_FLOWS + 1);
    }
}
