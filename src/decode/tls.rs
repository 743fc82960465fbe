//! `rdpdiag decode` for TLS records and the handshake messages in them.

use std::io::{self, Write};

use super::fields::{preview, report_error};
use crate::wire::tls::{
    parse_alert, parse_handshake, parse_tls_record, Alert, ContentType, Handshake,
};

/// One TLS record and the handshake messages it holds (a message that continues in a later record is
/// said to, not reassembled: paste the records together and each is decoded in turn).
pub(super) fn decode_tls(i: &[u8], offset: usize, out: &mut dyn Write) -> io::Result<Option<usize>> {
    let (rest, record) = match parse_tls_record(i) {
        Ok(v) => v,
        Err(e) => return report_error(out, offset, "TLS record", &e),
    };
    let h = record.header;
    let over = if h.over_length {
        " (over the maximum record length)"
    } else {
        ""
    };
    writeln!(
        out,
        "@{offset} TLS record {} {}, length {}{over}",
        h.content_type, h.version, h.length
    )?;
    match h.content_type {
        ContentType::HANDSHAKE => write_handshakes(record.fragment, out)?,
        ContentType::ALERT => match parse_alert(record.fragment) {
            Ok((_, Alert::Plain { level, description })) => {
                writeln!(out, "  alert {description} (level {})", level.0)?
            }
            Ok((_, Alert::Encrypted(len))) => writeln!(out, "  encrypted alert ({len} bytes)")?,
            Err(_) => writeln!(
                out,
                "  alert that does not parse: {}",
                preview(record.fragment)
            )?,
        },
        _ => writeln!(
            out,
            "  {} bytes: {}",
            record.fragment.len(),
            preview(record.fragment)
        )?,
    }
    Ok(Some(i.len() - rest.len()))
}

fn write_handshakes(mut frag: &[u8], out: &mut dyn Write) -> io::Result<()> {
    while !frag.is_empty() {
        let (rest, msg) = match parse_handshake(frag) {
            Ok(v) => v,
            Err(nom::Err::Incomplete(_)) => {
                return writeln!(
                    out,
                    "  handshake message continues in the next record ({} bytes here)",
                    frag.len()
                );
            }
            // Encrypted handshake records (Finished) do not parse as messages.
            Err(_) => return writeln!(out, "  encrypted handshake data ({} bytes)", frag.len()),
        };
        match msg {
            Handshake::ClientHello(ch) => {
                writeln!(
                    out,
                    "  ClientHello: up to {}, {} cipher suites",
                    ch.max_version(),
                    ch.cipher_suites.len()
                )?;
                if let Some(sni) = ch.server_name() {
                    writeln!(out, "    server_name {sni}")?;
                }
                let suites: Vec<String> =
                    ch.cipher_suites.iter().map(ToString::to_string).collect();
                writeln!(out, "    suites {}", suites.join(", "))?;
            }
            Handshake::ServerHello(sh) => {
                let kind = if sh.is_hello_retry_request() {
                    "HelloRetryRequest"
                } else {
                    "ServerHello"
                };
                writeln!(
                    out,
                    "  {kind}: {} {}",
                    sh.negotiated_version(),
                    sh.cipher_suite
                )?;
            }
            Handshake::Certificate(c) => {
                writeln!(
                    out,
                    "  Certificate: {} in the chain",
                    c.certificate_list.len()
                )?;
                for der in &c.certificate_list {
                    match crate::wire::cert::summarize_certificate(der) {
                        Ok(s) => writeln!(
                            out,
                            "    {} issued by {}, {} to {}",
                            s.subject, s.issuer, s.not_before_display, s.not_after_display
                        )?,
                        Err(e) => writeln!(out, "    unreadable: {e}")?,
                    }
                }
            }
            other => writeln!(out, "  {}", other.msg_type())?,
        }
        frag = rest;
    }
    Ok(())
}
