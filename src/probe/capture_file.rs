//! `--capture FILE.pcap`: the probe's own traffic written as a real capture, built from the bytes each
//! connection sent and received (no capture rights needed). Replaying that file diagnoses the same.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter};
use std::net::SocketAddr;

use crate::capture::{Frame, PcapWriter, TcpConversation};
use crate::session::{ConnectError, Direction, TransportFact};

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
        for c in captures {
            // A connection whose client address is unknown is left out rather than given a made-up one.
            if let Some(client) = c.local {
                self.writer
                    .frames(&conversation_frames(client, server, c))?;
            }
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
/// Only packets the probe knows were on the wire are written: its SYN when the attempt was answered,
/// refused or waited out (not the kernel's retransmissions, which it cannot see), never the RST or ICMP
/// message behind a refusal or an error (the stack does not say which it was). After another error of the
/// network stack no packet is written: whether its SYN left the host is unknown.
fn conversation_frames(client: SocketAddr, server: SocketAddr, c: &Capture) -> Vec<Frame> {
    let mut conv = TcpConversation::new(client, server, 0x1000_0000, 0x2000_0000);
    let mut frames = Vec::new();
    // A refusal answered a SYN, a stack timeout retransmitted one; after another error of the stack,
    // whether a SYN left is unknown (the probe records none then; this guards the file all the same).
    let stack_error = c.facts.iter().any(|(_, f)| {
        matches!(
            f,
            TransportFact::ConnectError { error, .. }
                if !matches!(error, ConnectError::Refused | ConnectError::TimedOut)
        )
    });
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
