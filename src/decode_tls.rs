//! `rdpdiag decode` for TLS records and for the MCS PDU inside an X.224 Data TPDU.

use std::io::{self, Write};

use crate::decode::{preview, report_error};
use crate::wire::mcs::{parse_mcs, CertificateChain, Mcs, ServerDataBlock};
use crate::wire::tls::{
    parse_alert, parse_handshake, parse_tls_record, Alert, ContentType, Handshake,
};

/// One TLS record and the handshake messages it holds (a message that continues in a later record is
/// said to, not reassembled: paste the records together and each is decoded in turn).
pub fn decode_tls(i: &[u8], offset: usize, out: &mut dyn Write) -> io::Result<Option<usize>> {
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

/// The MCS PDU carried by an X.224 Data TPDU, as far as connection setup needs it.
pub fn write_mcs(data: &[u8], out: &mut dyn Write) -> io::Result<()> {
    let mcs = match parse_mcs(data) {
        Ok((_, m)) => m,
        Err(_) => return writeln!(out, "    {}", preview(data)),
    };
    match mcs {
        Mcs::ConnectInitial(ci) => {
            let core = ci.conference.core();
            let name = core.map(|c| c.client_name()).unwrap_or_default();
            writeln!(
                out,
                "    MCS Connect-Initial: client {name}, build {}",
                core.map_or(0, |c| c.client_build)
            )
        }
        Mcs::ConnectResponse(cr) => {
            writeln!(out, "    MCS Connect-Response: result {}", cr.result)?;
            let security = cr.conference.as_ref().and_then(|c| {
                c.blocks.iter().find_map(|b| match b {
                    ServerDataBlock::Security(s) => Some(s),
                    _ => None,
                })
            });
            if let Some(s) = security {
                writeln!(
                    out,
                    "      encryption {} level {}",
                    s.encryption_method, s.encryption_level
                )?;
                if let Some(cert) = &s.server_certificate {
                    let kind = match &cert.chain {
                        CertificateChain::Proprietary(_) => "proprietary".to_string(),
                        CertificateChain::X509(c) => {
                            format!("X.509 chain of {}", c.certificates.len())
                        }
                        CertificateChain::Unknown(_) => "unknown".to_string(),
                    };
                    writeln!(
                        out,
                        "      server certificate {kind}{}",
                        if cert.temporary() { ", temporary" } else { "" }
                    )?;
                }
            }
            Ok(())
        }
        Mcs::DisconnectProviderUltimatum { reason } => {
            writeln!(out, "    MCS Disconnect Provider Ultimatum ({reason})")
        }
        Mcs::AttachUserConfirm { result, .. } => {
            writeln!(out, "    MCS Attach User Confirm: result {result}")
        }
        Mcs::ChannelJoinConfirm {
            result, channel_id, ..
        } => writeln!(
            out,
            "    MCS Channel Join Confirm: result {result}, channel {channel_id:?}"
        ),
        Mcs::SendData {
            indication,
            channel_id,
            user_data,
            ..
        } => {
            let kind = if indication {
                "Send Data Indication"
            } else {
                "Send Data Request"
            };
            writeln!(
                out,
                "    MCS {kind} on channel {channel_id}, {} bytes: {}",
                user_data.len(),
                preview(user_data)
            )
        }
        Mcs::Other { pdu_type, .. } => writeln!(out, "    MCS {pdu_type}: {}", preview(data)),
    }
}
