//! `--capture FILE.pcap`: the probe's own traffic written as a real capture, built from the bytes each
//! connection sent and received (no capture rights needed). Replaying that file diagnoses the same.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter};
use std::net::SocketAddr;

use crate::capture::{Frame, PcapWriter, TcpConversation};
use crate::session::{Direction, TransportFact};

use super::Capture;

/// The pcap the probe writes.
pub struct ProbeCapture {
    writer: PcapWriter<BufWriter<File>>,
}

/// Creates the file; an existing file is never overwritten.
pub fn open_probe_capture(path: &str) -> io::Result<ProbeCapture> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                io::Error::new(e.kind(), "the file exists; rdpdiag does not overwrite it")
            } else {
                e
            }
        })?;
    Ok(ProbeCapture {
        writer: PcapWriter::new(BufWriter::new(file))?,
    })
}

impl ProbeCapture {
    /// Writes every question's connection to `server`.
    pub fn write_probe(&mut self, server: SocketAddr, captures: &[Capture]) -> io::Result<()> {
        for (n, c) in captures.iter().enumerate() {
            let client = c.local.unwrap_or_else(|| {
                let ip = if server.is_ipv4() {
                    std::net::IpAddr::from([127, 0, 0, 1])
                } else {
                    std::net::IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])
                };
                SocketAddr::new(ip, 40_000u16.wrapping_add(u16::try_from(n).unwrap_or(0)))
            });
            self.writer
                .frames(&conversation_frames(client, server, c))?;
        }
        Ok(())
    }

    pub fn finish(self) -> io::Result<()> {
        use std::io::Write;
        self.writer.into_inner()?.flush()
    }
}

/// One connection's packets, facts and data merged in time order.
///
/// Only packets the probe knows were on the wire are written: its SYN when the attempt was answered or
/// waited out (not the kernel's retransmissions, which it cannot see), never an ICMP message. A connect
/// that the network stack failed leaves no packet: whether its SYN left the host is unknown.
fn conversation_frames(client: SocketAddr, server: SocketAddr, c: &Capture) -> Vec<Frame> {
    let mut conv = TcpConversation::new(client, server, 0x1000_0000, 0x2000_0000);
    let mut frames = Vec::new();
    let stack_error = c
        .facts
        .iter()
        .any(|(_, f)| matches!(f, TransportFact::ConnectError { .. }));
    let (mut f, mut s) = (c.facts.iter().peekable(), c.segments.iter().peekable());
    loop {
        let take_fact = match (f.peek(), s.peek()) {
            (Some((tf, _)), Some((ts, _, _))) => tf <= ts,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_fact {
            let Some((t, fact)) = f.next() else { break };
            let t = t.0;
            match fact {
                TransportFact::Syn if stack_error => {}
                TransportFact::Syn => frames.push(conv.syn(t)),
                TransportFact::Connected => {
                    frames.push(conv.syn_ack(t));
                    frames.push(conv.ack(t, Direction::ClientToServer));
                }
                TransportFact::Refused => frames.push(conv.refused(t)),
                TransportFact::Fin(dir) => frames.push(conv.fin(t, *dir)),
                TransportFact::Rst(dir) => frames.push(conv.rst(t, *dir)),
                // The probe sees neither: connect() reports an error, not the message behind it.
                TransportFact::IcmpUnreachable { .. }
                | TransportFact::ConnectError { .. }
                | TransportFact::NoAnswer { .. }
                | TransportFact::Gap { .. }
                | TransportFact::CaptureEnd => {}
            }
        } else {
            let Some((t, dir, bytes)) = s.next() else {
                break;
            };
            frames.extend(conv.data(t.0, *dir, bytes));
        }
    }
    frames
}
