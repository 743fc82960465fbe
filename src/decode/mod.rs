//! `rdpdiag decode`: bytes pasted from Wireshark in, the PDUs they hold out, one field per line.
//!
//! The input may hold several PDUs back to back (a TPKT stream, a run of TLS records); each is recognised
//! by its first bytes unless the caller names the layer. Rendering writes to any `io::Write`.

use std::io::{self, Write};

mod fields;
pub mod hexinput;
mod mcs;
mod tls;
mod tpkt;

use fields::preview;

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

/// Decodes `bytes` PDU by PDU and writes what it finds.
pub fn decode(bytes: &[u8], layer: Layer, out: &mut dyn Write) -> io::Result<Verdict> {
    let mut offset = 0usize;
    let mut verdict = Verdict::Clean;
    while let Some(rest) = bytes.get(offset..).filter(|r| !r.is_empty()) {
        let used = match (layer, rest.first()) {
            (Layer::Tpkt, _) | (Layer::Auto, Some(0x03)) => tpkt::decode_tpkt(rest, offset, out)?,
            (Layer::Tls, _) | (Layer::Auto, Some(0x14..=0x18)) => {
                tls::decode_tls(rest, offset, out)?
            }
            _ => {
                writeln!(
                    out,
                    "@{offset}: unrecognised bytes ({} left): {}",
                    rest.len(),
                    preview(rest)
                )?;
                None
            }
        };
        match used {
            Some(n) if n > 0 => offset += n,
            _ => {
                verdict = Verdict::Problems;
                break;
            }
        }
    }
    Ok(verdict)
}
