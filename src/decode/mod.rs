//! `rdpdiag decode`: bytes pasted from Wireshark in, the PDUs they hold out, one field per line.
//!
//! The input may hold several PDUs back to back (a TPKT stream, a run of TLS records); each is recognised
//! by its first bytes unless the caller names the layer. Rendering writes to any `io::Write`.

use std::io::{self, Write};

mod fields;
mod frame;
pub mod hexinput;
mod mcs;
mod tls;
mod tpkt;

use fields::{preview, Printer};

/// Which parser to start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layer {
    /// Recognise each PDU by its first bytes.
    Auto,
    /// TPKT + X.224 (and what they carry).
    Tpkt,
    /// TLS records (and the handshake messages in them).
    Tls,
}

/// How the bytes fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every byte was decoded.
    Clean,
    /// Something was malformed, cut short or not recognised; the output says what and where.
    Problems,
}

/// Decodes `bytes` PDU by PDU and writes what it finds. The verdict is [`Verdict::Problems`] whenever
/// something printed says a PDU is malformed, cut short or not recognised.
///
/// A whole captured frame (`tshark -x`, `tcpdump -xx` or `-x`: link layer, IP and TCP before the PDUs)
/// is recognised when the layer is `Auto`; its headers are named and its TCP payload is decoded.
pub fn decode(bytes: &[u8], layer: Layer, out: &mut dyn Write) -> io::Result<Verdict> {
    let mut p = Printer::new(out);
    let mut start = 0usize;
    let mut end = bytes.len();
    if layer == Layer::Auto {
        if let Some(f) = frame::tcp_payload(bytes) {
            p.line(format_args!(
                "@0 {} frame, TCP {} -> {}: payload at byte {}, {} bytes",
                f.link.name(),
                f.src,
                f.dst,
                f.offset,
                f.len
            ))?;
            if f.len == 0 {
                p.problem(format_args!(
                    "@{}: the TCP segment carries no payload to decode",
                    f.offset
                ))?;
            }
            start = f.offset;
            end = f.offset.saturating_add(f.len);
            if end < bytes.len() {
                p.line(format_args!(
                    "@{end}: {} bytes after the IP packet (link-layer padding) are not payload",
                    bytes.len() - end
                ))?;
            }
        }
    }
    let payload = bytes.get(..end).unwrap_or(bytes);
    let mut offset = start;
    let mut tls_state = tls::TlsState::default();
    while let Some(rest) = payload.get(offset..).filter(|r| !r.is_empty()) {
        let used = match (layer, rest.first()) {
            (Layer::Tpkt, _) | (Layer::Auto, Some(0x03)) => tpkt::decode_tpkt(rest, offset, &mut p)?,
            (Layer::Tls, _) | (Layer::Auto, Some(0x14..=0x18)) => {
                tls::decode_tls(rest, offset, &mut tls_state, &mut p)?
            }
            _ => {
                let hint = if offset == 0 && frame::looks_like_frame(rest) {
                    "; this looks like a whole captured frame whose TCP payload could not be found: paste only the TCP payload (Wireshark: select the TPKT or TLS layer, Copy > as a Hex Stream)"
                } else {
                    ""
                };
                p.problem(format_args!(
                    "@{offset}: unrecognised bytes ({} left): {}{hint}",
                    rest.len(),
                    preview(rest)
                ))?;
                None
            }
        };
        match used {
            Some(n) if n > 0 => offset += n,
            _ => break,
        }
    }
    tls_state.finish(&mut p)?;
    Ok(if p.had_problems() {
        Verdict::Problems
    } else {
        Verdict::Clean
    })
}
